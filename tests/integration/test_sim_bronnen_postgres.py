"""The simulated bronnen load into PostgreSQL through COPY, with the same rows as anywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg.store import make_engine
from nazorg_dev.sim.bronnen import rows_for, vul_bronnen
from nazorg_dev.sim.population import population

pytestmark = pytest.mark.integration


def _inhoud(url: str, tables: list[str]) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = {}
            for table in tables:
                rows = conn.execute(text(f"SELECT * FROM {table}"))
                found[table] = sorted(tuple(str(v) for v in row) for row in rows)
            return found
    finally:
        engine.dispose()


def test_copy_into_postgresql_loads_what_sqlite_gets(fresh_postgres_bronnen_db: str, tmp_path: Path) -> None:
    people = population(size=3000)
    pg = make_engine(fresh_postgres_bronnen_db)
    sqlite_url = f"sqlite:///{tmp_path / 'bronnen.db'}"
    lite = make_engine(sqlite_url)
    try:
        counts = vul_bronnen(pg, people, 1)
        assert counts == vul_bronnen(lite, people, 1)
        assert counts == {table: len(rows) for table, rows in rows_for(people, 1).items()}
        assert counts["wi_uitkeringen"] > 1000
        assert vul_bronnen(pg, people, 1) == counts  # re-run: recreated, not doubled
    finally:
        pg.dispose()
        lite.dispose()
    tables = sorted(counts)
    assert _inhoud(fresh_postgres_bronnen_db, tables) == _inhoud(sqlite_url, tables)
