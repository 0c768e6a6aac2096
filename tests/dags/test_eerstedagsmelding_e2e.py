"""End to end through ``dag.test()``: real Airflow task execution, real HTTP to the
local Haal Centraal server, real SQL against SQLite and PostgreSQL, the GX guard.

Also the privacy promises: no BSN and no outcome in Airflow's metadata DB or
the task logs, over-collection blocked with the values found nowhere, and
idempotency of a repeated melding.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg.connections import http_connection_json
from nazorg.register import default_policy
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import population
from tests.conftest import TEST_KEY
from tests.oracle import expected

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("dagtest_runner.py")


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        # the cluster policy that refuses or scrubs a conf with anything but the run key
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return env


@pytest.fixture(scope="module")
def hc_server() -> Iterator[object]:
    from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

    server = HaalCentraalSimServer(port=0)
    server.start()
    yield server
    server.stop()


@dataclass
class World:
    env: dict[str, str]
    pipeline_url: str
    bronnen_url: str
    tmp: Path

    def key(self, melding_id: str) -> str:
        """The run key the inbox gave the melding: all Airflow learns of it."""
        from nazorg.inbox import run_key_voor

        run_key = run_key_voor(self.store(), melding_id)
        assert run_key is not None, "not in the inbox"
        return run_key

    def run(self, *melding_ids: str) -> tuple[dict[str, str], str]:
        """Run the meldingen (by their run keys) with dag.test; their states and all output."""
        return self.run_raw(*(self.key(m) for m in melding_ids))

    def run_raw(self, *runs: str) -> tuple[dict[str, str], str]:
        """dag.test with these run keys, or JSON objects used as conf as they are."""
        out = subprocess.run(
            [sys.executable, str(RUNNER), str(REPO / "dags"), *runs],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=600,
        )
        log = out.stdout + out.stderr
        lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"dag.test did not finish (exit {out.returncode}):\n{log[-4000:]}"
        return json.loads(lines[-1][len("RESULT ") :]), log

    def store(self):
        from nazorg.store import Store, make_engine

        return Store(make_engine(self.pipeline_url))

    def submit(self, records: list[dict]) -> None:
        from datetime import date

        from nazorg.inbox import dien_in
        from nazorg.intake import beoordeel_alle, herkomst_voor, nieuwe_inzending
        from nazorg_dev.sim.bronnen import vul_toestemmingen

        inzending = nieuwe_inzending()
        numbered = [(herkomst_voor(inzending, n), r) for n, r in enumerate(records, start=1)]
        judged = beoordeel_alle(numbered, default_policy().melding_velden(), date.today())
        store = self.store()
        dien_in(store, judged, inzending=inzending)
        vul_toestemmingen(store, population())  # consent is per melding: after intake

    def update_bron(self, statement: str, params: dict[str, object]) -> None:
        from nazorg.store import make_engine

        engine = make_engine(self.bronnen_url)
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()

    def run_blocked(self, record: dict) -> tuple[list[dict], str]:
        """Submit and run one melding that must be blocked; its quarantine rows and every trace."""
        self.submit([record])
        states, log = self.run(record["melding_id"])
        assert set(states.values()) == {"failed"}, log[-3000:]
        store = self.store()
        assert store.query("outbox_get", {"melding_id": record["melding_id"]}) == []
        assert not list((self.tmp / "outbox").rglob("*.json"))
        quarantined = [q for q in store.query("quarantaine_list") if q["melding_id"] == record["melding_id"]]
        return quarantined, self.dump_pipeline_db() + _airflow_dump(self.env) + log

    def dump_pipeline_db(self) -> str:
        store = self.store()
        tables = [
            "inbox",
            "toestemming",
            "quarantaine",
            "plan",
            "uitkomst",
            "basisdocument",
            "outbox",
            "verwerkingslog",
        ]
        with store.engine.connect() as conn:
            return "\n".join(str(list(conn.execute(text(f"SELECT * FROM {t}")))) for t in tables)


def _make_world(
    tmp: Path,
    airflow_home: dict[str, str],
    hc_server,
    pipeline_url: str,
    bronnen_url: str,
    register_dir: Path | None = None,
    sql_root: Path | None = None,
) -> World:
    from nazorg import migrations
    from nazorg.connections import ConnectionInfo  # noqa: F401  (import check)
    from nazorg.store import dispose_engines, make_engine
    from nazorg_dev.sim.bronnen import vul_bronnen

    base = hc_server.brp_base_url.rsplit("/haalcentraal", 1)[0]  # type: ignore[attr-defined]
    env = {
        **airflow_home,
        "AIRFLOW_CONN_NAZORG_DB": pipeline_url.replace("postgresql+psycopg", "postgresql"),
        "AIRFLOW_CONN_NAZORG_BRONNEN": bronnen_url.replace("postgresql+psycopg", "postgresql"),
        "AIRFLOW_CONN_HAAL_CENTRAAL_BRP": http_connection_json(f"{base}/haalcentraal/api/brp"),
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN": http_connection_json(
            f"{base}/haalcentraal/api/reisdocumenten"
        ),
        "NAZORG_PSEUDONIEM_SLEUTEL": TEST_KEY,
        "NAZORG_OUTBOX_DIR": str(tmp / "outbox"),
        "NAZORG_REGISTER_DIR": str(register_dir or REPO / "register"),
        "NAZORG_SQL_DIR": str(sql_root or REPO / "sql"),
        "GX_ANALYTICS_ENABLED": "False",
    }
    dispose_engines()
    bron_engine = make_engine(bronnen_url)
    vul_bronnen(bron_engine, population(), 1)
    bron_engine.dispose()
    pipeline_engine = make_engine(pipeline_url)
    migrations.upgrade(pipeline_engine)  # what `nazorg db upgrade` does for a deployment
    pipeline_engine.dispose()
    return World(env, pipeline_url, bronnen_url, tmp)


def _sqlite_world(
    tmp: Path,
    airflow_home: dict[str, str],
    hc_server,
    register_dir: Path | None = None,
    sql_root: Path | None = None,
) -> World:
    return _make_world(
        tmp,
        airflow_home,
        hc_server,
        f"sqlite:///{tmp / 'nazorg.db'}",
        f"sqlite:///{tmp / 'bronnen.db'}",
        register_dir,
        sql_root,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path: Path, airflow_home, hc_server) -> Iterator[World]:
    if request.param == "sqlite":
        yield _sqlite_world(tmp_path, airflow_home, hc_server)
    else:
        pg = request.getfixturevalue("fresh_postgres_db")
        bronnen = request.getfixturevalue("fresh_postgres_bronnen_db")  # never the pipeline DB
        yield _make_world(tmp_path, airflow_home, hc_server, pg, bronnen)


def test_meldingen_are_published_with_correct_outcomes(world: World) -> None:
    records = list(meldingen(3))
    world.submit(records)
    states, log = world.run(*(r["melding_id"] for r in records))
    assert set(states.values()) == {"success"}, log[-3000:]
    store = world.store()
    for record in records:
        rows = store.query("outbox_get", {"melding_id": record["melding_id"]})
        assert len(rows) == 1
        document = json.loads(rows[0]["inhoud"])
        assert Path(rows[0]["bestand"]).is_file()
        outcomes = {
            c["check_id"]: (c["uitkomst"], c["reden"])
            for g in document["aandachtsgebieden"]
            for c in g["checks"]
        }
        assert set(outcomes) == set(default_policy().register.ids)
        for check_id, got in outcomes.items():
            assert got == expected(check_id, record["bsn"], record["gemeente_code"]), (check_id, record)
    with store.engine.connect() as conn:
        logs = conn.execute(
            text(
                "SELECT processing_activity_id, data_subject_id, data_subject_id_type, trace_id "
                "FROM verwerkingslog"
            )
        ).all()
        executed = conn.execute(text("SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja'")).scalar_one()
    assert len(logs) == executed > 0
    assert all(r.data_subject_id_type == "BSN" and len(r.data_subject_id) == 64 for r in logs)
    assert not any(record["bsn"] in str(logs) for record in records)


def _airflow_dump(env: dict[str, str]) -> str:
    """Everything Airflow keeps: every table of its metadata DB (run ids and conf included),
    every log file's content and every path under the log folder (run ids become folder names).
    """
    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    parts = []
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in con.execute(f'SELECT * FROM "{table}"'):
            parts.append(
                " ".join(r.decode("utf-8", "replace") if isinstance(r, bytes) else str(r) for r in row)
            )
    con.close()
    logs = Path(env["AIRFLOW_HOME"]) / "logs"
    if logs.exists():
        for path in logs.rglob("*"):
            parts.append(str(path.relative_to(logs)))
            if path.is_file():
                parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def _airflow_identifiers(env: dict[str, str]) -> str:
    """Run ids, conf and log paths only: where nothing a sender chose may appear."""
    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    parts = [" ".join(map(str, row)) for row in con.execute("SELECT run_id, conf FROM dag_run")]
    parts += [str(row[0]) for row in con.execute("SELECT DISTINCT run_id FROM task_instance")]
    con.close()
    logs = Path(env["AIRFLOW_HOME"]) / "logs"
    parts += [str(p.relative_to(logs)) for p in logs.rglob("*")] if logs.exists() else []
    return "\n".join(parts)


def _xcom_values(env: dict[str, str]) -> list[object]:
    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    values = [row[0] for row in con.execute("SELECT value FROM xcom")]
    con.close()
    return values


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_no_bsn_or_outcome_in_airflow_metadata_or_logs(world: World) -> None:
    records = list(meldingen(2, offset=10))
    world.submit(records)
    states, log = world.run(*(r["melding_id"] for r in records))
    assert set(states.values()) == {"success"}
    metadata = _airflow_dump(world.env) + "\n" + log
    contacts = {
        row[0]
        for row in world.store()
        .engine.connect()
        .execute(
            text(
                "SELECT DISTINCT dossierverantwoordelijke FROM uitkomst"
                " WHERE dossierverantwoordelijke IS NOT NULL"
            )
        )
    }
    assert contacts, "the run should have produced contacts to search for"
    identifiers = _airflow_identifiers(world.env)
    for record in records:
        assert record["bsn"] not in metadata
        # Airflow knows the run by its key only, not by the sender's melding id
        assert world.key(record["melding_id"]) in metadata  # sanity: the search does see Airflow's data
        assert record["melding_id"] not in metadata
        assert world.key(record["melding_id"]) in identifiers
    for contact in contacts:
        assert contact not in metadata, "an outcome's contact leaked into Airflow metadata or logs"
    # tasks return nothing; even a count of executed checks could reveal consent
    assert _xcom_values(world.env) == []
    # the quarantine is in the pipeline DB, but holds reason codes and names, never a value
    quarantaine = str(world.store().query("quarantaine_list"))
    assert not any(record["bsn"] in quarantaine for record in records)
    assert not any(contact in quarantaine for contact in contacts)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_same_melding_twice_gives_one_basisdocument(world: World) -> None:
    records = list(meldingen(1, offset=20))
    world.submit(records)
    world.submit(records)  # second submission: already there, nothing changes
    melding_id = records[0]["melding_id"]
    states, _ = world.run(melding_id, melding_id)
    assert set(states.values()) == {"success"}
    with world.store().engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM inbox")).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM outbox")).scalar_one() == 1
        per_trace = conn.execute(
            text("SELECT trace_id, COUNT(*) FROM verwerkingslog GROUP BY trace_id")
        ).all()
        executed = conn.execute(text("SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja'")).scalar_one()
    assert len(per_trace) == 2  # one trace per run
    assert all(count == executed for _, count in per_trace)  # each run logs its own checks once


def _person(gemeente: str, **attrs: bool) -> tuple[int, object]:
    for index, p in enumerate(population()):
        if p.gemeente_code == gemeente and all(getattr(p, k) == v for k, v in attrs.items()):
            return index, p
    raise AssertionError("no such synthetic person")


OVERCOLLECTING = {
    # refused by the lookup rules: the run fails at its first task and asks no source at all
    "extra_column": (
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke, openstaand_bedrag\n"
        "FROM cjib_vorderingen WHERE bsn IN :bsns\n",
        ("ontvang", "register_ongeldig", None),
    ),
    # passes the rules (the amount hides in bekend); the shape check blocks it after the fact
    "amount_as_bekend": (
        "SELECT bsn, openstaand_bedrag AS bekend, team AS dossierverantwoordelijke\n"
        "FROM cjib_vorderingen WHERE bsn IN :bsns\n",
        ("check", "lookup_waarde_ongeldig", "bekend"),
    ),
}


@pytest.fixture(params=sorted(OVERCOLLECTING))
def overcollecting_policy(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, tuple]:
    """A besluit whose schuld_cjib query also selects the amount; and the quarantine row it must give."""
    query, expected = OVERCOLLECTING[request.param]
    register_dir = tmp_path / "register"
    sql_root = tmp_path / "sql"
    shutil.copytree(REPO / "register", register_dir)
    shutil.copytree(REPO / "sql", sql_root)
    (sql_root / "lookups" / "schuld_cjib_te_veel.sql").write_text(query)
    besluit = register_dir / "besluiten" / "9901-ruimhaven.yaml"
    besluit.write_text(
        besluit.read_text().replace("lookups/schuld_cjib.sql", "lookups/schuld_cjib_te_veel.sql")
    )
    return register_dir, sql_root, expected


def test_extra_column_blocks_and_leaves_no_value(
    tmp_path: Path, airflow_home, hc_server, overcollecting_policy
) -> None:
    register_dir, sql_root, expected = overcollecting_policy
    world = _sqlite_world(tmp_path, airflow_home, hc_server, register_dir, sql_root)
    index, person = _person("9901", schuld_cjib=True)
    world.update_bron(
        "UPDATE cjib_vorderingen SET openstaand_bedrag = 987654.32 WHERE bsn = :b", {"b": person.bsn}
    )
    record = next(meldingen(1, offset=index))
    quarantined, everywhere = world.run_blocked(record)
    assert {(q["fase"], q["reden_code"], q["veld"]) for q in quarantined} >= {expected}
    # refused by the lookup rules (ontvang), a run fails closed and a fixed besluit may re-run it;
    # a shape the rules let through is found by the check and blocks the melding for good
    status = "mislukt" if expected[0] == "ontvang" else "geblokkeerd"
    assert world.store().query("inbox_get", {"melding_id": record["melding_id"]})[0]["status"] == status
    assert "987654" not in everywhere


def test_text_as_contact_is_replaced_by_the_default_team(tmp_path: Path, airflow_home, hc_server) -> None:
    """A source names a BSN and free text as the contact: not a team of the besluit, so not published.

    The outcome stands with the besluit's default team and the reason; the
    quarantine names the check; the text is in no table, file, log or Airflow
    metadata (tests/security/test_contacts.py has every kind of such text).
    """
    world = _sqlite_world(tmp_path, airflow_home, hc_server)
    index, person = _person("9901", schuldhulp=True)
    other_bsn = population()[1999].bsn  # a test BSN that is in no melding
    world.update_bron(
        "UPDATE shv_dossiers SET schuldhulpverlener_team = :t WHERE bsn = :b",
        {"t": f"Partner {other_bsn} belt zelf", "b": person.bsn},
    )
    record = next(meldingen(1, offset=index))
    world.submit([record])
    states, log = world.run(record["melding_id"])
    assert set(states.values()) == {"success"}, log[-3000:]
    store = world.store()
    (row,) = store.query("outbox_get", {"melding_id": record["melding_id"]})
    checks = {c["check_id"]: c for g in json.loads(row["inhoud"])["aandachtsgebieden"] for c in g["checks"]}
    assert checks["schuldhulpverlening"] == {
        "check_id": "schuldhulpverlening",
        "uitkomst": "ja",
        "dossierverantwoordelijke": "Team Schuldhulpverlening Ruimhaven",
        "reden": "contact_niet_in_besluit",
        "contact_herkomst": "standaard",  # the source's text was refused: the besluit's default team
    }
    quarantined = [q for q in store.query("quarantaine_list") if q["melding_id"] == record["melding_id"]]
    assert {(q["fase"], q["reden_code"], q["veld"]) for q in quarantined} == {
        ("check", "contact_niet_in_besluit", "schuldhulpverlening.dossierverantwoordelijke")
    }
    files = "\n".join(f.read_text() for f in (tmp_path / "outbox").rglob("*.json"))
    everywhere = world.dump_pipeline_db() + _airflow_dump(world.env) + log + files
    assert record["melding_id"] in everywhere  # sanity: the search sees the data
    assert other_bsn not in everywhere
    assert "belt zelf" not in everywhere


ROGUE_WRITERS = {
    # a component outside the register writes its own result next to the real ones
    "unknown_check": (
        "uitkomst",
        "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst,"
        " dossierverantwoordelijke, reden, processing_activity_id, bepaald_op)"
        " SELECT NEW.melding_id, 'creditscorex', NEW.aandachtsgebied, 'ja',"
        " 'Team Krediet', NULL, 'x', NEW.bepaald_op WHERE NEW.check_id = 'kinderen'",
        "creditscorex",
    ),
    # a buggy assembler writes outcomes outside the value set into the document itself
    # (the uitkomst table's CHECK constraint already refuses them there: test_migrations)
    "outcome_outside_set": (
        "basisdocument",
        'UPDATE basisdocument SET inhoud = replace(inhoud, \'"uitkomst": "\','
        ' \'"uitkomst": "waarschijnlijkx\') WHERE melding_id = NEW.melding_id',
        "waarschijnlijkx",
    ),
    # a contact that is no team of any besluit, written past the checks (they would have refused it)
    "contact_outside_set": (
        "uitkomst",
        "UPDATE uitkomst SET dossierverantwoordelijke = 'Mevrouw Roguex'"
        " WHERE melding_id = NEW.melding_id AND check_id = 'kinderen'",
        "Roguex",
    ),
}
#: the column whose expect_column_values_to_be_in_set stops each rogue writer
ROGUE_COLUMNS = {
    "unknown_check": "check_id",
    "outcome_outside_set": "uitkomst",
    "contact_outside_set": "dossierverantwoordelijke",
}


@pytest.mark.parametrize("rogue", sorted(ROGUE_WRITERS))
def test_rogue_results_are_blocked_by_the_guard(tmp_path: Path, airflow_home, hc_server, rogue: str) -> None:
    """Defence in depth: whatever reaches the staged outcomes, the guard decides before publication."""
    world = _sqlite_world(tmp_path, airflow_home, hc_server)
    table, statement, marker = ROGUE_WRITERS[rogue]
    db = tmp_path / "nazorg.db"
    con = sqlite3.connect(db)
    con.execute(f"CREATE TRIGGER rogue AFTER INSERT ON {table} BEGIN {statement}; END")
    con.commit()
    con.close()
    quarantined, everywhere = world.run_blocked(next(meldingen(1, offset=30)))
    assert {q["fase"] for q in quarantined} == {"bewaak"}
    column = ROGUE_COLUMNS[rogue]
    assert ("expect_column_values_to_be_in_set", column) in {
        (q["expectation"], q["veld"]) for q in quarantined
    }
    assert marker not in everywhere
