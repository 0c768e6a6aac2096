"""The laatstedagsmelding DAG end to end through ``dag.test()``: real Airflow task execution.

Two meldingen are published through the eerstedagsmelding DAG, one gets a
laatstedagsmelding; then the laatstedagsmelding DAG runs twice. Checks that the
teams are told once (file notifier), that top-x inseinen reaches the regievoerder,
that both runs succeed, and that nothing personal (BSN, melding id, check name)
reaches Airflow's metadata DB or the task logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from nazorg import laatstedag
from nazorg.intake import decode, nieuwe_inzending
from nazorg.register import default_policy
from tests.dags.test_eerstedagsmelding_e2e import (  # noqa: F401  (fixtures)
    _airflow_dump,
    _sqlite_world,
    airflow_home,
    hc_server,
)
from tests.pipeline.test_laatstedag import _index, _record

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("laatstedag_dagtest_runner.py")


def _run_dag(env: dict[str, str], times: int) -> tuple[list[dict], str]:
    out = subprocess.run(
        [sys.executable, str(RUNNER), str(REPO / "dags"), str(times)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"dag.test did not finish (exit {out.returncode}):\n{log[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :]), log


def test_the_dag_tells_the_teams_once_and_airflow_learns_nothing_personal(
    tmp_path: Path,
    airflow_home,  # noqa: F811
    hc_server,  # noqa: F811
) -> None:
    world = _sqlite_world(tmp_path, airflow_home, hc_server)
    topx, ander = _record(_index("9901", True)), _record(_index("9901", False))
    world.submit([topx, ander])
    states, log = world.run(topx["melding_id"], ander["melding_id"])
    assert set(states.values()) == {"success"}, log[-3000:]

    inzending = nieuwe_inzending()
    data = json.dumps(
        {"melding_id": topx["melding_id"], "bsn": topx["bsn"], "datum_uitstroom": str(date.today())}
    )
    judged = laatstedag.beoordeel_alle(decode(data, inzending), default_policy().besluiten, date.today())
    assert laatstedag.dien_in(world.store(), judged, inzending=inzending).aantallen["opgeslagen"] == 1

    notificaties = tmp_path / "notificaties"
    env = {**world.env, "NAZORG_NOTIFICATIE_DIR": str(notificaties), "NAZORG_NOTIFIER": "bestand"}
    runs, dag_log = _run_dag(env, 2)
    assert [r["run"] for r in runs] == ["success", "success"], dag_log[-4000:]
    assert all(set(r["tasks"].values()) == {"success"} for r in runs)

    files = sorted(notificaties.rglob("*.txt"))
    teams = {(p.parent.parent.name, p.parent.name) for p in files}
    assert ("9901", "topx-regie") in teams
    rows = world.store().query("laatstedag/laatstedag_get", {"melding_id": topx["melding_id"]})
    assert rows[0]["status"] == "verwerkt"
    # the second run told nobody again: one laatstedagsmelding message per team, one inseinen
    assert len(files) == len(teams) + 1

    seen = _airflow_dump(env) + dag_log
    for secret in (topx["bsn"], ander["bsn"], topx["melding_id"], ander["melding_id"]):
        assert secret not in seen
    # what this DAG's runs logged (the metadata DB also holds the DAGs' code and docs, which name checks)
    logs = Path(env["AIRFLOW_HOME"]) / "logs" / "dag_id=laatstedagsmelding"
    runs_seen = dag_log + "".join(p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
    checks = {c for b in default_policy().besluiten.values() for c in b.checks}
    assert not [c for c in checks if c in runs_seen]
    assert "laatstedagsmeldingen: 1 verwerkt, 0 wachtend, 0 mislukt" in runs_seen
