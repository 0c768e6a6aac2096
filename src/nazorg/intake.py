"""Eerstedagsmelding intake: validate, then store in the inbox or quarantine.

A rejection records reason codes and field names only. Pydantic error objects
carry the offending input, so they are reduced to (code, field) right here and
never logged, raised or stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nazorg.bsn import is_valid_bsn

MAX_RECORD_BYTES = 4096
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_AGE_DAYS = 366  # backfills of up to a year are allowed; older is a mistake
MELDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")
DIGIT_RUN = re.compile(r"(?:\d[ .-]?){7}\d")  # same BSN-like run the guard blocks
SAFE_FIELD = re.compile(r"^[a-z_]{1,40}$")

_PYDANTIC_CODES = {
    "missing": "veld_ontbreekt",
    "extra_forbidden": "onbekend_veld",
    "string_pattern_mismatch": "formaat_ongeldig",
    "string_too_long": "te_lang",
    "string_too_short": "te_kort",
    "string_type": "type_ongeldig",
    "literal_error": "waarde_ongeldig",
}


class Melding(BaseModel):
    """The documented input schema (README, "Eerstedagsmelding")."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    melding_id: str = Field(pattern=MELDING_ID.pattern)
    bsn: str = Field(pattern=r"^[0-9]{9}$")
    gemeente_code: str = Field(pattern=r"^[0-9]{4}$")
    inrichting: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-zÀ-ž0-9 .,'()-]+$")
    datum_binnenkomst: date = Field(strict=False)
    verwachte_einddatum: date | None = None
    reclassering_betrokken: Literal["ja", "nee"] | None = None

    def inhoud_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Afwijzing:
    """One reason a melding was refused: a code and, where known, the field name."""

    reden_code: str
    veld: str | None = None


@dataclass(frozen=True, slots=True)
class Beoordeling:
    herkomst: str  # "<file>:<line>" or "api"
    melding: Melding | None
    afwijzingen: tuple[Afwijzing, ...]
    melding_id: str | None  # known even for a refused melding when its id itself is valid


def _safe_field(loc: tuple[object, ...]) -> str | None:
    name = str(loc[0]) if loc else None
    if name is None:
        return None
    return name if SAFE_FIELD.match(name) else "<onbekend>"


def _date_code(kind: str) -> str | None:
    return "datum_ongeldig" if kind.startswith(("date", "datetime")) else None


def beoordeel(raw: object, herkomst: str, gemeenten: Iterable[str], vandaag: date) -> Beoordeling:
    """Validate one decoded record against the schema and the domain rules."""
    if not isinstance(raw, dict):
        return Beoordeling(herkomst, None, (Afwijzing("geen_object"),), None)
    candidate_id = raw.get("melding_id")
    melding_id = (
        candidate_id
        if isinstance(candidate_id, str)
        and MELDING_ID.match(candidate_id)
        and not DIGIT_RUN.search(candidate_id)
        else None
    )
    if len(json.dumps(raw, default=str).encode()) > MAX_RECORD_BYTES:
        return Beoordeling(herkomst, None, (Afwijzing("te_groot"),), melding_id)
    try:
        melding = Melding.model_validate(raw)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            kind = str(err["type"])
            code = _PYDANTIC_CODES.get(kind) or _date_code(kind) or "ongeldig"
            found.append(Afwijzing(code, _safe_field(tuple(err["loc"]))))
        return Beoordeling(herkomst, None, tuple(dict.fromkeys(found)), melding_id)

    problems: list[Afwijzing] = []
    if DIGIT_RUN.search(melding.melding_id):
        # a run of digits in the id would put a BSN-like value into Airflow's run id
        problems.append(Afwijzing("melding_id_cijferreeks", "melding_id"))
    if not is_valid_bsn(melding.bsn):
        problems.append(Afwijzing("bsn_elfproef", "bsn"))
    if melding.gemeente_code not in set(gemeenten):
        problems.append(Afwijzing("gemeente_onbekend", "gemeente_code"))
    if melding.datum_binnenkomst > vandaag:
        problems.append(Afwijzing("datum_in_toekomst", "datum_binnenkomst"))
    if melding.datum_binnenkomst < vandaag - timedelta(days=MAX_AGE_DAYS):
        problems.append(Afwijzing("datum_te_oud", "datum_binnenkomst"))
    einde = melding.verwachte_einddatum
    if einde is not None and einde < melding.datum_binnenkomst:
        problems.append(Afwijzing("einddatum_voor_binnenkomst", "verwachte_einddatum"))
    if problems:
        return Beoordeling(herkomst, None, tuple(problems), melding_id)
    return Beoordeling(herkomst, melding, (), melding.melding_id)


def decode(text: str, naam: str) -> Iterator[tuple[str, object]]:
    """Records of a JSON object, a JSON array or JSON Lines, with their origin.

    A line that is not JSON yields a sentinel so the caller quarantines it
    instead of dropping it.
    """
    stripped = text.strip()
    if not stripped:
        return
    if stripped[0] in "[{":
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            for index, item in enumerate(whole, start=1):
                yield f"{naam}#{index}", item
            return
        if isinstance(whole, dict):
            yield f"{naam}:1", whole
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line.encode()) > MAX_RECORD_BYTES * 2:
            yield f"{naam}:{number}", _TOO_LARGE
            continue
        try:
            yield f"{naam}:{number}", json.loads(line)
        except json.JSONDecodeError:
            yield f"{naam}:{number}", _NOT_JSON


class _Sentinel:
    def __init__(self, code: str) -> None:
        self.code = code


_NOT_JSON = _Sentinel("geen_json")
_TOO_LARGE = _Sentinel("te_groot")


def beoordeel_alle(
    records: Iterable[tuple[str, object]], gemeenten: Iterable[str], vandaag: date
) -> list[Beoordeling]:
    known = set(gemeenten)
    out = []
    for herkomst, raw in records:
        if isinstance(raw, _Sentinel):
            out.append(Beoordeling(herkomst, None, (Afwijzing(raw.code),), None))
        else:
            out.append(beoordeel(raw, herkomst, known, vandaag))
    return out


Resultaat = Literal["opgeslagen", "al_aanwezig", "conflict", "quarantaine"]
