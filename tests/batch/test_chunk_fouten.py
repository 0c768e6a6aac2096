"""A chunk when something goes wrong: only the meldingen concerned are held back, the rest is published.

Over-collection by a source blocks the meldingen that question was about; a
document the guard refuses row by row blocks only that melding; a table-level
refusal blocks the chunk; a configuration error closes meldingen ``mislukt``;
a source that was down leaves ``onbekend`` that a herhaling fills in later.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from nazorg import basisdocument
from nazorg.sources.errors import SourceShapeError
from nazorg.wiring import Runtime
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.conftest import BatchWorld
from tests.oracle import expected

HC_CHECKS = ("id_bewijs", "kinderen", "onderdak")


class _Adapter:
    """A real adapter, except that one check's question over-collects (or its probe does)."""

    def __init__(self, echt: Any, check_id: str, bij_toets: bool) -> None:
        self.echt, self.check_id, self.bij_toets = echt, check_id, bij_toets

    def answer(self, vraag: Any, gevallen: Sequence[Any]) -> Any:
        if vraag.entry.id == self.check_id and not self.bij_toets:
            raise SourceShapeError("lookup_kolommen_onjuist", ["openstaand_bedrag"])
        return self.echt.answer(vraag, gevallen)

    def toets(self, vraag: Any) -> None:
        if vraag.entry.id == self.check_id and self.bij_toets:
            raise SourceShapeError("lookup_kolommen_onjuist", ["openstaand_bedrag"])
        self.echt.toets(vraag)


def _met_fout(world: BatchWorld, check_id: str, *, bij_toets: bool = False) -> Runtime:
    echte = world.rt.open_sources

    class _Bronnen:
        def __init__(self, bronnen: Any) -> None:
            self.bronnen = bronnen

        def adapter(self, kind: str) -> Any:
            adapter = self.bronnen.adapter(kind)
            return _Adapter(adapter, check_id, bij_toets) if kind == "gemeentelijk_sql" else adapter

    @contextmanager
    def open_sources() -> Iterator[Any]:
        with echte() as bronnen:
            yield _Bronnen(bronnen)

    return dataclasses.replace(world.rt, open_sources=open_sources)


def _quarantaine(world: BatchWorld) -> list[dict[str, Any]]:
    return world.rows("SELECT * FROM quarantaine ORDER BY melding_id, veld")


def test_over_collection_blocks_the_meldingen_asked_and_publishes_the_others(batch_world: BatchWorld) -> None:
    records = list(meldingen(16, offset=800))
    ids = batch_world.submit(records)
    ruimhaven = {r["melding_id"] for r in records if r["gemeente_code"] == "9901"}  # schuld_cjib: 9901 only
    assert ruimhaven and len(ruimhaven) < len(ids)

    resultaat = batch_world.verwerk(ids, rt=_met_fout(batch_world, "schuld_cjib"))

    assert (resultaat.gepubliceerd, resultaat.gequarantaineerd) == (len(ids) - len(ruimhaven), len(ruimhaven))
    assert set(batch_world.outbox()) == set(ids) - ruimhaven
    for melding_id in ruimhaven:
        assert (
            batch_world.scalar("SELECT status FROM inbox WHERE melding_id = :m", m=melding_id)
            == "geblokkeerd"
        )
        assert batch_world.scalar("SELECT COUNT(*) FROM uitkomst WHERE melding_id = :m", m=melding_id) == 0
    rows = _quarantaine(batch_world)
    assert {(q["melding_id"], q["fase"], q["reden_code"], q["veld"], q["expectation"]) for q in rows} == {
        (m, "check", "lookup_kolommen_onjuist", "openstaand_bedrag", None) for m in ruimhaven
    }
    # every question asked has its record: schuld_cjib as ERROR for the blocked, and no
    # check after it in the register was asked about them any more
    log = batch_world.rows("SELECT name, status_code FROM verwerkingslog")
    assert sum(r["name"] == "nazorg.check.schuld_cjib" and r["status_code"] == "ERROR" for r in log) == len(
        ruimhaven
    )
    checks = [e.id for e in batch_world.rt.policy.register.checks]
    later = checks[checks.index("schuld_cjib") + 1 :]
    uitgevoerd_later = batch_world.scalar(
        "SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja' AND check_id IN :later", later=later
    )
    assert sum(r["name"].removeprefix("nazorg.check.") in later for r in log) == uitgevoerd_later


