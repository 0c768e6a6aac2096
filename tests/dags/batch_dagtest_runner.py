"""Run the intake_batch DAG with ``dag.test()`` in a clean process, N times.

Usage: python batch_dagtest_runner.py DAGS_FOLDER N. Prints ``RESULT`` with the
runs' states. With ``NAZORG_TEST_CHUNK_STANDIN=1`` the chunk processing is the
test stand-in (tests/batch/standin.py, the per-melding steps), for checking the
orchestration before ``nazorg.batch.chunk`` exists; never on the real path.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> int:
    if os.environ.get("NAZORG_TEST_CHUNK_STANDIN") == "1":
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.batch import standin

        standin.installeer(standin.via_pipeline)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    if bag.import_errors:
        print("IMPORT_ERRORS " + json.dumps(sorted(bag.import_errors)))
        return 2
    dag = bag.dags["intake_batch"]
    states = []
    start = datetime.now(UTC)
    for index in range(int(sys.argv[2])):
        dag_run = dag.test(logical_date=start + timedelta(seconds=index))
        states.append(str(dag_run.state))
    print("RESULT " + json.dumps(states))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
