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

A lookup is also bounded, because the query and the system behind it are not
ours: it ends at a deadline (PostgreSQL's ``statement_timeout`` per statement
plus a watchdog that cancels or interrupts the running statement at the
deadline, for SQLite as well), after which the check is onbekend
(``bron_timeout``); and it reads its rows in batches and stops at a cap per
requested BSN, so a runaway result is refused before it fills the memory.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from nazorg.models import Reden
from nazorg.settings import DEFAULT_SOURCE_DEADLINE_S, DEFAULT_SQL_MAX_ROWS_PER_BSN
from nazorg.sources.answer import Antwoord
from nazorg.sources.deadline import Deadline
from nazorg.sources.errors import SourceError, SourceShapeError, SourceTimeout, SourceUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

LOOKUP_COLUMNS = ("bsn", "bekend", "dossierverantwoordelijke")
CHUNK = 1000
FETCH_BATCH: Final = 500  # rows per fetch: the cap is checked between fetches
BRON = "sql lookup"
CANCEL_TIMEOUT_S: Final = 5.0  # how long a PostgreSQL cancel request may take to deliver
REINTERRUPT_S: Final = 0.1  # SQLite: interrupt again until the lookup has ended
PG_QUERY_CANCELED: Final = "57014"  # SQLSTATE of statement_timeout and of a cancel
SQLITE_INTERRUPT: Final = 9  # SQLITE_INTERRUPT: sqlite3_interrupt() ended the statement


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


def _reduce(rows: Sequence[Sequence[Any]], gevraagd: set[str], answers: dict[str, Antwoord]) -> bool:
    """One answer per BSN that has rows; rows that disagree make the answer ambiguous.

    False when a row's bsn matches no requested BSN after normalisation: the
    rows cannot be attributed (the caller makes the whole chunk onbekend).
    """
    for bsn, bekend_raw, contact in rows:
        key = canonieke_bsn(bsn)
        if key is None or key not in gevraagd:
            return False
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
    return True


class _Watchdog:
    """Interrupts the statement running on one DBAPI connection when the deadline passes.

    A statement timeout bounds each statement; this bounds the lookup as a whole
    (every chunk and every fetch of a streamed result). SQLite is interrupted
    with ``sqlite3.Connection.interrupt``, again every :data:`REINTERRUPT_S`
    until the lookup ends, because an interrupt that arrives between two
    statements is lost. PostgreSQL gets one cancel request (psycopg's
    ``cancel_safe``); its ``statement_timeout`` covers the rest. Once it has
    fired, the connection is invalidated rather than returned to the pool: a
    cancel that arrives late must not hit the next lookup on that connection.
    """

    def __init__(self, dbapi_conn: Any, deadline: Deadline) -> None:
        self._conn = dbapi_conn
        self._deadline = deadline
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = False
        self.fired = False
        self._thread = threading.Thread(target=self._watch, name="sql-lookup-watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # waits for an interrupt in progress, so none can outlive the lookup
            self._done = True
        self._stop.set()

    def _watch(self) -> None:
        if self._stop.wait(self._deadline.remaining()):
            return  # the lookup ended in time
        while True:
            with self._lock:
                if self._done:
                    return
                self.fired = True
                repeat = self._interrupt()
            if not repeat or self._stop.wait(REINTERRUPT_S):
                return

    def _interrupt(self) -> bool:
        """Stop the running statement; True if it should be repeated until the lookup ends."""
        try:
            if hasattr(self._conn, "interrupt"):  # sqlite3
                self._conn.interrupt()
                return True
            if hasattr(self._conn, "cancel_safe"):  # psycopg >= 3.2
                self._conn.cancel_safe(timeout=CANCEL_TIMEOUT_S)
            elif hasattr(self._conn, "cancel"):
                self._conn.cancel()
        except Exception:  # noqa: S110 - the server-side statement_timeout still applies
            pass
        return False


def _was_cancelled(exc: BaseException) -> bool:
    """A statement ended by a timeout or cancel: PostgreSQL's query_canceled or SQLite's interrupt."""
    orig = getattr(exc, "orig", None)
    return (
        getattr(orig, "sqlstate", None) == PG_QUERY_CANCELED
        or getattr(orig, "sqlite_errorcode", None) == SQLITE_INTERRUPT
    )


def _limit_statement(conn: Connection, deadline: Deadline) -> None:
    """PostgreSQL: the server itself ends a statement that runs past the deadline.

    ``set_config(..., true)`` is ``SET LOCAL``: it ends with the lookup's
    transaction, so a pooled connection does not carry it to the next user.
    Other dialects rely on the watchdog alone.
    """
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        milliseconds = max(1, int(deadline.remaining() * 1000))  # 0 would mean: no limit
        conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(milliseconds)})


