"""Alembic environment of the pipeline DB; run only through :mod:`nazorg.migrations`.

The caller hands over an open connection inside a transaction (there is no URL
and no ``alembic.ini`` here), so the migration and the version bookkeeping
commit or roll back together.
"""

from __future__ import annotations

from alembic import context

from nazorg.migrations import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:  # e.g. the `alembic` command line without our configuration
    raise RuntimeError("migreer via `nazorg db upgrade` (nazorg.migrations.upgrade), niet rechtstreeks")

context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    transactional_ddl=True,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
