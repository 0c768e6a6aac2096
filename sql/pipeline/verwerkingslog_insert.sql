INSERT INTO verwerkingslog (span_id, trace_id, name, status_code, start_time, end_time,
                            resource_name, resource_version, processing_activity_id,
                            data_subject_id, data_subject_id_type, sleutel_id)
VALUES (:span_id, :trace_id, :name, :status_code, :start_time, :end_time, :resource_name,
        :resource_version, :processing_activity_id, :data_subject_id, :data_subject_id_type,
        :sleutel_id)
