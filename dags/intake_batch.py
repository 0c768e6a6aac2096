"""
### Intake batch: every melding due, in chunks

Scheduled (`NAZORG_BATCH_SCHEDULE`, default hourly) and triggerable without
conf (a conf, or a run id Airflow did not generate, is refused).

1. **verzamel**: claims every melding in the inbox not yet published, and every
   published one with an `onbekend` outcome due for retry, and cuts them into
   chunks (`NAZORG_BATCH_CHUNK_GROOTTE`). A melding a per-melding run holds is left alone.
2. **verwerk_chunk** (mapped, one per chunk): the same checks, guard and
   publication as the per-melding DAG, for the whole chunk at once. Retried
   when its worker is lost; a retry does nothing twice.
3. **sluit_batch**: melding counts; runs whatever became of the chunks and
   fails the run if one did not finish.

Tasks carry batch and chunk ids only: never a BSN, a melding id or an outcome.
Data lives in the pipeline DB (connection `nazorg_db`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

from nazorg.airflow.timeouts import intake_batch_instellingen

INSTELLINGEN = intake_batch_instellingen()  # settings only: cheap at parse time


@dag(
    dag_id="intake_batch",
    schedule=INSTELLINGEN.schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["nazorg", "batch"],
    default_args={
        "retries": INSTELLINGEN.retries,
        "retry_delay": INSTELLINGEN.retry_delay,
        "execution_timeout": INSTELLINGEN.stap,
    },
)
def intake_batch() -> None:
    @task
    def verzamel() -> list[str]:
        from nazorg.airflow import batch_tasks

        return batch_tasks.verzamel()

    @task(execution_timeout=INSTELLINGEN.chunk)
    def verwerk_chunk(chunk_id: str) -> None:
        from nazorg.airflow import batch_tasks

        batch_tasks.verwerk_chunk(chunk_id)

    @task(trigger_rule="all_done")
    def sluit_batch(chunk_ids: list[str]) -> None:
        from nazorg.airflow import batch_tasks

        batch_tasks.sluit_batch(chunk_ids)

    chunk_ids = verzamel()  # the batch id is their prefix
    verwerk_chunk.expand(chunk_id=chunk_ids) >> sluit_batch(chunk_ids)


intake_batch()
