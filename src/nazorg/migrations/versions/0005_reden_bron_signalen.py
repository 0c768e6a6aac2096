"""Revision 0005: the reasons a source gives about its own record (Reden widened).

Why: a check whose source says the person has died, the record is no longer
kept, a field is in onderzoek, a document belongs to someone else, or an SQL
row cannot be attributed to a requested BSN must answer onbekend *with that
reason*; the CHECK constraints of revisions 0002/0003 refused those values.

Only the ``reden`` constraints of ``plan`` and ``uitkomst`` change: they are
dropped and created again with the longer list (named, so the batch rebuild on
SQLite keeps the others). Each table keeps what came before it: the outcome's
list is revision 0003's (with ``contact_niet_in_besluit``) plus the new
reasons; the plan's is revision 0002's plus the new reasons, because a plan
never refuses a check for a contact (0003 left ``ck_plan_reden`` alone). The
lists are literals, frozen snapshots like 0002's, and
``tests/unit/test_migrations.py`` keeps ``REDEN`` equal to
``nazorg.models.Reden``. A downgrade restores the previous lists and fails
while rows still hold a new reason, which is what it should do: those rows
would break the older code.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
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
#: the outcome's reasons after revision 0003
REDEN_0003 = (*REDEN_0002, "contact_niet_in_besluit")
NIEUW = (
    "persoon_overleden",
    "bijhouding_opgeschort",
    "bron_in_onderzoek",
    "houder_onjuist",
    "bron_vorm",
)
#: the outcome's reasons: every Reden
REDEN = (*REDEN_0003, *NIEUW)
#: the plan's reasons: every Reden but contact_niet_in_besluit
PLAN_REDEN = (*REDEN_0002, *NIEUW)

#: table -> (its reden constraint, the list before, the list after); both allow NULL
REDEN_CONSTRAINTS = {
    "plan": ("ck_plan_reden", REDEN_0002, PLAN_REDEN),
    "uitkomst": ("ck_uitkomst_reden", REDEN_0003, REDEN),
}


def _null_or_one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v) for v in values)})"


def _replace(*, upgrade: bool) -> None:
    for table, (name, before, after) in REDEN_CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, _null_or_one_of("reden", after if upgrade else before))


def upgrade() -> None:
    _replace(upgrade=True)


def downgrade() -> None:
    _replace(upgrade=False)
