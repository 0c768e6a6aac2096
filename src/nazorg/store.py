"""The pipeline database: the only place a BSN and the outcomes live.

Every statement is a parameterised file in ``sql/pipeline``; this module only
opens connections and runs them. Engines hide bound parameters in error
messages (``hide_parameters``), so a failing INSERT cannot leak a BSN into an
Airflow task log.

The schema is not created here: :mod:`nazorg.migrations` owns it
(``nazorg db upgrade``). A store refuses a database at another revision than
the code expects, once per process and URL, instead of failing halfway a run
on a missing column or constraint.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg.connections import NAZORG_DB, get_connection
from nazorg.settings import Settings, settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

#: seconds libpq may take to open a PostgreSQL connection (its minimum is 2)
CONNECT_TIMEOUT_S = 10

_engines: dict[str, Engine] = {}
_at_head: set[str] = set()  # URLs checked at the expected revision in this process
_lock = threading.Lock()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@cache
def statement(sql_root: Path, name: str) -> str:
    """The text of ``<sql_root>/pipeline/<name>.sql``, or of ``<sql_root>/<dir>/<file>.sql`` for ``dir/file``.

    The per-melding statements live in ``pipeline/``; the batch path keeps its
    own set-based statements apart in ``batch/`` (``"batch/toestemming_voor_bsns"``).
    """
    parts = name.split("/")
    if len(parts) > 2 or not all(p and p not in (".", "..") for p in parts):
        raise ValueError("statement name: <naam> or <map>/<naam>")
    folder, file = (parts[0], parts[1]) if len(parts) == 2 else ("pipeline", parts[0])
    return (sql_root / folder / f"{file}.sql").read_text(encoding="utf-8")


def _text(sql_root: Path, name: str, params: Mapping[str, Any] | None = None) -> Any:
    """The statement as a SQLAlchemy ``text``; a list or tuple parameter binds as an expanding ``IN``.

    Why: the batch asks about a whole chunk at once (``bsn IN :bsns``), one
    statement instead of one per melding; SQLAlchemy renders the list into as
    many bound parameters as it has items, on SQLite and PostgreSQL alike.
    """
    from sqlalchemy import bindparam, text

    stmt = text(statement(sql_root, name))
    expanding = [k for k, v in (params or {}).items() if isinstance(v, list | tuple)]
    if expanding:
        stmt = stmt.bindparams(*(bindparam(k, expanding=True) for k in expanding))
    return stmt


_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>[a-z_][a-z0-9_]*)\s*\((?P<columns>[^)]*)\)\s*"
    r"VALUES\s*\((?P<values>[^)]*)\)\s*(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAMETER = re.compile(r"^:([a-z_][a-z0-9_]*)$")


@dataclass(frozen=True)
class _CopyPlan:
    """How a plain ``INSERT ... VALUES (:a, :b) [ON CONFLICT ...]`` file maps onto COPY."""

    table: str
    columns: tuple[str, ...]
    parameters: tuple[str, ...]
    rest: str  # the ON CONFLICT clause, or empty


@cache
def _copy_plan(sql_root: Path, name: str) -> _CopyPlan | None:
    """The COPY form of a statement file, or None if it is not a plain INSERT of bare parameters."""
    body = "\n".join(
        line for line in statement(sql_root, name).splitlines() if not line.lstrip().startswith("--")
    )
    match = _INSERT.match(body)
    if match is None:
        return None
    columns = tuple(c.strip() for c in match["columns"].split(","))
    values = [_PARAMETER.match(v.strip()) for v in match["values"].split(",")]
    if len(columns) != len(values) or not all(_IDENTIFIER.match(c) for c in columns):
        return None
    if any(v is None for v in values):
        return None
    rest = match["rest"].strip()
    if rest and not rest.upper().startswith("ON CONFLICT"):
        return None
    return _CopyPlan(match["table"], columns, tuple(v[1] for v in values if v is not None), rest)


def split_sql(script: str) -> list[str]:
    """Statements of a DDL script; our scripts keep ';' out of comments and strings."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def make_engine(url: str) -> Engine:
    """An engine that never echoes parameters; SQLite tuned for a small embedded default.

    PostgreSQL connections are opened within :data:`CONNECT_TIMEOUT_S`; the
    statements of a source lookup are bounded per lookup by
    :func:`nazorg.sources.sql_lookup.run_lookup`, not here, so the pipeline's
    own statements (and migrations) are never cut off by a source's deadline.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # secure_delete zeroes freed pages: a purged over-collected value
            # does not linger in the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # A server that accepts the TCP connection and then says nothing would hold
    # the task forever; libpq's connect_timeout bounds the whole connection
    # attempt. A connection's own setting (extra "connect_timeout") wins.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)


def engine_for(conn_id: str) -> Engine:
    """One engine per connection id per process."""
    with _lock:
        if conn_id not in _engines:
            _engines[conn_id] = make_engine(get_connection(conn_id).sqlalchemy_url())
        return _engines[conn_id]


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _at_head.clear()


class SchemaOutdated(RuntimeError):
    """The pipeline DB is not at the schema revision this code expects."""


def require_current_schema(engine: Engine) -> None:
    """Refuse a pipeline DB that is not at :data:`nazorg.migrations.HEAD` (cached per URL)."""
    from nazorg import migrations

    key = engine.url.render_as_string(hide_password=True)
    if key in _at_head:
        return
    found = migrations.current(engine)
    if found != migrations.HEAD:
        raise SchemaOutdated(
            f"pipeline-DB staat op schemarevisie {found or 'geen'}, deze code verwacht "
            f"{migrations.HEAD}: voer `nazorg db upgrade` uit"
        )
    with _lock:
        _at_head.add(key)


def forget_schema_check(engine: Engine) -> None:
    """The next store on this URL checks the revision again (after a migration)."""
    with _lock:
        _at_head.discard(engine.url.render_as_string(hide_password=True))


def purge_checkpoint(engine: Engine) -> bool:
    """After a purge, leave no copy of the purged values in SQLite's write-ahead log.

    In WAL mode a commit does not touch the database file: the new (zeroed, see
    ``secure_delete``) pages go to ``<db>-wal``, the old pages with the purged
    values stay in the database file, and earlier frames of the log still hold
    the values as they were written. ``wal_checkpoint(TRUNCATE)`` copies the
    new pages into the file and empties the log; another connection only makes
    it wait (``busy_timeout``) while it is inside a transaction. If one stays
    there longer, the purge stands but its old pages wait for the next purge's
    checkpoint: that is logged (no values) and False returned.

    PostgreSQL keeps the old row versions (dead tuples) until VACUUM, and the
    values in its WAL segments and backups: that is the operator's part (see the
    README), so this is a no-op there.
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        busy = int(conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0])
    if busy:
        log.warning(
            "wal_checkpoint(TRUNCATE) na purge bezet: een andere verbinding houdt een transactie open"
        )
    return not busy


