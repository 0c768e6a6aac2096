"""Revision 0012: an outcome records where its contact comes from (``uitkomst.contact_herkomst``).

Why: the published page said whether a contact was named by the source or is the
gemeente's default team by deriving it from the besluit, which cannot tell a
source that named the default team itself from a source that named nobody. The
check evaluation knows; it is now stored with the outcome and published per check.

- ``bron``: a team of the besluit that a source named (the default team too);
- ``standaard``: the besluit's default team for the check (no source named one,
  or the name was refused: reason ``contact_niet_in_besluit``);
- NULL: no contact (a check that was not run), and for every row stored before
  this revision: nobody recorded it, and guessing would publish a guess as fact.

Value list frozen as a literal; ``tests/unit/test_migrations.py`` keeps it equal
to ``nazorg.models.ContactHerkomst``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

CONTACT_HERKOMST = ("bron", "standaard")


CONSTRAINTS = {
    "ck_uitkomst_contact_herkomst": "contact_herkomst IS NULL OR contact_herkomst IN ({})".format(
        ", ".join(repr(v) for v in CONTACT_HERKOMST)
    ),
    # a recorded origin belongs to a contact (the reverse does not hold for rows from before 0012)
    "ck_uitkomst_contact_herkomst_contact": (
        "contact_herkomst IS NULL OR dossierverantwoordelijke IS NOT NULL"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("uitkomst") as batch:
        batch.add_column(sa.Column("contact_herkomst", sa.String(20), nullable=True))
        for name, condition in CONSTRAINTS.items():
            batch.create_check_constraint(name, condition)


def downgrade() -> None:
    """Drops the column: where each contact came from is lost (the page falls back to deriving it)."""
    with op.batch_alter_table("uitkomst") as batch:
        for name in reversed(CONSTRAINTS):
            batch.drop_constraint(name, type_="check")
        batch.drop_column("contact_herkomst")
