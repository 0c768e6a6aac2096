"""Revision 0002: every stored state is one of the code's enum values (CHECK constraints).

Why: status, fase, uitvoeren, uitkomst and reden were free text, so a typo or a
half-finished refactoring could write a state no step knows how to handle (a
melding neither blocked nor publishable). The database now refuses it.

The value lists are literals on purpose: a revision is a frozen snapshot of the
schema, it must not follow the enums in ``nazorg.models`` when they change.
``tests/unit/test_migrations.py`` compares these lists with the enums, so a new
enum value fails the tests until a new revision widens the constraint.

SQLite cannot add a constraint to an existing table; ``batch_alter_table``
rebuilds the table (copy, drop, rename) there and issues ``ALTER TABLE`` on
PostgreSQL. The constraints are named, so later batch rebuilds keep them.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

MELDING_STATUS = ("ontvangen", "in_behandeling", "geblokkeerd", "gepubliceerd")
DOCUMENT_STATUS = ("concept", "goedgekeurd", "gepubliceerd")
FASE = ("intake", "check", "bewaak")
UITVOEREN = ("ja", "nee")
UITKOMST = ("ja", "nee", "onbekend", "niet_uitgevoerd")
REDEN = (
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
AANDACHTSGEBIED = (
    "veiligheidshuis_reclassering",
    "id_bewijs",
    "inkomen_werk_dagbesteding",
    "schulden",
    "huisvesting_onderdak",
    "zorg",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _null_or_one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {_one_of(column, values)}"


#: table -> constraint name -> condition
CONSTRAINTS: dict[str, dict[str, str]] = {
    "inbox": {
        "ck_inbox_status": _one_of("status", MELDING_STATUS),
    },
    "quarantaine": {
        "ck_quarantaine_fase": _one_of("fase", FASE),
    },
    "plan": {
        "ck_plan_aandachtsgebied": _one_of("aandachtsgebied", AANDACHTSGEBIED),
        "ck_plan_uitvoeren": _one_of("uitvoeren", UITVOEREN),
        "ck_plan_reden": _null_or_one_of("reden", REDEN),
        # a check that is not run says why; one that is run has no refusal reason
        "ck_plan_reden_bij_nee": (
            "(uitvoeren = 'ja' AND reden IS NULL) OR (uitvoeren = 'nee' AND reden IS NOT NULL)"
        ),
    },
    "uitkomst": {
        "ck_uitkomst_aandachtsgebied": _one_of("aandachtsgebied", AANDACHTSGEBIED),
        "ck_uitkomst_uitkomst": _one_of("uitkomst", UITKOMST),
        "ck_uitkomst_reden": _null_or_one_of("reden", REDEN),
        # onbekend and niet_uitgevoerd always carry a reason (models.CheckResult)
        "ck_uitkomst_reden_verplicht": "uitkomst IN ('ja', 'nee') OR reden IS NOT NULL",
    },
    "basisdocument": {
        "ck_basisdocument_status": _one_of("status", DOCUMENT_STATUS),
    },
}


def upgrade() -> None:
    for table, checks in CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch:
            for name, condition in checks.items():
                batch.create_check_constraint(name, condition)


def downgrade() -> None:
    for table, checks in reversed(CONSTRAINTS.items()):
        with op.batch_alter_table(table) as batch:
            for name in reversed(checks):
                batch.drop_constraint(name, type_="check")
