"""The rapportage DAG end to end through ``dag.test()``: the report of the month before ``run_after``.

Real Airflow task execution on a pipeline DB filled with the fixture world of
``tests/rapportage``. Checks the file, the XCom (counts of tables and charts
only) and that no BSN, melding id or outcome count reaches Airflow's metadata
DB or task logs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nazorg import migrations
from nazorg.store import Store, dispose_engines, make_engine
from tests.dags.test_eerstedagsmelding_e2e import _airflow_dump, airflow_home  # noqa: F401  (fixture)
from tests.rapportage.test_rapport import _bouw_wereld

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from datetime import UTC, datetime
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, sorted(bag.import_errors)
run = bag.dags["rapportage"].test(run_after=datetime(2026, 11, 1, 6, tzinfo=UTC))
print("RESULT " + json.dumps(str(run.state)))
"""


def test_the_dag_writes_the_report_of_the_closed_month(
    airflow_home: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    dispose_engines()
    url = f"sqlite:///{tmp_path / 'nazorg.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    wereld = _bouw_wereld(Store(engine))
    engine.dispose()
    dispose_engines()
    uit = tmp_path / "rapporten"
    env = {
        **os.environ,
        **airflow_home,
        "AIRFLOW_CONN_NAZORG_DB": url,
        "NAZORG_RAPPORTAGE_DIR": str(uit),
        "NAZORG_RAPPORTAGE_MAANDEN": "3",
        "NAZORG_WARM_GUARD": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(REPO / "dags")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    result = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert result, out.stderr[-3000:]
    assert json.loads(result[-1].removeprefix("RESULT ")).lower().endswith("success"), out.stderr[-3000:]

    pad = uit / "nazorg-rapportage-2026-10.html"
    html = pad.read_text(encoding="utf-8")
    assert "Gepubliceerde meldingen in 2026-10: <strong>120</strong>" in html

    db = airflow_home["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    xcoms = [
        json.loads(v)
        for (v,) in con.execute("SELECT value FROM xcom WHERE dag_id = 'rapportage' AND key = 'return_value'")
    ]
    con.close()
    assert xcoms and xcoms[-1] == {
        "gemeenten": 2,
        "maanden": 3,
        "tabellen": 6,
        "tabellen_achtergehouden": 1,
        "grafieken": 28,
    }
    dump = _airflow_dump(airflow_home)
    for bsn in wereld.bsns:
        assert bsn not in dump
    for melding_id in wereld.melding_ids:
        assert melding_id not in dump
