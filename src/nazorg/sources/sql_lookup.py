"""SQL-backed checks: one parameterised query per check, exactly three columns back.

The query file comes from the gemeente's besluit, so a gemeente adapts a check
to its own systems by editing SQL, not code. The shape is enforced here: any
other column set or a value of the wrong kind is over-collection
(:class:`SourceShapeError`) and blocks the melding. The raw rows are reduced to
one :class:`Antwoord` per BSN in memory and dropped.

BSNs are matched on their canonical form, nine digits with leading zeros
(:func:`canonieke_bsn`), because a source column may hold the number as an
integer (``12345672`` for ``012345672``), a ``NUMERIC``, or a padded ``CHAR(n)``;
comparing ``str(bsn)`` would miss the person and answer nee. ``:bsns`` is bound
as a list of canonical strings; the query compares its column's canonical form
with it (the rule for query authors is in the README). A returned row whose bsn
matches no requested BSN even after normalisation cannot be attributed: it may
be a requested person's row with a mangled key, so no answer of that query chunk
can be trusted, not even a "no row, nee". Every BSN of the chunk is then
onbekend with ``bron_vorm``; the row's values are dropped unread.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from nazorg.models import Reden
from nazorg.sources.answer import Antwoord
from nazorg.sources.errors import SourceError, SourceShapeError, SourceUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

LOOKUP_COLUMNS = ("bsn", "bekend", "dossierverantwoordelijke")
CHUNK = 1000
BRON = "sql lookup"


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise SourceShapeError("lookup_waarde_ongeldig", ["bekend"])


BSN_CIJFERS = 9


def canonieke_bsn(value: object) -> str | None:
    """A source's bsn value as nine digits with leading zeros; None if it is not a BSN number.

    Accepted: an integer or integral ``Decimal`` from 0 to 999999999 (a numeric
    column drops leading zeros), and a string of one to nine ASCII digits with
    any surrounding whitespace (``CHAR(n)`` padding; text that lost its zeros).
    Anything else (a float, a fraction, separators, a bool) is refused: guessing
    which person it means is exactly what must not happen.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        value = int(value)
    if isinstance(value, int):
        return f"{value:0{BSN_CIJFERS}d}" if 0 <= value < 10**BSN_CIJFERS else None
    if isinstance(value, str):
        digits = value.strip()
        if 1 <= len(digits) <= BSN_CIJFERS and digits.isascii() and digits.isdigit():
            return digits.zfill(BSN_CIJFERS)
    return None


def _reduce(rows: Sequence[Sequence[Any]], gevraagd: set[str]) -> dict[str, Antwoord] | None:
    """One answer per BSN that has rows; rows that disagree make the answer ambiguous.

    None when a row's bsn matches no requested BSN after normalisation: the
    rows cannot be attributed (the caller makes the whole chunk onbekend).
    """
    answers: dict[str, Antwoord] = {}
    for bsn, bekend_raw, contact in rows:
        key = canonieke_bsn(bsn)
        if key is None or key not in gevraagd:
            return None
        bekend = _as_bool(bekend_raw)
        if contact is not None and not isinstance(contact, str):
            raise SourceShapeError("lookup_waarde_ongeldig", ["dossierverantwoordelijke"])
        if contact is not None:  # CHAR(n) pads the team name; a blank one names no team
            contact = contact.strip() or None
        answer = Antwoord(bekend, contact)
        previous = answers.get(key)
        if previous is None or previous == answer:
            answers[key] = answer
        else:
            answers[key] = Antwoord.onbekend(Reden.BRON_AMBIGU)
    return answers


def run_lookup(engine: Engine, query: str, bsns: Sequence[str]) -> dict[str, Antwoord]:
    """One answer for every requested BSN: its row's (bekend, contact), nee without rows.

    No row means the gemeentelijk system does not know the person: a definite
    nee, decided here. Failures raise :class:`SourceError` (the check becomes
    onbekend); a wrong shape raises :class:`SourceShapeError` (the melding blocks);
    a row that cannot be attributed makes its chunk onbekend (``bron_vorm``).
    """
    from sqlalchemy import bindparam, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    uniek = list(dict.fromkeys(bsns))
    if any(canonieke_bsn(bsn) != bsn for bsn in uniek):  # the pipeline only holds canonical BSNs
        raise ValueError("a burgerservicenummer must be a string of nine digits")
    stmt = text(query).bindparams(bindparam("bsns", expanding=True))
    answers: dict[str, Antwoord] = {}
    try:
        with engine.connect() as conn:
            for start in range(0, len(uniek), CHUNK):
                chunk = uniek[start : start + CHUNK]
                result = conn.execute(stmt, {"bsns": chunk})
                columns = tuple(result.keys())
                if columns != LOOKUP_COLUMNS:
                    result.close()  # drop whatever came back, unread
                    raise SourceShapeError("lookup_kolommen_onjuist", columns)
                reduced = _reduce(result.fetchall(), set(chunk))
                if reduced is None:
                    reduced = dict.fromkeys(chunk, Antwoord.onbekend(Reden.BRON_VORM))
                answers.update(reduced)
    except SourceShapeError:
        raise
    # "from None": driver messages can quote a row value; the reason code is enough.
    except OperationalError:
        raise SourceUnavailable(bron=BRON) from None
    except (DBAPIError, SQLAlchemyError):
        raise SourceError(bron=BRON) from None
    return {bsn: answers.get(bsn, Antwoord.nee()) for bsn in uniek}
