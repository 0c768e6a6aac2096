"""The synthetic population as BRP Personen and Reisdocumenten resources.

Why: the clients must meet answers shaped like the real ones (polymorphic
verblijfplaats, dates with a ``type``, lists left out when empty) for people
whose true answers the tests know, because each resource is derived from a
:class:`~nazorg_dev.sim.population.Persoon`. Names, addresses and the like are
drawn from a per-person seed, so every request gives the same person.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Final

from nazorg.bsn import is_valid_bsn
from nazorg_dev.sim.population import DEFAULT_SEED, Persoon, Reisdocument

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


def _verblijfplaats(persoon: Persoon, rng: random.Random, peildatum: date) -> dict[str, Any]:
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
        "verblijfplaats": _verblijfplaats(persoon, rng, peildatum),
    }
    kinderen = [
        {
            "burgerservicenummer": _synthetic_bsn(rng),
            "naam": _naam(rng, _KINDNAMEN, familie),
            "geboorte": {"datum": datum_json(geboortedatum)},
        }
        for geboortedatum in persoon.kinderen_geboortedata(peildatum)
    ]
    if kinderen:
        resource["kinderen"] = kinderen
    return resource


def reisdocument_json(
    document: Reisdocument, houder_bsn: str, peildatum: date, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """The full Reisdocument resource (before ``fields``)."""
    resource: dict[str, Any] = {
        "reisdocumentnummer": document.nummer,
        "soort": {
            "code": document.soort_code,
            "omschrijving": _SOORT_REISDOCUMENT.get(document.soort_code, "onbekend"),
        },
        "datumEindeGeldigheid": datum_json(document.datum_einde_geldigheid(peildatum)),
        "houder": {"burgerservicenummer": houder_bsn},
    }
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
    return [reisdocument_json(document, bsn, peildatum, seed) for document in documenten]
