"""
### Eerstedagsmelding → DPAN-basisdocument

One run per melding. Run id and conf carry only the opaque run key the pipeline
DB gave the melding (`r-` + 24 letters; conf `{"run_key": ...}` and nothing
else: any other key is refused). Never the sender's melding id. The melding
must already be in the inbox (`nazorg melding indienen`).

1. **ontvang**: the melding exists and is taken into processing.
2. **plan**: register + gemeentelijk besluit + consent decide per check;
   refused checks become `niet_uitgevoerd` with a reason.
3. **check_<aandachtsgebied>** (six, in parallel): minimised lookups, each
   answering ja/nee/onbekend plus the dossierverantwoordelijke.
4. **basisdocument**: the answers grouped by aandachtsgebied.
5. **bewaak**: Great Expectations (`expectations/basisdocument.json`) blocks
   over-collection; a block quarantines names only and fails the run.
6. **publiceer**: outbox table and one JSON file per melding, named `<run_key>.json`.

Tasks return nothing: no BSN, no outcome and no per-person count in XCom,
conf or logs. Data lives in the pipeline DB (connection `nazorg_db`).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from nazorg.airflow.timeouts import eerstedagsmelding_timeouts
from nazorg.models import Aandachtsgebied
from nazorg.run_key import PATTERN

TIMEOUTS = eerstedagsmelding_timeouts()  # longer than the sources' deadlines: see the module


@dag(
    dag_id="eerstedagsmelding",
    schedule=None,
    catchup=False,
    doc_md=__doc__,
    tags=["nazorg", "per-melding"],
    params={"run_key": Param(type="string", pattern=PATTERN)},
    default_args={"retries": 0, "execution_timeout": TIMEOUTS.task},
    dagrun_timeout=TIMEOUTS.run,
)
def eerstedagsmelding() -> None:
    @task
    def ontvang(dag_run=None) -> None:
        from nazorg.airflow import tasks

        tasks.ontvang(dag_run)

    @task
    def plan(dag_run=None) -> None:
        from nazorg.airflow import tasks

        tasks.plan(dag_run)

    @task
    def check(aandachtsgebied: str, dag_run=None, run_id: str | None = None) -> None:
        from nazorg.airflow import tasks

        tasks.checks(dag_run, run_id or "", aandachtsgebied)

    @task
    def basisdocument(dag_run=None) -> None:
        from nazorg.airflow import tasks

        tasks.basisdocument(dag_run)

    @task
    def bewaak(dag_run=None) -> None:
        from nazorg.airflow import tasks

        tasks.bewaak(dag_run)

    @task
    def publiceer(dag_run=None) -> None:
        from nazorg.airflow import tasks

        tasks.publiceer(dag_run)

    checks = [check.override(task_id=f"check_{a.value}")(a.value) for a in Aandachtsgebied]
    ontvang() >> plan() >> checks >> basisdocument() >> bewaak() >> publiceer()


eerstedagsmelding()
