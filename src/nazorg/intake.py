"""Eerstedagsmelding intake: decode, validate, then store in the inbox or quarantine.

A submitted file is hostile until proven otherwise. Whatever its bytes, intake
never raises: every record ends up either as a `Melding` or as a refusal with
reason codes. A refusal records reason codes and schema field names only.
Pydantic error objects carry the offending input, so they are reduced to
(code, field) right here and never logged, raised or stored; an unknown field
is counted, never named, because its name is caller-chosen text
(``hiv_positief``).

Records are decoded one by one (a JSON Lines line, an element of a JSON array,
or a single JSON object), so one bad record never rejects its neighbours, and a
record is only handed to ``json`` after cheap checks (size, nesting depth,
encoding) that keep the parser away from input that would make it raise or
exhaust the stack.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nazorg.bsn import is_valid_bsn

MAX_RECORD_BYTES = 4096
"""A melding serialised compactly; the raw record may carry as much again in whitespace."""
MAX_RAW_RECORD_BYTES = 2 * MAX_RECORD_BYTES
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
"""Nesting a record may have; a melding needs 1. Deeper input never reaches ``json`` (stack)."""
MAX_INT_DIGITS = 20
"""No melding field is a number; this only keeps ``int()`` away from its 4300-digit ValueError."""
MAX_FLOAT_CHARS = 64
MAX_AGE_DAYS = 366  # backfills of up to a year are allowed; older is a mistake
MELDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")
DIGIT_RUN = re.compile(r"(?:\d[ .-]?){7}\d")  # same BSN-like run the guard blocks
INZENDING_ID = re.compile(r"^[0-9a-f]{32}$")
ONBEKEND_VELD = "<onbekend_veld>"

_PYDANTIC_CODES = {
    "missing": "veld_ontbreekt",
    "extra_forbidden": "onbekend_veld",
    "string_pattern_mismatch": "formaat_ongeldig",
    "string_too_long": "te_lang",
    "string_too_short": "te_kort",
    "string_type": "type_ongeldig",
    "literal_error": "waarde_ongeldig",
}

REDEN_CODES_DECODE = frozenset(
    {
        "geen_json",  # not JSON (syntax), or an empty array element
        "te_groot",  # record over MAX_RAW_RECORD_BYTES raw / MAX_RECORD_BYTES compact
        "te_diep",  # nesting over MAX_DEPTH
        "dubbele_sleutel",  # an object names the same key twice
        "getal_ongeldig",  # NaN, Infinity or -Infinity
        "getal_te_groot",  # integer over MAX_INT_DIGITS digits, float overflowing or too long
        "codering_ongeldig",  # bytes that are not valid UTF-8 (or UTF-16/32 after its BOM)
        "bestand_te_groot",  # the whole file is over MAX_FILE_BYTES (one row for the file)
    }
)
"""Reason codes of records refused before the schema is applied."""


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


SCHEMA_VELDEN = frozenset(Melding.model_fields)

#: Melding fields that carry the answer to a check (the ``melding`` source's bronvragen,
#: nazorg.sources.builtin.MeldingAdapter). Minimisation: such a field is stored only for a
#: gemeente whose besluit runs a check that reads it; otherwise it is cleared (NULL in the
#: inbox) before anything is stored or hashed.
ANTWOORDVELDEN: Final = frozenset({"reclassering_betrokken"})

#: The gemeenten a melding may be for: their codes, or (to minimise) a mapping from each code
#: to the ANTWOORDVELDEN its besluit reads (``nazorg.register.Policy.melding_velden``).
#: Fail-closed: with only codes, or a value that is not a frozenset, no answer field is kept.
Gemeenten = Mapping[str, frozenset[str]] | Iterable[str]


def minimaliseer(melding: Melding, gemeenten: Gemeenten) -> Melding:
    """The melding without the answer fields its gemeente's besluit does not read."""
    gelezen = gemeenten.get(melding.gemeente_code) if isinstance(gemeenten, Mapping) else None
    houden = gelezen if isinstance(gelezen, frozenset) else frozenset()
    weg = {veld: None for veld in sorted(ANTWOORDVELDEN - houden) if getattr(melding, veld) is not None}
    return melding.model_copy(update=weg) if weg else melding


@dataclass(frozen=True, slots=True)
class Afwijzing:
    """One reason a melding was refused: a code and, where known, the schema field name."""

    reden_code: str
    veld: str | None = None


@dataclass(frozen=True, slots=True)
class Beoordeling:
    herkomst: str  # "inzending:<id>:<n>" (n: line, array element, or 1 for one object) or "api"
    melding: Melding | None
    afwijzingen: tuple[Afwijzing, ...]
    melding_id: str | None  # known even for a refused melding when its id itself is valid


