"""Adapters between the library and Airflow.

:mod:`nazorg.airflow.tasks` binds a run's context (conf, run id) to the pipeline
steps; it is imported inside tasks, never at DAG parse time. :mod:`nazorg.airflow.rest`
and :mod:`nazorg.airflow.trigger` drive an Airflow api-server over REST API v2 from
outside (the CLI, later the intake endpoint).
"""