def test_a_source_misconfigured_for_everyone_fails_that_gemeentes_meldingen(batch_world: BatchWorld) -> None:
    records = list(meldingen(10, offset=830))
    ids = batch_world.submit(records)
    ruimhaven = {r["melding_id"] for r in records if r["gemeente_code"] == "9901"}  # doelgroep_topx: 9901

    resultaat = batch_world.verwerk(ids, rt=_met_fout(batch_world, "doelgroep_topx", bij_toets=True))

    assert (resultaat.gepubliceerd, resultaat.mislukt) == (len(ids) - len(ruimhaven), len(ruimhaven))
    assert {(q["melding_id"], q["fase"], q["reden_code"]) for q in _quarantaine(batch_world)} == {
        (m, "plan", "bron_configuratie_ongeldig") for m in ruimhaven
    }
    statuses = {
        r["melding_id"]: r["status"] for r in batch_world.rows("SELECT melding_id, status FROM inbox")
    }
    assert {m for m, s in statuses.items() if s == "mislukt"} == ruimhaven
    assert batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE claim IS NOT NULL") == 0


def test_a_weak_key_fails_the_chunk_before_any_source_is_asked(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer
) -> None:
    ids = batch_world.submit(list(meldingen(4, offset=850)))
    zwak = dataclasses.replace(batch_world.rt.settings, pseudonym_key_raw="kort")
    hc_server.reset_stats()
    resultaat = batch_world.verwerk(ids, rt=dataclasses.replace(batch_world.rt, settings=zwak))
    assert (resultaat.gepubliceerd, resultaat.mislukt) == (0, 4)
    assert hc_server.stats()["requests"] == {"personen": 0, "reisdocumenten": 0}
    assert {(q["fase"], q["reden_code"], q["veld"]) for q in _quarantaine(batch_world)} == {
        ("ontvang", "configuratie_ongeldig", "NAZORG_PSEUDONIEM_SLEUTEL")
    }
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == 0


def _bederf(monkeypatch: pytest.MonkeyPatch, melding_id: str, bederf: Any) -> None:
    echt = basisdocument.stel_op

    def stel_op(*args: Any, **kwargs: Any) -> dict[str, Any]:
        document = echt(*args, **kwargs)
        if document["melding_id"] == melding_id:
            bederf(document)
        return document

    monkeypatch.setattr(basisdocument, "stel_op", stel_op)


VRIJE_TEKST = "Mevrouw Jansen, zie dossier"


