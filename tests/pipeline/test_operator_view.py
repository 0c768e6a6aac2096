"""The operator's view on rows the real pipeline steps made (SQLite, simulated sources over HTTP).

The world: meldingen published normally, two of gemeente 9901 while the Haal
Centraal server answers 503 (their three Haal Centraal checks end onbekend with
a source reason, and get a retry), one left unprocessed, one refused at intake,
one whose basisdocument was tampered with after assembly so the guard blocks it,
and a laatstedagsmelding with one failed notification attempt. Each count of the
page is then compared with what that world must give, and the page and its JSON
are scanned for every melding id and BSN in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import pipeline
from nazorg.operator_view.app import Bron, maak_app
from nazorg.operator_view.tellingen import BRON_REDENEN, OngeldigVenster, verzamel
from nazorg.operator_view.weergave import als_html
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.asgi import vraag
from tests.pipeline.test_pipeline_steps import World, _world

pytestmark = pytest.mark.pipeline

HC_CHECKS = {"id_bewijs", "onderdak", "kinderen"}


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[World]:
    from nazorg.settings import SOURCE_ROOT

    yield _world(tmp_path, monkeypatch, hc_server, sqlite_bronnen, SOURCE_ROOT)


@pytest.fixture
def opgebouwd(world: World, hc_server: HaalCentraalSimServer) -> dict[str, Any]:
    records = [r for r in meldingen(40, offset=700) if r["gemeente_code"] == "9901"][:6]
    normaal, falend, open_, blok = records[:2], records[2:4], records[4], records[5]
    ongeldig = {**records[0], "melding_id": "EDM-ONGELDIG-1", "gemeente_code": "12"}
    world.submit([*normaal, *falend, open_, blok, ongeldig])
    for r in normaal:
        world.run(r["melding_id"])
    hc_server.configure(fault="503")
    try:
        for r in falend:
            world.run(r["melding_id"])
    finally:
        hc_server.configure(fault=None)
    # the guard blocks a basisdocument that holds more than it may
    world.run_until_document(blok["melding_id"])
    with world.store.engine.begin() as conn:
        inhoud = json.loads(
            conn.execute(
                text("SELECT inhoud FROM basisdocument WHERE melding_id = :m"), {"m": blok["melding_id"]}
            ).scalar_one()
        )
        inhoud["aandachtsgebieden"][0]["checks"][0]["adres"] = "Dorpsstraat 1"  # over-collection
        conn.execute(
            text("UPDATE basisdocument SET inhoud = :i WHERE melding_id = :m"),
            {"i": json.dumps(inhoud), "m": blok["melding_id"]},
        )
    with pytest.raises(pipeline.Geblokkeerd):
        pipeline.bewaak(world.rt, world.key(blok["melding_id"]))
    # a laatstedagsmelding still waiting, with one failed attempt to tell a team
    with world.store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO laatstedagsmelding (melding_id, datum_uitstroom, gemeente_hervestiging, "
                "inhoud_hash, ontvangen_op, status) VALUES (:m, '2026-01-01', NULL, 'h', :nu, 'ontvangen')"
            ),
            {"m": normaal[0]["melding_id"], "nu": datetime.now(UTC).isoformat(timespec="milliseconds")},
        )
        conn.execute(
            text(
                "INSERT INTO notificatie (notificatie_id, melding_id, soort, team_id, gemeente_code, kanaal, "
                "status, reden, verzonden_op) VALUES ('n-1', :m, 'laatstedagsmelding', 'team-x', '9901', "
                "'smtp', 'mislukt', 'smtp_fout', :nu)"
            ),
            {"m": normaal[0]["melding_id"], "nu": datetime.now(UTC).isoformat(timespec="milliseconds")},
        )
    return {"records": [*records, ongeldig], "falend": falend, "blok": blok}


def _tel(world: World, nu: datetime, uren: int = 24) -> Any:
    return verzamel(world.store, world.rt.policy.register, world.rt.settings, nu=nu, uren=uren)


def test_the_counts_are_those_of_the_world(world: World, opgebouwd: dict[str, Any]) -> None:
    nu = datetime.now(UTC)
    o = _tel(world, nu)

    per_status = {m.status: (m.vandaag, m.totaal) for m in o.meldingen}
    assert per_status == {"gepubliceerd": (4, 4), "ontvangen": (1, 1), "geblokkeerd": (1, 1)}

    quarantaine = {(q.fase, q.reden_code): (q.vandaag, q.totaal) for q in o.quarantaine}
    assert {fase for fase, _ in quarantaine} == {"intake", "bewaak"}
    assert sum(v[1] for (fase, _), v in quarantaine.items() if fase == "intake") >= 1
    assert all(vandaag == totaal for vandaag, totaal in quarantaine.values())

    assert o.geblokkeerd == 1
    assert o.blokkades and all(b.meldingen == 1 for b in o.blokkades)
    assert all(b.expectation for b in o.blokkades)

    bronnen = {entry.id: entry.bron for entry in world.rt.policy.register.checks}
    per_check: dict[str, int] = {}
    for f in o.falende_bronnen:
        assert f.reden in BRON_REDENEN
        assert f.bron == bronnen[f.check_id]
        per_check[f.check_id] = per_check.get(f.check_id, 0) + f.aantal
    assert per_check == dict.fromkeys(HC_CHECKS, 2)

    # the per-melding path planned a retry for each: waiting now, due once the backoff has passed
    assert {h.check_id: (h.wachtend, h.aan_de_beurt) for h in o.herhalingen} == dict.fromkeys(
        HC_CHECKS, (2, 0)
    )
    later = _tel(world, nu + timedelta(days=1), uren=48)
    assert {h.check_id: (h.wachtend, h.aan_de_beurt) for h in later.herhalingen} == dict.fromkeys(
        HC_CHECKS, (0, 2)
    )

    assert o.laatstedagsmeldingen == {"ontvangen": 1}
    assert [(n.soort, n.kanaal, n.status, n.aantal) for n in o.notificaties] == [
        ("laatstedagsmelding", "smtp", "mislukt", 1)
    ]
    assert o.notificaties_opgegeven == {}

    # nothing is due for retention today; the last run is unknown
    b = o.bewaartermijn
    assert (b.check_paren, b.meldingen, b.grafstenen, b.quarantaine, b.verwerkingslog) == (0, 0, 0, 0, 0)
    assert b.laatste_run is None


def test_a_window_and_a_day_leave_older_rows_out(world: World, opgebouwd: dict[str, Any]) -> None:
    """Tomorrow nothing was received 'today', and failures older than the window are not current."""
    o = _tel(world, datetime.now(UTC) + timedelta(days=2), uren=1)
    assert all(m.vandaag == 0 for m in o.meldingen)
    assert sum(m.totaal for m in o.meldingen) == 6
    assert all(q.vandaag == 0 for q in o.quarantaine)
    assert o.falende_bronnen == []
    assert o.notificaties == []
    assert o.laatstedagsmeldingen == {"ontvangen": 1}  # pending stays pending


def test_the_retention_backlog_is_the_plan_of_the_daily_run(world: World, opgebouwd: dict[str, Any]) -> None:
    """Years later every term has run: the backlog counts what bewaartermijn.voer_uit then deletes."""
    from nazorg.bewaartermijn import Categorie, voer_uit

    ver = datetime.now(UTC) + timedelta(days=365 * 12)
    b = _tel(world, ver).bewaartermijn
    paren = world.count(
        "SELECT COUNT(*) FROM (SELECT melding_id, check_id FROM uitkomst UNION "
        "SELECT melding_id, check_id FROM plan) AS p"
    )
    assert b.check_paren == paren > 0
    assert b.meldingen == world.count("SELECT COUNT(*) FROM inbox WHERE bsn IS NOT NULL")
    assert b.quarantaine == world.count("SELECT COUNT(*) FROM quarantaine") > 0
    assert b.verwerkingslog == world.count("SELECT COUNT(*) FROM verwerkingslog") > 0

    rapport = voer_uit(world.store, world.rt.policy.register, world.rt.settings, nu=ver, droog=True)
    assert rapport.tellingen[Categorie.INBOX_BSN] == b.meldingen
    assert rapport.tellingen[Categorie.QUARANTAINE] == b.quarantaine
    assert rapport.tellingen[Categorie.VERWERKINGSLOG] == b.verwerkingslog
    # the dry run is on record now, and the view says so
    assert _tel(world, ver).bewaartermijn.laatste_run_droog is True


def test_the_window_is_bounded(world: World) -> None:
    for uren in (0, 169, -1):
        with pytest.raises(OngeldigVenster):
            _tel(world, datetime.now(UTC), uren=uren)


def test_page_and_json_hold_no_melding_id_and_no_bsn(world: World, opgebouwd: dict[str, Any]) -> None:
    nu = datetime.now(UTC)
    app = maak_app(
        bron=lambda: Bron(world.store, world.rt.policy.register, world.rt.settings),
        toegang=lambda: None,
        klok=lambda: nu,
    )
    pagina = vraag(app, "/")
    data = vraag(app, "/tellingen.json")
    assert pagina.status_code == 200 and data.status_code == 200
    assert "Nazorg-intake: beheeroverzicht" in pagina.text
    assert data.json()["geblokkeerd"] == 1
    with world.store.engine.connect() as conn:
        ids = [str(m) for (m,) in conn.execute(text("SELECT melding_id FROM inbox"))]
        ids += [str(m) for (m,) in conn.execute(text("SELECT run_key FROM inbox")) if m]
    bsns = [str(r["bsn"]) for r in opgebouwd["records"]]
    assert ids and bsns
    for geheim in ids + bsns:
        assert geheim not in pagina.text, "melding id, run key or BSN on the page"
        assert geheim not in data.text, "melding id, run key or BSN in the JSON"
    assert "team-x" not in pagina.text + data.text


def test_the_page_escapes_what_it_shows(world: World) -> None:
    """A reason code comes from the database: markup in it is shown as text, never run."""
    with world.store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO quarantaine (quarantaine_id, melding_id, herkomst, fase, reden_code, veld, "
                "expectation, geregistreerd_op) VALUES ('q-x', NULL, 'test', 'intake', '<script>x</script>', "
                "NULL, NULL, :nu)"
            ),
            {"nu": datetime.now(UTC).isoformat(timespec="milliseconds")},
        )
    html = als_html(_tel(world, datetime.now(UTC)))
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