def nieuwe_inzending() -> str:
    """A fresh submission id; quarantine rows point to it instead of to the caller's file name."""
    return uuid.uuid4().hex


def herkomst_voor(inzending: str, nummer: int | None = None) -> str:
    """``inzending:<id>`` for the whole file, ``inzending:<id>:<n>`` for its n-th record.

    The id must come from `nieuwe_inzending`: a file name passed here by mistake
    (which may contain a BSN) is refused instead of stored.
    """
    if not INZENDING_ID.match(inzending):
        raise ValueError("inzending-id moet van nieuwe_inzending() komen (32 hex-tekens)")
    return f"inzending:{inzending}" if nummer is None else f"inzending:{inzending}:{nummer}"


def _safe_field(loc: tuple[object, ...], velden: frozenset[str] = SCHEMA_VELDEN) -> str | None:
    if not loc:
        return None
    name = loc[0]
    return name if isinstance(name, str) and name in velden else ONBEKEND_VELD


def _date_code(kind: str) -> str | None:
    return "datum_ongeldig" if kind.startswith(("date", "datetime")) else None


def _compact_size(raw: object) -> int | str:
    """Compact JSON size of a record, or a reason code when it cannot even be serialised.

    Records from `decode` always serialise; a caller handing `beoordeel` its own
    objects may pass a huge int (ValueError), a cycle or deep nesting.
    """
    try:
        return len(json.dumps(raw, default=str).encode())
    except RecursionError:
        return "te_diep"
    except (ValueError, TypeError):
        return "ongeldig"


def veilig_melding_id(raw: dict[object, object]) -> str | None:
    """The record's melding id when it is well-formed and holds no BSN-like digit run; else None.

    What a quarantine row may keep of a refused record to point at its melding.
    """
    candidate = raw.get("melding_id")
    if isinstance(candidate, str) and MELDING_ID.match(candidate) and not DIGIT_RUN.search(candidate):
        return candidate
    return None


def grootte_afwijzing(raw: object) -> Afwijzing | None:
    """``te_groot`` (or why it cannot be measured) for a decoded record over MAX_RECORD_BYTES compact."""
    size = _compact_size(raw)
    if isinstance(size, str) or size > MAX_RECORD_BYTES:
        return Afwijzing(size if isinstance(size, str) else "te_groot")
    return None


def schema_afwijzingen(exc: ValidationError, velden: frozenset[str]) -> tuple[Afwijzing, ...]:
    """A pydantic error reduced to (reason code, schema field): no input, no caller-chosen field name.

    Shared by every input schema (eerstedagsmelding, laatstedagsmelding), so one rule
    decides what of a refused record is kept: ``velden`` are the schema's own field names.
    """
    found = []
    unknown = 0
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        kind = str(err["type"])
        if kind == "extra_forbidden":
            unknown += 1
            continue
        code = _PYDANTIC_CODES.get(kind) or _date_code(kind) or "ongeldig"
        found.append(Afwijzing(code, _safe_field(tuple(err["loc"]), velden)))
    if unknown:
        # counted, never named: a field name is caller-chosen text
        found.append(Afwijzing("onbekend_veld", f"<onbekend_veld:{unknown}>"))
    return tuple(dict.fromkeys(found))


def beoordeel(raw: object, herkomst: str, gemeenten: Gemeenten, vandaag: date) -> Beoordeling:
    """Validate one decoded record against the schema and the domain rules, then minimise it.

    A valid melding comes back without the answer fields its gemeente's besluit does
    not read (:func:`minimaliseer`), so what is not needed is never stored.
    """
    if not isinstance(raw, dict):
        return Beoordeling(herkomst, None, (Afwijzing("geen_object"),), None)
    melding_id = veilig_melding_id(raw)
    if (te_groot := grootte_afwijzing(raw)) is not None:
        return Beoordeling(herkomst, None, (te_groot,), melding_id)
    try:
        melding = Melding.model_validate(raw)
    except ValidationError as exc:
        return Beoordeling(herkomst, None, schema_afwijzingen(exc, SCHEMA_VELDEN), melding_id)

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
    return Beoordeling(herkomst, minimaliseer(melding, gemeenten), (), melding.melding_id)


# --- decoding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Geweigerd:
    """A record refused while decoding; only its reason code survives."""

    code: str


class _Weigering(Exception):  # internal control flow: never escapes decode_record
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_WS = b" \t\r\n"  # JSON whitespace; anything else on a line is content to account for
_WS_RUN = re.compile(rb"[ \t\r\n]*")
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A JSON string never spans a raw newline, so neither does a token here: a broken
# string spoils at most the rest of its own line.
_STRING = rb'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
_BRACKETS = re.compile(_STRING + rb'|["\[\]{}]')
_ELEMENTS = re.compile(_STRING + rb'|["\[\]{},]')
_CHUNK = 4096
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_COMMA = ord(",")

