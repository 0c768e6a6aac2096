"""Local Haal Centraal server: BRP Personen and Reisdocumenten on the synthetic population.

Why it exists: the pipeline and its clients must be exercised against the real
contract (POST with a JSON query, a ``type`` discriminator, mandatory ``fields``,
``application/problem+json`` errors) without ever touching the BRP. The server
follows the official OpenAPI specifications in ``/work/shared/specs`` for the
two operations the pipeline uses, and it can misbehave on purpose (latency,
5xx, 429, timeouts, broken bodies) so that tests can prove an error never turns
into "nee".

Privacy: the server never logs requests, bodies or BSNs; problem responses name
the faulty parameter but never echo its value.

Only the Python standard library is used, so the simulator runs anywhere the
package is installed.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import random
import re
import socket
import socketserver
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast
from urllib.parse import urlsplit

from nazorg.bsn import is_valid_bsn
from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE, Persoon, Reisdocument, by_bsn

BRP_PREFIX: Final = "/haalcentraal/api/brp"
REISDOCUMENTEN_PREFIX: Final = "/haalcentraal/api/reisdocumenten"
PERSONEN_PATH: Final = BRP_PREFIX + "/personen"
REISDOCUMENTEN_PATH: Final = REISDOCUMENTEN_PREFIX + "/reisdocumenten"
SIM_CONFIG_PATH: Final = "/_sim/config"
SIM_STATS_PATH: Final = "/_sim/stats"
SIM_RESET_PATH: Final = "/_sim/reset"

PERSONEN_TYPE: Final = "RaadpleegMetBurgerservicenummer"
REISDOCUMENTEN_TYPE: Final = "ZoekMetBurgerservicenummer"
FAULTS: Final = ("500", "503", "429", "timeout", "malformed", "wrong_type")
API_KEY_HEADER: Final = "X-API-KEY"
API_KEY_ENV: Final = "NAZORG_SIM_API_KEY"
DEFAULT_CLI_PORT: Final = 5010

MAX_BSNS_PER_REQUEST: Final = 20  # RaadpleegMetBurgerservicenummer.burgerservicenummer.maxItems
MAX_PERSONEN_FIELDS: Final = 130  # PersonenQuery.fields.maxItems
MAX_REISDOCUMENT_FIELDS: Final = 25  # ReisdocumentenQuery.fields.maxItems
MAX_BODY_BYTES: Final = 1 << 20

_BSN_RE: Final = re.compile(r"[0-9]{9}")
_FIELD_RE: Final = re.compile(r"[a-zA-Z0-9\._]{1,200}")
_GEMEENTE_RE: Final = re.compile(r"[0-9]{4}")
_PARAM_NAME_RE: Final = re.compile(r"[a-zA-Z0-9\._]{1,30}")

JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class _Node:
    """One object in the response schema, enough to validate and apply ``fields``.

    Arrays are transparent (``kinderen.naam`` addresses the naam of every kind).
    A polymorphic node carries a ``type`` discriminator that is always returned
    when any of its fields is requested, so the client can tell the subtypes apart.
    """

    children: Mapping[str, _Node] = field(default_factory=dict)
    polymorphic: bool = False


_LEAF: Final = _Node()


def _obj(*leaves: str, polymorphic: bool = False, **nested: _Node) -> _Node:
    children: dict[str, _Node] = dict.fromkeys(leaves, _LEAF)
    children.update(nested)
    return _Node(children, polymorphic)


_DATUM = _obj("type", "langFormaat", "datum", "onbekend", "jaar", "maand", polymorphic=True)
_WAARDETABEL = _obj("code", "omschrijving")
_NAAM_GERELATEERDE = _obj(
    "voornamen",
    "voorvoegsel",
    "geslachtsnaam",
    "voorletters",
    adellijkeTitelPredicaat=_obj("code", "omschrijving", "soort"),
)
_NAAM_PERSOON = _Node(
    {**_NAAM_GERELATEERDE.children, "volledigeNaam": _LEAF, "aanduidingNaamgebruik": _WAARDETABEL}
)
_GEBOORTE = _obj(datum=_DATUM, land=_WAARDETABEL, plaats=_WAARDETABEL)
_NAAM_VOLLEDIG = _obj("volledigeNaam")
_GEZAG_OUDER = _obj("burgerservicenummer", naam=_NAAM_VOLLEDIG)
_DERDE = _obj("type", "burgerservicenummer", polymorphic=True, naam=_NAAM_VOLLEDIG)
# union of VerblijfadresBinnenland, VerblijfadresBuitenland and VerblijfadresLocatie
_VERBLIJFADRES = _obj(
    "officieleStraatnaam",
    "korteStraatnaam",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "postcode",
    "woonplaats",
    "regel1",
    "regel2",
    "regel3",
    "locatiebeschrijving",
    aanduidingBijHuisnummer=_WAARDETABEL,
    land=_WAARDETABEL,
)
# union of Adres, VerblijfplaatsBuitenland, VerblijfplaatsOnbekend and Locatie
_VERBLIJFPLAATS = _obj(
    "type",
    "adresseerbaarObjectIdentificatie",
    "nummeraanduidingIdentificatie",
    "indicatieVastgesteldVerblijftNietOpAdres",
    polymorphic=True,
    datumIngangGeldigheid=_DATUM,
    datumVan=_DATUM,
    functieAdres=_WAARDETABEL,
    verblijfadres=_VERBLIJFADRES,
)
PERSOON_SCHEMA: Final = _obj(
    "aNummer",
    "burgerservicenummer",
    "leeftijd",
    "indicatieCurateleRegister",
    datumEersteInschrijvingGBA=_DATUM,
    geslacht=_WAARDETABEL,
    uitsluitingKiesrecht=_obj("uitgeslotenVanKiesrecht", einddatum=_DATUM),
    europeesKiesrecht=_obj(aanduiding=_WAARDETABEL, einddatumUitsluiting=_DATUM),
    naam=_NAAM_PERSOON,
    nationaliteiten=_obj(
        "type",
        polymorphic=True,
        redenOpname=_WAARDETABEL,
        datumIngangGeldigheid=_DATUM,
        nationaliteit=_WAARDETABEL,
    ),
    geboorte=_GEBOORTE,
    overlijden=_obj(datum=_DATUM, land=_WAARDETABEL, plaats=_WAARDETABEL),
    verblijfplaats=_VERBLIJFPLAATS,
    immigratie=_obj(
        "vanuitVerblijfplaatsOnbekend",
        "indicatieVestigingVanuitBuitenland",
        landVanwaarIngeschreven=_WAARDETABEL,
        datumVestigingInNederland=_DATUM,
    ),
    gemeenteVanInschrijving=_WAARDETABEL,
    datumInschrijvingInGemeente=_DATUM,
    adressering=_obj(
        "adresregel1",
        "adresregel2",
        "adresregel3",
        "indicatieVastgesteldVerblijftNietOpAdres",
        "aanhef",
        "gebruikInLopendeTekst",
        land=_WAARDETABEL,
        aanschrijfwijze=_obj("naam", "aanspreekvorm"),
    ),
    indicatieGezagMinderjarige=_WAARDETABEL,
    gezag=_obj(
        "type",
        "toelichting",
        polymorphic=True,
        minderjarige=_obj("burgerservicenummer", "leeftijd", naam=_NAAM_VOLLEDIG),
        ouders=_GEZAG_OUDER,
        ouder=_GEZAG_OUDER,
        derde=_DERDE,
        derden=_DERDE,
    ),
    verblijfstitel=_obj(aanduiding=_WAARDETABEL, datumEinde=_DATUM, datumIngang=_DATUM),
    kinderen=_obj("burgerservicenummer", naam=_NAAM_GERELATEERDE, geboorte=_GEBOORTE),
    ouders=_obj(
        "burgerservicenummer",
        "ouderAanduiding",
        geslacht=_WAARDETABEL,
        datumIngangFamilierechtelijkeBetrekking=_DATUM,
        naam=_NAAM_GERELATEERDE,
        geboorte=_GEBOORTE,
    ),
    partners=_obj(
        "burgerservicenummer",
        geslacht=_WAARDETABEL,
        soortVerbintenis=_WAARDETABEL,
        naam=_NAAM_GERELATEERDE,
        geboorte=_GEBOORTE,
        aangaanHuwelijkPartnerschap=_obj(datum=_DATUM, land=_WAARDETABEL, plaats=_WAARDETABEL),
        ontbindingHuwelijkPartnerschap=_obj(datum=_DATUM),
    ),
)
# Delivered automatically when relevant; the spec forbids asking for them in fields.
PERSOON_AUTOMATISCH: Final = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
)
REISDOCUMENT_SCHEMA: Final = _obj(
    "reisdocumentnummer",
    soort=_WAARDETABEL,
    datumEindeGeldigheid=_DATUM,
    inhoudingOfVermissing=_obj(datum=_DATUM, aanduiding=_WAARDETABEL),
    houder=_obj("burgerservicenummer"),
)
REISDOCUMENT_AUTOMATISCH: Final = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding"}
)

# A selection maps a field name to a deeper selection, or to None for "the whole value".
Selection = dict[str, "Selection | None"]


def path_exists(path: str, schema: _Node, automatic: frozenset[str] = frozenset()) -> bool:
    """True if a dotted ``fields`` path names a field of the schema that may be requested."""
    node = schema
    for segment in path.split("."):
        if segment in automatic or segment not in node.children:
            return False
        node = node.children[segment]
    return True


def build_selection(paths: Sequence[str]) -> Selection:
    """Merge valid dotted paths into one tree; a shorter path wins over a longer one."""
    selection: Selection = {}
    for path in paths:
        *parents, last = path.split(".")
        node: Selection | None = selection
        for segment in parents:
            assert node is not None
            node = node.setdefault(segment, {})
            if node is None:  # a parent was already requested as a whole
                break
        else:
            assert node is not None
            node[last] = None
    return selection


def project(value: Any, node: _Node, selection: Selection | None) -> Any:
    """Apply ``fields``: keep only the selected paths of a resource.

    Empty objects are left out (data that is not there is not returned), but an
    item of a list is kept even when empty, so a kind without a geboortedatum
    does not silently disappear from ``kinderen``.
    """
    if selection is None:
        return value
    if isinstance(value, list):
        return [project(item, node, selection) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    if node.polymorphic and "type" in value:
        result["type"] = value["type"]
    for key, sub in selection.items():
        if key not in value:
            continue
        projected = project(value[key], node.children[key], sub)
        if projected != {} and projected != []:
            result[key] = projected
    return result


# --------------------------------------------------------------------------- synthetic data

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


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # the "timeout" fault: answer nothing, then drop the connection


_RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
# status -> (type, title, detail, code), the examples of the specifications
_PROBLEMS: Final[dict[int, tuple[str, str, str, str]]] = {
    400: (
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
        "Een of meerdere parameters zijn niet correct.",
        "De foutieve parameter(s) zijn niet correct.",
        "paramsValidation",
    ),
    401: (
        _RFC2616 + "#sec10.4.2",
        "Niet correct geauthenticeerd.",
        "The request requires user authentication.",
        "authentication",
    ),
    404: (
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.4",
        "Opgevraagde resource bestaat niet.",
        "The server has not found anything matching the Request-URI.",
        "notFound",
    ),
    405: (
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.5",
        "Gebruikte methode is niet toegestaan.",
        "Only POST is supported on this resource.",
        "methodNotAllowed",
    ),
    406: (
        _RFC2616 + "#sec10.4.7",
        "Gevraagde contenttype wordt niet ondersteund.",
        "The resource identified by the request is only capable of generating response "
        "entities which have content characteristics not acceptable according to thr "
        "accept headers sent in the request",
        "notAcceptable",
    ),
    413: (
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.11",
        "Request te groot.",
        "The request body is larger than the server is willing to process.",
        "payloadTooLarge",
    ),
    415: (
        _RFC2616 + "#sec10.4.16",
        "Unsupported Media Type",
        "The server is refusing the request because the entity of the request is in a format "
        "not supported by the requested resource for the requested method.",
        "unsupported",
    ),
    429: (
        _RFC2616,
        "Too many request",
        "The user has sent too many requests in a given amount of time (rate limiting).",
        "tooManyRequests",
    ),
    500: (
        _RFC2616 + "#sec10.5.1",
        "Interne server fout.",
        "The server encountered an unexpected condition which prevented it from fulfilling the request.",
        "serverError",
    ),
    503: (
        _RFC2616 + "#sec10.5.4",
        "Bronservice BRP is tijdelijk niet beschikbaar.",
        "The service is currently unable to handle the request due to a temporary overloading "
        "or maintenance of the server.",
        "notAvailable",
    ),
}


@dataclass(frozen=True, slots=True)
class InvalidParam:
    """One entry of ``invalidParams``; never carries the offending value."""

    name: str
    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "type": f"https://www.vng.nl/realisatie/api/validaties/{self.code}",
            "name": self.name,
            "code": self.code,
            "reason": self.reason,
        }


def _json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _problem(
    status: int,
    instance: str,
    *,
    invalid: Sequence[InvalidParam] = (),
    headers: tuple[tuple[str, str], ...] = (),
) -> _Response:
    type_, title, detail, code = _PROBLEMS[status]
    if invalid:
        names = ", ".join(dict.fromkeys(p.name.split("[")[0] for p in invalid))
        detail = f"De foutieve parameter(s) zijn: {names}."
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    if invalid:
        body["invalidParams"] = [p.as_json() for p in invalid]
    return _Response(status, _json_bytes(body), PROBLEM_CONTENT_TYPE, headers)


def _ok(payload: object) -> _Response:
    return _Response(200, _json_bytes(payload), JSON_CONTENT_TYPE)


# --------------------------------------------------------------------------- validation


def _required(name: str) -> InvalidParam:
    return InvalidParam(name, "required", "Parameter is verplicht.")


def _check_unknown(body: Mapping[str, object], allowed: frozenset[str]) -> list[InvalidParam]:
    """Unknown body properties are rejected; the name is echoed only if it looks like one."""
    problems = []
    for key in body:
        if key not in allowed:
            name = key if _PARAM_NAME_RE.fullmatch(key) else "body"
            problems.append(InvalidParam(name, "unknownParam", "Parameter is niet verwacht."))
    return problems


def _check_fields(
    value: object, max_items: int, schema: _Node, automatic: frozenset[str]
) -> tuple[list[str], list[InvalidParam]]:
    if value is None:
        return [], [_required("fields")]
    if not isinstance(value, list):
        return [], [InvalidParam("fields", "array", "Parameter is geen array.")]
    if not value:
        return [], [InvalidParam("fields", "minItems", "Array bevat minder dan 1 items.")]
    if len(value) > max_items:
        reason = f"Array bevat meer dan {max_items} items."
        return [], [InvalidParam("fields", "maxItems", reason)]
    problems: list[InvalidParam] = []
    for index, path in enumerate(value):
        name = f"fields[{index}]"
        if not isinstance(path, str) or not _FIELD_RE.fullmatch(path):
            reason = "Waarde voldoet niet aan patroon ^[a-zA-Z0-9\\._]{1,200}$."
            problems.append(InvalidParam(name, "pattern", reason))
        elif any(segment in automatic for segment in path.split(".")):
            reason = "Automatisch geleverd veld mag niet worden gevraagd."
            problems.append(InvalidParam(name, "fields", reason))
        elif not path_exists(path, schema, automatic):
            reason = "Parameter bevat een niet bestaande veldnaam."
            problems.append(InvalidParam(name, "fields", reason))
    return [str(p) for p in value], problems


def _check_bsn(value: object, name: str) -> list[InvalidParam]:
    if not isinstance(value, str):
        return [InvalidParam(name, "string", "Waarde is geen string.")]
    if not _BSN_RE.fullmatch(value):
        return [InvalidParam(name, "pattern", "Waarde voldoet niet aan patroon ^[0-9]{9}$.")]
    return []


def _check_bsn_list(value: object) -> list[InvalidParam]:
    if value is None:
        return [_required("burgerservicenummer")]
    if not isinstance(value, list):
        return [InvalidParam("burgerservicenummer", "array", "Parameter is geen array.")]
    if not value:
        reason = "Array bevat minder dan 1 items."
        return [InvalidParam("burgerservicenummer", "minItems", reason)]
    if len(value) > MAX_BSNS_PER_REQUEST:
        reason = f"Array bevat meer dan {MAX_BSNS_PER_REQUEST} items."
        return [InvalidParam("burgerservicenummer", "maxItems", reason)]
    problems: list[InvalidParam] = []
    for index, item in enumerate(value):
        problems.extend(_check_bsn(item, f"burgerservicenummer[{index}]"))
    return problems


def _check_type(body: Mapping[str, object], supported: str) -> list[InvalidParam]:
    soort = body.get("type")
    if soort is None:
        return [_required("type")]
    if soort != supported:
        return [InvalidParam("type", "value", "Waarde wordt niet ondersteund.")]
    return []


# --------------------------------------------------------------------------- operations

_PERSONEN_PARAMS = frozenset({"type", "fields", "burgerservicenummer", "gemeenteVanInschrijving"})
_REISDOCUMENTEN_PARAMS = frozenset({"type", "fields", "burgerservicenummer"})


def handle_personen(
    body: Mapping[str, object], population: Mapping[str, Persoon], peildatum: date, seed: int
) -> _Response:
    """POST /personen with type RaadpleegMetBurgerservicenummer."""
    problems = _check_type(body, PERSONEN_TYPE)
    if problems:
        return _problem(400, PERSONEN_PATH, invalid=problems)
    problems = _check_unknown(body, _PERSONEN_PARAMS)
    paths, field_problems = _check_fields(
        body.get("fields"), MAX_PERSONEN_FIELDS, PERSOON_SCHEMA, PERSOON_AUTOMATISCH
    )
    problems += field_problems
    problems += _check_bsn_list(body.get("burgerservicenummer"))
    gemeente = body.get("gemeenteVanInschrijving")
    if gemeente is not None and not (isinstance(gemeente, str) and _GEMEENTE_RE.fullmatch(gemeente)):
        reason = "Waarde voldoet niet aan patroon ^[0-9]{4}$."
        problems.append(InvalidParam("gemeenteVanInschrijving", "pattern", reason))
    if problems:
        return _problem(400, PERSONEN_PATH, invalid=problems)
    selection = build_selection(paths)
    found = []
    for bsn in dict.fromkeys(cast(list[str], body["burgerservicenummer"])):
        persoon = population.get(bsn)
        if persoon is None or (gemeente is not None and persoon.gemeente_code != gemeente):
            continue
        found.append(project(persoon_json(persoon, peildatum, seed), PERSOON_SCHEMA, selection))
    return _ok({"type": PERSONEN_TYPE, "personen": found})


def handle_reisdocumenten(
    body: Mapping[str, object], population: Mapping[str, Persoon], peildatum: date, seed: int
) -> _Response:
    """POST /reisdocumenten with type ZoekMetBurgerservicenummer."""
    problems = _check_type(body, REISDOCUMENTEN_TYPE)
    if problems:
        return _problem(400, REISDOCUMENTEN_PATH, invalid=problems)
    problems = _check_unknown(body, _REISDOCUMENTEN_PARAMS)
    paths, field_problems = _check_fields(
        body.get("fields"), MAX_REISDOCUMENT_FIELDS, REISDOCUMENT_SCHEMA, REISDOCUMENT_AUTOMATISCH
    )
    problems += field_problems
    bsn = body.get("burgerservicenummer")
    problems += [_required("burgerservicenummer")] if bsn is None else _check_bsn(bsn, "burgerservicenummer")
    if problems:
        return _problem(400, REISDOCUMENTEN_PATH, invalid=problems)
    selection = build_selection(paths)
    persoon = population.get(cast(str, bsn))
    documenten = [] if persoon is None else list(persoon.reisdocumenten)
    projected = [
        project(reisdocument_json(d, cast(str, bsn), peildatum, seed), REISDOCUMENT_SCHEMA, selection)
        for d in documenten
    ]
    return _ok({"type": REISDOCUMENTEN_TYPE, "reisdocumenten": projected})


_OPERATIONS: Final = {PERSONEN_PATH: "personen", REISDOCUMENTEN_PATH: "reisdocumenten"}


def _is_json_content_type(value: str | None) -> bool:
    """application/json, optionally with charset utf-8 (the spec's request media type)."""
    if not value:
        return False
    media, *params = (part.strip().lower() for part in value.split(";"))
    if media != "application/json":
        return False
    for param in params:
        key, _, val = param.partition("=")
        if key.strip() == "charset" and val.strip().strip('"') not in {"utf-8", "utf8"}:
            return False
    return True


def _accepts_json(value: str | None) -> bool:
    """False only when an Accept header is present and rules out application/json."""
    if value is None or not value.strip():
        return True
    for part in value.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, val = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(val)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media in {"*/*", "application/*", "application/json"}:
            return True
    return False


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Switchable misbehaviour; changed at runtime through ``POST /_sim/config``."""

    latency_ms: float = 0.0
    fault: str | None = None
    fault_rate: float = 1.0
    fault_first_n: int | None = None
    fault_seed: int = 0
    timeout_sleep_s: float = 5.0

    def __post_init__(self) -> None:
        def number(value: object) -> bool:
            return isinstance(value, int | float) and not isinstance(value, bool)

        if not number(self.latency_ms) or self.latency_ms < 0:
            raise ValueError("latency_ms must be a number >= 0")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)} or null")
        if not number(self.fault_rate) or not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        first_n = self.fault_first_n
        if first_n is not None and (not isinstance(first_n, int) or isinstance(first_n, bool) or first_n < 0):
            raise ValueError("fault_first_n must be an integer >= 0 or null")
        if not isinstance(self.fault_seed, int) or isinstance(self.fault_seed, bool):
            raise ValueError("fault_seed must be an integer")
        if not number(self.timeout_sleep_s) or self.timeout_sleep_s <= 0:
            raise ValueError("timeout_sleep_s must be a number > 0")

    def updated(self, changes: Mapping[str, object]) -> SimConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        return replace(self, **changes)  # type: ignore[arg-type]


class _SimState:
    """Everything the request handlers share; guarded by one lock."""

    def __init__(self, *, seed: int, size: int, api_key: str | None, config: SimConfig) -> None:
        self.seed = seed
        self.population = by_bsn(seed, size)
        self.api_key = api_key
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(config.fault_seed)
        self._since_config = 0
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    @property
    def config(self) -> SimConfig:
        with self._lock:
            return self._config

    def configure(self, changes: Mapping[str, object]) -> SimConfig:
        """Apply a partial change; restarts the fault dice and the first-n count."""
        with self._lock:
            self._config = self._config.updated(changes)
            self._rng = random.Random(self._config.fault_seed)
            self._since_config = 0
            return self._config

    def next_fault(self) -> str | None:
        with self._lock:
            config = self._config
            if config.fault is None:
                return None
            self._since_config += 1
            if config.fault_first_n is not None:
                hit = self._since_config <= config.fault_first_n
            else:
                hit = self._rng.random() < config.fault_rate
            if hit:
                self._faults[config.fault] += 1
            return config.fault if hit else None

    def count_request(self, operation: str) -> None:
        with self._lock:
            self._requests[operation] += 1

    def count_status(self, status: int | str) -> None:
        with self._lock:
            self._statuses[str(status)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {"personen": 0, "reisdocumenten": 0, **self._requests},
                "faults": dict(self._faults),
                "statuses": dict(self._statuses),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._statuses.clear()


# --------------------------------------------------------------------------- HTTP plumbing


class _SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: _SimState) -> None:
        self.state = state
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup (getfqdn), which can take seconds."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a default traceback could end up in logs next to request data."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real gateway
    server_version = "HaalCentraalSim/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without this, Nagle plus
        # delayed ACKs add ~40 ms to every request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def _state(self) -> _SimState:
        return cast(_SimHTTPServer, self.server).state

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the simulator must never write request data anywhere."""

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._read_body()
        if body is None:
            self._send(_problem(413, path), close=True)
        elif path in _OPERATIONS:
            self._send(self._operation(_OPERATIONS[path], path, body))
        elif path == SIM_CONFIG_PATH:
            self._send(self._configure(body))
        elif path == SIM_RESET_PATH:
            self._state.reset_stats()
            self._send(_ok(self._state.stats()))
        else:
            self._send(_problem(404, path))

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == SIM_STATS_PATH:
            self._send(_ok(self._state.stats()))
        elif path == SIM_CONFIG_PATH:
            self._send(_ok(asdict(self._state.config)))
        else:
            self._not_post(path)

    def do_PUT(self) -> None:
        self._read_body()
        self._not_post(urlsplit(self.path).path)

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def _not_post(self, path: str) -> None:
        known = path in _OPERATIONS or path in {SIM_CONFIG_PATH, SIM_STATS_PATH, SIM_RESET_PATH}
        self._send(_problem(405, path) if known else _problem(404, path))

    def _read_body(self) -> bytes | None:
        """Read the whole body (also for errors, so keep-alive stays in sync); None if too big."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _operation(self, operation: str, path: str, raw: bytes) -> _Response:
        state = self._state
        state.count_request(operation)
        # decided on arrival, so a slow request that outlives a reconfiguration
        # cannot shift the seeded fault pattern of the requests after it
        fault = state.next_fault()
        latency_ms = state.config.latency_ms
        if latency_ms > 0:
            state.stopping.wait(latency_ms / 1000)
        if fault is not None:
            return _fault_response(fault, operation, path)
        if state.api_key is not None:
            given = self.headers.get(API_KEY_HEADER) or ""
            if not hmac.compare_digest(given.encode(), state.api_key.encode()):
                return _problem(401, path, headers=(("WWW-Authenticate", "ApiKey"),))
        if not _is_json_content_type(self.headers.get("Content-Type")):
            return _problem(415, path)
        if not _accepts_json(self.headers.get("Accept")):
            return _problem(406, path)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict):
            return _problem(400, path, invalid=[InvalidParam("body", "json", "Geen JSON object.")])
        handler = handle_personen if operation == "personen" else handle_reisdocumenten
        return handler(body, state.population, date.today(), state.seed)

    def _configure(self, raw: bytes) -> _Response:
        try:
            changes = json.loads(raw.decode("utf-8") or "{}")
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object")
            config = self._state.configure(changes)
        except (UnicodeDecodeError, ValueError, TypeError):
            reason = "Ongeldige simulatorinstelling."
            invalid = [InvalidParam("config", "value", reason)]
            return _problem(400, SIM_CONFIG_PATH, invalid=invalid)
        return _ok(asdict(config))

    def _send(self, response: _Response, *, close: bool = False) -> None:
        state = self._state
        if response.hang:
            state.count_status("timeout")
            state.stopping.wait(state.config.timeout_sleep_s)
            self.close_connection = True
            return
        state.count_status(response.status)
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True


def _fault_response(fault: str, operation: str, path: str) -> _Response:
    if fault == "timeout":
        return _Response(504, hang=True)
    if fault == "malformed":
        return _Response(200, b'{"type":"' + operation.encode() + b'","', JSON_CONTENT_TYPE)
    if fault == "wrong_type":
        key = "personen" if operation == "personen" else "reisdocumenten"
        return _ok({key: []})
    status = int(fault)
    headers = (("Retry-After", "0"),) if status == 429 else ()
    return _problem(status, path, headers=headers)


# --------------------------------------------------------------------------- public API


class HaalCentraalSimServer:
    """One local server for both APIs; start it in a background thread.

    >>> with HaalCentraalSimServer() as sim:  # doctest: +SKIP
    ...     client = BrpPersonenClient(sim.brp_base_url)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = DEFAULT_SEED,
        size: int = DEFAULT_SIZE,
        api_key: str | None = None,
        latency_ms: float = 0.0,
        fault: str | None = None,
        fault_rate: float = 1.0,
        fault_first_n: int | None = None,
        fault_seed: int = 0,
        timeout_sleep_s: float = 5.0,
    ) -> None:
        config = SimConfig(
            latency_ms=latency_ms,
            fault=fault,
            fault_rate=fault_rate,
            fault_first_n=fault_first_n,
            fault_seed=fault_seed,
            timeout_sleep_s=timeout_sleep_s,
        )
        self._host = host
        self._port = port
        self._state = _SimState(seed=seed, size=size, api_key=api_key, config=config)
        self._httpd: _SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._state.stopping.clear()
        httpd = _SimHTTPServer((self._host, self._port), self._state)
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="haal-centraal-sim",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and wake handlers that sleep for latency or a timeout fault."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> HaalCentraalSimServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self._host in {"", "0.0.0.0"} else self._host  # noqa: S104
        return f"http://{host}:{self._port}"

    @property
    def brp_base_url(self) -> str:
        return self.base_url + BRP_PREFIX

    @property
    def reisdocumenten_base_url(self) -> str:
        return self.base_url + REISDOCUMENTEN_PREFIX

    @property
    def config(self) -> SimConfig:
        return self._state.config

    def configure(self, **changes: object) -> SimConfig:
        """The in-process equivalent of ``POST /_sim/config``."""
        return self._state.configure(changes)

    def stats(self) -> dict[str, Any]:
        """The in-process equivalent of ``GET /_sim/stats``."""
        return self._state.stats()

    def reset_stats(self) -> None:
        self._state.reset_stats()


def serve_forever(host: str = "127.0.0.1", port: int = DEFAULT_CLI_PORT, **opts: Any) -> None:
    """Run the simulator in the foreground until interrupted (for the CLI and demos)."""
    server = HaalCentraalSimServer(host, port, **opts)
    url = server.start()
    print(f"Haal Centraal simulator on {url} (BRP {BRP_PREFIX}, {REISDOCUMENTEN_PREFIX})", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_CLI_PORT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault", choices=FAULTS, default=None)
    parser.add_argument("--fault-rate", type=float, default=1.0)
    parser.add_argument("--fault-first-n", type=int, default=None)
    parser.add_argument("--timeout-sleep-s", type=float, default=5.0)
    args = parser.parse_args(argv)
    serve_forever(
        args.host,
        args.port,
        seed=args.seed,
        size=args.size,
        api_key=os.environ.get(API_KEY_ENV) or None,  # never on the command line
        latency_ms=args.latency_ms,
        fault=args.fault,
        fault_rate=args.fault_rate,
        fault_first_n=args.fault_first_n,
        timeout_sleep_s=args.timeout_sleep_s,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
