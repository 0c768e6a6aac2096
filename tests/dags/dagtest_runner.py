"""Run the eerstedagsmelding DAG with ``dag.test()`` in a clean process.

Used by tests/dags: a subprocess gets Airflow's configuration from its own
environment and its whole output can be searched for leaks afterwards.
Usage: python dagtest_runner.py DAGS_FOLDER MELDING_ID [MELDING_ID ...]
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
    for index, melding_id in enumerate(sys.argv[2:]):
        run = dag.test(logical_date=start + timedelta(seconds=index), run_conf={"melding_id": melding_id})
        states[f"{melding_id}#{index}"] = str(run.state)
    print("RESULT " + json.dumps(states))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
