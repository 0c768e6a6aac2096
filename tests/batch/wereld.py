"""A runtime on an empty, migrated pipeline DB, once on SQLite and once on PostgreSQL; no sources.

A fixture module, not a conftest: test modules import ``wereld`` from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import migrations
from nazorg.inbox import dien_in, run_key_voor
from nazorg.intake import beoordeel_alle, herkomst_voor, nieuwe_inzending
from nazorg.settings import SOURCE_ROOT, Settings
from nazorg.store import Store, dispose_engines, make_engine
from nazorg.wiring import Runtime, build
from tests.conftest import TEST_KEY


def _geen_bronnen() -> AbstractContextManager[Any]:
    raise AssertionError("claims and chunks ask no source")


class Batchwereld:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def store(self) -> Store:
        return self.rt.store

    def submit(self, records: list[dict[str, Any]]) -> list[str]:
        inzending = nieuwe_inzending()
        numbered = [(herkomst_voor(inzending, n), r) for n, r in enumerate(records, start=1)]
        judged = beoordeel_alle(numbered, self.rt.policy.melding_velden(), date.today())
        dien_in(self.store, judged, inzending=inzending)
        return [str(r["melding_id"]) for r in records]

    def key(self, melding_id: str) -> str:
        key = run_key_voor(self.store, melding_id)
        assert key is not None
        return key

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def sql(self, sql: str, **params: Any) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(text(sql), params)

    def inbox(self, melding_id: str) -> tuple[str, str | None]:
        ((status, claim),) = self.rows("SELECT status, claim FROM inbox WHERE melding_id = :m", m=melding_id)
        return status, claim


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def wereld(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Batchwereld]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nazorg.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_db")
    dispose_engines()
    engine = make_engine(url)
    migrations.upgrade(engine)
    config = Settings.for_project(SOURCE_ROOT, outbox_dir=tmp_path / "outbox", pseudonym_key_raw=TEST_KEY)
    yield Batchwereld(build(config, store=Store(engine, config.sql_dir), sources=_geen_bronnen))
    engine.dispose()
    dispose_engines()
