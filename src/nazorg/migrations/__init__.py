"""Schema migrations of the pipeline DB (connection ``nazorg_db``), with Alembic.

Why: the schema used to be ``CREATE TABLE IF NOT EXISTS`` on first use, so the
first changed column would never have reached a database that already existed.
Each change is now a numbered revision in ``versions/``; ``nazorg db upgrade``
brings a database to :data:`HEAD`, and :class:`nazorg.store.Store` refuses a
database at any other revision instead of failing later on a missing column or
constraint.

The environment ships inside the package (an installed deployment has no source
checkout) and is configured here in code: no ``alembic.ini``. The version table
has its own name, so a pipeline DB that shares a database with Airflow's metadata
(also Alembic) is never confused with it.

A new revision: copy the latest file in ``versions/``, give it the next number as
``revision`` and the previous one as ``down_revision``, write ``upgrade`` and
``downgrade`` (use ``op.batch_alter_table`` for SQLite) and set :data:`HEAD`.
A revision is a frozen snapshot: it never imports the code's enums or SQL files,
because the code moves on and the revision must keep meaning what it meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

#: Alembic's bookkeeping table in the pipeline DB (not ``alembic_version``: see above).
VERSION_TABLE = "nazorg_alembic_version"
#: The revision this code expects; tests/unit/test_migrations.py keeps it equal to the scripts' head.
HEAD = "0012"
SCRIPT_DIR = Path(__file__).resolve().parent


class MigrationError(RuntimeError):
    """The pipeline DB's revision bookkeeping is not what a linear history allows."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for this package; ``connection`` is the one env.py migrates."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_DIR))
    config.attributes["connection"] = connection
    return config


def script_head() -> str:
    """The head revision of the scripts in ``versions/`` (one: the history is linear)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"migraties hebben {len(heads)} heads; verwacht precies één")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The database's revision, or None for a database that was never migrated.

    Plain SQL, no Alembic import: the store asks this once per process and URL.
    """
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        versions = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    if len(versions) > 1:
        raise MigrationError(f"{VERSION_TABLE} bevat {len(versions)} revisies; verwacht hoogstens één")
    return str(versions[0]) if versions else None


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    """Run Alembic in one transaction, so a failing revision leaves the database as it was.

    PostgreSQL has transactional DDL. SQLite has it too, but Python's sqlite3 module
    does not open a transaction before DDL; the driver is told to keep out
    (AUTOCOMMIT) and the transaction is opened explicitly, IMMEDIATE so that no
    other writer slips in between reading the schema and rebuilding a table.
    """
    from alembic import command

    from nazorg.store import forget_schema_check

    forget_schema_check(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            config = alembic_config(conn)
            if direction == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except BaseException:
            if sqlite:
                conn.exec_driver_sql("ROLLBACK")
            conn.rollback()
            raise
        if sqlite:
            conn.exec_driver_sql("COMMIT")
        conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to ``revision`` (idempotent); returns (before, after)."""
    before = current(engine)
    _migrate(engine, "upgrade", revision)
    return before, current(engine)


def downgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    """Take the database back to ``revision`` (``base`` drops every table); returns (before, after)."""
    before = current(engine)
    _migrate(engine, "downgrade", revision)
    return before, current(engine)
