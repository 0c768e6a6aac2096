"""Scale-out on Airflow's CeleryExecutor, for real: scheduler, dag-processor, api-server and
two ``airflow celery worker`` processes against the PostgreSQL and Redis on this machine.

Two tests, each with its own throwaway metadata DB, Redis db index (flushed before and
after) and Airflow home, and each stopping everything it started:

* the supervisor's smoke test, on a tiny mapped DAG in a temporary dags folder: both
  workers get tasks, and a task whose worker is SIGKILLed mid-run is retried on the other;
* the ``intake_batch`` DAG over 2,000 simulated meldingen (and 4 invalid ones, refused at
  intake) in chunks of 100, one worker SIGKILLed while a chunk of it is midway (its lease
  renewed, nothing written): the run succeeds, chunks ran on both workers, the killed chunk's
  retry ran on the other worker and wrote what the kill left undone under its own claim, every
  valid melding is published exactly once (one outbox row, versie 1, one Parquet copy, each
  check asked once), no claim is left, and no BSN, melding id or outcome reaches Airflow's
  metadata DB or task logs.

A killed worker's task instance stays ``running`` until the scheduler misses its
heartbeat for ``[scheduler] task_instance_heartbeat_timeout`` (30 s in the embedded
Celery mode), so each kill costs about 40 s of waiting.
"""

from __future__ import annotations

import contextlib
import os
import socket
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from nazorg.airflow.rest import AirflowApi
from nazorg.connections import http_connection_json
from nazorg_dev import airflow_embedded as embedded
from nazorg_dev.airflow_embedded import EmbeddedSettings, worker_node_name
from tests.conftest import REPO, TEST_KEY, postgres_database
from tests.security.procs import LOOPBACK, listeners, umask

pytestmark = pytest.mark.integration

#: Redis db indexes of these tests; `make up-celery` uses 0, other environments others
SMOKE_REDIS_DB = 13
BATCH_REDIS_DB = 14
WORKERS = (1, 2)

SMOKE_DAG_ID = "nazorg_celery_smoke"
SMOKE_DAG = textwrap.dedent(
    f'''
    """Eight mapped tasks of a few seconds each, retried once: enough to keep two workers busy."""

    import time
    from datetime import timedelta

    from airflow.sdk import dag, task


    @dag(dag_id="{SMOKE_DAG_ID}", schedule=None, catchup=False)
    def smoke():
        @task(retries=1, retry_delay=timedelta(seconds=1))
        def work(item: int) -> None:
            time.sleep(8)

        work.expand(item=list(range(8)))


    smoke()
    '''
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_redis(db: int) -> Any:
    """A client on Redis db ``db``; skip (fail under CI=true) when no Redis runs."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable on 127.0.0.1:6379 ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " and CI=true: the Celery tests must run in CI")
        pytest.skip(message)
    return client


def home_processes(home: Path) -> set[int]:
    """Live processes that run in ``home`` or have it as AIRFLOW_HOME (zombies excluded);
    an independent scan, not the supervisor's own bookkeeping."""
    marker = f"AIRFLOW_HOME={home}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if stat[stat.rfind(")") + 2] in "ZX":
                continue
            in_home = Path(entry / "cwd").resolve() == home
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if in_home or marker in environ:
            found.add(int(entry.name))
    return found


def worker_of(hostname: str | None) -> int | None:
    """Which worker a task instance's hostname names (see nazorg_dev.celery_hostname)."""
    for index in WORKERS:
        if hostname == worker_node_name(index):
            return index
    return None


