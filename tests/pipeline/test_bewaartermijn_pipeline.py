"""Retention, inzage and erasure on rows the real pipeline steps made (SQLite, simulated sources).

The meldingen go through every step (plan, checks, basisdocument, guard,
publication with its JSON file); their Parquet rows are written with the
batch's own writer from the stored outcomes. Their ages are then set in the
inbox (the pipeline stamps ``ontvangen_op`` with the real clock) and
laatstedagsmeldingen added where the world needs them, so the retention run
on a fixed peildatum has a known answer.

Consent rows use revision 0009's tables, keyed by melding id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, text

from nazorg.batch import parquet
from nazorg.bewaartermijn import Categorie, voer_uit
from nazorg.bsn import pseudonymise
from nazorg.rechten import als_markdown, verwijder, verzamel
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.conftest import TEST_KEY
from tests.pipeline.test_pipeline_steps import World

pytestmark = pytest.mark.pipeline

PEILDATUM = date(2027, 6, 1)
NU = datetime(2027, 6, 1, 3, 0, tzinfo=UTC)
KORT = "tbc_besmetting"  # in this world's register: P3M from melding_ontvangen; every other P1Y


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[World]:
    """As test_pipeline_steps' world, but the Parquet output in tmp_path too (not the project's var/)."""
    from nazorg import migrations
    from nazorg.connections import http_connection_json
    from nazorg.settings import Settings
    from nazorg.store import Store, dispose_engines, make_engine
    from nazorg.wiring import build
    from nazorg_dev.sim.bronnen import vul_toestemmingen
    from nazorg_dev.sim.population import population

    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", sqlite_bronnen)
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(hc_server.brp_base_url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json(hc_server.reisdocumenten_base_url)
    )
    dispose_engines()
    config = Settings.for_project(
        SOURCE_ROOT,
        outbox_dir=tmp_path / "outbox",
        parquet_dir=tmp_path / "parquet",
        pseudonym_key_raw=TEST_KEY,
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    store = Store(engine, config.sql_dir)
    vul_toestemmingen(store, population())
    yield World(build(config, store=store), tmp_path)
    dispose_engines()


@pytest.fixture
def opgebouwd(world: World) -> dict[str, Any]:
    records = list(meldingen(3, offset=300))
    p, q, r = records
    p2 = {**p, "melding_id": f"{p['melding_id']}-2"}  # the same person, a second detention
    alle = [p, p2, q, r]
    for melding_id in world.submit(alle):
        world.run(melding_id)
    ids = {"P1": p["melding_id"], "P2": p2["melding_id"], "Q": q["melding_id"], "R": r["melding_id"]}
    leeftijd = {  # ontvangen_op, datum_binnenkomst, verwachte_einddatum, datum_uitstroom
        "P1": ("2025-01-10", "2025-01-08", None, "2025-06-01"),  # every term run
        "P2": ("2027-01-15", "2027-01-14", "2027-12-01", None),  # KORT run, the rest from 2027-12-01
        "Q": ("2027-05-20", "2027-05-19", None, None),  # nothing run
        "R": ("2025-02-01", "2025-01-30", None, None),  # KORT run; the rest from 2025-01-30 + P2Y
    }
    with world.store.engine.begin() as conn:
        for naam, (ontvangen, binnen, verwacht, uitstroom) in leeftijd.items():
            conn.execute(
                text(
                    "UPDATE inbox SET ontvangen_op = :o, bijgewerkt_op = :o, datum_binnenkomst = :b, "
                    "verwachte_einddatum = :v WHERE melding_id = :m"
                ),
                {"o": f"{ontvangen}T08:00:00.000+00:00", "b": binnen, "v": verwacht, "m": ids[naam]},
            )
            if uitstroom:
                conn.execute(
                    text(
                        "INSERT INTO laatstedagsmelding (melding_id, datum_uitstroom, gemeente_hervestiging, "
                        "inhoud_hash, ontvangen_op, status) VALUES (:m, :d, NULL, 'h', :d, 'verwerkt')"
                    ),
                    {"m": ids[naam], "d": uitstroom},
                )
            conn.execute(
                text(
                    "INSERT INTO toestemming (toestemming_id, melding_id, soort, tekst_versie, "
                    "vastgelegd_door, vastgelegd_op, geldig_tot, ingetrokken_op, ingetrokken_door) "
                    "VALUES (:t, :m, 'toestemming', 'v1', 'coordinator', :o, NULL, NULL, NULL)"
                ),
                {"t": f"t-{naam}", "m": ids[naam], "o": ontvangen},
            )
            conn.execute(
                text("INSERT INTO toestemming_check (toestemming_id, check_id) VALUES (:t, 'wmo_zorg')"),
                {"t": f"t-{naam}"},
            )
        rijen = [
            {
                **dict(u),
                "besluit": "b",
                "register_versie": "t",
                "versie": 1,
                "gepubliceerd_op": "2027-01-20T00:00:00.000+00:00",
            }
            for u in conn.execute(
                text(
                    "SELECT u.melding_id, i.gemeente_code, u.aandachtsgebied, u.check_id, u.uitkomst, "
                    "u.dossierverantwoordelijke, u.reden FROM uitkomst u JOIN inbox i USING (melding_id)"
                )
            ).mappings()
        ]
    root = world.rt.settings.parquet_dir
    parquet.plaats(parquet.schrijf_tijdelijk(root, "chunk-p", date(2027, 1, 20), rijen))
    return {"ids": ids, "records": alle}


def _register(world: World) -> Any:
    """The project's register, with KORT counted from receipt (the register helper's field)."""
    return SimpleNamespace(
        checks=[
            SimpleNamespace(
                id=e.id,
                bewaartermijn="P3M" if e.id == KORT else e.bewaartermijn,
                bewaartermijn_start="melding_ontvangen" if e.id == KORT else "laatstedagsmelding",
            )
            for e in world.rt.policy.register.checks
        ]
    )


def _rows(world: World, sql: str) -> list[tuple[Any, ...]]:
    with world.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _snapshot(world: World) -> dict[str, list[str]]:
    with world.store.engine.connect() as conn:
        tables = [
            t for t in inspect(conn).get_table_names() if not t.startswith(("bewaartermijn_", "nazorg_"))
        ]
    data = {t: sorted(map(str, _rows(world, f"SELECT * FROM {t}"))) for t in tables}
    data["bestanden"] = sorted(
        f"{p}:{p.stat().st_size}"
        for p in world.tmp.rglob("*")
        if p.is_file() and p.suffix in (".json", ".parquet")
    )
    return data


def test_retention_on_pipeline_rows_deletes_what_is_due_and_a_dry_run_nothing(
    world: World, opgebouwd: dict[str, Any]
) -> None:
    import pyarrow.parquet as pq

    ids = opgebouwd["ids"]
    voor = _snapshot(world)
    paren_voor = set(_rows(world, "SELECT melding_id, check_id FROM uitkomst"))
    plan_voor = set(_rows(world, "SELECT melding_id, check_id FROM plan"))
    log_voor = _rows(world, "SELECT COUNT(*) FROM verwerkingslog")[0][0]

    droog = voer_uit(world.store, _register(world), world.rt.settings, nu=NU, peildatum=PEILDATUM, droog=True)
    assert _snapshot(world) == voor

    rapport = voer_uit(world.store, _register(world), world.rt.settings, nu=NU, peildatum=PEILDATUM)
    assert rapport.tellingen == droog.tellingen

    weg = {pair for pair in paren_voor if pair[0] == ids["P1"]}
    weg |= {(ids[n], KORT) for n in ("P2", "R")}
    assert set(_rows(world, "SELECT melding_id, check_id FROM uitkomst")) == paren_voor - weg
    assert set(_rows(world, "SELECT melding_id, check_id FROM plan")) == plan_voor - {
        pair for pair in plan_voor if pair[0] == ids["P1"] or pair in weg
    }
    rest = {ids["P2"], ids["Q"], ids["R"]}
    for table in ("basisdocument", "outbox", "toestemming"):
        assert {r[0] for r in _rows(world, f"SELECT melding_id FROM {table}")} == rest, table
    assert _rows(world, "SELECT melding_id FROM laatstedagsmelding") == []
    inbox = dict(_rows(world, "SELECT melding_id, bsn FROM inbox"))
    assert set(inbox) == {ids["P1"], *rest}
    assert inbox[ids["P1"]] is None and all(inbox[m] for m in rest)
    # files: P1's published JSON is gone, the others stay; the Parquet file lost exactly P1's rows
    gepubliceerd = {json.loads(p.read_text())["melding_id"] for p in (world.tmp / "outbox").rglob("*.json")}
    assert gepubliceerd == rest
    bestanden = list(world.rt.settings.parquet_dir.rglob("*.parquet"))
    in_parquet = [m for f in bestanden for m in pq.read_table(f)["melding_id"].to_pylist()]
    assert set(in_parquet) == rest
    assert rapport.tellingen[Categorie.PARQUET_RIJ] == len(world.rt.policy.register.checks)
    # the processing log keeps its own (longer) term: nothing of it is due yet
    assert _rows(world, "SELECT COUNT(*) FROM verwerkingslog")[0][0] == log_voor


def test_inzage_and_erasure_on_pipeline_rows(world: World, opgebouwd: dict[str, Any]) -> None:
    ids = opgebouwd["ids"]
    bsn_p = str(opgebouwd["records"][0]["bsn"])
    eigen = (ids["P1"], ids["P2"])
    inzage = verzamel(world.store, world.rt.settings, bsn_p)
    assert sorted(inzage.melding_ids) == sorted(eigen)
    uitgevoerd = _rows(
        world,
        f"SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja' AND melding_id IN ('{eigen[0]}', '{eigen[1]}')",
    )[0][0]
    assert len(inzage.verwerkingslog) == uitgevoerd > 0
    assert {u["melding_id"] for u in inzage.uitkomsten} == set(eigen)
    document = als_markdown(inzage, NU)
    assert ids["Q"] not in document and ids["R"] not in document and bsn_p not in document

    q_voor = _rows(world, f"SELECT * FROM uitkomst WHERE melding_id = '{ids['Q']}'")
    uitslag = verwijder(world.store, world.rt.settings, bsn_p, nu=NU)
    assert uitslag is not None
    pseudoniem = pseudonymise(bsn_p, TEST_KEY.encode())
    with world.store.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    for table in tables:
        dump = str(_rows(world, f"SELECT * FROM {table}"))
        assert bsn_p not in dump, table
        assert all(m not in dump for m in eigen) or table == "inbox", table  # only the tombstones
        if table != "verwerkingslog":
            assert pseudoniem not in dump, table
    assert uitslag.bewaard[Categorie.VERWERKINGSLOG][0] == uitgevoerd
    assert _rows(world, f"SELECT * FROM uitkomst WHERE melding_id = '{ids['Q']}'") == q_voor
    assert not any(
        json.loads(p.read_text())["melding_id"] in eigen for p in (world.tmp / "outbox").rglob("*.json")
    )
