"""Vetting a gemeente's lookup query before it ever runs: parsed, not pattern-matched.

Why: a lookup is SQL a gemeente writes and the pipeline runs against its
systems with the BSNs of people in detention. The shape check after the fact
(:mod:`nazorg.sources.sql_lookup`) blocks a wrong answer, but by then the query
has run: it may have slept, written, read a file, or asked the pipeline DB (the
inbox holds every BSN). So every lookup is parsed with sqlglot, in the dialect
of the database it runs against, and refused unless (:func:`lint`):

1. it is exactly one statement, and that statement is one ``SELECT`` (no
   ``UNION``, ``COPY``, ``PRAGMA``, ``ATTACH``, ``SET``, DDL...);
2. nothing in it writes or locks: no ``INSERT``/``UPDATE``/``DELETE``/``MERGE``
   (also not in a ``WITH``), no ``SELECT ... INTO``, no ``FOR UPDATE``/``FOR SHARE``;
3. its output columns are exactly ``bsn, bekend, dossierverantwoordelijke``, in
   that order, by name or alias (no ``*``), and none of them is a subquery;
4. ``:bsns`` is its only parameter, and ``<column> IN :bsns`` is one of the
   ``AND``-ed conditions of the outer ``WHERE`` (so it restricts every row), on
   the same column as the output ``bsn``;
5. no function on the deny list (:data:`VERBODEN_FUNCTIES`, and every name
   starting with one of :data:`VERBODEN_VOORVOEGSELS`), and no function the
   parser does not know (a user-defined function can do anything);
6. no system catalog (``pg_catalog``, ``information_schema``, ``pg_*``, ``sqlite_*``).

And a lookup's connection is never the pipeline DB: not by id (``nazorg_db``, in
the register check) and not by address (:func:`keur_goed`, at run time, where
the connection is resolved). Database grants stay the real boundary (the lookup
user should have no rights on the pipeline DB); this catches the mistake.

Where: ``nazorg register check`` lints every besluit's lookups (in the dialect
the besluit names, else in both PostgreSQL and SQLite); the SQL adapter vets a
query again with its connection's real dialect before its first run in a task
(:func:`keur_goed`), so an edit after the check is caught too; ``register check
--probe`` runs each query with an empty BSN list in a read-only transaction
(:func:`probe`) to see the real columns and types.

Messages name the rule, the query file, columns and functions, never a piece of
the SQL: a query could hold a literal value.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from nazorg.sources.sql_lookup import LOOKUP_COLUMNS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlglot import exp

    from nazorg.register import Lookup

#: SQLAlchemy's dialect name -> sqlglot's
DIALECTEN: Final = {"postgresql": "postgres", "sqlite": "sqlite"}

#: Functions that sleep, read or write files, reach other servers, change or read
#: server settings, run SQL text, take locks or change sequences.
VERBODEN_FUNCTIES: Final = frozenset(
    {
        # PostgreSQL
        "set_config",
        "current_setting",
        "version",
        "current_version",  # sqlglot's name for PostgreSQL's version()
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "table_to_xml",
        "table_to_xml_and_xmlschema",
        "schema_to_xml",
        "database_to_xml",
        "nextval",
        "setval",
        "currval",
        "lastval",
        "inet_server_addr",
        "inet_server_port",
        # SQLite
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "zeroblob",
        "randomblob",
        # both / other engines' file readers
        "read_csv",
        "read_json",
        "read_parquet",
    }
)
#: pg_sleep, pg_read_file, pg_ls_dir, pg_terminate_backend, pg_advisory_lock...;
#: large objects (lo_import, lo_export...); dblink; txid_current...; sqlite_version...
VERBODEN_VOORVOEGSELS: Final = ("pg_", "lo_", "dblink", "txid_", "sqlite_")
#: Functions the parser does not model but that only compute on their arguments.
TOEGESTANE_ONBEKENDE_FUNCTIES: Final = frozenset({"age", "date_part", "make_date", "btrim"})
_SYSTEEMSCHEMAS: Final = frozenset({"pg_catalog", "information_schema", "pg_toast"})
_SYSTEEMTABEL_VOORVOEGSELS: Final = ("pg_", "sqlite_")
_NAAM: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CIJFERREEKS: Final = re.compile(r"[0-9]{4}")
PIPELINE_VERBINDING: Final = "nazorg_db"


class LookupOngeldig(Exception):
    """A lookup may not run; ``regel`` is the rule's code, the message names files and rules only."""

    def __init__(self, regel: str, message: str) -> None:
        super().__init__(message)
        self.regel = regel


