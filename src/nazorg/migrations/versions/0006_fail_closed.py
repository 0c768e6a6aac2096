"""Revision 0006: failed runs end in a state of their own; log records name their key.

Why:

- A step that failed for another reason than over-collection (a missing key, a
  lookup that ignores ``:bsns``, a bug) used to leave the melding
  ``in_behandeling`` with outcomes staged. It now ends ``mislukt``, quarantined
  with a reason code under the fase of the step that failed: the inbox status
  and quarantine fase constraints are widened.
- ``verwerkingslog.sleutel_id``: the fingerprint of the pseudonym key a record
  was made with, so records stay verifiable after a key rotation. Records
  written before this revision have none (NULL: "the key in use before key ids
  were recorded").

The value lists are literals, as in 0002: a revision is a frozen snapshot. Revisions
0003 to 0005 change only ``reden`` lists and ``inbox.run_key``, so the status and
fase lists before this revision are still 0002's. The ``inbox`` batch rebuild keeps
0004's ``run_key`` column and its unique index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

MELDING_STATUS = ("ontvangen", "in_behandeling", "geblokkeerd", "gepubliceerd", "mislukt")
FASE = ("intake", "ontvang", "plan", "check", "basisdocument", "bewaak", "publiceer")

_PREVIOUS_MELDING_STATUS = ("ontvangen", "in_behandeling", "geblokkeerd", "gepubliceerd")
_PREVIOUS_FASE = ("intake", "check", "bewaak")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, condition)


def upgrade() -> None:
    _replace_check("inbox", "ck_inbox_status", _one_of("status", MELDING_STATUS))
    _replace_check("quarantaine", "ck_quarantaine_fase", _one_of("fase", FASE))
    with op.batch_alter_table("verwerkingslog") as batch:
        batch.add_column(sa.Column("sleutel_id", sa.Text(), nullable=True))


def downgrade() -> None:
    """Fails on a database that holds a ``mislukt`` melding or a quarantine row of a new fase."""
    with op.batch_alter_table("verwerkingslog") as batch:
        batch.drop_column("sleutel_id")
    _replace_check("quarantaine", "ck_quarantaine_fase", _one_of("fase", _PREVIOUS_FASE))
    _replace_check("inbox", "ck_inbox_status", _one_of("status", _PREVIOUS_MELDING_STATUS))
