"""Per-melding latency with the real scheduler, against Airflow's floor (issue 7, benchmark 2).

For each metadata database (the embedded SQLite default, and PostgreSQL in
throwaway databases) this starts the embedded Airflow exactly as ``make demo``
does (:mod:`nazorg_dev.airflow_embedded`: api-server, scheduler, dag-processor,
LocalExecutor), the local Haal Centraal server and the simulated bronnen, and
submits meldingen from the simulator to the inbox. Then it measures, from the
moment the REST trigger is sent (``trigger_all``, the call ``nazorg melding
indienen --trigger`` and the demo make) to the moment the basisdocument is
published (``outbox.gepubliceerd_op``, written in the publication's transaction):

* ``sequentieel``: meldingen one at a time (trigger, wait for the run to end, next);
* ``burst``: a burst triggered back to back, each melding from its own trigger;
  plus the time until all are published and a check that none was lost or doubled.

In the same run the empty DAG ``bench_leeg`` (``bench/dags/``: the same task
shape, every task a no-op) is triggered the same way, interleaved with the
real runs when sequential; its "published" moment is the run's end. The ratio
of the p95s is the pipeline's cost over Airflow's floor. Task instance times
from the Airflow API show where the time goes.

The DAGs folder is a temporary directory holding copies of
``dags/eerstedagsmelding.py`` and ``bench/dags/bench_leeg.py``, so the bench DAG
never enters the project's ``dags/``. Everything the benchmark starts is stopped
and every database it created is dropped, however it ends.

    python bench/latency.py                          # 10 sequential + burst of 50, SQLite and PostgreSQL
    python bench/latency.py --alleen-sqlite --n 3 --burst 5   # a quick smoke run
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from _record import REPO, begin, command_line, record

REAL_DAG = "eerstedagsmelding"
EMPTY_DAG = "bench_leeg"
PG_ADMIN_URL = os.environ.get(
    "NAZORG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHECK_STAGE = "check_"
#: the stages of one run in order; the check tasks form one stage (they run in parallel)
STAGES = ("ontvang", "plan", CHECK_STAGE, "basisdocument", "bewaak", "publiceer")


def log(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", flush=True)


def parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# -- statistics -----------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); exact min/max at 0 and 100."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min s": min(values),
        "median s": statistics.median(values),
        "p95 s": percentile(values, 95),
        "max s": max(values),
    }


# -- the environment --------------------------------------------------------------


@dataclass
class Backend:
    """Where Airflow's metadata and the pipeline's databases live for one part of the run."""

    name: str
    metadata_url: str | None = None
    pipeline_url: str | None = None
    bronnen_url: str | None = None
    created: list[str] = field(default_factory=list)


@contextmanager
def postgres_backend() -> Iterator[Backend]:
    """Three throwaway PostgreSQL databases (Airflow metadata, pipeline, bronnen); dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    tag = uuid.uuid4().hex[:8]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    backend = Backend("postgresql")
    try:
        urls = {}
        for part in ("meta", "pipeline", "bronnen"):
            name = f"nazorg_bench_{tag}_{part}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            backend.created.append(name)
            urls[part] = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        backend.metadata_url = urls["meta"]
        # the pipeline reads connections the way Airflow writes them: postgresql://
        backend.pipeline_url = urls["pipeline"].replace("postgresql+psycopg://", "postgresql://")
        backend.bronnen_url = urls["bronnen"].replace("postgresql+psycopg://", "postgresql://")
        yield backend
    finally:
        from nazorg.store import dispose_engines

        dispose_engines()
        for name in backend.created:  # only what this run created
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    yield Backend("sqlite")


def refresh() -> None:
    """This process now runs under new connections: forget settings, runtime and engines."""
    from nazorg import wiring
    from nazorg.settings import reload_settings
    from nazorg.store import dispose_engines

    reload_settings()
    wiring.reset()
    dispose_engines()


@dataclass
class Environment:
    base: Path
    api: Any
    settings: Any


