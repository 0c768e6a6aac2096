"""Laatstedagsmelding intake: every bad input is a quarantine reason code, nothing is dropped or echoed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import laatstedag, migrations
from nazorg.inbox import dien_in as dien_eerstedag_in
from nazorg.intake import beoordeel_alle, decode, herkomst_voor, nieuwe_inzending
from nazorg.register import default_policy
from nazorg.store import Store, dispose_engines, make_engine
from nazorg_dev.sim.meldingen import meldingen

pytestmark = pytest.mark.unit

VANDAAG = date.today()
NU = "2026-11-30T05:00:00.000+00:00"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    dispose_engines()
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def melding(store: Store) -> dict[str, Any]:
    """One eerstedagsmelding in the inbox (not yet processed: the intake rules need only the inbox)."""
    record = next(meldingen(1))
    inzending = nieuwe_inzending()
    judged = beoordeel_alle([(herkomst_voor(inzending, 1), record)], default_policy().besluiten, VANDAAG)
    assert dien_eerstedag_in(store, judged, inzending=inzending).aantallen["opgeslagen"] == 1
    return record


def _laatste(melding: dict[str, Any], **changes: Any) -> dict[str, Any]:
    record = {
        "melding_id": melding["melding_id"],
        "bsn": melding["bsn"],
        "datum_uitstroom": VANDAAG.isoformat(),
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def _dien_in(store: Store, data: bytes | str) -> laatstedag.Inzendingsresultaat:
    inzending = nieuwe_inzending()
    judged = laatstedag.beoordeel_alle(decode(data, inzending), default_policy().besluiten, VANDAAG)
    return laatstedag.dien_in(store, judged, inzending=inzending, nu=lambda: NU)


def _quarantaine(store: Store) -> list[tuple[str, str | None, str]]:
    return [(r["reden_code"], r["veld"], r["fase"]) for r in store.query("quarantaine_list")]


def _rows(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM laatstedagsmelding"))]


def _other_valid_bsn(bsn: str) -> str:
    from nazorg.bsn import is_valid_bsn

    return next(c for n in range(999000000, 999999999) if is_valid_bsn(c := str(n)) and c != bsn)


def test_a_valid_laatstedagsmelding_is_stored_once_without_its_bsn(store: Store, melding: dict) -> None:
    record = _laatste(melding, gemeente_hervestiging="9902")
    assert _dien_in(store, json.dumps(record)).aantallen["opgeslagen"] == 1
    assert _dien_in(store, json.dumps(record)).aantallen["al_aanwezig"] == 1
    rows = _rows(store)
    assert len(rows) == 1
    assert rows[0]["status"] == "ontvangen" and rows[0]["ontvangen_op"] == NU
    assert rows[0]["datum_uitstroom"] == VANDAAG.isoformat() and rows[0]["gemeente_hervestiging"] == "9902"
    assert melding["bsn"] not in json.dumps(rows, default=str)
    assert _quarantaine(store) == []


def test_a_bsn_without_its_leading_zero_is_the_same_bsn(store: Store, tmp_path: Path) -> None:
    """Canonical form: nine digits. The elfproef holds for the zero-padded BSN."""
    from nazorg.bsn import is_valid_bsn

    bsn = next(f"0{n}" for n in range(99000000, 99999999) if is_valid_bsn(f"0{n}"))
    record = {**next(meldingen(1)), "bsn": bsn}
    inzending = nieuwe_inzending()
    judged = beoordeel_alle([(herkomst_voor(inzending, 1), record)], default_policy().besluiten, VANDAAG)
    dien_eerstedag_in(store, judged, inzending=inzending)
    result = _dien_in(store, json.dumps(_laatste(record, bsn=bsn[1:])))
    assert result.aantallen["opgeslagen"] == 1


def test_other_content_for_the_same_melding_is_a_conflict_and_the_first_stands(
    store: Store, melding: dict
) -> None:
    _dien_in(store, json.dumps(_laatste(melding)))
    later = _laatste(melding, datum_uitstroom=(VANDAAG - timedelta(days=1)).isoformat())
    assert _dien_in(store, json.dumps(later)).aantallen["conflict"] == 1
    assert _quarantaine(store) == [("laatstedag_conflict", "melding_id", "intake")]
    assert _rows(store)[0]["datum_uitstroom"] == VANDAAG.isoformat()


def _bad_cases(melding: dict[str, Any]) -> list[tuple[str, bytes | str, set[tuple[str, str | None]]]]:
    ok = _laatste(melding)
    return [
        (
            "melding_onbekend",
            json.dumps({**ok, "melding_id": "EDM-ONBEKEND"}),
            {("melding_onbekend", "melding_id")},
        ),
        ("bsn_ongelijk", json.dumps({**ok, "bsn": _other_valid_bsn(ok["bsn"])}), {("bsn_ongelijk", "bsn")}),
        ("bsn_elfproef", json.dumps({**ok, "bsn": "999000000"}), {("bsn_elfproef", "bsn")}),
        ("bsn_formaat", json.dumps({**ok, "bsn": "99900A007"}), {("formaat_ongeldig", "bsn")}),
        (
            "gemeente_onbekend",
            json.dumps({**ok, "gemeente_hervestiging": "0000"}),
            {("gemeente_onbekend", "gemeente_hervestiging")},
        ),
        (
            "toekomst",
            json.dumps({**ok, "datum_uitstroom": (VANDAAG + timedelta(days=1)).isoformat()}),
            {("datum_in_toekomst", "datum_uitstroom")},
        ),
        (
            "te_oud",
            json.dumps({**ok, "datum_uitstroom": (VANDAAG - timedelta(days=400)).isoformat()}),
            {("datum_te_oud", "datum_uitstroom")},
        ),
        (
            "datum",
            json.dumps({**ok, "datum_uitstroom": "30-11-2026"}),
            {("datum_ongeldig", "datum_uitstroom")},
        ),
        ("ontbreekt", json.dumps({k: v for k, v in ok.items() if k != "bsn"}), {("veld_ontbreekt", "bsn")}),
        ("onbekend_veld", json.dumps({**ok, "diagnose": "x"}), {("onbekend_veld", "<onbekend_veld:1>")}),
        (
            "cijferreeks",
            json.dumps({**ok, "melding_id": "EDM-12345678"}),
            {("melding_id_cijferreeks", "melding_id")},
        ),
        ("geen_json", "{niet: json}", {("geen_json", None)}),
        ("geen_object", "[1]", {("geen_object", None)}),
        ("dubbel", '{"melding_id": "a", "melding_id": "b"}', {("dubbele_sleutel", None)}),
        ("codering", b'{"melding_id": "\xff"}', {("codering_ongeldig", None)}),
    ]


@pytest.mark.parametrize("case", range(15))
def test_every_bad_input_is_quarantined_with_its_reason(store: Store, melding: dict, case: int) -> None:
    name, data, expected = _bad_cases(melding)[case]
    result = _dien_in(store, data)
    assert result.aantallen["quarantaine"] == 1, name
    assert {(code, veld) for code, veld, _ in _quarantaine(store)} == expected, name
    assert {fase for _, _, fase in _quarantaine(store)} == {"intake"}
    assert _rows(store) == []
    kept = json.dumps(store.query("quarantaine_list"))
    assert melding["bsn"] not in kept and "diagnose" not in kept


def test_one_bad_record_never_spoils_its_neighbours(store: Store, melding: dict) -> None:
    lines = [json.dumps({**_laatste(melding), "bsn": "999000000"}), "{kapot", json.dumps(_laatste(melding))]
    result = _dien_in(store, "\n".join(lines))
    assert dict(result.aantallen) == {"quarantaine": 2, "opgeslagen": 1}
    herkomsten = [r["herkomst"] for r in store.query("quarantaine_list")]
    assert sorted(h.rsplit(":", 1)[1] for h in herkomsten) == ["1", "2"]


def test_the_cli_reads_the_file_and_prints_counts_only(
    store: Store,
    melding: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from types import SimpleNamespace

    from nazorg import cli

    monkeypatch.setattr(cli, "_runtime", lambda: SimpleNamespace(store=store, policy=default_policy()))
    path = tmp_path / f"uitstroom-{melding['bsn']}.jsonl"
    path.write_text(
        json.dumps(_laatste(melding)) + "\n" + json.dumps({**_laatste(melding), "bsn": "1"}) + "\n"
    )
    assert cli.main(["laatstedagsmelding", "dien-in", str(path)]) == 0
    out = capsys.readouterr()
    assert "1 opgeslagen" in out.out and "1 in quarantaine" in out.out
    assert melding["bsn"] not in out.out + out.err
    assert cli.main(["laatstedagsmelding", "dien-in", str(tmp_path / "weg.json")]) == 2
    assert melding["bsn"] not in capsys.readouterr().err
