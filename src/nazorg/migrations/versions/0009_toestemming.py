"""Revision 0009: consent keyed by melding, with what the report asks of it.

Why: revision 0001 kept a BSN per ``toestemming`` row, outside the inbox. Consent
is now keyed by ``melding_id`` (the inbox stays the only table that holds a
BSN) and records what the report (§3.3.1.2) asks of it: whether it is a
*toestemming* or an *overeenkomst*, who recorded it and when, the version of
the text the person agreed to, until when it holds, and its withdrawal (a
withdrawn consent stays on record: it says why checks stopped). Which checks it
covers is a row per check in ``toestemming_check``.

Existing rows are carried over to every melding of their BSN in the inbox, one
consent per (melding, soort, geldig_tot); ``tekst_versie`` and
``vastgelegd_door`` say they came from before this revision and
``vastgelegd_op`` is the melding's ``ontvangen_op`` (the old table did not say
when). A row whose BSN has no melding is dropped: no run could ever use it.

The downgrade goes back to one row per (BSN, check) via the inbox, for the
consents not withdrawn (the old table cannot say "withdrawn"); several consents
for one check become one with the widest ``geldig_tot`` (NULL: unlimited).

The new tables are built under temporary names and renamed, so PostgreSQL's
implicit constraint and index names never collide with the old table's.
Value lists are literals (a frozen snapshot); ``tests/unit/test_migrations.py``
keeps them equal to the enums in ``nazorg.models``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

TOESTEMMING_SOORT = ("toestemming", "overeenkomst")

VAN_VOOR_0009 = "van voor revisie 0009"

# one consent per (old rows' melding, soort, geldig_tot): the id is derived from exactly that
_ID = "'v0001-' || i.melding_id || '-' || t.soort || '-' || COALESCE(t.geldig_tot, 'onbeperkt')"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "toestemming_v9",
        sa.Column("toestemming_id", sa.String(120), nullable=False),
        sa.Column("melding_id", sa.Text(), nullable=False),
        sa.Column("soort", sa.String(20), nullable=False),
        sa.Column("tekst_versie", sa.Text(), nullable=False),
        sa.Column("vastgelegd_door", sa.Text(), nullable=False),
        sa.Column("vastgelegd_op", sa.String(40), nullable=False),
        sa.Column("geldig_tot", sa.String(40), nullable=True),
        sa.Column("ingetrokken_op", sa.String(40), nullable=True),
        sa.Column("ingetrokken_door", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("toestemming_id", name="pk_toestemming"),
        sa.CheckConstraint(_one_of("soort", TOESTEMMING_SOORT), name="ck_toestemming_soort"),
        # a withdrawal says who withdrew it, and a name without a moment is no withdrawal
        sa.CheckConstraint(
            "(ingetrokken_op IS NULL) = (ingetrokken_door IS NULL)", name="ck_toestemming_ingetrokken"
        ),
    )
    op.create_table(
        "toestemming_check",
        sa.Column("toestemming_id", sa.String(120), nullable=False),
        sa.Column("check_id", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("toestemming_id", "check_id", name="pk_toestemming_check"),
    )
    op.execute(
        f"""
        INSERT INTO toestemming_v9 (toestemming_id, melding_id, soort, tekst_versie, vastgelegd_door,
                                    vastgelegd_op, geldig_tot)
        SELECT DISTINCT {_ID}, i.melding_id, t.soort, '{VAN_VOOR_0009}', '{VAN_VOOR_0009}',
               i.ontvangen_op, t.geldig_tot
        FROM toestemming t JOIN inbox i ON i.bsn = t.bsn
        WHERE t.soort IN ('toestemming', 'overeenkomst')
        """
    )
    op.execute(
        f"""
        INSERT INTO toestemming_check (toestemming_id, check_id)
        SELECT DISTINCT {_ID}, t.check_id
        FROM toestemming t JOIN inbox i ON i.bsn = t.bsn
        WHERE t.soort IN ('toestemming', 'overeenkomst')
        """
    )
    op.drop_table("toestemming")
    op.rename_table("toestemming_v9", "toestemming")
    op.create_index("toestemming_melding", "toestemming", ["melding_id"])


def downgrade() -> None:
    """Consent goes back to the BSN-keyed table via the inbox (module docstring)."""
    op.create_table(
        "toestemming_0001",
        sa.Column("bsn", sa.Text(), nullable=False),
        sa.Column("check_id", sa.Text(), nullable=False),
        sa.Column("soort", sa.Text(), nullable=False),
        sa.Column("geldig_tot", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("bsn", "check_id", name="pk_toestemming_0001"),
    )
    op.execute(
        """
        INSERT INTO toestemming_0001 (bsn, check_id, soort, geldig_tot)
        SELECT i.bsn, c.check_id, MIN(t.soort),
               CASE WHEN COUNT(*) > COUNT(t.geldig_tot) THEN NULL ELSE MAX(t.geldig_tot) END
        FROM toestemming t
        JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id
        JOIN inbox i ON i.melding_id = t.melding_id
        WHERE t.ingetrokken_op IS NULL
        GROUP BY i.bsn, c.check_id
        """
    )
    op.drop_table("toestemming_check")
    op.drop_index("toestemming_melding", table_name="toestemming")
    op.drop_table("toestemming")
    op.rename_table("toestemming_0001", "toestemming")