@contextmanager
def environment(backend: Backend, base: Path) -> Iterator[Environment]:
    """The embedded default as ``make demo`` brings it up, with a dags folder of our own."""
    from nazorg import migrations
    from nazorg.connections import NAZORG_BRONNEN, NAZORG_DB
    from nazorg.store import Store, engine_for
    from nazorg_dev import demo
    from nazorg_dev.airflow_embedded import EmbeddedSettings, owner_only, start, stop
    from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
    from nazorg_dev.sim.population import DEFAULT_SEED, population

    with owner_only():
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        dags = base / "dags"
        dags.mkdir(mode=0o700, exist_ok=True)
        shutil.copy(REPO / "dags" / f"{REAL_DAG}.py", dags / f"{REAL_DAG}.py")
        shutil.copy(REPO / "bench" / "dags" / f"{EMPTY_DAG}.py", dags / f"{EMPTY_DAG}.py")
        hc_port = demo._free_port()
        env = demo.environment(base, hc_port)
        if backend.pipeline_url:
            env["AIRFLOW_CONN_NAZORG_DB"] = backend.pipeline_url
        if backend.bronnen_url:
            env["AIRFLOW_CONN_NAZORG_BRONNEN"] = backend.bronnen_url
        settings = EmbeddedSettings(
            home=base / "airflow",
            dags_folder=dags,
            port=demo._free_port(),
            log_server_port=demo._free_port(),
            metadata_url=backend.metadata_url,
            extra_env=env,
        )
        try:
            os.environ.update(env)
            refresh()
            demo._start_haal_centraal(base, hc_port, env)
            migrations.upgrade(engine_for(NAZORG_DB))
            people = population()
            vul_bronnen(engine_for(NAZORG_BRONNEN), people, DEFAULT_SEED)
            vul_toestemmingen(Store.from_connection(), people)  # per melding: again after each submit
            log(f"{backend.name}: Airflow starten ({'PostgreSQL' if backend.metadata_url else 'SQLite'})")
            creds = start(settings, timeout_s=300)
            with creds.api(timeout=60) as api:
                yield Environment(base, api, settings)
        finally:
            stop(settings)
            demo._stop_haal_centraal(base)
            refresh()


def submit(count: int, offset: int) -> list[tuple[str, str]]:
    """``count`` valid meldingen from the simulator into the inbox; (melding_id, run_key) each."""
    from nazorg.inbox import dien_in, run_key_voor
    from nazorg.intake import beoordeel_alle, decode, nieuwe_inzending
    from nazorg.wiring import runtime
    from nazorg_dev.sim.meldingen import meldingen

    records = list(meldingen(count, offset=offset))
    payload = "".join(json.dumps(r) + "\n" for r in records).encode()
    rt = runtime()
    inzending = nieuwe_inzending()
    beoordelingen = beoordeel_alle(decode(payload, inzending), rt.policy.melding_velden(), date.today())
    result = dien_in(rt.store, beoordelingen, inzending=inzending)
    from nazorg_dev.sim.bronnen import vul_toestemmingen
    from nazorg_dev.sim.population import population

    vul_toestemmingen(rt.store, population())  # consent is per melding: after intake
    pairs = [(m, k) for m in dict.fromkeys(result.melding_ids) if (k := run_key_voor(rt.store, m))]
    if len(pairs) != count:
        raise RuntimeError(f"{count} meldingen ingediend, {len(pairs)} in de inbox: {dict(result.aantallen)}")
    return pairs


# -- triggering and waiting -------------------------------------------------------


def trigger(api: Any, dag_id: str, key: str) -> tuple[float, str]:
    """Trigger one run as ``trigger_all`` does (run id = conf's run key); (sent at, created/exists)."""
    from nazorg.airflow.trigger import trigger_all
    from nazorg.run_key import CONF_KEY

    sent = time.time()
    # trigger_all is bound to the eerstedagsmelding DAG; the empty DAG gets the very call it makes
    answer = trigger_all(api, [key])[key] if dag_id == REAL_DAG else api.trigger(dag_id, key, {CONF_KEY: key})
    return sent, answer


