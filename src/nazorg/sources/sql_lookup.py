"""SQL-backed checks: one parameterised query per check, exactly three columns back.

The query file comes from the gemeente's besluit, so a gemeente adapts a check
to its own systems by editing SQL, not code. The shape is enforced here: any
other column set, a value of the wrong kind or a row about a BSN nobody asked
for is over-collection (:class:`SourceShapeError`) and blocks the melding. The
raw rows are reduced to one :class:`Antwoord` per BSN in memory and dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _reduce(rows: Sequence[Sequence[Any]], gevraagd: set[str]) -> dict[str, Antwoord]:
    """One answer per BSN that has rows; rows that disagree make the answer ambiguous."""
    answers: dict[str, Antwoord] = {}
    for bsn, bekend_raw, contact in rows:
        bekend = _as_bool(bekend_raw)
        if contact is not None and not isinstance(contact, str):
            raise SourceShapeError("lookup_waarde_ongeldig", ["dossierverantwoordelijke"])
        key = str(bsn)
        if key not in gevraagd:  # a row about someone we did not ask for
            raise SourceShapeError("lookup_bsn_niet_gevraagd", ["bsn"])
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
    onbekend); a wrong shape raises :class:`SourceShapeError` (the melding blocks).
    """
    from sqlalchemy import bindparam, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    uniek = list(dict.fromkeys(bsns))
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
                answers.update(_reduce(result.fetchall(), set(chunk)))
    except SourceShapeError:
        raise
    # "from None": driver messages can quote a row value; the reason code is enough.
    except OperationalError:
        raise SourceUnavailable(bron=BRON) from None
    except (DBAPIError, SQLAlchemyError):
        raise SourceError(bron=BRON) from None
    return {bsn: answers.get(bsn, Antwoord.nee()) for bsn in uniek}


def probe_lookup(engine: Engine, query: str) -> None:
    """Run the query for nobody (an empty BSN list) and check its columns; no row is read.

    What the query returns does not depend on any person here, so the result is
    the same for every melding: :func:`nazorg.sources.probe.toets_besluit` uses it
    to fail every run alike when a lookup is misconfigured, not only the runs that
    would have asked it (those of people who consented, for a consent-gated check).
    """
    from sqlalchemy import bindparam, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    stmt = text(query).bindparams(bindparam("bsns", expanding=True))
    try:
        with engine.connect() as conn:
            result = conn.execute(stmt, {"bsns": []})
            columns = tuple(result.keys())
            result.close()
    except OperationalError:
        raise SourceUnavailable(bron=BRON) from None
    except (DBAPIError, SQLAlchemyError):
        raise SourceError(bron=BRON) from None
    if columns != LOOKUP_COLUMNS:
        raise SourceShapeError("lookup_kolommen_onjuist", columns)
