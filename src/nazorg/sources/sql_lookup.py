"""SQL-backed checks: one parameterised query per check, exactly three columns back.

The query file comes from the gemeente's besluit, so a gemeente adapts a check
to its own systems by editing SQL, not code. The shape is enforced here: any
other column set is over-collection and blocks the melding. The raw rows are
reduced to (bekend, contact) in memory and dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nazorg.models import Reden

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

LOOKUP_COLUMNS = ("bsn", "bekend", "dossierverantwoordelijke")
CHUNK = 1000


class LookupVormFout(Exception):
    """The query returned something other than (bsn, bekend, dossierverantwoordelijke).

    Carries column names only, never values.
    """

    def __init__(self, reden_code: str, kolommen: Sequence[str]) -> None:
        super().__init__(f"{reden_code}: kolommen {', '.join(kolommen)}")
        self.reden_code = reden_code
        self.kolommen = tuple(kolommen)


class LookupBronFout(Exception):
    """The source could not answer; the check becomes onbekend."""

    def __init__(self, reden: Reden) -> None:
        super().__init__(reden.value)
        self.reden = reden


@dataclass(frozen=True, slots=True)
class LookupAntwoord:
    bekend: bool
    dossierverantwoordelijke: str | None
    ambigu: bool = False


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise LookupVormFout("lookup_waarde_ongeldig", ["bekend"])


def _reduce(rows: Sequence[Sequence[Any]]) -> dict[str, LookupAntwoord]:
    answers: dict[str, LookupAntwoord] = {}
    for bsn, bekend_raw, contact in rows:
        bekend = _as_bool(bekend_raw)
        if contact is not None and not isinstance(contact, str):
            raise LookupVormFout("lookup_waarde_ongeldig", ["dossierverantwoordelijke"])
        key = str(bsn)
        previous = answers.get(key)
        if previous is None:
            answers[key] = LookupAntwoord(bekend, contact)
        elif previous.bekend != bekend or previous.dossierverantwoordelijke != contact:
            answers[key] = LookupAntwoord(previous.bekend or bekend, None, ambigu=True)
    return answers


def run_lookup(engine: Engine, query: str, bsns: Sequence[str]) -> dict[str, LookupAntwoord]:
    """Answers per BSN; a BSN without rows is absent (the caller maps that to nee)."""
    from sqlalchemy import bindparam, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    stmt = text(query).bindparams(bindparam("bsns", expanding=True))
    answers: dict[str, LookupAntwoord] = {}
    try:
        with engine.connect() as conn:
            for start in range(0, len(bsns), CHUNK):
                result = conn.execute(stmt, {"bsns": list(bsns[start : start + CHUNK])})
                columns = tuple(result.keys())
                if columns != LOOKUP_COLUMNS:
                    result.close()  # drop whatever came back, unread
                    raise LookupVormFout("lookup_kolommen_onjuist", columns)
                answers.update(_reduce(result.fetchall()))
    except LookupVormFout:
        raise
    # "from None": driver messages can quote a row value; the reason code is enough.
    except OperationalError:
        raise LookupBronFout(Reden.BRON_ONBEREIKBAAR) from None
    except (DBAPIError, SQLAlchemyError):
        raise LookupBronFout(Reden.BRON_FOUT) from None
    return answers
