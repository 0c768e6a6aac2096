"""
### Eerstedagsmelding → DPAN-basisdocument

One run per melding (`dag_run_id` `edm-<melding_id>`, conf `{"melding_id": ...}`
and nothing else). The melding must already be in the inbox
(`nazorg melding indienen`).

1. **ontvang**: the melding exists and is taken into processing.
2. **plan**: register + gemeentelijk besluit + consent decide per check;
   refused checks become `niet_uitgevoerd` with a reason.
3. **check_<aandachtsgebied>** (six, in parallel): minimised lookups, each
   answering ja/nee/onbekend plus the dossierverantwoordelijke.
4. **basisdocument**: the answers grouped by aandachtsgebied.
5. **bewaak**: Great Expectations (`expectations/basisdocument.json`) blocks
   over-collection; a block quarantines names only and fails the run.
6. **publiceer**: outbox table and one JSON file per melding.

Tasks return nothing: no BSN, no outcome and no per-person count in XCom,
conf or logs. Data lives in the pipeline DB (connection `nazorg_db`).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from nazorg.airflow.timeouts import eerstedagsmelding_timeouts
from nazorg.models import Aandachtsgebied

TIMEOUTS = eerstedagsmelding_timeouts()  # longer than the sources' deadlines: see the module


@dag(
    dag_id="eerstedagsmelding",
    schedule=None,
    catchup=False,
    doc_md=__doc__,
    tags=["nazorg", "per-melding"],
    params={"melding_id": Param(type="string", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")},
    default_args={"retries": 0, "execution_timeout": TIMEOUTS.task},
    dagrun_timeout=TIMEOUTS.run,
)
def eerstedagsmelding() -> None:
    @task
    def ontvang(params: dict | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.ontvang(params or {})

    @task
    def plan(params: dict | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.plan(params or {})

    @task
    def check(aandachtsgebied: str, params: dict | None = None, run_id: str | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.checks(params or {}, run_id or "", aandachtsgebied)

    @task
    def basisdocument(params: dict | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.basisdocument(params or {})

    @task
    def bewaak(params: dict | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.bewaak(params or {})

    @task
    def publiceer(params: dict | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.publiceer(params or {})

    checks = [check.override(task_id=f"check_{a.value}")(a.value) for a in Aandachtsgebied]
    ontvang() >> plan() >> checks >> basisdocument() >> bewaak() >> publiceer()


eerstedagsmelding()
