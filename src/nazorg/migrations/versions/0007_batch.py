"""Revision 0007: the batch path (claims, chunks, retries of onbekend outcomes, outbox versions).

Why:

- ``inbox.claim`` / ``inbox.claim_tot``: a melding is never processed by a batch
  chunk and a per-melding run at the same time. Whoever takes a melding writes
  its claim (``run:<run_key>`` or ``chunk:<chunk_id>``) with a lease end; a
  claim whose lease has passed (a killed worker, a lost run) may be taken over.
  Both are nullable: a melding nobody works on has no claim.
- ``batch_chunk`` / ``batch_chunk_melding``: what one batch collected and how it
  was split. Airflow's mapped tasks carry only the chunk id; which meldingen a
  chunk holds stays here, in the pipeline DB.
- ``uitkomst.pogingen`` / ``uitkomst.volgende_poging``: an ``onbekend`` because a
  source was down is asked again, a bounded number of times with backoff;
  existing outcomes count as not yet attempted by the batch (0, NULL).
- ``outbox.versie``: a retry that fills in an ``onbekend`` publishes the
  document again, as the next version.
- ``quarantaine.fase`` gains ``batch``: a chunk that failed as a whole closes its
  meldingen ``mislukt`` without knowing which step each one was in.

As in 0002, the value lists are literals (a frozen snapshot) and
``tests/unit/test_migrations.py`` keeps them equal to the enums in
``nazorg.models``. Timestamps are ISO 8601 text like every other timestamp of
the schema, so they compare as strings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

CHUNK_STATUS = ("open", "klaar", "mislukt")
SOORT = ("nieuw", "herhaling")
FASE = ("intake", "ontvang", "plan", "check", "basisdocument", "bewaak", "publiceer", "batch")

_PREVIOUS_FASE = ("intake", "ontvang", "plan", "check", "basisdocument", "bewaak", "publiceer")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, condition)


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("claim", sa.String(80), nullable=True))
        batch.add_column(sa.Column("claim_tot", sa.String(40), nullable=True))
    # the batch looks meldingen up by state and by claim; 50,000 rows must not be a table scan each
    op.create_index("inbox_status", "inbox", ["status"])
    op.create_index("inbox_claim", "inbox", ["claim"])
    op.create_table(
        "batch_chunk",
        sa.Column("chunk_id", sa.String(80), primary_key=True),
        sa.Column("batch_id", sa.String(80), nullable=False),
        sa.Column("volgnummer", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("meldingen", sa.Integer(), nullable=False),
        sa.Column("aangemaakt_op", sa.String(40), nullable=False),
        sa.Column("klaar_op", sa.String(40), nullable=True),
        sa.CheckConstraint(_one_of("status", CHUNK_STATUS), name="ck_batch_chunk_status"),
    )
    op.create_index("batch_chunk_batch", "batch_chunk", ["batch_id"])
    op.create_table(
        "batch_chunk_melding",
        sa.Column("chunk_id", sa.String(80), nullable=False),
        sa.Column("melding_id", sa.Text(), nullable=False),
        sa.Column("soort", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("chunk_id", "melding_id", name="pk_batch_chunk_melding"),
        sa.CheckConstraint(_one_of("soort", SOORT), name="ck_batch_chunk_melding_soort"),
    )
    op.create_index("batch_chunk_melding_melding", "batch_chunk_melding", ["melding_id"])
    with op.batch_alter_table("uitkomst") as batch:
        batch.add_column(sa.Column("pogingen", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("volgende_poging", sa.String(40), nullable=True))
    op.create_index("uitkomst_volgende_poging", "uitkomst", ["volgende_poging"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("versie", sa.Integer(), nullable=False, server_default="1"))
    _replace_check("quarantaine", "ck_quarantaine_fase", _one_of("fase", FASE))


def downgrade() -> None:
    """Fails on a database that holds a quarantine row of fase ``batch``; drops the batch bookkeeping."""
    _replace_check("quarantaine", "ck_quarantaine_fase", _one_of("fase", _PREVIOUS_FASE))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("versie")
    op.drop_index("uitkomst_volgende_poging", table_name="uitkomst")
    with op.batch_alter_table("uitkomst") as batch:
        batch.drop_column("volgende_poging")
        batch.drop_column("pogingen")
    op.drop_index("batch_chunk_melding_melding", table_name="batch_chunk_melding")
    op.drop_table("batch_chunk_melding")
    op.drop_index("batch_chunk_batch", table_name="batch_chunk")
    op.drop_table("batch_chunk")
    op.drop_index("inbox_claim", table_name="inbox")
    op.drop_index("inbox_status", table_name="inbox")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("claim_tot")
        batch.drop_column("claim")
