"""The intake_batch DAG end to end through ``dag.test()``: 40 meldingen, chunks of 10, four mapped tasks.

Real Airflow task execution (mapped over chunk ids), the real chunk processing
(``nazorg.batch.chunk``), the simulated sources over real HTTP, SQLite and
PostgreSQL pipeline DBs. Checks that every valid melding is published exactly
once, that a second run publishes nothing new, and that no BSN, melding id or
outcome reaches Airflow's metadata DB or the task logs.

Needs ``nazorg.batch.chunk`` (helper "chunk"); until it is merged the tests skip
with that reason. ``NAZORG_TEST_CHUNK_STANDIN=1`` runs them with the test stand-in
(tests/batch/standin.py) instead, to check the orchestration on its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg.register import default_policy
from nazorg_dev.sim.meldingen import meldingen
from tests.dags.test_eerstedagsmelding_e2e import (  # noqa: F401  (fixtures)
    World,
    _airflow_dump,
    _make_world,
    _sqlite_world,
    airflow_home,
    hc_server,
)

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("batch_dagtest_runner.py")
STANDIN = os.environ.get("NAZORG_TEST_CHUNK_STANDIN") == "1"


def _chunk_code_or_skip() -> None:
    if not STANDIN and importlib.util.find_spec("nazorg.batch.chunk") is None:
        pytest.skip(
            "nazorg.batch.chunk ontbreekt (helper chunk); NAZORG_TEST_CHUNK_STANDIN=1 voor de stand-in"
        )


@pytest.fixture(scope="module")
def airflow_vorm(airflow_home, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The module's Airflow home as ``airflow db migrate`` left it, before any run: the migrated DB."""
    bron = Path(airflow_home["AIRFLOW_HOME"])
    vorm = tmp_path_factory.mktemp("airflow_vorm")
    shutil.copy2(bron / "airflow.db", vorm / "airflow.db")
    if (bron / "airflow.cfg").is_file():  # its paths name the module's home: each copy names its own
        (vorm / "airflow.cfg").write_text((bron / "airflow.cfg").read_text().replace(str(bron), "{HOME}"))
    return vorm


def _eigen_airflow(gedeeld: dict[str, str], vorm: Path, tmp_path: Path) -> dict[str, str]:
    """A fresh Airflow home per test: the migrated metadata DB copied, not shared.

    Why: ``airflow_home`` is module-scoped (migrating Airflow's DB takes long),
    so every test of the module wrote its DAG runs, task instances, XComs and
    logs into the same metadata DB; a later case then counted the task
    instances of an earlier one (the SQLite case's four mapped chunks and the
    rerun's skipped ``verwerk_chunk``, map_index -1, seen by the PostgreSQL case).
    The metadata DB is chosen by these variables only (each ``dag.test`` runs in
    its own process), so a copy per test isolates them.
    """
    home = tmp_path / "airflow"
    (home / "logs").mkdir(parents=True)
    shutil.copy2(vorm / "airflow.db", home / "airflow.db")
    if (vorm / "airflow.cfg").is_file():
        (home / "airflow.cfg").write_text((vorm / "airflow.cfg").read_text().replace("{HOME}", str(home)))
    return {
        **gedeeld,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path: Path, airflow_home, airflow_vorm: Path, hc_server) -> Iterator[World]:  # noqa: F811
    _chunk_code_or_skip()
    eigen = _eigen_airflow(airflow_home, airflow_vorm, tmp_path)
    if request.param == "sqlite":
        w = _sqlite_world(tmp_path, eigen, hc_server)
    else:
        pg = request.getfixturevalue("fresh_postgres_db")
        bronnen = request.getfixturevalue("fresh_postgres_bronnen_db")
        w = _make_world(tmp_path, eigen, hc_server, pg, bronnen)
    w.env = {
        **w.env,
        "NAZORG_BATCH_CHUNK_GROOTTE": "10",
        "NAZORG_PARQUET_DIR": str(tmp_path / "parquet"),
    }
    if STANDIN:
        w.env["NAZORG_TEST_CHUNK_STANDIN"] = "1"
    yield w