def test_a_chunk_with_one_bad_document_row_publishes_all_the_others(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(meldingen(24, offset=870))
    ids = batch_world.submit(records)
    slecht = ids[13]

    def vrije_tekst(document: dict[str, Any]) -> None:
        check = next(
            c for g in document["aandachtsgebieden"] for c in g["checks"] if c["dossierverantwoordelijke"]
        )
        check["dossierverantwoordelijke"] = VRIJE_TEKST

    _bederf(monkeypatch, slecht, vrije_tekst)
    resultaat = batch_world.verwerk(ids)

    assert (resultaat.gepubliceerd, resultaat.gequarantaineerd) == (23, 1)
    assert set(batch_world.outbox()) == set(ids) - {slecht}
    assert batch_world.scalar("SELECT status FROM inbox WHERE melding_id = :m", m=slecht) == "geblokkeerd"
    assert batch_world.scalar("SELECT COUNT(*) FROM uitkomst WHERE melding_id = :m", m=slecht) == 0
    assert batch_world.scalar("SELECT COUNT(*) FROM basisdocument WHERE melding_id = :m", m=slecht) == 0
    rows = _quarantaine(batch_world)
    assert {(q["melding_id"], q["fase"], q["reden_code"], q["veld"]) for q in rows} == {
        (slecht, "bewaak", "overcollectie", "dossierverantwoordelijke")
    }
    assert "expect_column_values_to_be_in_set" in {q["expectation"] for q in rows}
    assert "Jansen" not in json.dumps(rows, default=str)  # names, never the value
    import pyarrow.parquet as pq

    parquet_ids = {
        r["melding_id"]
        for f in batch_world.parquet_dir.rglob("*.parquet")
        for r in pq.read_table(f).to_pylist()
    }
    assert parquet_ids == set(ids) - {slecht}


def test_a_table_level_failure_blocks_the_whole_chunk(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(meldingen(8, offset=900))
    ids = batch_world.submit(records)

    def extra_kolom(document: dict[str, Any]) -> None:
        document["aandachtsgebieden"][0]["checks"][0]["toelichting"] = "x"

    _bederf(monkeypatch, ids[2], extra_kolom)
    resultaat = batch_world.verwerk(ids)

    assert (resultaat.gepubliceerd, resultaat.gequarantaineerd) == (0, 8)
    assert batch_world.outbox() == {}
    assert not list(batch_world.parquet_dir.rglob("*.parquet"))
    rows = _quarantaine(batch_world)
    assert {q["melding_id"] for q in rows} == set(ids)
    assert ("expect_table_columns_to_match_set", None) in {(q["expectation"], q["veld"]) for q in rows}


def test_a_source_down_leaves_onbekend_and_a_herhaling_fills_it_in(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer
) -> None:
    records = [r for r in meldingen(40, offset=950) if r["gemeente_code"] == "9901"][:6]
    ids = batch_world.submit(records)
    hc_server.configure(fault="503")
    try:
        eerste = batch_world.verwerk(ids)
    finally:
        hc_server.configure(fault=None)
    assert eerste.gepubliceerd == 6
    for melding_id in ids:
        for check_id in HC_CHECKS:
            assert batch_world.outcomes(melding_id)[check_id] == ("onbekend", "bron_fout")
    retry = batch_world.rows(
        "SELECT check_id, pogingen, volgende_poging FROM uitkomst WHERE volgende_poging IS NOT NULL"
    )
    assert {(r["check_id"], r["pogingen"]) for r in retry} == {(c, 1) for c in HC_CHECKS}
    assert len(retry) == 3 * len(ids)
    vaste = {
        r["melding_id"] + r["check_id"]: r["bepaald_op"]
        for r in batch_world.rows("SELECT * FROM uitkomst")
        if r["check_id"] not in HC_CHECKS
    }
    logs = batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog")
    herhalingen = {m: set(HC_CHECKS) for m in ids}

    # still down: asked again, still onbekend, counted, nothing re-published
    hc_server.configure(fault="503")
    try:
        nog_niet = batch_world.verwerk(ids, herhalingen)
    finally:
        hc_server.configure(fault=None)
    assert nog_niet.gepubliceerd == 6
    assert {r["versie"] for r in batch_world.outbox().values()} == {1}
    assert {
        r["pogingen"]
        for r in batch_world.rows("SELECT pogingen FROM uitkomst WHERE volgende_poging IS NOT NULL")
    } == {2}

    # back up: the herhaling fills the outcomes in and publishes versie 2
    tweede = batch_world.verwerk(ids, herhalingen, chunk_id="b-herhaling-0003")
    assert tweede.gepubliceerd == 6
    assert set(tweede.uitkomsten) == set(HC_CHECKS)  # only what was decided again is counted
    outbox = batch_world.outbox()
    for record in records:
        assert outbox[record["melding_id"]]["versie"] == 2
        for check_id, got in batch_world.outcomes(record["melding_id"]).items():
            assert got == expected(check_id, record["bsn"], record["gemeente_code"]), check_id
    assert batch_world.scalar("SELECT COUNT(*) FROM uitkomst WHERE volgende_poging IS NOT NULL") == 0
    # the other outcomes were kept as they were; only the checks asked again were logged
    assert vaste == {
        r["melding_id"] + r["check_id"]: r["bepaald_op"]
        for r in batch_world.rows("SELECT * FROM uitkomst")
        if r["check_id"] not in HC_CHECKS
    }
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == logs + 2 * 3 * len(ids)
    import pyarrow.parquet as pq

    (bestand,) = [f for f in batch_world.parquet_dir.rglob("b-herhaling-0003.parquet")]
    rows = pq.read_table(bestand).to_pylist()
    assert len(rows) == 13 * len(ids) and {r["versie"] for r in rows} == {2}
    assert {r["bestand"] for r in outbox.values()} == {str(bestand)}


def test_a_failed_write_leaves_nothing_but_the_log_and_the_chunk_can_run_again(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nazorg.batch import chunk

    records = list(meldingen(8, offset=1000))
    ids = batch_world.submit(records)
    echt = chunk._document_rijen

    def faalt(*args: Any, **kwargs: Any) -> None:
        echt(*args, **kwargs)
        raise RuntimeError("pipeline-DB weg")

    monkeypatch.setattr(chunk, "_document_rijen", faalt)
    with pytest.raises(RuntimeError, match="pipeline-DB weg"):
        batch_world.verwerk(ids, chunk_id="b-faalt-0001")
    for tabel in ("outbox", "uitkomst", "basisdocument", "plan", "quarantaine"):
        assert batch_world.scalar(f"SELECT COUNT(*) FROM {tabel}") == 0, tabel
    assert batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE claim = 'chunk:b-faalt-0001'") == 8
    assert batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE status = 'ontvangen'") == 8
    gevraagd = batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog")
    assert gevraagd > 0  # the sources were asked: their records are kept
    assert not [f for f in batch_world.parquet_dir.rglob("*") if f.is_file()]

    monkeypatch.setattr(chunk, "_document_rijen", echt)
    resultaat = batch_world.verwerk(ids, chunk_id="b-faalt-0001", claim=False)
    assert resultaat.gepubliceerd == 8
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == 2 * gevraagd
    assert batch_world.scalar("SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja'") == gevraagd
