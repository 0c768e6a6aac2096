"""
### Laatstedagsmelding: notify at the end of detention, and top-x inseinen

Scheduled (`NAZORG_LAATSTEDAG_SCHEDULE`, default every 15 minutes) and
triggerable without conf (a conf, or a run id Airflow did not generate, is refused).
Laatstedagsmeldingen come in through `nazorg laatstedagsmelding dien-in FILE`.

1. **verwerk_laatstedagsmeldingen**: for every `ontvangen` laatstedagsmelding
   whose melding is published, each team of a check that answered `ja` gets one
   message (in the gemeente van hervestiging when given: its default team for
   the check); then it is `verwerkt` (its `datum_uitstroom` starts the retention clock).
2. **inseinen**: every published melding whose `doelgroep_topx` answered `ja` is
   told once to its besluit's `regievoerder`.

A message says only: melding id, a date, the team, "neem contact op" (never a
BSN, a check or an outcome). Notifier: `NAZORG_NOTIFIER` (`bestand` or `smtp`).
Every attempt is recorded in table `notificatie`; a failed send is retried on the
next run (at most `NAZORG_NOTIFICATIE_MAX_POGINGEN`), so no run fails because of
what anyone answered. Logs carry counts of laatstedagsmeldingen only; XCom nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

from nazorg.airflow.timeouts import laatstedag_instellingen

INSTELLINGEN = laatstedag_instellingen()  # settings only: cheap at parse time


@dag(
    dag_id="laatstedagsmelding",
    schedule=INSTELLINGEN.schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["nazorg", "laatstedagsmelding"],
    default_args={"retries": 0, "execution_timeout": INSTELLINGEN.stap},
)
def laatstedagsmelding() -> None:
    @task
    def verwerk_laatstedagsmeldingen() -> None:
        from nazorg.airflow import laatstedag_tasks

        laatstedag_tasks.verwerk_laatstedagsmeldingen()

    @task(trigger_rule="all_done")
    def inseinen() -> None:
        from nazorg.airflow import laatstedag_tasks

        laatstedag_tasks.inseinen()

    verwerk_laatstedagsmeldingen() >> inseinen()


laatstedagsmelding()
