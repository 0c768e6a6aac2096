"""
### Bewaartermijn: delete what the retention terms say is due

Daily (`NAZORG_BEWAARTERMIJN_SCHEDULE`, default `@daily`), triggerable without
conf (a conf, or a run id Airflow did not generate, is refused).

One task, **ruim_op**: per check, its outcome and plan once the register
entry's `bewaartermijn` has run from its start event (`melding_ontvangen` or
`laatstedagsmelding`); per melding, once every term has run, its basisdocument,
outbox row and JSON file, Parquet rows, consent, notifications and
laatstedagsmelding, and its inbox row becomes a tombstone without BSN;
quarantine rows and processing-log records after their own terms.
With `NAZORG_BEWAARTERMIJN_DRY_RUN=true` it only counts.

The task's XCom holds counts per category, never an id, a BSN or an outcome.
Every run's counts are also recorded in the pipeline DB (`bewaartermijn_run`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

from nazorg.airflow.timeouts import bewaartermijn_instellingen

INSTELLINGEN = bewaartermijn_instellingen()  # settings only: cheap at parse time


@dag(
    dag_id="bewaartermijn",
    schedule=INSTELLINGEN.schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["nazorg", "bewaartermijn"],
    default_args={"retries": 1, "execution_timeout": INSTELLINGEN.stap},
)
def bewaartermijn() -> None:
    @task
    def ruim_op() -> dict[str, int]:
        from nazorg.airflow import bewaartermijn_tasks

        return bewaartermijn_tasks.ruim_op()

    ruim_op()


bewaartermijn()
