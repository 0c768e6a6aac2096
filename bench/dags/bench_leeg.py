"""
### bench_leeg: Airflow's floor for one eerstedagsmelding run

The same task shape as `dags/eerstedagsmelding.py`: ontvang → plan → the six
check tasks in parallel → basisdocument → bewaak → publiceer, the same
params, default_args and run timeout, triggered the same way (run id = conf's
run key). Every task returns at once, so a run's duration is what Airflow
itself costs per run on this machine: `bench/latency.py` divides the pipeline's
latency by it. Lives in `bench/dags/`, never in the project's `dags/` folder.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from nazorg.airflow.timeouts import eerstedagsmelding_timeouts
from nazorg.models import Aandachtsgebied
from nazorg.run_key import PATTERN

TIMEOUTS = eerstedagsmelding_timeouts()


@dag(
    dag_id="bench_leeg",
    schedule=None,
    catchup=False,
    doc_md=__doc__,
    tags=["bench"],
    params={"run_key": Param(type="string", pattern=PATTERN)},
    default_args={"retries": 0, "execution_timeout": TIMEOUTS.task},
    dagrun_timeout=TIMEOUTS.run,
)
def bench_leeg() -> None:
    @task
    def ontvang() -> None:
        return None

    @task
    def plan() -> None:
        return None

    @task
    def check(aandachtsgebied: str) -> None:
        return None

    @task
    def basisdocument() -> None:
        return None

    @task
    def bewaak() -> None:
        return None

    @task
    def publiceer() -> None:
        return None

    checks = [check.override(task_id=f"check_{a.value}")(a.value) for a in Aandachtsgebied]
    ontvang() >> plan() >> checks >> basisdocument() >> bewaak() >> publiceer()


bench_leeg()
