"""Revision 0003: the reasons a source gives about its own record (Reden widened).

Why: a check whose source says the person has died, the record is no longer
kept, a field is in onderzoek, a document belongs to someone else, or an SQL
row cannot be attributed to a requested BSN must answer onbekend *with that
reason*; the CHECK constraints of revision 0002 refused those values.

Only the ``reden`` constraints of ``plan`` and ``uitkomst`` change: they are
dropped and created again with the longer list (named, so the batch rebuild on
SQLite keeps the others). The list is a literal, a frozen snapshot like 0002's.
A downgrade restores 0002's list and fails while rows still hold a new reason,
which is what it should do: those rows would break the older code.
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
REDEN = (
    *REDEN_0002,
    "persoon_overleden",
    "bijhouding_opgeschort",
    "bron_in_onderzoek",
    "houder_onjuist",
    "bron_vorm",
)

#: table -> the name of its reden constraint (both allow NULL)
REDEN_CONSTRAINTS = {"plan": "ck_plan_reden", "uitkomst": "ck_uitkomst_reden"}


def _null_or_one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v) for v in values)})"


def _replace(values: tuple[str, ...]) -> None:
    for table, name in REDEN_CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, _null_or_one_of("reden", values))


def upgrade() -> None:
    _replace(REDEN)


def downgrade() -> None:
    _replace(REDEN_0002)
