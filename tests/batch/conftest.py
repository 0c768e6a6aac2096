"""A pipeline DB with the synthetic sources, for running chunks in-process (no Airflow).

``batch_world`` runs once on SQLite (marker ``pipeline``) and once on PostgreSQL
for both the pipeline DB and the source systems (marker ``integration``). The
Haal Centraal simulator runs in a thread of the test process, over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, text

from nazorg import migrations, pipeline
from nazorg.batch import chunk
from nazorg.batch.resultaat import ChunkResultaat
from nazorg.connections import http_connection_json
from nazorg.inbox import dien_in, run_key_voor
from nazorg.intake import beoordeel_alle, herkomst_voor, nieuwe_inzending
from nazorg.models import Aandachtsgebied
from nazorg.processing_log import trace_id_for
from nazorg.settings import SOURCE_ROOT, Settings
from nazorg.store import Store, dispose_engines, make_engine
from nazorg.wiring import Runtime, build
from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.population import population
from tests.conftest import TEST_KEY

INBOX_KOLOMMEN = "melding_id, bsn, gemeente_code, reclassering_betrokken, run_key, status"


@dataclass
class BatchWorld:
    rt: Runtime
    tmp: Path
    dialect: str
    bronnen_url: str
    chunks: int = 0
    tijden: dict[str, float] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.rt.store

    @property
    def parquet_dir(self) -> Path:
        return self.tmp / "parquet"

    def submit(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        inzending = nieuwe_inzending()
        numbered = [(herkomst_voor(inzending, n), dict(r)) for n, r in enumerate(records, start=1)]
        judged = beoordeel_alle(numbered, self.rt.policy.melding_velden(), date.today())
        dien_in(self.store, judged, inzending=inzending)
        vul_toestemmingen(self.store, population())  # consent is per melding: after intake
        return [str(r["melding_id"]) for r in records]

    def claim(self, ids: Sequence[str], chunk_id: str) -> None:
        """What core's verzamel does: the chunk holds these meldingen until far in the future."""
        stmt = text(
            "UPDATE inbox SET claim = :claim, claim_tot = '2999-01-01T00:00:00.000+00:00' "
            "WHERE melding_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.store.engine.begin() as conn:
            conn.execute(stmt, {"claim": f"chunk:{chunk_id}", "ids": list(ids)})

    def inbox_rows(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        stmt = text(f"SELECT {INBOX_KOLOMMEN} FROM inbox WHERE melding_id IN :ids ORDER BY melding_id")
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt.bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})
            return [dict(r._mapping) for r in rows]

    def verwerk(
        self,
        ids: Sequence[str],
        herhalingen: Mapping[str, set[str]] | None = None,
        *,
        chunk_id: str | None = None,
        claim: bool = True,
        rt: Runtime | None = None,
    ) -> ChunkResultaat:
        if chunk_id is None:
            self.chunks += 1
            chunk_id = f"b-test-{self.chunks:04d}"
        if claim:
            self.claim(ids, chunk_id)
        return chunk.verwerk(
            rt or self.rt,
            chunk_id,
            self.inbox_rows(ids),
            herhalingen or {},
            parquet_dir=self.parquet_dir,
            metingen=self.tijden,
        )

    def run_per_melding(self, melding_id: str) -> None:
        """The per-melding path, step by step, as tests/pipeline runs it."""
        run_key = run_key_voor(self.store, melding_id)
        assert run_key is not None
        pipeline.ontvang(self.rt, run_key)
        pipeline.plan(self.rt, run_key)
        for gebied in Aandachtsgebied:
            pipeline.voer_checks_uit(self.rt, run_key, gebied, trace_id_for(f"test-{run_key}"))
        pipeline.stel_basisdocument_op(self.rt, run_key)
        pipeline.bewaak(self.rt, run_key)
        pipeline.publiceer(self.rt, run_key, self.tmp / "outbox")

    def scalar(self, sql: str, **params: Any) -> Any:
        stmt = text(sql)
        lists = [k for k, v in params.items() if isinstance(v, list | tuple)]
        if lists:
            stmt = stmt.bindparams(*(bindparam(k, expanding=True) for k in lists))
        with self.store.engine.connect() as conn:
            return conn.execute(stmt, params).scalar_one()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]

    def outbox(self) -> dict[str, dict[str, Any]]:
        return {r["melding_id"]: r for r in self.rows("SELECT * FROM outbox")}

    def outcomes(self, melding_id: str) -> dict[str, tuple[str, str | None]]:
        inhoud = self.outbox()[melding_id]["inhoud"]
        document = json.loads(inhoud)
        return {
            c["check_id"]: (c["uitkomst"], c["reden"])
            for g in document["aandachtsgebieden"]
            for c in g["checks"]
        }


def make_world(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hc_server: HaalCentraalSimServer,
    pipeline_url: str,
    bronnen_url: str,
    project: Path = SOURCE_ROOT,
) -> BatchWorld:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", bronnen_url.replace("postgresql+psycopg", "postgresql"))
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(hc_server.brp_base_url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json(hc_server.reisdocumenten_base_url)
    )
    dispose_engines()
    config = Settings.for_project(project, outbox_dir=tmp_path / "outbox", pseudonym_key_raw=TEST_KEY)
    engine = make_engine(pipeline_url)
    migrations.upgrade(engine)
    store = Store(engine, config.sql_dir)
    return BatchWorld(build(config, store=store), tmp_path, engine.dialect.name, bronnen_url)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.pipeline),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def batch_world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hc_server: HaalCentraalSimServer,
) -> Iterator[BatchWorld]:
    if request.param == "sqlite":
        pipeline_url = f"sqlite:///{tmp_path / 'nazorg.db'}"
        bronnen_url = request.getfixturevalue("sqlite_bronnen")
    else:
        pipeline_url = request.getfixturevalue("fresh_postgres_db")
        bronnen_url = request.getfixturevalue("fresh_postgres_bronnen_db")
        engine = make_engine(bronnen_url)
        vul_bronnen(engine, population(), 1)
        engine.dispose()
    world = make_world(tmp_path, monkeypatch, hc_server, pipeline_url, bronnen_url)
    yield world
    world.store.engine.dispose()
    dispose_engines()


@pytest.fixture
def per_melding_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, batch_world: BatchWorld
) -> Iterator[BatchWorld]:
    """An independent pipeline DB (SQLite) on the same sources: the per-melding side of a comparison."""
    world = make_world(
        tmp_path / "per_melding",
        monkeypatch,
        hc_server,
        f"sqlite:///{tmp_path / 'per_melding.db'}",
        batch_world.bronnen_url,
    )
    yield world
    world.store.engine.dispose()
