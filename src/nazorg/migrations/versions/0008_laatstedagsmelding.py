"""Revision 0008: the end of detention and the notifications it (and top-x inseinen) sends.

Why:

- ``laatstedagsmelding``: the PI reports the end of detention for a melding the
  inbox holds; its ``datum_uitstroom`` starts the retention clock of every
  register entry whose ``bewaartermijn_start`` is ``laatstedagsmelding``.
- ``notificatie``: every notification sent (laatstedagsmelding, top-x inseinen),
  with the team it went to and never its content beyond the melding id.

Value lists are literals (a frozen snapshot); ``tests/unit/test_migrations.py``
keeps them equal to the enums in ``nazorg.models``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

LAATSTEDAG_STATUS = ("ontvangen", "verwerkt", "mislukt")
NOTIFICATIE_SOORT = ("laatstedagsmelding", "inseinen")
KANAAL = ("smtp", "bestand")
NOTIFICATIE_STATUS = ("verzonden", "mislukt")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "laatstedagsmelding",
        sa.Column("melding_id", sa.Text(), primary_key=True),
        sa.Column("datum_uitstroom", sa.String(40), nullable=False),
        sa.Column("gemeente_hervestiging", sa.String(10), nullable=True),
        sa.Column("inhoud_hash", sa.Text(), nullable=False),
        sa.Column("ontvangen_op", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.CheckConstraint(_one_of("status", LAATSTEDAG_STATUS), name="ck_laatstedagsmelding_status"),
    )
    op.create_index("laatstedagsmelding_status", "laatstedagsmelding", ["status"])
    op.create_table(
        "notificatie",
        sa.Column("notificatie_id", sa.String(80), primary_key=True),
        sa.Column("melding_id", sa.Text(), nullable=False),
        sa.Column("soort", sa.String(30), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("gemeente_code", sa.String(10), nullable=False),
        sa.Column("kanaal", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reden", sa.Text(), nullable=True),
        sa.Column("verzonden_op", sa.String(40), nullable=False),
        sa.CheckConstraint(_one_of("soort", NOTIFICATIE_SOORT), name="ck_notificatie_soort"),
        sa.CheckConstraint(_one_of("kanaal", KANAAL), name="ck_notificatie_kanaal"),
        sa.CheckConstraint(_one_of("status", NOTIFICATIE_STATUS), name="ck_notificatie_status"),
    )
    op.create_index("notificatie_melding", "notificatie", ["melding_id"])


def downgrade() -> None:
    """Drops the laatstedagsmelding and notification tables (and what they recorded)."""
    op.drop_index("notificatie_melding", table_name="notificatie")
    op.drop_table("notificatie")
    op.drop_index("laatstedagsmelding_status", table_name="laatstedagsmelding")
    op.drop_table("laatstedagsmelding")
