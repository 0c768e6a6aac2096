"""Operating the pipeline from outside Airflow.

:mod:`nazorg.ops.embedded` starts and stops the embedded default Airflow
(api-server, scheduler and dag-processor as real processes) and
:mod:`nazorg.ops.rest` talks to any Airflow 3 api-server over REST API v2.
Neither imports Airflow: they drive it through its CLI and its HTTP API, so the
same code works against a deployment elsewhere.
"""
