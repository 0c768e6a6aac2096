"""The synthetic population as BRP Personen and Reisdocumenten resources.

Why: the clients must meet answers shaped like the real ones (polymorphic
verblijfplaats, dates with a ``type``, lists left out when empty) for people
whose true answers the tests know, because each resource is derived from a
:class:`~nazorg_dev.sim.population.Persoon`. Names, addresses and the like are
drawn from a per-person seed, so every request gives the same person.

The full resource also holds what the BRP says about its own record, in the
places the specifications give it: ``opschortingBijhouding`` (on the persoon and
on a reisdocument's ``houder``), ``inOnderzoek`` markers next to the fields they
mark, and ``indicatieVastgesteldVerblijftNietOpAdres``. Which of them a response
carries is the ``fields`` projection's business (:mod:`.fields`), as in the API.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Final

from nazorg.bsn import is_valid_bsn
from nazorg_dev.sim.population import DEFAULT_SEED, OPSCHORTING_REDENEN, Persoon, Reisdocument

_MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_VOORNAMEN_M = ("Jan", "Pieter", "Mohammed", "Kevin", "Daan", "Ricardo", "Youssef", "Bram", "Tim")
_VOORNAMEN_V = ("Anouk", "Fatima", "Sanne", "Lotte", "Dewi", "Emma", "Sara", "Iris", "Naima")
_KINDNAMEN = ("Noah", "Sem", "Liam", "Lucas", "Julia", "Mila", "Tess", "Yara", "Adam", "Nora")
_GESLACHTSNAMEN = (
    ("", "Jansen"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("van den", "Berg"),
    ("", "El Amrani"),
    ("", "Yılmaz"),
    ("", "Pinas"),
    ("van der", "Meer"),
    ("", "Bos"),
)
_STRATEN = (
    "Dorpsstraat",
    "Kerkweg",
    "Molenlaan",
    "Julianastraat",
    "Beatrixlaan",
    "Schoolstraat",
    "Lindenhof",
    "Parkweg",
    "Havenkade",
    "Burgemeester de Wittstraat",
)
_WOONPLAATSEN = {"9901": "Hoogveen", "9902": "Laagmeer"}
_GEMEENTEN = {"9901": "Hoogveen", "9902": "Laagmeer"}
_POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
# The briefadres of a detainee is typically the penitentiary institution.
_PI_ADRES: Final[dict[str, Any]] = {
    "officieleStraatnaam": "Justitiepad",
    "korteStraatnaam": "Justitiepad",
    "huisnummer": 1,
    "postcode": "9901ZX",
    "woonplaats": "Hoogveen",
}
_BUITENLAND = (
    ("Rue de la Loi 12", "1000 Bruxelles", "5010", "België"),
    ("Hauptstraße 7", "47533 Kleve", "6029", "Duitsland"),
)
_SOORT_REISDOCUMENT = {"PN": "Nationaal paspoort", "NI": "Nederlandse identiteitskaart"}


def datum_json(day: date) -> dict[str, Any]:
    """A VolledigeDatum as the API returns it."""
    lang = f"{day.day} {_MAANDEN[day.month - 1]} {day.year}"
    return {"type": "Datum", "datum": day.isoformat(), "langFormaat": lang}


def _rng(seed: int, bsn: str, purpose: str) -> random.Random:
    # deterministic per person, not for security
    return random.Random(f"{seed}:{purpose}:{bsn}")


def _synthetic_bsn(rng: random.Random) -> str:
    """A test BSN from the top of the 999 range, far above the population's BSNs."""
    number = rng.randrange(999_900_000, 999_998_000)
    while not is_valid_bsn(f"{number:09d}"):
        number += 1
    return f"{number:09d}"


def _postcode(rng: random.Random, gemeente: str) -> str:
    letters = "".join(rng.choices(_POSTCODE_LETTERS, k=2))
    return f"{gemeente[:2]}{rng.randint(10, 99)}{letters}"


def _naam(rng: random.Random, voornamen: Sequence[str], familie: tuple[str, str]) -> dict[str, Any]:
    namen = rng.sample(list(voornamen), k=rng.randint(1, 2))
    voorvoegsel, geslachtsnaam = familie
    naam: dict[str, Any] = {
        "voornamen": " ".join(namen),
        "geslachtsnaam": geslachtsnaam,
        "voorletters": "".join(f"{n[0]}." for n in namen),
    }
    if voorvoegsel:
        naam["voorvoegsel"] = voorvoegsel
    return naam


def _alles_in_onderzoek(deel: Mapping[str, Any], sinds: dict[str, Any]) -> dict[str, Any]:
    """``deel`` with an inOnderzoek that marks every field it has (a whole category in onderzoek)."""
    markers = {key: True for key in deel if key not in ("inOnderzoek", "verblijfadres")}
    return {**deel, "inOnderzoek": {**markers, "datumIngangOnderzoek": sinds}}


