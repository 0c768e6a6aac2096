"""Run the eerstedagsmelding DAG with ``dag.test()`` in a clean process.

Used by tests/dags and tests/security: a subprocess gets Airflow's configuration
from its own environment and its whole output can be searched for leaks afterwards.
Usage: python dagtest_runner.py DAGS_FOLDER RUN [RUN ...], where RUN is a run key
(conf ``{"run_key": RUN}``) or a JSON object used as the conf as it is (an attack).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from airflow.dag_processing.dagbag import DagBag


def main() -> int:
    bag = DagBag(dag_folder=sys.argv[1])
    if bag.import_errors:
        print("IMPORT_ERRORS " + json.dumps(sorted(bag.import_errors)))
        return 2
    dag = bag.dags["eerstedagsmelding"]
    states = {}
    start = datetime.now(UTC)
    for index, run in enumerate(sys.argv[2:]):
        conf = json.loads(run) if run.startswith("{") else {"run_key": run}
        dag_run = dag.test(logical_date=start + timedelta(seconds=index), run_conf=conf)
        label = run if not run.startswith("{") else "conf"
        states[f"{label}#{index}"] = str(dag_run.state)
    print("RESULT " + json.dumps(states))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