@dataclass(frozen=True, slots=True)
class Bevinding:
    """One broken rule: its code and a Dutch explanation without any piece of the SQL."""

    regel: str
    uitleg: str


def _naam(value: str) -> str:
    """A name fit for a message: an identifier without a run of digits, else a placeholder."""
    return value if _NAAM.fullmatch(value) and not _CIJFERREEKS.search(value) else "<naam>"


@contextlib.contextmanager
def _stil() -> Iterator[None]:
    """sqlglot logs unsupported SQL verbatim ("'<sql>' contains unsupported syntax"): not here."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _verboden_klassen() -> tuple[type[exp.Expression], ...]:
    from sqlglot import exp

    names = (
        "DML", "DDL", "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command",
        "Copy", "Into", "Lock", "Pragma", "Attach", "Detach", "Set", "Use", "Transaction", "Commit",
        "Rollback", "TruncateTable", "Grant", "Revoke", "Analyze", "LoadData", "Returning",
    )  # fmt: skip
    return tuple(getattr(exp, n) for n in names if hasattr(exp, n))


def _conjuncts(node: exp.Expr) -> Iterator[exp.Expr]:
    """The AND-ed conditions of a WHERE, through parentheses."""
    from sqlglot import exp

    inner = node.unnest()
    if isinstance(inner, exp.And):
        yield from _conjuncts(inner.this)
        yield from _conjuncts(inner.expression)
    else:
        yield inner


def _schrijft(root: exp.Expression) -> list[Bevinding]:
    verboden = _verboden_klassen()
    labels = {"into": "SELECT ... INTO", "lock": "FOR UPDATE/FOR SHARE"}
    found = sorted(
        {labels.get(node.key, node.key.upper()) for node in root.walk() if isinstance(node, verboden)}
    )
    return [Bevinding("schrijft", f"{label} is niet toegestaan: een lookup leest alleen") for label in found]


def _kolommen(select: exp.Select) -> list[Bevinding]:
    from sqlglot import exp

    if any(
        isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star))
        for node in select.expressions
    ):  # * or t.* (COUNT(*) is fine)
        return [Bevinding("kolommen", "SELECT * is niet toegestaan: noem precies de drie kolommen")]
    names = tuple(select.named_selects)
    problems = []
    if names != LOOKUP_COLUMNS:
        shown = ", ".join(_naam(n) if n else "<zonder naam>" for n in names)
        problems.append(
            Bevinding(
                "kolommen",
                f"de kolommen moeten precies {', '.join(LOOKUP_COLUMNS)} zijn, in die volgorde; "
                f"gevonden {len(names)}: {shown}",
            )
        )
    if any(node.find(exp.Select, exp.Subquery) for node in select.expressions):
        problems.append(Bevinding("subquery_in_kolom", "een uitvoerkolom mag geen subquery zijn"))
    return problems


def _bsns(select: exp.Select) -> list[Bevinding]:
    from sqlglot import exp

    placeholders = list(select.find_all(exp.Placeholder))
    problems = []
    if any(p.name != "bsns" for p in placeholders):
        problems.append(Bevinding("parameter", "alleen de parameter :bsns is toegestaan"))
    if not any(p.name == "bsns" for p in placeholders):
        return [*problems, Bevinding("bsns_ontbreekt", "de query gebruikt :bsns niet (WHERE bsn IN :bsns)")]
    where = select.args.get("where")
    restricting = [
        c
        for c in (_conjuncts(where.this) if where is not None else ())
        if isinstance(c, exp.In)
        and isinstance(c.args.get("field"), exp.Placeholder)
        and c.args["field"].name == "bsns"
        and isinstance(c.this, exp.Column)
    ]
    if not restricting:
        problems.append(
            Bevinding(
                "bsns_niet_in_where",
                "`<kolom> IN :bsns` moet een met AND verbonden voorwaarde van de buitenste WHERE zijn",
            )
        )
        return problems
    if tuple(select.named_selects) == LOOKUP_COLUMNS:
        output = select.expressions[0]
        target = output.this if isinstance(output, exp.Alias) else output
        column = restricting[0].this
        same = (
            isinstance(target, exp.Column)
            and target.name == column.name
            and (not target.table or not column.table or target.table == column.table)
        )
        if not same:
            problems.append(
                Bevinding(
                    "bsn_kolom", "de uitvoerkolom bsn moet de kolom zijn die met IN :bsns beperkt wordt"
                )
            )
    return problems


def _functie_namen(func: exp.Func) -> set[str]:
    from sqlglot import exp

    if isinstance(func, exp.Anonymous | exp.AnonymousAggFunc):
        return {func.name.lower()}
    return {func.sql_name().lower(), func.key.lower()}


def _functies(root: exp.Expression) -> list[Bevinding]:
    from sqlglot import exp

    problems: dict[str, Bevinding] = {}
    for func in root.find_all(exp.Func):
        names = _functie_namen(func)
        shown = _naam(min(names))
        if names & VERBODEN_FUNCTIES or any(n.startswith(VERBODEN_VOORVOEGSELS) for n in names):
            problems[shown] = Bevinding("functie_verboden", f"functie {shown} is verboden")
        elif isinstance(func, exp.Anonymous | exp.AnonymousAggFunc) and not (
            names & TOEGESTANE_ONBEKENDE_FUNCTIES
        ):
            problems[shown] = Bevinding(
                "functie_onbekend",
                f"functie {shown} is onbekend; alleen functies die de SQL-parser kent "
                "(een eigen functie kan alles doen)",
            )
    return list(problems.values())


def _tabellen(root: exp.Expression) -> list[Bevinding]:
    from sqlglot import exp

    found = set()
    for table in root.find_all(exp.Table):
        name, schema = table.name.lower(), (table.db or "").lower()
        if (
            schema in _SYSTEEMSCHEMAS
            or name in _SYSTEEMSCHEMAS
            or name.startswith(_SYSTEEMTABEL_VOORVOEGSELS)
        ):
            found.add(".".join(_naam(part) for part in (schema, name) if part))
    return [Bevinding("systeemtabel", f"systeemtabel {name} is niet toegestaan") for name in sorted(found)]


def lint(sql: str, dialect: str) -> list[Bevinding]:
    """Every rule ``sql`` breaks in ``dialect`` (``postgresql`` or ``sqlite``); empty when it may run."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if dialect not in DIALECTEN:
        return [Bevinding("dialect", f"dialect {_naam(dialect)} wordt niet ondersteund (postgresql, sqlite)")]
    try:
        with _stil():
            statements = [s for s in sqlglot.parse(sql, read=DIALECTEN[dialect]) if s is not None]
    except SqlglotError:  # its message quotes the SQL
        return [Bevinding("sql_onleesbaar", f"niet te lezen als {dialect}-SQL")]
    if len(statements) != 1:
        return [Bevinding("een_statement", f"{len(statements)} statements; verwacht precies één SELECT")]
    root = statements[0]
    if not isinstance(root, exp.Select):
        return [Bevinding("alleen_select", f"{root.key.upper()} in plaats van één enkele SELECT")]
    return _schrijft(root) + _kolommen(root) + _bsns(root) + _functies(root) + _tabellen(root)


