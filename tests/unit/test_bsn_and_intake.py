from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from nazorg.bsn import is_valid_bsn, pseudonymise
from nazorg.intake import beoordeel, beoordeel_alle, decode, nieuwe_inzending
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 29)
GEMEENTEN = {"9901", "9902"}


def melding(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "melding_id": "EDM-000001",
        "bsn": "999000007",
        "gemeente_code": "9901",
        "inrichting": "PI Zuidkust",
        "datum_binnenkomst": "2026-11-28",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def codes(result) -> set[tuple[str, str | None]]:
    return {(a.reden_code, a.veld) for a in result.afwijzingen}


def test_elfproef() -> None:
    assert is_valid_bsn("999000007")
    assert not is_valid_bsn("999000000")
    assert not is_valid_bsn("99900000")
    assert not is_valid_bsn("99900000a")
    assert all(is_valid_bsn(b) for _, b in zip(range(50), synthetic_bsns(), strict=False))


def test_pseudonym_is_keyed_and_stable() -> None:
    a = pseudonymise("999000007", b"k" * 32)
    assert a == pseudonymise("999000007", b"k" * 32)
    assert a != pseudonymise("999000007", b"x" * 32)
    assert "999000007" not in a


def test_pseudonym_refuses_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from nazorg.settings import SettingsError, reload_settings

    monkeypatch.delenv("NAZORG_PSEUDONIEM_SLEUTEL", raising=False)
    reload_settings()
    with pytest.raises(SettingsError, match="NAZORG_PSEUDONIEM_SLEUTEL"):
        pseudonymise("999000007")


def test_valid_melding_is_accepted() -> None:
    result = beoordeel(
        melding(reclassering_betrokken="ja", verwachte_einddatum="2027-01-01"), "t", GEMEENTEN, TODAY
    )
    assert result.melding is not None and result.afwijzingen == ()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"bsn": "999000000"}, ("bsn_elfproef", "bsn")),
        ({"bsn": "12345"}, ("formaat_ongeldig", "bsn")),
        ({"gemeente_code": "0000"}, ("gemeente_onbekend", "gemeente_code")),
        ({"datum_binnenkomst": "2026-13-01"}, ("datum_ongeldig", "datum_binnenkomst")),
        (
            {"datum_binnenkomst": (TODAY + timedelta(days=3)).isoformat()},
            ("datum_in_toekomst", "datum_binnenkomst"),
        ),
        ({"datum_binnenkomst": "2020-01-01"}, ("datum_te_oud", "datum_binnenkomst")),
        ({"verwachte_einddatum": "2026-01-01"}, ("einddatum_voor_binnenkomst", "verwachte_einddatum")),
        ({"reclassering_betrokken": "misschien"}, ("waarde_ongeldig", "reclassering_betrokken")),
        ({"diagnose": "x"}, ("onbekend_veld", "<onbekend_veld:1>")),
        ({"inrichting": None}, ("veld_ontbreekt", "inrichting")),
        ({"melding_id": "EDM-999000007"}, ("melding_id_cijferreeks", "melding_id")),
    ],
)
def test_invalid_melding_gets_reason_code_and_field(
    overrides: dict[str, object], expected: tuple[str, str]
) -> None:
    result = beoordeel(melding(**overrides), "t", GEMEENTEN, TODAY)
    assert result.melding is None
    assert expected in codes(result)


def test_rejection_never_carries_values() -> None:
    secret = "999000019"
    result = beoordeel(
        melding(bsn="999000000", **{"999000019": 1}, inrichting=secret * 20), "t", GEMEENTEN, TODAY
    )
    assert result.melding is None
    assert secret not in repr(result)
    assert "999000000" not in repr(result)


def test_too_large_record_is_refused() -> None:
    result = beoordeel(melding(inrichting="x" * 5000), "t", GEMEENTEN, TODAY)
    assert ("te_groot", None) in codes(result)


def test_decode_accepts_object_array_and_lines_and_keeps_bad_lines() -> None:
    one = json.dumps(melding())
    inzending = nieuwe_inzending()
    assert len(list(decode(one, inzending))) == 1
    assert len(list(decode(json.dumps([melding(), melding(melding_id="EDM-2")]), inzending))) == 2
    lines = one + "\n{not json\n\n" + json.dumps(melding(melding_id="EDM-3")) + "\n"
    judged = list(beoordeel_alle(decode(lines.encode(), inzending), GEMEENTEN, TODAY))
    assert [b.herkomst for b in judged] == [f"inzending:{inzending}:{n}" for n in (1, 2, 4)]
    assert judged[1].afwijzingen[0].reden_code == "geen_json"


def test_decode_refuses_a_file_name_as_submission_id() -> None:
    with pytest.raises(ValueError, match="inzending-id"):
        list(decode(json.dumps(melding()), "meldingen_999000007.jsonl"))


def test_non_object_is_refused() -> None:
    assert codes(beoordeel([1, 2], "t", GEMEENTEN, TODAY)) == {("geen_object", None)}