@dataclass
class Cluster:
    settings: EmbeddedSettings
    api: AirflowApi
    metadata_url: str

    def query(self, sql: str, **params: object) -> list[Any]:
        engine = create_engine(self.metadata_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params))
        finally:
            engine.dispose()

    def task_instances(self, dag_id: str, run_id: str, task_id: str) -> list[Any]:
        """Current try of each (mapped) task instance."""
        return self.query(
            "SELECT map_index, state, hostname, try_number FROM task_instance"
            " WHERE dag_id = :d AND run_id = :r AND task_id = :t ORDER BY map_index",
            d=dag_id,
            r=run_id,
            t=task_id,
        )

    def earlier_tries(self, dag_id: str, run_id: str, task_id: str) -> list[Any]:
        return self.query(
            "SELECT map_index, state, hostname, try_number FROM task_instance_history"
            " WHERE dag_id = :d AND run_id = :r AND task_id = :t",
            d=dag_id,
            r=run_id,
            t=task_id,
        )

    def dump(self) -> str:
        """Everything Airflow keeps: every row of every table of its metadata DB (run ids,
        conf, XCom, serialized DAGs) and every path and file under its log folder."""
        parts: list[str] = []
        tables = self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        engine = create_engine(self.metadata_url)
        try:
            with engine.connect() as conn:
                for (table,) in tables:
                    for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                        parts.append(
                            " ".join(
                                bytes(v).decode("utf-8", "replace")
                                if isinstance(v, bytes | memoryview)
                                else str(v)
                                for v in row
                            )
                        )
        finally:
            engine.dispose()
        logs = self.settings.logs_dir
        for path in logs.rglob("*"):
            parts.append(str(path.relative_to(logs)))
            if path.is_file():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop_and_check(self) -> None:
        """Stop everything; no process of this home may remain."""
        home = self.settings.home
        running = home_processes(home)
        leaders = {
            int(self.settings.pid_file(name).read_text().split()[0])
            for name in self.settings.components
            if self.settings.pid_file(name).exists()
        }
        assert leaders, "the scan must see the components it is meant to check"
        embedded.stop(self.settings)
        assert not any(embedded.status(self.settings).values())
        assert not list(self.settings.pids_dir.glob("*.pid"))
        left = home_processes(home) | embedded.processes_of(home)
        assert left == set(), f"left running: {sorted(left)} (of {sorted(running)})"