def lint_dialecten(sql: str, dialecten: Iterable[str]) -> list[str]:
    """``lint`` in each dialect, as ``<dialect>: <uitleg>`` lines (a rule broken in both: once each)."""
    return [f"{d}: {b.uitleg}" for d in dialecten for b in lint(sql, d)]


def is_pipeline_verbinding(verbinding: str) -> bool:
    """The pipeline DB's connection id, in any case (``AIRFLOW_CONN_<ID>`` ignores case)."""
    return verbinding.lower() == PIPELINE_VERBINDING


def zelfde_database(url_a: str, url_b: str) -> bool:
    """Whether two SQLAlchemy URLs point at the same database (best effort: no DNS, no aliases)."""
    from sqlalchemy.engine import make_url

    a, b = make_url(url_a), make_url(url_b)
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        path_a, path_b = a.database or "", b.database or ""
        if not path_a or not path_b or ":memory:" in (path_a, path_b):
            return False
        try:
            return os.path.samefile(path_a, path_b)
        except OSError:
            return os.path.realpath(path_a) == os.path.realpath(path_b)
    return (a.host or "", a.port or 5432, a.database) == (b.host or "", b.port or 5432, b.database)


def _pipeline_url() -> str | None:
    from nazorg.connections import ConnectionMissing, get_connection

    try:
        return get_connection(PIPELINE_VERBINDING).sqlalchemy_url()
    except ConnectionMissing:  # a test store or a CLI without the pipeline DB: nothing to compare
        return None