def _lookup_chunk(
    conn: Connection, stmt: Any, chunk: list[str], deadline: Deadline, max_rows_per_bsn: int
) -> dict[str, Antwoord]:
    """One chunk's answers, fetched in batches and never more than the cap allows."""
    if deadline.expired():
        raise SourceTimeout(bron=BRON)
    _limit_statement(conn, deadline)
    # yield_per streams (a server-side cursor on PostgreSQL), so a runaway result
    # is never loaded whole before the cap can refuse it
    result = conn.execute(stmt, {"bsns": chunk}, execution_options={"yield_per": FETCH_BATCH})
    try:
        columns = tuple(result.keys())
        if columns != LOOKUP_COLUMNS:
            raise SourceShapeError("lookup_kolommen_onjuist", columns)
        gevraagd, gelezen = set(chunk), 0
        answers: dict[str, Antwoord] = {}
        cap = max_rows_per_bsn * len(chunk)
        while rows := result.fetchmany(FETCH_BATCH):
            gelezen += len(rows)
            if gelezen > cap:  # a join gone wrong or a hostile query: refuse, read no further
                raise SourceShapeError("lookup_te_veel_rijen", ["bsn"])
            if not _reduce(rows, gevraagd, answers):
                # a row nobody can attribute: no answer of this chunk is trusted, and
                # the rest of the result is dropped unread (the finally closes it)
                return dict.fromkeys(chunk, Antwoord.onbekend(Reden.BRON_VORM))
            if deadline.expired():
                raise SourceTimeout(bron=BRON)
        return answers
    finally:
        result.close()  # drop whatever is left, unread


def run_lookup(
    engine: Engine,
    query: str,
    bsns: Sequence[str],
    *,
    deadline: Deadline | None = None,
    max_rows_per_bsn: int = DEFAULT_SQL_MAX_ROWS_PER_BSN,
) -> dict[str, Antwoord]:
    """One answer for every requested BSN: its row's (bekend, contact), nee without rows.

    No row means the gemeentelijk system does not know the person: a definite
    nee, decided here. Failures raise :class:`SourceError` (the check becomes
    onbekend): past ``deadline`` (default: :data:`DEFAULT_SOURCE_DEADLINE_S`
    from now) a :class:`SourceTimeout` (``bron_timeout``), however far the
    query got. A wrong shape raises :class:`SourceShapeError` (the melding
    blocks), and so do more than ``max_rows_per_bsn`` rows per requested BSN
    (``lookup_te_veel_rijen``): a lookup answers about a person in a row or a
    few, so thousands of rows mean the query is not the agreed one. A row that
    cannot be attributed makes its chunk onbekend (``bron_vorm``).
    """
    from sqlalchemy import bindparam, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    deadline = deadline or Deadline.after(DEFAULT_SOURCE_DEADLINE_S)
    uniek = list(dict.fromkeys(bsns))
    if any(canonieke_bsn(bsn) != bsn for bsn in uniek):  # the pipeline only holds canonical BSNs
        raise ValueError("a burgerservicenummer must be a string of nine digits")
    stmt = text(query).bindparams(bindparam("bsns", expanding=True))
    answers: dict[str, Antwoord] = {}
    watchdog: _Watchdog | None = None
    if deadline.expired():  # e.g. the task's time is up: do not even connect
        raise SourceTimeout(bron=BRON)
    try:
        with engine.connect() as conn:
            if deadline.expired():  # the connection took it all
                raise SourceTimeout(bron=BRON)
            watchdog = _Watchdog(conn.connection.dbapi_connection, deadline)
            try:
                with watchdog:
                    for start in range(0, len(uniek), CHUNK):
                        chunk = uniek[start : start + CHUNK]
                        answers.update(_lookup_chunk(conn, stmt, chunk, deadline, max_rows_per_bsn))
            finally:
                if watchdog.fired:
                    conn.invalidate()
    except (SourceShapeError, SourceError):
        raise
    # "from None": driver messages can quote a row value; the reason code is enough.
    except DBAPIError as exc:
        if _was_cancelled(exc) or (watchdog is not None and watchdog.fired):
            raise SourceTimeout(bron=BRON) from None
        if isinstance(exc, OperationalError):
            raise SourceUnavailable(bron=BRON) from None
        raise SourceError(bron=BRON) from None
    except SQLAlchemyError:
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
