"""Run the laatstedagsmelding DAG with ``dag.test()`` in a clean process, N times (no conf).

Usage: python laatstedag_dagtest_runner.py DAGS_FOLDER N. Prints ``RESULT`` with
the runs' states and, per run, the states of its task instances.
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
    dag = bag.dags["laatstedagsmelding"]
    states = []
    start = datetime.now(UTC)
    for index in range(int(sys.argv[2])):
        dag_run = dag.test(logical_date=start + timedelta(seconds=index))
        tasks = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        states.append({"run": str(dag_run.state), "tasks": tasks})
    print("RESULT " + json.dumps(states))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