# Undecodable UTF-16/32 becomes a lone surrogate, which can never come out of
# valid input; re-encoded with surrogatepass it is invalid UTF-8, so the record
# holding it is refused as `codering_ongeldig` like bad bytes in a UTF-8 file.
_MARK_ERRORS = "nazorg.intake.markeer"


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\udcff", exc.end


codecs.register_error(_MARK_ERRORS, _mark_undecodable)


def _utf32_le_of_content(body: bytes) -> bool:
    """``FF FE 00 00`` + ``body`` is UTF-32-LE, not UTF-16-LE whose first character is U+0000.

    The two BOMs overlap, so that prefix is ambiguous. Read as UTF-32-LE only when
    the body is valid UTF-32-LE and holds more than JSON whitespace; otherwise it
    is UTF-16-LE and its U+0000 (never valid JSON) becomes a refused record. A
    real UTF-32-LE file with content is read as such, and nothing is ever read
    as nothing: UTF-16 with a leading U+0000 used to vanish as an empty UTF-32 body.
    The price: a UTF-32-LE file of only a BOM and whitespace cannot be told from
    UTF-16-LE holding U+0000 and is refused (quarantined) rather than read as empty.
    A UTF-16-LE body that is also valid UTF-32-LE has every second unit at most
    U+0010 (a control character), so no valid record can hide in it: whichever way
    it is read, its records are refused and quarantined.
    """
    try:
        text = body.decode("utf-32-le")
    except UnicodeDecodeError:
        return False
    return bool(text.strip(" \t\r\n"))


