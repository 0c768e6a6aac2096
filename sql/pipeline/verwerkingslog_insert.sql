INSERT INTO verwerkingslog (span_id, trace_id, name, status_code, start_time, end_time,
                            resource_name, resource_version, processing_activity_id,
                            data_subject_id, data_subject_id_type, sleutel_id,
                            foreign_trace_id, foreign_span_id, foreign_entity, request_span_id)
VALUES (:span_id, :trace_id, :name, :status_code, :start_time, :end_time, :resource_name,
        :resource_version, :processing_activity_id, :data_subject_id, :data_subject_id_type,
        :sleutel_id, :foreign_trace_id, :foreign_span_id, :foreign_entity, :request_span_id)
