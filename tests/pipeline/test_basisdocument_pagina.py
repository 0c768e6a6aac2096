"""Publication writes the coördinator's page next to the JSON, and refuses a document outside the schema.

In-process pipeline (SQLite, simulated sources over HTTP, the GX guard), as
tests/pipeline/test_pipeline_steps.py runs it.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nazorg import basisdocument as bd
from nazorg import pipeline
from nazorg.basisdocument_html import NIET_ZICHTBAAR
from nazorg.bewaartermijn import verwijder_bestanden
from nazorg.cli import main
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.pipeline.test_pipeline_steps import World, _world

pytestmark = pytest.mark.pipeline


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[World]:
    yield _world(tmp_path, monkeypatch, hc_server, sqlite_bronnen, SOURCE_ROOT)


def _outbox(world: World, melding_id: str) -> dict[str, Any]:
    rows = world.store.query("outbox_get", {"melding_id": melding_id})
    assert len(rows) == 1
    return rows[0]


def test_publication_writes_the_page_next_to_the_json_owner_only_and_without_a_bsn(world: World) -> None:
    records = list(meldingen(12, offset=40))
    ids = world.submit(records)
    for melding_id in ids:
        world.run(melding_id)
    bsns = [str(r["bsn"]) for r in records]
    for record in records:
        row = _outbox(world, str(record["melding_id"]))
        json_pad = Path(row["bestand"])
        pagina = json_pad.with_suffix(".html")
        assert pagina.is_file() and json_pad.is_file()
        assert pagina.stem == json_pad.stem == world.key(str(record["melding_id"]))
        assert stat.S_IMODE(pagina.stat().st_mode) == 0o600
        tekst = pagina.read_text(encoding="utf-8")
        document = json.loads(row["inhoud"])
        # the header the coördinator needs, in the published document and on the page
        assert document["inrichting"] == record["inrichting"]
        assert document["datum_binnenkomst"] == record["datum_binnenkomst"]
        assert document["gemeente_naam"] in tekst and str(record["inrichting"]) in tekst
        assert '<section id="te-doen">' in tekst and "Checks uitgevoerd</dt><dd>niet bekend" not in tekst
        assert NIET_ZICHTBAAR not in tekst  # the file is the coördinator's view: everything
        for bsn in bsns:  # no fixture person's BSN, in any file
            assert bsn not in tekst and bsn not in row["inhoud"]
        assert not re.search(r"https?:|\b(src|href)\s*=", tekst)
    assert not list((world.tmp / "outbox").rglob("*.tmp"))


def test_a_document_with_an_extra_field_is_not_published(world: World) -> None:
    (melding_id,) = world.submit(list(meldingen(1, offset=60)))
    world.run_until_document(melding_id)
    run_key = world.key(melding_id)
    pipeline.bewaak(world.rt, run_key)  # approved by the guard (its frame: the checks)
    # then the stored document grows a field the guard's frame does not see
    with world.store.engine.begin() as conn:
        from sqlalchemy import text

        inhoud = conn.execute(
            text("SELECT inhoud FROM basisdocument WHERE melding_id = :m"), {"m": melding_id}
        ).scalar_one()
        document = json.loads(inhoud)
        document["geboortedatum"] = "1990-01-01"
        conn.execute(
            text("UPDATE basisdocument SET inhoud = :i WHERE melding_id = :m"),
            {"i": json.dumps(document), "m": melding_id},
        )
    with pytest.raises(pipeline.Geblokkeerd, match="schema"):
        pipeline.publiceer(world.rt, run_key)
    assert world.count("SELECT COUNT(*) FROM outbox") == 0
    assert not (world.tmp / "outbox").exists() or not list((world.tmp / "outbox").rglob("*.*"))
    assert world.count("SELECT COUNT(*) FROM basisdocument WHERE melding_id = :m", m=melding_id) == 0
    assert world.count(
        "SELECT COUNT(*) FROM inbox WHERE melding_id = :m AND status = 'geblokkeerd'", m=melding_id
    )
    quarantaine = [q for q in world.store.query("quarantaine_list") if q["melding_id"] == melding_id]
    assert {(q["fase"], q["reden_code"], q["veld"], q["expectation"]) for q in quarantaine} == {
        ("publiceer", "schema_ongeldig", "$", "additionalProperties")
    }


def test_bewaak_holds_back_a_header_the_guard_cannot_see(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (melding_id,) = world.submit(list(meldingen(1, offset=61)))
    echt = bd.stel_op

    def met_bsn_in_de_kop(*args: Any, **kwargs: Any) -> dict[str, Any]:
        document = echt(*args, **kwargs)
        document["inrichting"] = "PI Vught 999990019"
        return document

    monkeypatch.setattr(pipeline.bd, "stel_op", met_bsn_in_de_kop)
    world.run_until_document(melding_id)
    with pytest.raises(pipeline.Geblokkeerd, match="schema"):
        pipeline.bewaak(world.rt, world.key(melding_id))
    quarantaine = [q for q in world.store.query("quarantaine_list") if q["melding_id"] == melding_id]
    assert {(q["fase"], q["reden_code"], q["veld"]) for q in quarantaine} == {
        ("bewaak", "schema_ongeldig", "inrichting")
    }


def test_retention_removes_the_page_with_the_json(world: World) -> None:
    (melding_id,) = world.submit(list(meldingen(1, offset=62)))
    world.run(melding_id)
    json_pad = Path(_outbox(world, melding_id)["bestand"])
    assert verwijder_bestanden([json_pad], droog=True) == 1
    assert json_pad.with_suffix(".html").is_file()  # a dry run removes nothing
    assert verwijder_bestanden([json_pad], droog=False) == 1
    assert not json_pad.exists() and not json_pad.with_suffix(".html").exists()


def test_toon_shows_the_page_for_a_role(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    records = list(meldingen(1, offset=63))
    (melding_id,) = world.submit(records)
    world.run(melding_id)
    monkeypatch.setattr("nazorg.cli._store", lambda: world.store)
    monkeypatch.setattr("nazorg.cli._runtime", lambda: world.rt)
    assert main(["basisdocument", "toon", melding_id, "--format", "html", "--rol", "pi_casemanager"]) == 0
    pagina = capsys.readouterr().out
    assert "casemanager van de PI" in pagina and NIET_ZICHTBAAR in pagina
    assert str(records[0]["bsn"]) not in pagina
    assert main(["basisdocument", "toon", melding_id, "--format", "html"]) == 0
    coordinator = capsys.readouterr().out
    assert NIET_ZICHTBAAR not in coordinator and "gemeentelijk coördinator" in coordinator
    # the same page as the one publication wrote next to the JSON: one rendering, one state
    bestand = Path(_outbox(world, melding_id)["bestand"]).with_suffix(".html")
    assert coordinator == bestand.read_text(encoding="utf-8") + "\n"
    assert "Checks uitgevoerd</dt><dd>niet bekend" not in coordinator  # times from the outcome table
