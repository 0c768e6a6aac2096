"""The operator's counts on hand-made rows, on SQLite and on PostgreSQL; the app's error paths.

The pipeline-built world (tests/pipeline/test_operator_view.py) runs on SQLite
only; here every statement of ``sql/operator`` also runs on PostgreSQL, with rows
placed exactly at the edges of "today", the window and the retry clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import migrations
from nazorg.operator_view.app import Bron, maak_app
from nazorg.operator_view.tellingen import begin_van_dag, verzamel
from nazorg.register import load_register
from nazorg.settings import SOURCE_ROOT, Settings
from nazorg.store import Store
from tests.asgi import vraag

#: 10:00 in Amsterdam (winter: UTC+1); "today" began at 2026-11-29T23:00Z
NU = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONFIG = Settings.for_project(SOURCE_ROOT)


def _t(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


@pytest.fixture
def store(empty_pipeline_engine: Any) -> Iterator[Store]:
    migrations.upgrade(empty_pipeline_engine)
    yield Store(empty_pipeline_engine, CONFIG.sql_dir)


def _inbox(conn: Any, melding_id: str, status: str, ontvangen: datetime) -> None:
    conn.execute(
        text(
            "INSERT INTO inbox (melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst, "
            "inhoud_hash, status, ontvangen_op, bijgewerkt_op) "
            "VALUES (:m, :k, NULL, '9901', NULL, NULL, 'h', :s, :o, :o)"
        ),
        {"m": melding_id, "k": f"r-{melding_id}", "s": status, "o": _t(ontvangen)},
    )


def _uitkomst(
    conn: Any, melding_id: str, check_id: str, uitkomst: str, reden: str | None, bepaald: datetime, **kw: Any
) -> None:
    conn.execute(
        text(
            "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, "
            "dossierverantwoordelijke, reden, processing_activity_id, bepaald_op, pogingen, volgende_poging) "
            "VALUES (:m, :c, 'zorg', :u, NULL, :r, 'urn:x', :b, :p, :v)"
        ),
        {
            "m": melding_id,
            "c": check_id,
            "u": uitkomst,
            "r": reden,
            "b": _t(bepaald),
            "p": kw.get("pogingen", 0),
            "v": _t(kw["volgende"]) if kw.get("volgende") else None,
        },
    )


def _quarantaine(
    conn: Any, qid: str, melding_id: str | None, fase: str, reden: str, when: datetime, **kw: Any
) -> None:
    conn.execute(
        text(
            "INSERT INTO quarantaine (quarantaine_id, melding_id, herkomst, fase, reden_code, veld, "
            "expectation, geregistreerd_op) VALUES (:q, :m, :h, :f, :r, :v, :e, :g)"
        ),
        {
            "q": qid,
            "m": melding_id,
            "h": kw.get("herkomst", "pipeline"),
            "f": fase,
            "r": reden,
            "v": kw.get("veld"),
            "e": kw.get("expectation"),
            "g": _t(when),
        },
    )


def test_counts_at_the_edges_of_today_the_window_and_the_retry_clock(store: Store) -> None:
    dag = begin_van_dag(NU)
    assert _t(dag) == "2026-11-29T23:00:00.000+00:00"
    vlak_voor, vlak_na = dag - timedelta(milliseconds=1), dag
    with store.transaction() as conn:
        _inbox(conn, "m-gisteren", "gepubliceerd", vlak_voor)
        _inbox(conn, "m-vandaag", "gepubliceerd", vlak_na)
        _inbox(conn, "m-blok", "geblokkeerd", vlak_na)
        _inbox(conn, "m-blok-oud", "geblokkeerd", vlak_voor)
        _quarantaine(conn, "q1", "m-blok", "bewaak", "guard", vlak_na, expectation="expect_a", veld="k1")
        _quarantaine(conn, "q2", "m-blok", "bewaak", "guard", vlak_na, expectation="expect_b", veld=None)
        _quarantaine(
            conn, "q3", "m-blok-oud", "bewaak", "guard", vlak_voor, expectation="expect_a", veld="k1"
        )
        _quarantaine(conn, "q4", None, "intake", "schema", vlak_voor)
        _quarantaine(
            conn,
            "q5",
            "m-gisteren",
            "publiceer",
            "notificatie_mislukt",
            vlak_na,
            herkomst="laatstedagsmelding",
        )
        venster = NU - timedelta(hours=24)
        # failing sources: only onbekend with a source reason, only inside the window
        _uitkomst(
            conn, "m-vandaag", "onderdak", "onbekend", "bron_timeout", venster, volgende=NU + timedelta(1)
        )
        _uitkomst(
            conn, "m-gisteren", "onderdak", "onbekend", "bron_fout", venster - timedelta(milliseconds=1)
        )
        _uitkomst(
            conn, "m-vandaag", "id_bewijs", "onbekend", "bron_ambigu", NU
        )  # not a failure of the source
        _uitkomst(conn, "m-vandaag", "wmo_zorg", "nee", None, NU)
        # retries (determined before the window): due exactly now, one at the attempt limit, a consent retry
        oud = venster - timedelta(hours=1)
        _uitkomst(conn, "m-gisteren", "id_bewijs", "onbekend", "bron_onbereikbaar", oud, volgende=NU)
        _uitkomst(conn, "m-gisteren", "kinderen", "onbekend", "bron_fout", oud, volgende=NU, pogingen=3)
        _uitkomst(conn, "m-blok-oud", "wmo_zorg", "niet_uitgevoerd", "geen_toestemming", oud, volgende=NU)

    o = verzamel(store, load_register(CONFIG.register_dir), CONFIG, nu=NU, uren=24)

    assert o.vandaag == "2026-11-30"
    assert {m.status: (m.vandaag, m.totaal) for m in o.meldingen} == {
        "gepubliceerd": (1, 2),
        "geblokkeerd": (1, 2),
    }
    assert {(q.fase, q.reden_code): (q.vandaag, q.totaal) for q in o.quarantaine} == {
        ("bewaak", "guard"): (2, 3),
        ("intake", "schema"): (0, 1),
        ("publiceer", "notificatie_mislukt"): (1, 1),
    }
    assert o.geblokkeerd == 2
    assert [(b.expectation, b.veld, b.meldingen) for b in o.blokkades] == [
        ("expect_a", "k1", 2),
        ("expect_b", None, 1),
    ]
    assert [(f.bron, f.check_id, f.reden, f.aantal) for f in o.falende_bronnen] == [
        ("haal_centraal_brp_personen", "onderdak", "bron_timeout", 1)
    ]
    assert {h.check_id: (h.wachtend, h.aan_de_beurt) for h in o.herhalingen} == {
        "onderdak": (1, 0),
        "id_bewijs": (0, 1),
        "wmo_zorg": (0, 1),
    }
    assert o.notificaties_opgegeven == {"laatstedagsmelding": 1}
    assert o.laatstedagsmeldingen == {}


def _stuk() -> Bron:
    raise RuntimeError("postgresql://gebruiker:wachtwoord@db.example/nazorg")


def test_the_app_refuses_a_window_out_of_range_and_hides_why_the_db_failed(store: Store) -> None:
    app = maak_app(toegang=lambda: None, bron=_stuk, klok=lambda: NU)
    antwoord = vraag(app, "/tellingen.json")
    assert antwoord.status_code == 503
    assert "wachtwoord" not in antwoord.text and "postgresql" not in antwoord.text
    assert antwoord.headers["cache-control"] == "no-store"

    ok = maak_app(
        toegang=lambda: None,
        bron=lambda: Bron(store, load_register(CONFIG.register_dir), CONFIG),
        klok=lambda: NU,
    )
    for uren in ("0", "169", "x"):
        assert vraag(ok, f"/?uren={uren}").status_code == 422, uren
    assert vraag(ok, "/?uren=168").status_code == 200
    assert vraag(ok, "/tellingen.json?uren=1").json()["uren"] == 1


def test_the_login_dependency_runs_before_any_count(store: Store) -> None:
    from fastapi import HTTPException

    gelezen: list[int] = []

    def bron() -> Bron:
        gelezen.append(1)
        return Bron(store, load_register(CONFIG.register_dir), CONFIG)

    def weiger() -> None:
        raise HTTPException(status_code=401, detail="Not authenticated")

    app = maak_app(toegang=weiger, bron=bron, klok=lambda: NU)
    for pad in ("/", "/tellingen.json", "/bestaat-niet"):
        assert vraag(app, pad).status_code in (401, 404), pad
    assert vraag(app, "/").status_code == 401
    assert gelezen == []


def test_the_retention_backlog_is_reused_for_a_few_minutes_the_same_day(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning retention reads every melding's clock: a refreshing probe must not do that each time."""
    from nazorg.operator_view import app as app_module

    klok = [NU]
    app = maak_app(
        toegang=lambda: None,
        bron=lambda: Bron(store, load_register(CONFIG.register_dir), CONFIG),
        klok=lambda: klok[0],
    )

    def quarantaine_te_verwijderen() -> int:
        return int(vraag(app, "/tellingen.json").json()["bewaartermijn"]["quarantaine"])

    assert quarantaine_te_verwijderen() == 0
    with store.transaction() as conn:
        _quarantaine(conn, "q-oud", None, "intake", "schema", NU - timedelta(days=800))
    assert quarantaine_te_verwijderen() == 0  # within ACHTERSTAND_S: the same backlog
    klok[0] = NU + timedelta(days=1)
    assert quarantaine_te_verwijderen() == 1  # another day: computed again
    with store.transaction() as conn:
        _quarantaine(conn, "q-oud-2", None, "intake", "schema", NU - timedelta(days=800))
    monkeypatch.setattr(app_module, "ACHTERSTAND_S", 0.0)
    assert quarantaine_te_verwijderen() == 2  # its time has passed: computed again