def _as_utf8(data: bytes) -> bytes:
    """The file as UTF-8 bytes: a BOM is honoured (and dropped); without one it is UTF-8.

    Bytes that are not valid UTF-8 stay as they are: each record is decoded on
    its own, so they spoil only the records they sit in. ``FF FE 00 00`` is
    UTF-32-LE's BOM or UTF-16-LE's followed by U+0000: see :func:`_utf32_le_of_content`.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                return body
            if encoding == "utf-32-le" and not _utf32_le_of_content(body):
                encoding, body = "utf-16-le", data[len(codecs.BOM_UTF16_LE) :]
            decoder = codecs.getincrementaldecoder(encoding)(_MARK_ERRORS)
            out = bytearray()
            step = 1 << 20
            for start in range(0, len(body), step):
                out += decoder.decode(body[start : start + step]).encode("utf-8", "surrogatepass")
            out += decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
            return bytes(out)
    return data


def _skip_line(data: bytes, pos: int, end: int) -> int:
    """After an unterminated string: continue at the next line (or stop)."""
    newline = data.find(b"\n", pos, end)
    return end if newline < 0 else newline


def _too_deep(raw: bytes) -> bool:
    """Brackets outside strings nest deeper than MAX_DEPTH (checked before ``json`` sees it)."""
    depth = 0
    pos, end = 0, len(raw)
    while (m := _BRACKETS.search(raw, pos, end)) is not None:
        pos = m.end()
        char = raw[m.start()]
        if char in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in _CLOSE:
            depth -= 1
        elif char == _QUOTE and pos - m.start() == 1:
            pos = _skip_line(raw, pos, end)
    return False


def _skip_deep(data: bytes, pos: int, end: int, depth: int) -> tuple[int, int]:
    """Jump over a string-free chunk that cannot close the current value (depth > chunk size).

    Keeps 64 MiB of ``[[[[`` from costing one Python step per bracket.
    """
    stop = min(pos + _CHUNK, end)
    if depth <= _CHUNK or data.find(b'"', pos, stop) >= 0:
        return pos, depth
    opened = data.count(b"[", pos, stop) + data.count(b"{", pos, stop)
    closed = data.count(b"]", pos, stop) + data.count(b"}", pos, stop)
    return stop, depth + opened - closed


def _value_end(data: bytes, start: int) -> int | None:
    """End of the bracketed value opening at ``start``; None when it never closes."""
    depth = 0
    pos, end = start, len(data)
    while True:
        pos, depth = _skip_deep(data, pos, end, depth)
        if (m := _BRACKETS.search(data, pos, end)) is None:
            return None
        pos = m.end()
        char = data[m.start()]
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth == 0:
                return pos
        elif char == _QUOTE and pos - m.start() == 1:
            pos = _skip_line(data, pos, end)


def _array_elements(data: bytes, start: int, end: int) -> Iterator[bytes]:
    """Raw elements of the array whose ``[`` is at ``start`` and ``]`` at ``end - 1``."""
    depth = 0
    pos = element = start + 1
    stop = end - 1
    seen_comma = False
    while True:
        pos, depth = _skip_deep(data, pos, stop, depth)
        if (m := _ELEMENTS.search(data, pos, stop)) is None:
            break
        pos = m.end()
        char = data[m.start()]
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char == _COMMA and depth == 0:
            seen_comma = True
            yield data[element : m.start()]
            element = pos
        elif char == _QUOTE and pos - m.start() == 1:
            pos = _skip_line(data, pos, stop)
    last = data[element:stop]
    if seen_comma or last.strip(_WS):
        yield last  # `[]` has no elements; `[1,]` has an empty (refused) last one


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record = dict(pairs)
    if len(record) != len(pairs):
        raise _Weigering("dubbele_sleutel")
    return record


def _refuse_constant(_name: str) -> object:
    raise _Weigering("getal_ongeldig")  # NaN, Infinity, -Infinity: not JSON


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:  # + a minus sign
        raise _Weigering("getal_te_groot")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_FLOAT_CHARS:
        raise _Weigering("getal_te_groot")
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _Weigering("getal_te_groot")
    return value


_DECODER = json.JSONDecoder(  # built once: json.loads(**hooks) builds a decoder per call
    object_pairs_hook=_refuse_duplicates,
    parse_constant=_refuse_constant,
    parse_int=_bounded_int,
    parse_float=_bounded_float,
)


def decode_record(raw: bytes) -> object:
    """One record's bytes as a JSON value, or `Geweigerd` with the reason. Never raises."""
    raw = raw.strip(_WS)
    if len(raw) > MAX_RAW_RECORD_BYTES:
        return Geweigerd("te_groot")
    if not raw:
        return Geweigerd("geen_json")
    if _too_deep(raw):
        return Geweigerd("te_diep")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Geweigerd("codering_ongeldig")
    try:
        return _DECODER.decode(text)
    except _Weigering as refused:
        return Geweigerd(refused.code)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return Geweigerd("geen_json")


def decode(data: bytes | str, inzending: str) -> Iterator[tuple[str, object]]:
    """Records of a JSON object, a JSON array or JSON Lines, with their origin.

    The file is one JSON value when its first bracketed value ends exactly at
    the end of the file (an object is one record, an array's elements are
    records); otherwise it is JSON Lines (every non-blank line is a record).
    A record that cannot be decoded yields `Geweigerd` so the caller
    quarantines it instead of dropping it; a file over MAX_FILE_BYTES yields a
    single `Geweigerd("bestand_te_groot")` for the whole file.

    Records are produced lazily: a large array is never held as Python objects.
    """
    bestand = herkomst_voor(inzending)  # refuses a bad id before anything is read
    if len(data) > MAX_FILE_BYTES:
        yield bestand, Geweigerd("bestand_te_groot")
        return
    # a str is encoded back: its lone surrogates become invalid UTF-8, refused per record
    raw = _as_utf8(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    leading = _WS_RUN.match(raw)  # `*`: always matches, possibly empty
    start = leading.end() if leading else 0
    if start == len(raw):
        return
    if raw[start] in _OPEN:
        end = _value_end(raw, start)
        if end is not None and _WS_RUN.fullmatch(raw, end):
            if raw[start] == ord("{"):
                yield f"{bestand}:1", decode_record(raw[start:end])
            else:
                for number, element in enumerate(_array_elements(raw, start, end), start=1):
                    yield f"{bestand}:{number}", decode_record(element)
            return
    number, pos = 0, 0
    while pos <= len(raw):
        newline = raw.find(b"\n", pos)
        line_end = len(raw) if newline < 0 else newline
        number += 1
        line = raw[pos:line_end]
        if line.strip(_WS):
            yield f"{bestand}:{number}", decode_record(line)
        pos = line_end + 1


def beoordeel_alle(
    records: Iterable[tuple[str, object]], gemeenten: Gemeenten, vandaag: date
) -> Iterator[Beoordeling]:
    """Judge records lazily, one at a time; a record never stops the ones after it."""
    known = gemeenten if isinstance(gemeenten, Mapping) else frozenset(gemeenten)
    for herkomst, raw in records:
        if isinstance(raw, Geweigerd):
            yield Beoordeling(herkomst, None, (Afwijzing(raw.code),), None)
            continue
        try:
            judged = beoordeel(raw, herkomst, known, vandaag)
        except Exception:  # a bug must not lose the records after it, nor print their values
            judged = Beoordeling(herkomst, None, (Afwijzing("intern_fout"),), None)
        yield judged


Resultaat = Literal["opgeslagen", "al_aanwezig", "conflict", "quarantaine"]