def runs_of(api: Any, dag_id: str) -> dict[str, dict[str, Any]]:
    """Every run of ``dag_id`` by run id (one paged call: cheap enough to poll)."""
    return {r["dag_run_id"]: r for r in api._paged(f"/dags/{dag_id}/dagRuns", "dag_runs")}


def wait_runs(
    api: Any, dag_id: str, run_ids: Sequence[str], timeout_s: float, poll_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    wanted = set(run_ids)
    while True:
        runs = runs_of(api, dag_id)
        if all(runs.get(r, {}).get("state") in ("success", "failed") for r in wanted):
            return {r: runs[r] for r in run_ids}
        if time.monotonic() > deadline:
            pending = [r for r in wanted if runs.get(r, {}).get("state") not in ("success", "failed")]
            raise TimeoutError(f"{len(pending)} run(s) of {dag_id} unfinished after {timeout_s:.0f}s")
        time.sleep(poll_s)


def task_instances(api: Any, dag_id: str) -> dict[str, list[dict[str, Any]]]:
    """Task instances of every run of ``dag_id``, by run id."""
    by_run: dict[str, list[dict[str, Any]]] = {}
    for ti in api._paged(f"/dags/{dag_id}/dagRuns/~/taskInstances", "task_instances"):
        by_run.setdefault(ti["dag_run_id"], []).append(ti)
    return by_run


def published() -> dict[str, float]:
    """``gepubliceerd_op`` per melding id, from the pipeline DB's outbox."""
    from nazorg.wiring import runtime

    return {
        r["melding_id"]: parse_time(r["gepubliceerd_op"]) or math.nan
        for r in runtime().store.query("outbox_list")
    }


# -- one measurement ----------------------------------------------------------------


@dataclass
class Sample:
    dag_id: str
    key: str
    melding_id: str | None
    sent: float
    answer: str
    run: dict[str, Any] = field(default_factory=dict)
    done: float | None = None  # published (real DAG) or run end (empty DAG)

    @property
    def run_end(self) -> float | None:
        return parse_time(self.run.get("end_date"))

    @property
    def latency(self) -> float | None:
        return None if self.done is None else self.done - self.sent


def fake_keys(count: int) -> list[str]:
    from nazorg.run_key import nieuwe_run_key

    return [nieuwe_run_key() for _ in range(count)]


def finish(samples: list[Sample], runs: dict[str, Any]) -> None:
    outbox = published()
    for s in samples:
        s.run = runs.get(s.key, {})
        if s.dag_id == REAL_DAG:
            moment = outbox.get(s.melding_id or "")
            s.done = None if moment is None or math.isnan(moment) else moment
        else:
            s.done = s.run_end if s.run.get("state") == "success" else None


def sequential(env: Environment, real: list[tuple[str, str]], timeout_s: float) -> list[Sample]:
    """One at a time, alternating the real and the empty DAG so both see the same background load."""
    samples: list[Sample] = []
    for (melding_id, key), empty_key in zip(real, fake_keys(len(real)), strict=True):
        for dag_id, k, m in ((REAL_DAG, key, melding_id), (EMPTY_DAG, empty_key, None)):
            sent, answer = trigger(env.api, dag_id, k)
            runs = wait_runs(env.api, dag_id, [k], timeout_s, poll_s=0.2)
            sample = Sample(dag_id, k, m, sent, answer)
            finish([sample], runs)
            samples.append(sample)
            log(f"  {dag_id}: {sample.run.get('state')} in {sample.latency or math.nan:.1f} s")
    return samples


def burst(
    env: Environment, dag_id: str, pairs: list[tuple[str | None, str]], timeout_s: float
) -> list[Sample]:
    """Trigger every run back to back, then wait for all of them."""
    samples = [Sample(dag_id, key, m, *trigger(env.api, dag_id, key)) for m, key in pairs]
    log(f"  {dag_id}: {len(samples)} getriggerd in {samples[-1].sent - samples[0].sent:.1f} s; wachten ...")
    runs = wait_runs(env.api, dag_id, [s.key for s in samples], timeout_s, poll_s=1.0)
    finish(samples, runs)
    return samples


# -- checks and breakdown --------------------------------------------------------------


def burst_integrity(
    env: Environment, samples: list[Sample], tis: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Lost: a triggered melding without a successful run or without its outbox row and file.
    Doubled: a trigger that hit an existing run, more than one run per key, a publiceer task
    that ran more than once (a re-publication), or more than one outbox file for a key."""
    from nazorg.wiring import runtime

    keys = [s.key for s in samples]
    runs = runs_of(env.api, REAL_DAG)
    outbox = {r["melding_id"]: r for r in runtime().store.query("outbox_list")}
    outbox_dir = Path(os.environ["NAZORG_OUTBOX_DIR"])
    files = Counter(p.stem for p in outbox_dir.rglob("*.json"))
    lost = sum(
        1
        for s in samples
        if runs.get(s.key, {}).get("state") != "success" or s.melding_id not in outbox or files[s.key] < 1
    )
    publications = {
        ti["dag_run_id"]: int(ti.get("try_number") or 0)
        for k in keys
        for ti in tis.get(k, [])
        if ti["task_id"] == "publiceer"
    }
    doubled = (
        sum(1 for s in samples if s.answer != "created")
        + (len(keys) - len(set(keys)))
        + sum(1 for k in keys if publications.get(k, 0) > 1)
        + sum(1 for k in keys if files[k] > 1)
    )
    return {
        "triggered": len(samples),
        "published": sum(1 for s in samples if s.done is not None),
        "lost": lost,
        "doubled": doubled,
    }


def breakdown(samples: list[Sample], tis: dict[str, list[dict[str, Any]]]) -> list[dict[str, object]]:
    """Median per phase of a run: where the time goes between trigger and end."""
    phases: dict[str, list[float]] = {}

    def add(name: str, value: float | None) -> None:
        if value is not None and not math.isnan(value):
            phases.setdefault(name, []).append(value)

    for s in samples:
        instances = tis.get(s.key, [])
        start = parse_time(s.run.get("start_date"))
        if not instances or start is None or s.run_end is None:
            continue
        stage_spans = []
        for stage in STAGES:
            members = [
                ti
                for ti in instances
                if ti["task_id"] == stage or (stage == CHECK_STAGE and ti["task_id"].startswith(stage))
            ]
            begins = [parse_time(ti.get("start_date")) for ti in members]
            ends = [parse_time(ti.get("end_date")) for ti in members]
            if not members or None in begins or None in ends:
                break
            stage_spans.append((min(b for b in begins if b), max(e for e in ends if e)))
        else:
            busy = sum(e - b for b, e in stage_spans)
            gaps = sum(nb - pe for (_, pe), (nb, _) in itertools.pairwise(stage_spans))
            add("trigger → run start", start - s.sent)
            add("run start → first task start", stage_spans[0][0] - start)
            add("inside tasks (6 stages, checks as one)", busy)
            # the six checks wait for executor slots (4 on SQLite), so their span includes queueing
            add(
                "  of which the check stage (first check start → last end)",
                stage_spans[2][1] - stage_spans[2][0],
            )
            add("between stages (schedule + queue + start)", gaps)
            add("last task end → run end", s.run_end - stage_spans[-1][1])
            if s.done is not None:
                add("trigger → published/end", s.done - s.sent)
    return [{"phase": name, "median s": statistics.median(v), "n": len(v)} for name, v in phases.items()]


def per_task(samples: list[Sample], tis: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Median duration and median queued → start per task id."""
    durations: dict[str, list[float]] = {}
    queue: dict[str, list[float]] = {}
    for s in samples:
        for ti in tis.get(s.key, []):
            b, e, q = (parse_time(ti.get(k)) for k in ("start_date", "end_date", "queued_when"))
            if b is not None and e is not None:
                durations.setdefault(ti["task_id"], []).append(e - b)
            if b is not None and q is not None:
                queue.setdefault(ti["task_id"], []).append(b - q)
    return {
        t: {"duration": statistics.median(d), "queued → start": statistics.median(queue.get(t, [math.nan]))}
        for t, d in durations.items()
    }


# -- one backend ----------------------------------------------------------------------


def run_backend(backend: Backend, n: int, burst_size: int, timeout_s: float, keep: bool) -> dict[str, Any]:
    from nazorg_dev.airflow_embedded import wait_for_dag

    base = Path(tempfile.mkdtemp(prefix=f"nazorg-bench-{backend.name}-"))
    try:
        with environment(backend, base) as env:
            wait_for_dag(env.api, REAL_DAG, timeout_s=180)
            wait_for_dag(env.api, EMPTY_DAG, timeout_s=180)
            real = submit(n + burst_size, offset=0)
            seq_pairs, burst_pairs = real[:n], real[n:]
            # one warm-up run of each, not measured: the first run pays one-off costs
            # (first DAG serialisation fetch, first connection to the pipeline DB)
            log(f"{backend.name}: opwarmen")
            warm = submit(1, offset=n + burst_size)
            sequential(env, warm, timeout_s)
            log(f"{backend.name}: {n} sequentieel (afwisselend echt en leeg)")
            seq = sequential(env, seq_pairs, timeout_s)
            log(f"{backend.name}: burst van {burst_size} (echt)")
            burst_real = burst(env, REAL_DAG, [(m, k) for m, k in burst_pairs], timeout_s)
            log(f"{backend.name}: burst van {burst_size} (leeg)")
            burst_empty = burst(env, EMPTY_DAG, [(None, k) for k in fake_keys(burst_size)], timeout_s)
            tis = {**task_instances(env.api, REAL_DAG), **task_instances(env.api, EMPTY_DAG)}
            integrity = burst_integrity(env, burst_real, tis)
            return {
                "seq": seq,
                "burst_real": burst_real,
                "burst_empty": burst_empty,
                "tis": tis,
                "integrity": integrity,
            }
    finally:
        if keep:
            log(f"bewaard: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def latencies(samples: Sequence[Sample], dag_id: str) -> list[float]:
    return [s.latency for s in samples if s.dag_id == dag_id and s.latency is not None]


def rows_for(backend: str, result: dict[str, Any]) -> tuple[list[dict[str, object]], dict[str, object]]:
    rows: list[dict[str, object]] = []
    ratios: dict[str, object] = {}
    for label, real_samples, empty_samples in (
        ("sequentieel", result["seq"], result["seq"]),
        ("burst", result["burst_real"], result["burst_empty"]),
    ):
        real = latencies(real_samples, REAL_DAG)
        empty = latencies(empty_samples, EMPTY_DAG)
        for dag_id, values, samples in ((REAL_DAG, real, real_samples), (EMPTY_DAG, empty, empty_samples)):
            mine = [s for s in samples if s.dag_id == dag_id]
            failed = sum(1 for s in mine if s.run.get("state") != "success")
            row: dict[str, object] = {"metadata": backend, "mode": label, "dag": dag_id, **summary(values)}
            row["failed"] = failed
            if label == "burst" and mine:
                ends = [s.done for s in mine if s.done is not None]
                row["all done s"] = (max(ends) - mine[0].sent) if ends and len(ends) == len(mine) else None
            rows.append(row)
        if real and empty:
            ratios[f"{backend} {label}"] = percentile(real, 95) / percentile(empty, 95)
    return rows, ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10, help="meldingen one at a time (default 10)")
    parser.add_argument("--burst", type=int, default=50, help="meldingen triggered together (default 50)")
    parser.add_argument("--alleen-sqlite", action="store_true", help="skip the PostgreSQL part")
    parser.add_argument("--alleen-postgres", action="store_true", help="skip the SQLite part")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for a set of runs")
    parser.add_argument("--results", type=Path, default=None, help="results file (default bench/results.md)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary environments (logs)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.burst < 1:
        parser.error("--n and --burst must be at least 1")

    from nazorg_dev.airflow_embedded import (
        POSTGRES_MAX_ACTIVE_RUNS_PER_DAG,
        POSTGRES_PARALLELISM,
        SQLITE_MAX_ACTIVE_RUNS_PER_DAG,
        SQLITE_PARALLELISM,
    )

    started = begin()
    backends = []
    if not args.alleen_postgres:
        backends.append(("sqlite", sqlite_backend))
    if not args.alleen_sqlite:
        backends.append(("postgresql", postgres_backend))

    rows: list[dict[str, object]] = []
    ratios: dict[str, object] = {}
    integrity: list[dict[str, object]] = []
    phases: list[dict[str, object]] = []
    tasks: list[dict[str, object]] = []
    for name, make in backends:
        with make() as backend:
            result = run_backend(backend, args.n, args.burst, args.timeout, args.keep)
        r, q = rows_for(name, result)
        rows += r
        ratios.update(q)
        integrity.append({"metadata": name, **result["integrity"]})
        seq = result["seq"]
        real_phases = {
            p["phase"]: p for p in breakdown([s for s in seq if s.dag_id == REAL_DAG], result["tis"])
        }
        empty_phases = {
            p["phase"]: p for p in breakdown([s for s in seq if s.dag_id == EMPTY_DAG], result["tis"])
        }
        for phase in dict.fromkeys([*real_phases, *empty_phases]):
            phases.append(
                {
                    "metadata": name,
                    "phase (sequential runs)": phase,
                    f"{REAL_DAG} median s": real_phases.get(phase, {}).get("median s"),
                    f"{EMPTY_DAG} median s": empty_phases.get(phase, {}).get("median s"),
                }
            )
        real_tasks = per_task([s for s in seq if s.dag_id == REAL_DAG], result["tis"])
        empty_tasks = per_task([s for s in seq if s.dag_id == EMPTY_DAG], result["tis"])
        for task_id in real_tasks:
            tasks.append(
                {
                    "metadata": name,
                    "task": task_id,
                    "real duration s": real_tasks[task_id]["duration"],
                    "empty duration s": empty_tasks.get(task_id, {}).get("duration"),
                    "real queued→start s": real_tasks[task_id]["queued → start"],
                    "empty queued→start s": empty_tasks.get(task_id, {}).get("queued → start"),
                }
            )

    parameters: dict[str, object] = {
        "sequential": f"{args.n} per DAG, one at a time, real and empty alternating "
        "(after 1 unmeasured warm-up each)",
        "burst": f"{args.burst} per DAG, triggered back to back through the REST API, then waited for",
        "executor": "LocalExecutor (embedded default)",
        "limits": (
            f"SQLite: parallelism {SQLITE_PARALLELISM}, "
            f"max_active_runs_per_dag {SQLITE_MAX_ACTIVE_RUNS_PER_DAG}; "
            f"PostgreSQL: parallelism {POSTGRES_PARALLELISM}, "
            f"max_active_runs_per_dag {POSTGRES_MAX_ACTIVE_RUNS_PER_DAG}"
        ),
        "databases": "sqlite: Airflow metadata, pipeline DB and bronnen in SQLite; "
        "postgresql: all three in throwaway PostgreSQL databases on 127.0.0.1",
        "latency": f"trigger sent → outbox.gepubliceerd_op ({REAL_DAG}); "
        f"trigger sent → run end_date ({EMPTY_DAG})",
        "p95": "linear interpolation between closest ranks",
        **{f"p95 ratio real/empty ({k})": v for k, v in ratios.items()},
    }
    path = record(
        "Per-melding latency (bench/latency.py)",
        parameters,
        rows,
        started=started,
        tables={
            "Burst: lost or doubled (lost = no successful run, outbox row or file; doubled = trigger hit an "
            "existing run, publiceer ran twice, or two files for one run key)": integrity,
            "Where the time goes (sequential runs, medians, from task instance times)": phases,
            "Per task (sequential runs, medians)": tasks,
        },
        command=command_line(["bench/latency.py", *(sys.argv[1:] if argv is None else argv)]),
        path=args.results,
    )
    log(f"resultaat toegevoegd aan {path}")
    bad = [i for i in integrity if i["lost"] or i["doubled"]]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
