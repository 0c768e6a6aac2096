"""Revision 0004: every melding in the inbox gets an opaque run key (``inbox.run_key``).

Why: the sender's ``melding_id`` used to become the DAG run id, log folder names
and outbox file names, and a BSN can hide in it behind any disguise a screening
rule does not foresee. Airflow now sees only a random key the pipeline DB assigns
(:mod:`nazorg.run_key`); the melding id stays in the pipeline DB and the document.

Meldingen already in the inbox get a key here, so their runs can still be
started. Like every revision this one is a frozen snapshot: the key format is
written out below instead of imported from the code.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def _key() -> str:
    """``r-`` plus 24 random lowercase letters (nazorg.run_key at the time of this revision)."""
    return "r-" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(24))


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("run_key", sa.Text(), nullable=True))
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT melding_id FROM inbox WHERE run_key IS NULL"))]
    for melding_id in ids:
        conn.execute(
            sa.text("UPDATE inbox SET run_key = :k WHERE melding_id = :m"), {"k": _key(), "m": melding_id}
        )
    with op.batch_alter_table("inbox") as batch:
        batch.alter_column("run_key", existing_type=sa.Text(), nullable=False)
    op.create_index("inbox_run_key", "inbox", ["run_key"], unique=True)


def downgrade() -> None:
    op.drop_index("inbox_run_key", table_name="inbox")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("run_key")