def run_script(engine: Engine, path: Path) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for stmt in split_sql(path.read_text(encoding="utf-8")):
            conn.execute(text(stmt))


class Store:
    """Named, parameterised statements against the pipeline DB."""

    def __init__(self, engine: Engine, sql_root: Path | None = None) -> None:
        require_current_schema(engine)
        self.engine = engine
        self.sql_root = sql_root or settings().sql_dir

    @classmethod
    def from_connection(cls, conn_id: str = NAZORG_DB, config: Settings | None = None) -> Store:
        return cls(engine_for(conn_id), (config or settings()).sql_dir)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def execute(
        self,
        name: str,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Run a write statement (one parameter set or many); returns affected rows."""
        many = isinstance(params, Sequence)
        payload: Any = [dict(p) for p in params] if isinstance(params, Sequence) else dict(params or {})
        stmt = _text(self.sql_root, name, None if many else payload)
        if conn is not None:
            return int(conn.execute(stmt, payload).rowcount or 0)
        with self.engine.begin() as own:
            return int(own.execute(stmt, payload).rowcount or 0)

    def query(
        self, name: str, params: Mapping[str, Any] | None = None, conn: Connection | None = None
    ) -> list[dict[str, Any]]:
        payload = dict(params or {})
        stmt = _text(self.sql_root, name, payload)
        if conn is not None:
            return [dict(r._mapping) for r in conn.execute(stmt, payload)]
        with self.engine.connect() as own:
            return [dict(r._mapping) for r in own.execute(stmt, payload)]

    def bulk(self, name: str, rows: Sequence[Mapping[str, Any]], conn: Connection) -> int:
        """Write many rows with one statement file, inside the caller's transaction; returns the rows sent.

        Why not :meth:`execute` with a list: the batch writes 13 outcome rows and
        13 processing-log records per melding, tens of thousands per chunk, and a
        round trip per row would dominate the chunk's time. On PostgreSQL a file
        that is a plain ``INSERT INTO t (cols) VALUES (:params)`` goes through
        ``COPY ... FROM STDIN`` (binary-safe, one stream); with an ``ON CONFLICT``
        clause the rows are copied into a temporary table that the same ``INSERT
        ... SELECT ... ON CONFLICT`` then reads, so the file's conflict rule holds
        unchanged. Any other statement, and every other dialect (SQLite), uses
        the driver's ``executemany`` (no network there; psycopg pipelines it).
        The statement file stays the single definition of the write.
        """
        if not rows:
            return 0
        plan = _copy_plan(self.sql_root, name) if conn.dialect.name == "postgresql" else None
        if plan is None:
            conn.execute(_text(self.sql_root, name), [dict(r) for r in rows])
            return len(rows)
        _copy(conn, plan, rows)
        return len(rows)


def _copy(conn: Connection, plan: _CopyPlan, rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY the rows into the plan's table, or into a temporary one first when it has a conflict rule."""
    from sqlalchemy import text

    columns = ", ".join(plan.columns)
    target = plan.table
    if plan.rest:
        target = f"bulk_{plan.table}_{uuid.uuid4().hex[:12]}"
        conn.execute(
            text(f"CREATE TEMP TABLE {target} (LIKE {plan.table} INCLUDING DEFAULTS) ON COMMIT DROP")
        )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[p] for p in plan.parameters])
    finally:
        cursor.close()
    if plan.rest:
        conn.execute(text(f"INSERT INTO {plan.table} ({columns}) SELECT {columns} FROM {target} {plan.rest}"))
        conn.execute(text(f"DROP TABLE {target}"))