def _verblijfplaats(persoon: Persoon, rng: random.Random, peildatum: date, seed: int) -> dict[str, Any]:
    """The verblijfplaats with its signals: onderzoek (080000) or established not lived at (089999)."""
    verblijfplaats = _verblijfplaats_gegevens(persoon, rng, peildatum)
    if not (persoon.verblijfplaats_in_onderzoek or persoon.verblijft_niet_op_adres):
        return verblijfplaats
    sinds = _datum_ingang_onderzoek(persoon, peildatum, seed, "verblijfplaats")
    verblijfplaats = _alles_in_onderzoek(verblijfplaats, sinds)
    if "verblijfadres" in verblijfplaats:
        verblijfplaats["verblijfadres"] = _alles_in_onderzoek(verblijfplaats["verblijfadres"], sinds)
    if persoon.verblijft_niet_op_adres and verblijfplaats["type"] == "Adres":
        verblijfplaats["indicatieVastgesteldVerblijftNietOpAdres"] = True
    return verblijfplaats


def _opschorting(persoon: Persoon, peildatum: date, seed: int) -> dict[str, Any] | None:
    if persoon.opschorting is None:
        return None
    rng = _rng(seed, persoon.bsn, "opschorting")
    return {
        "reden": {"code": persoon.opschorting, "omschrijving": OPSCHORTING_REDENEN[persoon.opschorting]},
        "datum": datum_json(peildatum - timedelta(days=rng.randint(30, 2000))),
    }


def _datum_ingang_onderzoek(persoon: Persoon, peildatum: date, seed: int, wat: str) -> dict[str, Any]:
    return datum_json(peildatum - timedelta(days=_rng(seed, persoon.bsn, f"onderzoek:{wat}").randint(5, 300)))


def _verblijfplaats_gegevens(persoon: Persoon, rng: random.Random, peildatum: date) -> dict[str, Any]:
    datum_van = datum_json(peildatum - timedelta(days=rng.randint(30, 4000)))
    gemeente = persoon.gemeente_code
    if persoon.verblijf == "onbekend":
        return {"type": "VerblijfplaatsOnbekend", "datumVan": datum_van}
    if persoon.verblijf == "buitenland":
        regel1, regel2, land_code, land = rng.choice(_BUITENLAND)
        return {
            "type": "VerblijfplaatsBuitenland",
            "datumVan": datum_van,
            "verblijfadres": {
                "regel1": regel1,
                "regel2": regel2,
                "land": {"code": land_code, "omschrijving": land},
            },
        }
    if persoon.verblijf == "briefadres":
        functie = {"code": "B", "omschrijving": "briefadres"}
        adres = dict(_PI_ADRES)
    else:
        functie = {"code": "W", "omschrijving": "woonadres"}
        straat = rng.choice(_STRATEN)
        adres = {
            "officieleStraatnaam": straat,
            "korteStraatnaam": straat[:24],
            "huisnummer": rng.randint(1, 250),
            "postcode": _postcode(rng, gemeente),
            "woonplaats": _WOONPLAATSEN[gemeente],
        }
        if rng.random() < 0.15:
            adres["huisletter"] = rng.choice("ABC")
    object_id = f"{gemeente}01{rng.randrange(10**10):010d}"
    return {
        "type": "Adres",
        "datumVan": datum_van,
        "functieAdres": functie,
        "adresseerbaarObjectIdentificatie": object_id,
        "nummeraanduidingIdentificatie": f"{gemeente}20{object_id[6:]}",
        "verblijfadres": adres,
    }


def _leeftijd(geboren: date, peildatum: date) -> int:
    before_birthday = (peildatum.month, peildatum.day) < (geboren.month, geboren.day)
    return peildatum.year - geboren.year - int(before_birthday)


