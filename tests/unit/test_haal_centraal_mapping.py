"""Mapping Haal Centraal payloads to ja/nee/open, on tiny hand-written dicts.

The rule under test everywhere: only a positive statement of the source becomes
False; anything incomplete or unexpected becomes None (onbekend), never False.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from nazorg.models import Reden
from nazorg.sources.errors import SourceError, SourceTimeout, SourceUnavailable
from nazorg.sources.haal_centraal import (
    datum_bereik,
    heeft_geldig_reisdocument,
    heeft_minderjarig_kind,
    heeft_woonadres,
    is_minderjarig,
    probleem_details,
    veilige_code,
)
from nazorg_dev.sim.haal_centraal.fields import build_selection, project
from nazorg_dev.sim.haal_centraal.spec import personen

pytestmark = pytest.mark.unit

PEILDATUM = date(2026, 11, 29)


def datum(day: date) -> dict[str, Any]:
    return {"type": "Datum", "datum": day.isoformat(), "langFormaat": "x"}


def adres(code: str) -> dict[str, Any]:
    return {"verblijfplaats": {"type": "Adres", "functieAdres": {"code": code}}}


# --------------------------------------------------------------------------- woonadres


@pytest.mark.parametrize(
    ("persoon", "verwacht"),
    [
        (adres("W"), True),
        (adres("B"), False),
        ({"verblijfplaats": {"type": "VerblijfplaatsOnbekend"}}, False),
        ({"verblijfplaats": {"type": "VerblijfplaatsBuitenland", "verblijfadres": {}}}, False),
        # a Locatie (woonwagen, woonboot) carries a functieAdres too (BRP Personen spec)
        ({"verblijfplaats": {"type": "Locatie", "functieAdres": {"code": "W"}}}, True),
        ({"verblijfplaats": {"type": "Locatie", "functieAdres": {"code": "B"}}}, False),
        # left open: never a silent "no woonadres"
        ({"verblijfplaats": {"type": "Locatie"}}, None),
        ({"verblijfplaats": {"type": "Locatie", "functieAdres": {"code": "X"}}}, None),
        ({"verblijfplaats": {"type": "Adres"}}, None),
        (adres("X"), None),
        ({"verblijfplaats": {"type": "Iets nieuws"}}, None),
        ({"verblijfplaats": "Adres"}, None),
        ({"burgerservicenummer": "999000007"}, None),
    ],
    ids=[
        "W",
        "B",
        "onbekend",
        "buitenland",
        "locatie-W",
        "locatie-B",
        "locatie-zonder-functie",
        "locatie-X",
        "zonder-functie",
        "X",
        "nieuw",
        "str",
        "geen",
    ],
)
def test_woonadres(persoon: dict[str, Any], verwacht: bool | None) -> None:
    assert heeft_woonadres(persoon) is verwacht


# --------------------------------------------------------------------------- kinderen


def kinderen(*datums: object) -> dict[str, Any]:
    return {"kinderen": [{"geboorte": {"datum": d}} for d in datums]}


def test_minderjarig_kind() -> None:
    assert heeft_minderjarig_kind(kinderen(datum(date(2015, 3, 1))), PEILDATUM) is True


def test_meerderjarig_kind() -> None:
    assert heeft_minderjarig_kind(kinderen(datum(date(1999, 3, 1))), PEILDATUM) is False


def test_geen_kinderen_is_nee() -> None:
    assert heeft_minderjarig_kind({"burgerservicenummer": "999000007"}, PEILDATUM) is False


def test_achttiende_verjaardag_is_meerderjarig() -> None:
    assert is_minderjarig(datum(date(2008, 11, 29)), PEILDATUM) is False
    assert is_minderjarig(datum(date(2008, 11, 30)), PEILDATUM) is True


def test_schrikkeldag_wordt_een_maart() -> None:
    geboren = datum(date(2008, 2, 29))  # 18 on 1 March 2026
    assert is_minderjarig(geboren, date(2026, 2, 28)) is True
    assert is_minderjarig(geboren, date(2026, 3, 1)) is False


@pytest.mark.parametrize(
    "onvolledig",
    [
        {"type": "DatumOnbekend", "onbekend": True, "langFormaat": "onbekend"},
        {"type": "JaarDatum", "jaar": 2008, "langFormaat": "2008"},
        {"type": "JaarMaandDatum", "jaar": 2008, "maand": 11, "langFormaat": "november 2008"},
        {"type": "Datum", "datum": "geen datum"},
        {"type": "Onbekend soort"},
        None,
    ],
    ids=["onbekend", "jaar", "jaar-maand", "kapot", "soort", "ontbreekt"],
)
def test_onvolledige_datum_die_minderjarig_kan_zijn_is_ambigu(onvolledig: object) -> None:
    assert heeft_minderjarig_kind(kinderen(onvolledig), PEILDATUM) is None


def test_onvolledige_datum_die_het_antwoord_niet_verandert() -> None:
    oud = {"type": "JaarDatum", "jaar": 1990, "langFormaat": "1990"}
    jong = {"type": "JaarMaandDatum", "jaar": 2020, "maand": 2, "langFormaat": "februari 2020"}
    assert heeft_minderjarig_kind(kinderen(oud), PEILDATUM) is False
    assert heeft_minderjarig_kind(kinderen(jong), PEILDATUM) is True


def test_een_zeker_minderjarig_kind_wint_van_een_onvolledige_datum() -> None:
    onbekend = {"type": "DatumOnbekend", "onbekend": True, "langFormaat": "onbekend"}
    volwassen = datum(date(1990, 1, 1))
    assert heeft_minderjarig_kind(kinderen(onbekend, datum(date(2020, 1, 1))), PEILDATUM) is True
    assert heeft_minderjarig_kind(kinderen(volwassen, onbekend), PEILDATUM) is None


def test_kind_zonder_geboorte_is_ambigu() -> None:
    assert heeft_minderjarig_kind({"kinderen": [{}]}, PEILDATUM) is None


def test_datum_bereik() -> None:
    assert datum_bereik({"type": "JaarMaandDatum", "jaar": 2024, "maand": 2}) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert datum_bereik({"type": "JaarMaandDatum", "jaar": 2024, "maand": 13}) is None
    assert datum_bereik({"type": "JaarDatum", "jaar": True}) is None


# --------------------------------------------------------------------------- reisdocumenten


def document(dagen: int | None, *, ingehouden: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if dagen is not None:
        doc["datumEindeGeldigheid"] = datum(PEILDATUM + timedelta(days=dagen))
    if ingehouden:
        doc["inhoudingOfVermissing"] = {"aanduiding": {"code": "I"}}
    return doc


@pytest.mark.parametrize(
    ("documenten", "verwacht"),
    [
        ([document(400)], True),
        ([document(0)], True),  # valid through its last day
        ([document(-1)], False),
        ([document(400, ingehouden=True)], False),
        ([], False),
        ([document(-30), document(400)], True),
        ([document(400, ingehouden=True), document(-5)], False),
        ([document(None)], None),
        ([document(-30), document(None)], None),
        ([document(None), document(10)], True),
    ],
    ids=[
        "geldig",
        "laatste-dag",
        "verlopen",
        "ingehouden",
        "geen",
        "verlopen-en-geldig",
        "ingehouden-en-verlopen",
        "zonder-einddatum",
        "verlopen-en-onbekend",
        "onbekend-en-geldig",
    ],
)
def test_geldig_reisdocument(documenten: list[dict[str, Any]], verwacht: bool | None) -> None:
    assert heeft_geldig_reisdocument(documenten, PEILDATUM) is verwacht


def test_onvolledige_einddatum() -> None:
    dit_jaar = {"datumEindeGeldigheid": {"type": "JaarDatum", "jaar": PEILDATUM.year}}
    volgend_jaar = {"datumEindeGeldigheid": {"type": "JaarDatum", "jaar": PEILDATUM.year + 1}}
    vorig_jaar = {"datumEindeGeldigheid": {"type": "JaarDatum", "jaar": PEILDATUM.year - 1}}
    assert heeft_geldig_reisdocument([dit_jaar], PEILDATUM) is None
    assert heeft_geldig_reisdocument([volgend_jaar], PEILDATUM) is True
    assert heeft_geldig_reisdocument([vorig_jaar], PEILDATUM) is False


# --------------------------------------------------------------------------- problem+json


def test_probleem_details() -> None:
    problem = {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4",
        "title": "Bronservice BRP is tijdelijk niet beschikbaar.",
        "status": 503,
        "detail": "The service is currently unable to handle the request.",
        "instance": "/haalcentraal/api/brp/personen",
        "code": "notAvailable",
    }
    assert probleem_details(problem) == (503, "notAvailable")


@pytest.mark.parametrize(
    "payload",
    [None, [], "503", {}, {"status": "503", "code": 7}, {"status": True, "code": "a b"}],
)
def test_probleem_details_negeert_rommel(payload: object) -> None:
    assert probleem_details(payload) == (None, None)


def test_code_met_cijferreeks_wordt_geweigerd() -> None:
    assert veilige_code("paramsValidation") == "paramsValidation"
    assert veilige_code("999000007") is None
    assert veilige_code("bsn999000007") is None
    assert probleem_details({"status": 400, "code": "999000007"}) == (400, None)


def test_source_error_bericht_bevat_alleen_status_en_code() -> None:
    fout = SourceError(Reden.BRON_FOUT, status=503, code="notAvailable", bron="brp personen")
    assert str(fout) == "brp personen: bron_fout, status 503, code notAvailable"
    assert (fout.reden, fout.status, fout.code) == (Reden.BRON_FOUT, 503, "notAvailable")
    lekkend = SourceError(status=400, code="999000007")
    assert "999000007" not in str(lekkend)
    assert lekkend.code is None


def test_source_error_subclasses_carry_their_reden() -> None:
    assert SourceTimeout(bron="reisdocumenten").reden is Reden.BRON_TIMEOUT
    assert str(SourceUnavailable(bron="brp personen")) == "brp personen: bron_onbereikbaar"
    assert SourceError().reden is Reden.BRON_FOUT


# --------------------------------------------------------------------------- server fields


def test_fields_paden_volgen_het_schema() -> None:
    paden = personen().field_paths
    assert "verblijfplaats.functieAdres.code" in paden
    assert "kinderen.geboorte.datum" in paden
    assert "verblijfplaats.bestaatNiet" not in paden
    assert "burgerservicenummer.code" not in paden
    assert "verblijfplaats." not in paden


def test_polymorf_type_gaat_altijd_mee() -> None:
    persoon = {
        "burgerservicenummer": "999000007",
        "verblijfplaats": {"type": "VerblijfplaatsOnbekend", "datumVan": datum(PEILDATUM)},
    }
    selection = build_selection(["verblijfplaats.functieAdres"])
    assert project(persoon, personen().resource, selection) == {
        "verblijfplaats": {"type": "VerblijfplaatsOnbekend"}
    }


def test_korter_pad_wint() -> None:
    assert build_selection(["verblijfplaats.functieAdres.code", "verblijfplaats"]) == {"verblijfplaats": None}
    assert build_selection(["verblijfplaats", "verblijfplaats.functieAdres"]) == {"verblijfplaats": None}
