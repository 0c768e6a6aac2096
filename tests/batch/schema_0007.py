"""TEMPORARY: the columns of migration 0007 (helper "core") that the chunk processing writes.

Migration 0007 is not on this branch yet. Until it is merged, the tests add its
columns the chunk code reads and writes (``inbox.claim``, ``inbox.claim_tot``,
``uitkomst.pogingen``, ``uitkomst.volgende_poging``, ``outbox.versie``) after
``migrations.upgrade``. Only missing columns are added, so once 0007 lands this
is a no-op; delete it then, with its callers in tests/batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

KOLOMMEN = {
    "inbox": (("claim", "VARCHAR(80)"), ("claim_tot", "VARCHAR(40)")),
    "uitkomst": (("pogingen", "INTEGER NOT NULL DEFAULT 0"), ("volgende_poging", "VARCHAR(40)")),
    "outbox": (("versie", "INTEGER NOT NULL DEFAULT 1"),),
}


def voeg_toe(engine: Engine) -> None:
    from sqlalchemy import inspect, text

    bestaand = {tabel: {c["name"] for c in inspect(engine).get_columns(tabel)} for tabel in KOLOMMEN}
    with engine.begin() as conn:
        for tabel, kolommen in KOLOMMEN.items():
            for naam, soort in kolommen:
                if naam not in bestaand[tabel]:
                    conn.execute(text(f"ALTER TABLE {tabel} ADD COLUMN {naam} {soort}"))
