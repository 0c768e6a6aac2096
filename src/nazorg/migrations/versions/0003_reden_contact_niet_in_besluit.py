"""Revision 0003: an outcome may carry the reason ``contact_niet_in_besluit``.

Why: a check publishes a contact only when it is one of the teams in the
gemeente's besluit. When a source names anything else, the outcome stands, the
besluit's default team is the contact, and the outcome says so with this
reason, which revision 0002's ``ck_uitkomst_reden`` does not allow.

Only the outcome's constraint widens: a plan never refuses a check for this
reason, so ``ck_plan_reden`` keeps revision 0002's list. As in 0002, the values
are literals (a frozen snapshot), and ``tests/unit/test_migrations.py`` keeps
this revision's ``REDEN`` equal to ``nazorg.models.Reden``.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

REDEN_0002 = (
    "niet_in_besluit",
    "geen_grondslag",
    "geen_toestemming",
    "bron_onbereikbaar",
    "bron_fout",
    "bron_ambigu",
    "bron_timeout",
    "niet_in_melding",
    "persoon_niet_gevonden",
)
REDEN = (*REDEN_0002, "contact_niet_in_besluit")
CONSTRAINT = "ck_uitkomst_reden"


def _null_or_one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v) for v in values)})"


def _replace(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("uitkomst") as batch:
        batch.drop_constraint(CONSTRAINT, type_="check")
        batch.create_check_constraint(CONSTRAINT, _null_or_one_of("reden", values))


def upgrade() -> None:
    _replace(REDEN)


def downgrade() -> None:
    # fails (and leaves the database as it was) while an outcome still carries the new reason
    _replace(REDEN_0002)
