"""
### Rapportage: the monthly aggregate report per gemeente

Runs at 06:00 UTC on the 1st of every month (and when triggered, without
conf: a conf, or a run id Airflow did not generate, is refused) and writes the
report of the last month that was over when the run was due, in Dutch time:

- per gemeente, the published meldingen received that month and, per check,
  how often each outcome (ja / nee / onbekend / niet_uitgevoerd) occurred,
  with rates (e.g. the share without a valid ID: id_bewijs nee / uitgevoerd);
- trends over the last `NAZORG_RAPPORTAGE_MAANDEN` months as PNG charts;
- one self-contained HTML file in `NAZORG_RAPPORTAGE_DIR` (0600, in 0700 directories).

Counts below 10 are shown as `<10` and protected by secondary suppression
(`nazorg.rapportage.onderdrukking`). The task passes on counts of tables and
charts only: never a BSN, a melding id or an outcome count.
Data comes from the pipeline DB (connection `nazorg_db`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

#: after midnight of the 1st in Amsterdam, with hours to spare for the batch's last retries
SCHEDULE = "0 6 1 * *"


@dag(
    dag_id="rapportage",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["nazorg", "rapportage"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=30),
    },
)
def rapportage() -> None:
    @task
    def maak_rapport(dag_run=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
        from nazorg.airflow import rapportage_tasks

        return rapportage_tasks.maak_rapport(getattr(dag_run, "run_after", None))

    maak_rapport()


rapportage()