def persoon_json(persoon: Persoon, peildatum: date, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The full Persoon resource (before ``fields``) for one synthetic person."""
    rng = _rng(seed, persoon.bsn, "persoon")
    man = rng.random() < 0.8  # detained population: mostly men
    familie = rng.choice(_GESLACHTSNAMEN)
    naam = _naam(rng, _VOORNAMEN_M if man else _VOORNAMEN_V, familie)
    naam["volledigeNaam"] = " ".join(
        part for part in (naam["voornamen"], naam.get("voorvoegsel"), naam["geslachtsnaam"]) if part
    )
    naam["aanduidingNaamgebruik"] = {"code": "E", "omschrijving": "eigen geslachtsnaam"}
    geboren = peildatum - timedelta(days=rng.randint(18 * 366, 70 * 365))
    gemeente = {"code": persoon.gemeente_code, "omschrijving": _GEMEENTEN[persoon.gemeente_code]}
    resource: dict[str, Any] = {
        "burgerservicenummer": persoon.bsn,
        "geslacht": {"code": "M", "omschrijving": "man"} if man else {"code": "V", "omschrijving": "vrouw"},
        "naam": naam,
        "geboorte": {
            "datum": datum_json(geboren),
            "land": {"code": "6030", "omschrijving": "Nederland"},
            "plaats": gemeente,
        },
        "leeftijd": _leeftijd(geboren, peildatum),
        "gemeenteVanInschrijving": gemeente,
        "verblijfplaats": _verblijfplaats(persoon, rng, peildatum, seed),
    }
    kinderen: list[dict[str, Any]] = [
        {
            "burgerservicenummer": _synthetic_bsn(rng),
            "naam": _naam(rng, _KINDNAMEN, familie),
            "geboorte": {"datum": datum_json(geboortedatum)},
        }
        for geboortedatum in persoon.kinderen_geboortedata(peildatum)
    ]
    for index, in_onderzoek in enumerate(persoon.kinderen_in_onderzoek):
        if in_onderzoek:
            sinds = _datum_ingang_onderzoek(persoon, peildatum, seed, f"kind{index}")
            kinderen[index]["geboorte"]["inOnderzoek"] = {"datum": True, "datumIngangOnderzoek": sinds}
    if kinderen:
        resource["kinderen"] = kinderen
    opschorting = _opschorting(persoon, peildatum, seed)
    if opschorting is not None:
        resource["opschortingBijhouding"] = opschorting
        if persoon.opschorting == "O":
            resource["overlijden"] = {"datum": opschorting["datum"]}
    if persoon.bsn_in_onderzoek:
        resource["inOnderzoek"] = {
            "burgerservicenummer": True,
            "datumIngangOnderzoekPersoon": _datum_ingang_onderzoek(persoon, peildatum, seed, "persoon"),
        }
    return resource


def reisdocument_json(
    document: Reisdocument,
    houder_bsn: str,
    peildatum: date,
    seed: int = DEFAULT_SEED,
    *,
    houder: Persoon | None = None,
) -> dict[str, Any]:
    """The full Reisdocument resource (before ``fields``); ``houder`` adds its persoonslijst's signals."""
    houder_json: dict[str, Any] = {"burgerservicenummer": houder_bsn}
    if houder is not None:
        opschorting = _opschorting(houder, peildatum, seed)
        if opschorting is not None:
            houder_json["opschortingBijhouding"] = opschorting
        if houder.bsn_in_onderzoek:
            sinds = _datum_ingang_onderzoek(houder, peildatum, seed, "persoon")
            houder_json["inOnderzoek"] = {"burgerservicenummer": True, "datumIngangOnderzoek": sinds}
    resource: dict[str, Any] = {
        "reisdocumentnummer": document.nummer,
        "soort": {
            "code": document.soort_code,
            "omschrijving": _SOORT_REISDOCUMENT.get(document.soort_code, "onbekend"),
        },
        "datumEindeGeldigheid": datum_json(document.datum_einde_geldigheid(peildatum)),
        "houder": houder_json,
    }
    if document.in_onderzoek:
        rng = _rng(seed, document.nummer, "onderzoek")
        sinds = datum_json(peildatum - timedelta(days=rng.randint(5, 300)))
        resource["inOnderzoek"] = {"datumEindeGeldigheid": True, "datumIngangOnderzoek": sinds}
    if document.ingehouden_of_vermist:
        rng = _rng(seed, document.nummer, "inhouding")
        resource["inhoudingOfVermissing"] = {
            "datum": datum_json(peildatum - timedelta(days=rng.randint(10, 400))),
            "aanduiding": {"code": "I", "omschrijving": "ingehouden of ingeleverd"},
        }
    return resource


def zoek_personen(
    query: Mapping[str, Any], population: Mapping[str, Persoon], peildatum: date, seed: int
) -> list[dict[str, Any]]:
    """RaadpleegMetBurgerservicenummer on a valid query: the known persons, each once.

    Unknown BSNs and persons outside ``gemeenteVanInschrijving`` are left out, as the API does.
    """
    gemeente = query.get("gemeenteVanInschrijving")
    found = []
    for bsn in dict.fromkeys(query["burgerservicenummer"]):
        persoon = population.get(bsn)
        if persoon is not None and gemeente in (None, persoon.gemeente_code):
            found.append(persoon_json(persoon, peildatum, seed))
    return found


def zoek_reisdocumenten(
    query: Mapping[str, Any], population: Mapping[str, Persoon], peildatum: date, seed: int
) -> list[dict[str, Any]]:
    """ZoekMetBurgerservicenummer on a valid query; an unknown BSN has no documents."""
    bsn = query["burgerservicenummer"]
    persoon = population.get(bsn)
    documenten = () if persoon is None else persoon.reisdocumenten
    return [reisdocument_json(document, bsn, peildatum, seed, houder=persoon) for document in documenten]
