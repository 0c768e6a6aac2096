"""Revision 0010: retention (issue 8 §4): a melding's inbox row can outlive its BSN; runs are on record.

Why:

- ``inbox.bsn``, ``inbox.inrichting`` and ``inbox.datum_binnenkomst`` become
  nullable. Once every check's retention term of a melding has run (or the
  person's erasure request is honoured), :mod:`nazorg.bewaartermijn` empties
  them and keeps the row as a *tombstone*: melding id, run key, gemeente, content
  hash, status and timestamps, no personal data. The tombstone keeps a re-sent
  eerstedagsmelding from being processed again (``inbox_insert`` does nothing on
  a known melding id) and lets the processing log be accounted for; it is
  deleted itself once the processing log's own term has run since it was made.
- ``bewaartermijn_run`` / ``bewaartermijn_telling``: each retention run (also a
  dry run) and how many rows or files it removed per category. Counts only,
  never a melding id, a BSN or a pseudonym: the bookkeeping must not become a
  second copy of what it deleted.

Down: refuses (fails, database unchanged) while a tombstone exists, because
the older code assumes every inbox row has a BSN.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

#: inbox columns a tombstone empties (NOT NULL before this revision)
LEEG_TE_MAKEN = ("bsn", "inrichting", "datum_binnenkomst")
DROOG = ("ja", "nee")
SOORT = ("bewaartermijn", "verwijderverzoek")


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        for column in LEEG_TE_MAKEN:
            batch.alter_column(column, existing_type=sa.Text(), nullable=True)
    op.create_table(
        "bewaartermijn_run",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("soort", sa.String(30), nullable=False),
        sa.Column("peildatum", sa.String(40), nullable=False),
        sa.Column("droog", sa.String(3), nullable=False),
        sa.Column("uitgevoerd_op", sa.String(40), nullable=False),
        sa.CheckConstraint(f"droog IN ({', '.join(repr(v) for v in DROOG)})", name="ck_bewaartermijn_droog"),
        sa.CheckConstraint(f"soort IN ({', '.join(repr(v) for v in SOORT)})", name="ck_bewaartermijn_soort"),
    )
    op.create_table(
        "bewaartermijn_telling",
        sa.Column("run_id", sa.String(80), nullable=False),
        sa.Column("categorie", sa.String(60), nullable=False),
        sa.Column("aantal", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "categorie", name="pk_bewaartermijn_telling"),
    )


def downgrade() -> None:
    """Fails while an inbox row is a tombstone (no BSN): the older code cannot handle one."""
    op.drop_table("bewaartermijn_telling")
    op.drop_table("bewaartermijn_run")
    with op.batch_alter_table("inbox") as batch:
        for column in LEEG_TE_MAKEN:
            batch.alter_column(column, existing_type=sa.Text(), nullable=False)
