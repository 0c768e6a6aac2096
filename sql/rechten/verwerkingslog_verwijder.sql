-- Only when the erasure policy says so (register/rechten_betrokkene.yaml): the default keeps them.
DELETE FROM verwerkingslog WHERE data_subject_id = :pseudoniem