@contextlib.contextmanager
def cluster(
    root: Path, dags: Path, plugins: Path, redis_db: int, extra_env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """Two Celery workers and the rest on a throwaway metadata DB and a flushed Redis db."""
    broker = require_redis(redis_db)
    broker.flushdb()
    try:
        with postgres_database() as metadata_url:
            settings = EmbeddedSettings(
                home=root / "home",
                dags_folder=dags,
                plugins_folder=plugins,
                port=free_port(),
                log_server_port=free_port(),
                metadata_url=metadata_url,
                executor="celery",
                workers=len(WORKERS),
                worker_concurrency=2,
                redis_db=redis_db,
                extra_env=extra_env or {},
            )
            try:
                creds = embedded.start(settings, timeout_s=360)
                with creds.api(timeout=60) as api:
                    yield Cluster(settings, api, metadata_url)
            finally:
                embedded.stop(settings)
    finally:
        broker.flushdb()
        broker.close()


def wait_until(what: str, check: Callable[[], Any], timeout_s: float, poll_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:g}s")
        time.sleep(poll_s)


def kill_mid_task(
    c: Cluster,
    dag_id: str,
    run_id: str,
    task_id: str,
    midway: Callable[[int], bool] = lambda _map_index: True,
) -> tuple[int, set[int]]:
    """Once both workers have had a task instance of ``task_id``, SIGKILL a worker that is
    running one right now, and for which ``midway(map_index)`` says it is past its start.
    Returns that worker and all the map indexes it was running."""

    def both_busy() -> tuple[int, set[int]] | None:
        tis = c.task_instances(dag_id, run_id, task_id)
        seen = {worker_of(ti.hostname) for ti in tis} - {None}
        running: dict[int, set[int]] = {}
        for ti in tis:
            index = worker_of(ti.hostname)
            if ti.state == "running" and index is not None:
                running.setdefault(index, set()).add(ti.map_index)
        if seen >= set(WORKERS):
            ready = [w for w, indexes in running.items() if any(midway(i) for i in indexes)]
            if ready:
                victim = max(ready, key=lambda w: len(running[w]))
                return victim, running[victim]
        return None

    victim, map_indexes = wait_until(f"both workers busy with {task_id}", both_busy, timeout_s=300)
    embedded.kill_worker(c.settings, victim)
    assert embedded.status(c.settings)[f"worker-{victim}"] is False
    # A task seen running may have reported success between that look and the kill (a loaded
    # machine, staggered tasks): it was not killed and is not retried. The victim reports
    # nothing after the kill, so what is done now was done before it.
    done = {
        ti.map_index
        for ti in c.task_instances(dag_id, run_id, task_id)
        if ti.map_index in map_indexes and ti.state == "success" and ti.try_number == 1
    }
    killed = map_indexes - done
    assert killed, f"every {task_id} the killed worker ran had finished before the kill: nothing was killed"
    return victim, killed


def assert_retried_elsewhere(
    c: Cluster, dag_id: str, run_id: str, task_id: str, victim: int, killed: set[int]
) -> None:
    """The tasks the killed worker was running failed that try and succeeded on the other."""
    current = {ti.map_index: ti for ti in c.task_instances(dag_id, run_id, task_id)}
    earlier = c.earlier_tries(dag_id, run_id, task_id)
    survivor = next(w for w in WORKERS if w != victim)
    for map_index in killed:
        ti = current[map_index]
        assert ti.state == "success"
        assert ti.try_number >= 2, f"{task_id}[{map_index}] was not retried"
        assert worker_of(ti.hostname) == survivor
        tries = [t for t in earlier if t.map_index == map_index]
        assert any(worker_of(t.hostname) == victim and t.state != "success" for t in tries), tries
    # every task instance ran (at least once) on some worker of ours, and both did work
    ran_on = {worker_of(ti.hostname) for ti in current.values()} | {worker_of(t.hostname) for t in earlier}
    assert ran_on == set(WORKERS)


def test_two_workers_share_the_tasks_and_a_killed_workers_task_is_retried_on_the_other(
    tmp_path: Path,
) -> None:
    dags = tmp_path / "dags"
    plugins = tmp_path / "plugins"
    dags.mkdir()
    plugins.mkdir()
    (dags / "smoke.py").write_text(SMOKE_DAG)
    with cluster(tmp_path, dags, plugins, SMOKE_REDIS_DB) as c:
        settings = c.settings
        assert embedded.status(settings) == dict.fromkeys((*embedded.PROCESSES, "worker-1", "worker-2"), True)
        assert embedded.ping_workers(settings) == {worker_node_name(i) for i in WORKERS}
        # every process on loopback only, no task log server, owner-only umask
        running = home_processes(settings.home)
        sockets = listeners(running)
        assert settings.port in {s.port for s in sockets}, "the scan must see the api-server's socket"
        assert {s.address for s in sockets} <= LOOPBACK, sorted(map(str, sockets))
        assert settings.log_server_port not in {s.port for s in sockets}
        assert {umask(pid) for pid in running} == {0o077}

        embedded.wait_for_dag(c.api, SMOKE_DAG_ID, timeout_s=180)
        run_id = "celery-smoke-1"
        assert c.api.trigger(SMOKE_DAG_ID, run_id, {}) == "created"
        victim, killed = kill_mid_task(c, SMOKE_DAG_ID, run_id, "work")
        assert c.api.wait_for_runs(SMOKE_DAG_ID, [run_id], timeout_s=300) == {run_id: "success"}
        assert_retried_elsewhere(c, SMOKE_DAG_ID, run_id, "work", victim, killed)
        # each worker's own log file, and the task logs in the shared folder
        for name in settings.worker_names:
            assert settings.log_file(name).stat().st_size > 0
        assert list(settings.logs_dir.glob(f"dag_id={SMOKE_DAG_ID}/**/*.log"))
        # the metadata dump the batch test's leak scan searches sees runs, workers and task logs
        everything = c.dump()
        assert run_id in everything
        assert worker_node_name(victim) in everything
        assert "attempt=2.log" in everything
        c.stop_and_check()


# -- the intake_batch DAG -------------------------------------------------------

BATCH_DAG_ID = "intake_batch"
BATCH_MELDINGEN = 2000
CHUNK_GROOTTE = 100
#: the lease verzamel gives each claim, and a chunk renews at its start (NAZORG_BATCH_CLAIM_S)
CLAIM_S = 3600
#: rows per published melding in the Parquet output (one per check of the register)
PARQUET_RIJEN_PER_MELDING = 13


@pytest.fixture
def hc_server() -> Iterator[Any]:
    """The local Haal Centraal server, slowed a little so that a chunk runs long enough to be
    caught by the kill."""
    from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

    server = HaalCentraalSimServer(port=0, latency_ms=50)
    server.start()
    yield server
    server.stop()


@dataclass
class Pipeline:
    """The pipeline DB, as the test sees the batch's claims and chunks in it."""

    engine: Any

    def rows(self, sql: str, **params: object) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def chunk_ids(self) -> list[str]:
        """The one batch's chunk ids in map-index order (verzamel returns them by volgnummer)."""
        rows = self.rows("SELECT chunk_id, batch_id FROM batch_chunk ORDER BY volgnummer")
        assert len({batch for _, batch in rows}) <= 1, "one batch only in this test"
        return [chunk for chunk, _ in rows]

    def midway(self, chunk_id: str) -> bool:
        """Has this chunk's task started work (renewed the lease verzamel gave its claims: see
        sql/batch/chunk_verleng.sql) and not yet written (it still holds claims)?"""
        from nazorg.batch.verzamel import chunk_claim, tijdstip

        rows = self.rows(
            "SELECT c.aangemaakt_op, i.claim_tot FROM batch_chunk c"
            " JOIN inbox i ON i.claim = :claim WHERE c.chunk_id = :chunk_id",
            claim=chunk_claim(chunk_id),
            chunk_id=chunk_id,
        )
        if not rows:
            return False
        verzamel_lease = tijdstip(datetime.fromisoformat(rows[0][0]) + timedelta(seconds=CLAIM_S))
        return all(claim_tot > verzamel_lease for _, claim_tot in rows)

    def held(self, chunk_id: str) -> int:
        from nazorg.batch.verzamel import chunk_claim

        [(aantal,)] = self.rows("SELECT count(*) FROM inbox WHERE claim = :c", c=chunk_claim(chunk_id))
        return int(aantal)


def test_intake_batch_spreads_chunks_over_both_workers_and_survives_a_killed_worker(
    tmp_path: Path, hc_server: Any
) -> None:
    """The intake_batch DAG (verzamel -> verwerk_chunk mapped over chunk ids -> sluit_batch) on
    two Celery workers; one is SIGKILLed while a chunk of it is midway (started, not written).

    The killed chunk comes back only because ``verwerk_chunk`` has retries and the retry takes
    over its own chunk's claim (``chunk:<chunk_id>``, whose lease another batch would wait for).
    """
    from nazorg import migrations
    from nazorg.inbox import dien_in
    from nazorg.intake import beoordeel_alle, herkomst_voor, nieuwe_inzending
    from nazorg.processing_log import trace_id_for
    from nazorg.register import default_policy
    from nazorg.store import Store, dispose_engines, make_engine
    from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
    from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen
    from nazorg_dev.sim.population import population

    records = list(meldingen(BATCH_MELDINGEN))
    ongeldig = ongeldige_meldingen()  # refused at intake: never in the inbox, never published
    valid = {r["melding_id"] for r in records}
    bsns = {r["bsn"] for r in records + ongeldig}
    with postgres_database() as pipeline_url, postgres_database() as bronnen_url:
        bron_engine = make_engine(bronnen_url)
        vul_bronnen(bron_engine, population(), 1)
        bron_engine.dispose()
        engine = make_engine(pipeline_url)
        migrations.upgrade(engine)
        store = Store(engine)
        inzending = nieuwe_inzending()
        numbered = [(herkomst_voor(inzending, n), r) for n, r in enumerate(records + ongeldig, start=1)]
        judged = beoordeel_alle(numbered, default_policy().melding_velden(), date.today())
        ingediend = dien_in(store, judged, inzending=inzending)
        assert ingediend.aantallen["opgeslagen"] == BATCH_MELDINGEN
        vul_toestemmingen(store, population())  # consent is per melding: after intake
        assert ingediend.aantallen["quarantaine"] == len(ongeldig)
        pipeline = Pipeline(engine)

        base = hc_server.brp_base_url.rsplit("/haalcentraal", 1)[0]
        env = {
            "AIRFLOW_CONN_NAZORG_DB": pipeline_url.replace("postgresql+psycopg", "postgresql"),
            "AIRFLOW_CONN_NAZORG_BRONNEN": bronnen_url.replace("postgresql+psycopg", "postgresql"),
            "AIRFLOW_CONN_HAAL_CENTRAAL_BRP": http_connection_json(f"{base}/haalcentraal/api/brp"),
            "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN": http_connection_json(
                f"{base}/haalcentraal/api/reisdocumenten"
            ),
            "NAZORG_PSEUDONIEM_SLEUTEL": TEST_KEY,
            "NAZORG_OUTBOX_DIR": str(tmp_path / "outbox"),
            "NAZORG_REGISTER_DIR": str(REPO / "register"),
            "NAZORG_SQL_DIR": str(REPO / "sql"),
            "NAZORG_BATCH_CHUNK_GROOTTE": str(CHUNK_GROOTTE),
            "NAZORG_BATCH_CLAIM_S": str(CLAIM_S),
            # trigger-only: a scheduled run next to ours would claim the meldingen first
            "NAZORG_BATCH_SCHEDULE": "none",
            "NAZORG_PARQUET_DIR": str(tmp_path / "parquet"),
            "GX_ANALYTICS_ENABLED": "False",
        }
        with cluster(tmp_path, REPO / "dags", REPO / "plugins", BATCH_REDIS_DB, env) as c:
            dag = embedded.wait_for_dag(c.api, BATCH_DAG_ID, timeout_s=180)
            assert dag.get("timetable_summary") in (None, "None"), "a schedule would race our run"
            c.api.unpause(BATCH_DAG_ID)
            # the DAG takes only run ids Airflow generated (nazorg.airflow.conf_guard)
            run_id = c.api.trigger_generated(BATCH_DAG_ID)

            def midway(map_index: int) -> bool:
                chunk_ids = pipeline.chunk_ids()
                return map_index < len(chunk_ids) and pipeline.midway(chunk_ids[map_index])

            victim, killed = kill_mid_task(c, BATCH_DAG_ID, run_id, "verwerk_chunk", midway)
            gekild_op = datetime.now(UTC)
            chunk_ids = pipeline.chunk_ids()
            assert len(chunk_ids) == BATCH_MELDINGEN // CHUNK_GROOTTE
            # the killed worker's processes are gone: what its chunks still hold, they left undone
            half = {chunk_ids[i] for i in killed if pipeline.held(chunk_ids[i])}
            assert half, "the kill must catch a chunk before it wrote"

            assert c.api.wait_for_runs(BATCH_DAG_ID, [run_id], timeout_s=900) == {run_id: "success"}
            chunks = c.task_instances(BATCH_DAG_ID, run_id, "verwerk_chunk")
            assert len(chunks) == len(chunk_ids)
            assert {ti.state for ti in chunks} == {"success"}
            assert_retried_elsewhere(c, BATCH_DAG_ID, run_id, "verwerk_chunk", victim, killed)

            # every chunk done, every valid melding published and no claim left behind
            assert {status for (status,) in pipeline.rows("SELECT status FROM batch_chunk")} == {"klaar"}
            inbox = pipeline.rows("SELECT melding_id, status, claim FROM inbox")
            assert {m for m, _, _ in inbox} == valid
            assert {(s, claim) for _, s, claim in inbox} == {("gepubliceerd", None)}
            # ... exactly once: one outbox row each, as its first version
            published = pipeline.rows("SELECT melding_id, versie, gepubliceerd_op FROM outbox")
            assert len(published) == len(valid)
            assert {m for m, _, _ in published} == valid
            assert {v for _, v, _ in published} == {1}
            # ... and processed once: one processing-log record per check asked, all under the
            # trace of the melding's own chunk (a chunk run twice, or by another batch, shows here)
            log = pipeline.rows("SELECT trace_id, name FROM verwerkingslog")
            assert log, "the checks must have asked sources"
            assert len(log) == len(set(log)), "a check was asked twice for a melding"
            per_chunk = pipeline.rows("SELECT chunk_id, melding_id FROM batch_chunk_melding")
            assert sorted(m for _, m in per_chunk) == sorted(valid)
            traces = {trace_id_for(f"batch:{chunk}:{m}"): (chunk, m) for chunk, m in per_chunk}
            assert {t for t, _ in log} <= set(traces)
            assert {traces[t][1] for t, _ in log} >= {m for chunk, m in per_chunk if chunk in half}
            # the chunks the kill left half done were written by their retry, after the kill
            retried = {m for chunk, m in per_chunk if chunk in half}
            when = {m: datetime.fromisoformat(op) for m, _, op in published}
            assert retried and all(when[m] > gekild_op for m in retried)
            # the Parquet output: each valid melding in exactly one file, its rows once, versie 1
            import pyarrow.parquet as pq

            parquet = tmp_path / "parquet"
            assert not list(parquet.rglob(".*.tmp")), "a written chunk leaves no temporary file"
            rows_per_melding: Counter[str] = Counter()
            versies: set[int] = set()
            for path in parquet.rglob("*.parquet"):
                tabel = pq.ParquetFile(path).read(columns=["melding_id", "versie"]).to_pydict()
                rows_per_melding.update(tabel["melding_id"])
                versies.update(tabel["versie"])
            assert set(rows_per_melding) == valid
            assert set(rows_per_melding.values()) == {PARQUET_RIJEN_PER_MELDING}
            assert versies == {1}

            # the leak scan: no BSN, melding id or outcome's contact in Airflow's keeping
            contacts = {
                contact
                for (contact,) in pipeline.rows(
                    "SELECT DISTINCT dossierverantwoordelijke FROM uitkomst"
                    " WHERE dossierverantwoordelijke IS NOT NULL"
                )
            }
            everything = c.dump()
            assert run_id in everything and all(chunk_id in everything for chunk_id in chunk_ids), (
                "the scan must see what Airflow does keep (the run and the chunk ids it mapped over)"
            )
            assert "attempt=2.log" in everything, "the scan must see the retried chunk's log"
            assert contacts, "the run should have produced contacts to search for"
            assert not [bsn for bsn in bsns if bsn in everything]
            assert not [m for m in valid | {r["melding_id"] for r in ongeldig} if m in everything]
            for contact in contacts:
                assert contact not in everything, "an outcome's contact leaked into Airflow"
            c.stop_and_check()
        engine.dispose()
        dispose_engines()
