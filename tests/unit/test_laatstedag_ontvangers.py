"""Who is told about a laatstedagsmelding: routing by the besluiten, pure (no pipeline)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg import laatstedag, migrations
from nazorg.inbox import dien_in as dien_eerstedag_in
from nazorg.intake import beoordeel_alle, decode, herkomst_voor, nieuwe_inzending
from nazorg.notificatie import BestandNotifier
from nazorg.register import default_policy
from nazorg.store import Store, dispose_engines, make_engine
from nazorg_dev.sim.meldingen import meldingen

pytestmark = pytest.mark.unit
POLICY = default_policy()


def _teams(ontvangers: list[laatstedag.Ontvanger]) -> list[tuple[str, str]]:
    return [(o.gemeente_code, o.team.id) for o in ontvangers]


def test_each_ja_goes_to_the_team_it_named_and_each_team_once() -> None:
    ja = [
        ("schuld_cjib", "Team Schuldhulpverlening Ruimhaven"),
        ("schuldhulpverlening", "Team Schuldhulpverlening Ruimhaven"),
        ("ggz_risicoprofiel", "FACT-team Ruimhaven"),  # a source may name another team of the list
    ]
    assert _teams(laatstedag.ontvangers(POLICY, "9901", None, ja)) == [
        ("9901", "fact-team"),
        ("9901", "schuldhulpverlening"),
    ]


def test_a_contact_that_is_no_team_any_more_falls_back_to_the_checks_default() -> None:
    assert _teams(laatstedag.ontvangers(POLICY, "9901", None, [("wmo_zorg", "Opgeheven team")])) == [
        ("9901", "wmo-loket")
    ]


def test_hervestiging_uses_that_gemeentes_default_team_or_keeps_the_herkomst_team() -> None:
    ja = [("kinderen", "Team Jeugd Ruimhaven"), ("ggz_risicoprofiel", "GGZ-team Ruimhaven")]
    assert _teams(laatstedag.ontvangers(POLICY, "9901", "9902", ja)) == [
        ("9901", "ggz-team"),  # Strikdorp does not perform the GGZ check
        ("9902", "jeugdteam"),
    ]
    # the same gemeente as herkomst: no hervestiging
    assert _teams(laatstedag.ontvangers(POLICY, "9901", "9901", ja)) == [
        ("9901", "ggz-team"),
        ("9901", "jeugd"),
    ]


def test_no_ja_tells_nobody_and_an_unroutable_ja_is_an_error_not_a_silence() -> None:
    assert laatstedag.ontvangers(POLICY, "9901", None, []) == []
    with pytest.raises(laatstedag.TeamOnbekend):
        laatstedag.ontvangers(POLICY, "9902", None, [("ggz_risicoprofiel", "GGZ-team Ruimhaven")])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    dispose_engines()
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    yield Store(engine)
    engine.dispose()


def test_a_blocked_melding_is_settled_without_messages(store: Store, tmp_path: Path) -> None:
    record = next(meldingen(1))
    inzending = nieuwe_inzending()
    judged = beoordeel_alle([(herkomst_voor(inzending, 1), record)], POLICY.besluiten, date.today())
    dien_eerstedag_in(store, judged, inzending=inzending)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE inbox SET status = 'geblokkeerd' WHERE melding_id = :m"), {"m": record["melding_id"]}
        )
    data = json.dumps(
        {"melding_id": record["melding_id"], "bsn": record["bsn"], "datum_uitstroom": str(date.today())}
    )
    inzending = nieuwe_inzending()
    laatstedag.dien_in(
        store,
        laatstedag.beoordeel_alle(decode(data, inzending), POLICY.besluiten, date.today()),
        inzending=inzending,
    )
    root = tmp_path / "notificaties"
    telling = laatstedag.verwerk(store, POLICY, BestandNotifier(root), max_pogingen=3, nu=lambda: "t")
    assert telling.voor_xcom() == {"verwerkt": 1, "wachtend": 0, "mislukt": 0}
    assert not list(root.rglob("*.txt"))
    assert (
        store.query("laatstedag/laatstedag_get", {"melding_id": record["melding_id"]})[0]["status"]
        == "verwerkt"
    )