def _run_batch(world: World, runs: int = 1) -> tuple[list[str], str]:
    out = subprocess.run(
        [sys.executable, str(RUNNER), str(REPO / "dags"), str(runs)],
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"dag.test did not finish (exit {out.returncode}):\n{log[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :]), log


def _airflow_rows(env: dict[str, str], sql: str) -> list[tuple]:
    con = sqlite3.connect(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///"))
    try:
        return list(con.execute(sql))
    finally:
        con.close()


def _outbox(world: World) -> list[tuple]:
    with world.store().engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT melding_id, gepubliceerd_op, versie FROM outbox ORDER BY melding_id")
            )
        ]


def test_every_melding_is_published_exactly_once_and_a_rerun_adds_nothing(world: World) -> None:
    records = list(meldingen(40))
    world.submit(records)
    states, log = _run_batch(world)
    assert states == ["success"], log[-4000:]
    ids = sorted(r["melding_id"] for r in records)
    outbox = _outbox(world)
    assert [m for m, _, _ in outbox] == ids  # each valid melding exactly once
    assert {v for _, _, v in outbox} == {1}
    with world.store().engine.connect() as conn:
        inbox = conn.execute(text("SELECT status, claim FROM inbox")).all()
        chunks = conn.execute(text("SELECT meldingen, status FROM batch_chunk ORDER BY volgnummer")).all()
    assert {tuple(r) for r in inbox} == {("gepubliceerd", None)}
    assert [tuple(c) for c in chunks] == [(10, "klaar")] * 4
    mapped = _airflow_rows(
        world.env,
        "SELECT map_index, state FROM task_instance WHERE task_id = 'verwerk_chunk' ORDER BY map_index",
    )
    assert mapped == [(i, "success") for i in range(4)]

    states, log = _run_batch(world)
    assert states == ["success"], log[-4000:]
    assert _outbox(world) == outbox  # nothing published again
    with world.store().engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM batch_chunk")).scalar_one() == 4


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_no_bsn_melding_id_or_outcome_in_airflow_metadata_or_logs(world: World) -> None:
    records = list(meldingen(40, offset=100))
    world.submit(records)
    states, log = _run_batch(world)
    assert states == ["success"], log[-4000:]
    metadata = _airflow_dump(world.env) + "\n" + log
    with world.store().engine.connect() as conn:
        chunk_ids = [r[0] for r in conn.execute(text("SELECT chunk_id FROM batch_chunk"))]
        contacts = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT dossierverantwoordelijke FROM uitkomst"
                    " WHERE dossierverantwoordelijke IS NOT NULL"
                )
            )
        }
    assert len(chunk_ids) == 4 and contacts
    assert all(c in metadata for c in chunk_ids)  # sanity: the search sees Airflow's data
    for record in records:
        assert record["bsn"] not in metadata
        assert record["melding_id"] not in metadata
    for contact in contacts:
        assert contact not in metadata, "an outcome's contact leaked into Airflow metadata or logs"
    # no outcome counts per check in the task logs either (in a chunk of one they are that
    # person's outcomes). dag.test writes the task logs to its output; the serialized DAGs in the
    # metadata DB do name aandachtsgebieden (eerstedagsmelding's task ids), so only the logs here
    logs = Path(world.env["AIRFLOW_HOME"]) / "logs"
    task_logs = log + "\n".join(p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
    assert "chunk " in task_logs and "gepubliceerd" in task_logs  # sanity: the tasks' own lines are there
    for check_id in default_policy().register.ids:
        assert check_id not in task_logs, f"check {check_id} named in a task log"
    xcom = " ".join(str(v) for (v,) in _airflow_rows(world.env, "SELECT value FROM xcom"))
    assert all(c in xcom for c in chunk_ids)  # the chunk ids travel through XCom, and only ours
    assert not any(r["bsn"] in xcom or r["melding_id"] in xcom for r in records)