def keur_goed(check_id: str, lookup: Lookup, sql: str, engine: Engine) -> None:
    """Refuse, before it runs, a lookup that may not run on this connection (:class:`LookupOngeldig`)."""
    where = f"check {check_id}: lookup {lookup.query} via {lookup.verbinding}"
    pipeline_url = None if is_pipeline_verbinding(lookup.verbinding) else _pipeline_url()
    if is_pipeline_verbinding(lookup.verbinding) or (
        pipeline_url is not None
        and zelfde_database(engine.url.render_as_string(hide_password=False), pipeline_url)
    ):
        raise LookupOngeldig(
            "pipeline_db", f"{where}: dit is de pipeline-DB; een lookup leest alleen bronnen"
        )
    dialect = engine.dialect.name
    if lookup.dialect is not None and lookup.dialect != dialect:
        raise LookupOngeldig(
            "dialect", f"{where}: het besluit noemt {lookup.dialect}, de verbinding is {dialect}"
        )
    found = lint(sql, dialect)
    if found:
        raise LookupOngeldig(found[0].regel, f"{where} ({dialect}): {found[0].uitleg}")


# -- probe: the real columns and types, with an empty BSN list -------------------------------

#: PostgreSQL type names a lookup's columns may have (what the shape check accepts, and text for bsn)
_PG_TYPEN: Final = {
    "bsn": frozenset({"text", "varchar", "bpchar"}),
    "bekend": frozenset({"bool", "int2", "int4", "int8"}),
    "dossierverantwoordelijke": frozenset({"text", "varchar", "bpchar", "unknown"}),
}


@dataclass(frozen=True, slots=True)
class ProbeUitslag:
    """What a probe saw: column names with their types (None where the driver does not say), and problems."""

    kolommen: tuple[tuple[str, str | None], ...]
    problemen: tuple[str, ...]


def _type_naam(type_code: Any) -> str | None:
    if not isinstance(type_code, int):
        return None  # SQLite's driver gives no types
    from psycopg.postgres import types

    info = types.get(type_code)
    return info.name if info is not None else f"oid {type_code}"


def probe(engine: Engine, sql: str) -> ProbeUitslag:
    """Run ``sql`` with an empty ``:bsns`` in a read-only transaction (rolled back) and check its columns.

    A lookup that returns rows for no BSN at all does not restrict on ``:bsns``.
    A failure is reported by its error class (and SQLSTATE), never its message.
    """
    from sqlalchemy import String, bindparam, text
    from sqlalchemy.exc import SQLAlchemyError

    # typed: an empty list renders as an empty subquery, and BSNs are text (an untyped one is integer)
    stmt = text(sql).bindparams(bindparam("bsns", expanding=True, type_=String()))
    postgres = engine.dialect.name == "postgresql"
    try:
        with engine.connect() as conn:
            if postgres:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql("SET LOCAL statement_timeout = 10000")
            else:
                conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                result = conn.execute(stmt, {"bsns": []})
                names = tuple(str(k) for k in result.keys())  # noqa: SIM118 - a Result, not a dict
                description = result.cursor.description if result.cursor is not None else None
                rijen = len(result.fetchall())
            finally:
                conn.rollback()
                if not postgres:
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        sqlstate = getattr(orig, "sqlstate", None)
        soort = type(orig or exc).__name__ + (f", SQLSTATE {sqlstate}" if isinstance(sqlstate, str) else "")
        return ProbeUitslag((), (f"de query faalt ({soort})",))
    typen = [_type_naam(col[1]) for col in description] if description else [None] * len(names)
    kolommen = tuple(zip((_naam(n) for n in names), typen, strict=True))
    problemen = []
    if names != LOOKUP_COLUMNS:
        problemen.append(
            f"kolommen {', '.join(n for n, _ in kolommen)}; verwacht {', '.join(LOOKUP_COLUMNS)}"
        )
    else:
        for name, type_name in zip(names, typen, strict=True):
            if type_name is not None and type_name not in _PG_TYPEN[name]:
                allowed = ", ".join(sorted(_PG_TYPEN[name]))
                problemen.append(f"kolom {name} heeft type {type_name}; verwacht {allowed}")
    if rijen:
        problemen.append("geeft rijen terug bij een lege BSN-lijst: de query beperkt niet op :bsns")
    return ProbeUitslag(kolommen, tuple(problemen))
