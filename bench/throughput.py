"""Throughput of the batch path: ``nazorg batch`` against the bare minimum the same work needs.

For each size N (default 1,000, 10,000 and 50,000 meldingen) and each added
Haal Centraal latency (default 0 and 20 ms) this:

1. builds a synthetic world of max(N, 2000) people: the bronnen in a throwaway
   PostgreSQL database (COPY), N meldingen as JSON Lines, and consent for
   those meldingen in a throwaway pipeline database migrated to head (before
   the clock starts: see ``prepare_pipeline_db``);
2. starts the Haal Centraal simulator as its own process (``nazorg sim
   haal-centraal``), so it never shares the GIL with what is measured;
3. runs **the pipeline**: ``nazorg batch --meldingen FILE --json`` as a child
   process, measuring wall time and that child's peak RSS (``os.wait4``);
4. runs **the bare minimum** as a child process too: the same lookup SQL as
   plain queries against each chunk's BSNs (no deadline, lint or shape checks),
   the same Haal Centraal requests through the same clients at the same
   concurrency (Reisdocumenten one BSN per request, BRP Personen 20 per request,
   including the Personen request that confirms id_bewijs' nee's),
   and the same rows written with COPY into tables of the same shape (inbox,
   plan, uitkomst, verwerkingslog, basisdocument, outbox) in one transaction per chunk.

The ratio pipeline / minimum is the pipeline's overhead. The simulator's
request counters are read after each half, so the table shows whether both
asked Haal Centraal equally often. Results are appended to ``bench/results.md``
through ``bench/_record.py``. Nothing here prints or records a BSN or an
outcome: only counts and times.

    python bench/throughput.py                              # the full run (~15-30 minutes)
    python bench/throughput.py --sizes 1000 --latencies 0   # a smoke run
    python bench/throughput.py --alleen-minimum             # without `nazorg batch`

Targets (issue 7): 50,000 meldingen at 0 ms in at most 60 s wall, peak RSS at
most 1.5 GiB, at most 1.5 x the minimum; 20 ms at most 2 x the 0 ms wall;
50,000 at most 60 x the 1,000 run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO / "src"))  # this checkout's library, also when another is installed

ADMIN_URL_ENV = "NAZORG_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "nazorg_bench_"
CONSENT_GATED = frozenset({"huurschuld", "uitkering_voorschot"})  # register: wanneer: toestemming
BRP_BATCH = 20


# =========================================================================== plumbing


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)


@contextlib.contextmanager
def pg_database(label: str) -> Iterator[str]:
    """A throwaway PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{DB_PREFIX}{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def airflow_uri(sqlalchemy_url: str) -> str:
    """The AIRFLOW_CONN_* form of a PostgreSQL URL (Airflow wants postgresql://, no driver)."""
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ChildResult:
    wall_s: float
    cpu_s: float  # the child's own user + system time
    max_rss_mib: float
    returncode: int
    stdout: str
    stderr_tail: str


def run_child(argv: Sequence[str], env: Mapping[str, str], workdir: Path) -> ChildResult:
    """Run one child to its end; wall time and its own peak RSS (``os.wait4``, not the running maximum)."""
    out, err = workdir / "child.out", workdir / "child.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.monotonic()
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=stdout, stderr=stderr, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = err.read_text(errors="replace").strip().splitlines()[-5:]
    return ChildResult(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        proc.returncode,
        out.read_text(errors="replace"),
        " / ".join(tail),
    )


class SimProcess:
    """``nazorg sim haal-centraal`` in its own process; stopped with SIGINT."""

    def __init__(self, size: int, latency_ms: float, env: Mapping[str, str]) -> None:
        import httpx

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "nazorg.cli", "sim", "haal-centraal", "--port", str(self.port)]
        argv += ["--size", str(size), "--latency-ms", str(latency_ms)]
        self.proc = subprocess.Popen(
            argv, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.http = httpx.Client(timeout=10)
        deadline = time.monotonic() + 120  # a big population takes a few seconds to build
        while True:
            try:
                self.http.get(f"{self.base}/_sim/stats").raise_for_status()
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("Haal Centraal simulator did not start") from None
                time.sleep(0.2)

    def reset(self) -> None:
        self.http.post(f"{self.base}/_sim/reset").raise_for_status()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.base}/_sim/stats").json()
        return result

    def cpu_s(self) -> float:
        """CPU seconds the simulator used so far (user + system, from /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# =========================================================================== the world


@dataclass(frozen=True)
class World:
    size: int  # people in the population
    meldingen_file: Path
    bronnen_url: str
    seconds: dict[str, float]


def build_world(n: int, workdir: Path, bronnen_url: str) -> World:
    from nazorg.store import make_engine
    from nazorg_dev.sim.bronnen import vul_bronnen
    from nazorg_dev.sim.meldingen import meldingen
    from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE, population

    size = max(n, DEFAULT_SIZE)
    seconds = {}
    start = time.monotonic()
    people = population(DEFAULT_SEED, size)
    seconds["populatie"] = time.monotonic() - start
    start = time.monotonic()
    engine = make_engine(bronnen_url)
    vul_bronnen(engine, people, DEFAULT_SEED)
    engine.dispose()
    seconds["bronnen laden"] = time.monotonic() - start
    start = time.monotonic()
    path = workdir / f"meldingen-{n}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for record in meldingen(n, size=size):
            handle.write(json.dumps(record) + "\n")
    seconds["meldingen schrijven"] = time.monotonic() - start
    return World(size, path, bronnen_url, seconds)


def prepare_pipeline_db(url: str, size: int, env: Mapping[str, str], meldingen_file: Path) -> float:
    """Migrate to head and record consent for the meldingen about to be submitted; returns seconds.

    Consent is kept per melding (revision 0009). Recorded after migrating, as
    `nazorg sim bronnen` does, it found an empty inbox and recorded none: the
    timed child submits the meldingen itself (`nazorg batch --meldingen`), so the
    consent-gated checks were refused for everyone and dropped out of the
    measurement. The consent table does not refer to the inbox, so it is recorded
    here for the file's (melding_id, bsn) pairs of the people who consented:
    the same rows `nazorg sim bronnen` records after intake, before the clock
    starts, and the timed child (intake + batch) is unchanged.
    """
    from nazorg import migrations
    from nazorg.store import Store, make_engine
    from nazorg_dev.sim.bronnen import vul_toestemmingen_voor
    from nazorg_dev.sim.population import DEFAULT_SEED, population

    start = time.monotonic()
    engine = make_engine(url)
    migrations.upgrade(engine)
    with meldingen_file.open(encoding="utf-8") as handle:
        paren = [(str(r["melding_id"]), str(r["bsn"])) for r in map(json.loads, filter(str.strip, handle))]
    vul_toestemmingen_voor(
        Store(engine, Path(env.get("NAZORG_SQL_DIR", REPO / "sql"))), paren, population(DEFAULT_SEED, size)
    )
    engine.dispose()
    return time.monotonic() - start


def child_env(pipeline_url: str, bronnen_url: str, hc_base: str, outbox: Path) -> dict[str, str]:
    from nazorg.connections import http_connection_json

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    hc = f"{hc_base}/haalcentraal/api"
    env.update(
        {
            "AIRFLOW_CONN_NAZORG_DB": airflow_uri(pipeline_url),
            "AIRFLOW_CONN_NAZORG_BRONNEN": airflow_uri(bronnen_url),
            "AIRFLOW_CONN_HAAL_CENTRAAL_BRP": http_connection_json(f"{hc}/brp"),
            "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN": http_connection_json(f"{hc}/reisdocumenten"),
            "NAZORG_PSEUDONIEM_SLEUTEL": secrets.token_hex(32),  # a fresh key per run, never stored
            "NAZORG_PSEUDONIEM_SLEUTEL_BESTAND": "",
            "NAZORG_OUTBOX_DIR": str(outbox),
            "NAZORG_PROJECT_DIR": str(REPO),
            "GX_ANALYTICS_ENABLED": "False",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


def profiler_argv(directory: str | None, name: str) -> list[str]:
    """Interpreter arguments that run the child under a profiler (pyinstrument if installed, else cProfile).

    pyinstrument samples, so it hardly slows the child down; cProfile traces
    every call and makes Python-heavy parts look several times slower than they are.
    """
    if not directory:
        return []
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    try:
        import pyinstrument  # noqa: F401  # optional: not in requirements.txt
    except ImportError:
        return ["-m", "cProfile", "-o", str(out / f"{name}.prof")]
    return ["-m", "pyinstrument", "--renderer", "text", "--show-all", "-o", str(out / f"{name}.txt")]


def pipeline_available() -> bool:
    """Is the batch runner there yet (``nazorg batch`` and ``nazorg.batch.run_batch``)?"""
    try:
        import nazorg.batch as batch
        from nazorg.cli import build_parser
    except ImportError:
        return False
    if not hasattr(batch, "run_batch"):
        return False
    try:
        build_parser().parse_args(["batch", "--help"])
    except SystemExit as exc:
        return exc.code == 0
    return True


# =========================================================================== the bare minimum (child)


def _besluiten() -> dict[str, dict[str, Any]]:
    import yaml

    found = {}
    for path in sorted((REPO / "register" / "besluiten").glob("*.yaml")):
        besluit = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[str(besluit["gemeente_code"])] = besluit["checks"]
    return found


def _register() -> dict[str, dict[str, Any]]:
    import yaml

    data = yaml.safe_load((REPO / "register" / "verwerkingsregister.yaml").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in data["checks"]}


_COPY_TABLES: dict[str, tuple[str, ...]] = {
    "inbox": (
        "melding_id",
        "bsn",
        "gemeente_code",
        "inrichting",
        "datum_binnenkomst",
        "verwachte_einddatum",
        "reclassering_betrokken",
        "inhoud_hash",
        "status",
        "ontvangen_op",
        "bijgewerkt_op",
        "run_key",
    ),
    "plan": ("melding_id", "check_id", "aandachtsgebied", "uitvoeren", "reden"),
    "uitkomst": (
        "melding_id",
        "check_id",
        "aandachtsgebied",
        "uitkomst",
        "dossierverantwoordelijke",
        "reden",
        "processing_activity_id",
        "bepaald_op",
    ),
    "verwerkingslog": (
        "span_id",
        "trace_id",
        "name",
        "status_code",
        "start_time",
        "end_time",
        "resource_name",
        "resource_version",
        "processing_activity_id",
        "data_subject_id",
        "data_subject_id_type",
        "sleutel_id",
    ),
    "basisdocument": ("melding_id", "gemeente_code", "status", "inhoud", "register_versie", "bijgewerkt_op"),
    "outbox": ("melding_id", "gemeente_code", "inhoud", "bestand", "gepubliceerd_op"),
}


def minimum(args: argparse.Namespace) -> dict[str, Any]:
    """The least work that gives the same answers' inputs and writes the same rows; timed per part."""
    import hashlib
    import hmac

    import psycopg
    from sqlalchemy import bindparam, text

    from nazorg.sources.haal_centraal import BrpPersonenClient, ReisdocumentenClient
    from nazorg.store import make_engine
    from nazorg_dev.sim.population import DEFAULT_SEED, population

    # who consented: the pipeline reads it from its DB per chunk; here it is known up front
    toestemming = {p.bsn for p in population(DEFAULT_SEED, args.size) if p.toestemming_financieel}
    begin = time.monotonic()
    lines = Path(args.meldingen).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line]
    besluiten, register = _besluiten(), _register()
    queries = {
        name: text((REPO / "sql" / name).read_text(encoding="utf-8")).bindparams(
            bindparam("bsns", expanding=True)
        )
        for checks in besluiten.values()
        for check in checks.values()
        if isinstance(check, dict) and (name := (check.get("lookup") or {}).get("query"))
    }
    bronnen = make_engine(args.bronnen_url)
    hc = args.hc_base + "/haalcentraal/api"
    concurrency = args.concurrency
    reis = ReisdocumentenClient(f"{hc}/reisdocumenten", deadline_s=3600, pool_size=concurrency)
    brp = BrpPersonenClient(f"{hc}/brp", deadline_s=3600)
    peildatum = date.today()
    key = secrets.token_bytes(32)
    pg_url = args.pipeline_url.replace("postgresql+psycopg://", "postgresql://")
    pipeline = psycopg.connect(pg_url)
    with pipeline.transaction():
        for table in _COPY_TABLES:
            pipeline.execute(f"CREATE TABLE min_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
    document = json.dumps(
        {
            "melding_id": "EDM-000000",
            "checks": [{"check_id": c, "uitkomst": "nee", "contact": "Team X"} for c in register],
        }
    )
    times = dict.fromkeys(("lezen", "sql", "reisdocumenten", "brp", "schrijven"), 0.0)
    rows_written = dict.fromkeys(_COPY_TABLES, 0)
    queries_run = 0
    times["lezen"] = time.monotonic() - begin
    now = datetime.now(UTC).isoformat()
    for start in range(0, len(records), args.chunk):
        chunk = records[start : start + args.chunk]
        per_gemeente: dict[str, list[dict[str, Any]]] = {}
        for record in chunk:
            per_gemeente.setdefault(record["gemeente_code"], []).append(record)
        # -- SQL: one query per lookup per gemeente per chunk
        t = time.monotonic()
        with bronnen.connect() as conn:
            for gemeente, group in per_gemeente.items():
                for check_id, check in besluiten[gemeente].items():
                    query = (check.get("lookup") or {}).get("query") if isinstance(check, dict) else None
                    if query is None:
                        continue
                    bsns = [
                        r["bsn"] for r in group if check_id not in CONSENT_GATED or r["bsn"] in toestemming
                    ]
                    if bsns:
                        conn.execute(queries[query], {"bsns": bsns}).fetchall()
                        queries_run += 1
        times["sql"] += time.monotonic() - t
        # -- Haal Centraal: per question, the BSNs of every gemeente that asks it
        vragen: dict[str, list[str]] = {}
        for gemeente, group in per_gemeente.items():
            for check_id, check in besluiten[gemeente].items():
                if isinstance(check, dict) and str(check.get("verbinding", "")).startswith("haal_centraal"):
                    vragen.setdefault(register[check_id]["bronvraag"], []).extend(r["bsn"] for r in group)
        t = time.monotonic()
        nee: list[str] = []
        if vragen.get("geldig_reisdocument"):
            antwoorden = reis.geldig_id_many(
                vragen["geldig_reisdocument"], peildatum, max_concurrency=concurrency
            )
            nee = [bsn for bsn, antwoord in antwoorden.items() if antwoord.bekend is False]
        times["reisdocumenten"] += time.monotonic() - t
        t = time.monotonic()
        if nee:  # id_bewijs confirms a nee in BRP Personen: [] is also the answer for an unknown BSN
            brp.ingeschreven(nee)
        if vragen.get("woonadres"):
            brp.woonadres(vragen["woonadres"])
        if vragen.get("minderjarige_kinderen"):
            brp.minderjarige_kinderen(vragen["minderjarige_kinderen"], peildatum)
        times["brp"] += time.monotonic() - t
        # -- writes: the rows the pipeline stores for these meldingen, COPY in one transaction
        t = time.monotonic()
        tabellen: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COPY_TABLES}
        for record in chunk:
            mid, gemeente = record["melding_id"], record["gemeente_code"]
            tabellen["inbox"].append(
                (
                    mid,
                    record["bsn"],
                    gemeente,
                    record["inrichting"],
                    record["datum_binnenkomst"],
                    record.get("verwachte_einddatum"),
                    record.get("reclassering_betrokken"),
                    hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest(),
                    "gepubliceerd",
                    now,
                    now,
                    "r-" + secrets.token_hex(12),
                )
            )
            enabled = besluiten[gemeente]
            pseudoniem = hmac.new(key, record["bsn"].encode(), hashlib.sha256).hexdigest()
            trace = secrets.token_hex(16)
            for check_id, entry in register.items():
                uitvoeren = check_id in enabled
                reden = None if uitvoeren else "niet_in_besluit"
                gebied = entry.get("aandachtsgebied", "")
                # the pipeline's spelling (nazorg.settings.DEFAULT_REGISTER_URI): the same bytes to write
                basis = "https://register.nazorg.example/verwerkingsactiviteiten/"
                activiteit = f"{basis}{check_id}/v{entry.get('versie', 1)}"
                tabellen["plan"].append((mid, check_id, gebied, "ja" if uitvoeren else "nee", reden))
                tabellen["uitkomst"].append(
                    (
                        mid,
                        check_id,
                        gebied,
                        "nee" if uitvoeren else "niet_uitgevoerd",
                        "Team X",
                        reden,
                        activiteit,
                        now,
                    )
                )
                if uitvoeren:
                    tabellen["verwerkingslog"].append(
                        (secrets.token_hex(8), trace, check_id, "OK", now, now, "nazorg-intake", "1",
                         activiteit, pseudoniem, "BSN", "0123456789abcdef")
                    )  # fmt: skip
            tabellen["basisdocument"].append((mid, gemeente, "gepubliceerd", document, "1", now))
            tabellen["outbox"].append((mid, gemeente, document, f"{gemeente}/{mid}.json", now))
        with pipeline.transaction(), pipeline.cursor() as cursor:
            for table, rows in tabellen.items():
                columns = _COPY_TABLES[table]
                with cursor.copy(f"COPY min_{table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                rows_written[table] += len(rows)
        times["schrijven"] += time.monotonic() - t
    reis.close()
    brp.close()
    bronnen.dispose()
    pipeline.close()
    return {"seconden": times, "queries": queries_run, "rijen": rows_written, "meldingen": len(records)}


# =========================================================================== one measurement


def hc_requests(stats: Mapping[str, Any]) -> str:
    requests = stats["requests"]
    return f"{requests['reisdocumenten']}/{requests['personen']}"


def measure(
    n: int,
    latencies: Sequence[float],
    args: argparse.Namespace,
    with_pipeline: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    rows: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nazorg-bench-") as tmp, pg_database("bronnen") as bronnen_url:
        workdir = Path(tmp)
        world = build_world(n, workdir, bronnen_url)
        base_env = child_env("postgresql+psycopg://unused/none", bronnen_url, "http://127.0.0.1:1", workdir)
        for latency in latencies:
            sim = SimProcess(world.size, latency, base_env)
            try:
                # -- the bare minimum
                with pg_database("minimum") as min_url:
                    prepare_pipeline_db(min_url, world.size, base_env, world.meldingen_file)
                    sim.reset()
                    cpu0 = sim.cpu_s()
                    argv = [sys.executable, str(Path(__file__).resolve()), "--_minimum"]
                    argv += ["--meldingen", str(world.meldingen_file), "--size", str(world.size)]
                    argv += ["--bronnen-url", bronnen_url, "--pipeline-url", min_url, "--hc-base", sim.base]
                    argv += ["--chunk", str(args.chunk), "--concurrency", str(args.concurrency)]
                    env = child_env(min_url, bronnen_url, sim.base, workdir / "outbox-min")
                    result = run_child(argv, env, workdir)
                    sim_stats = sim.stats()
                    sim_cpu = sim.cpu_s() - cpu0
                if result.returncode != 0:
                    raise RuntimeError(f"minimum failed ({result.returncode}): {result.stderr_tail}")
                detail = json.loads(result.stdout.strip().splitlines()[-1])
                minimum_row = {
                    "meldingen": n,
                    "latency ms": latency,
                    "run": "minimum",
                    "wall s": result.wall_s,
                    "meldingen/s": n / result.wall_s,
                    "CPU s": result.cpu_s,
                    "peak RSS MiB": result.max_rss_mib,
                    "HC requests (reis/brp)": hc_requests(sim_stats),
                    "HC connections": sim_stats.get("connections"),
                    "sim CPU s": sim_cpu,
                    "ratio": 1.0,
                }
                minimum_wall = result.wall_s
                rows.append(minimum_row)
                parts.append(
                    {
                        "meldingen": n,
                        "latency ms": latency,
                        **{f"{k} s": v for k, v in detail["seconden"].items()},
                        "queries": detail["queries"],
                        "rows written": sum(detail["rijen"].values()),
                    }
                )
                # -- the pipeline
                if not with_pipeline:
                    continue
                with pg_database("pipeline") as pipeline_url:
                    prepare_pipeline_db(pipeline_url, world.size, base_env, world.meldingen_file)
                    sim.reset()
                    cpu0 = sim.cpu_s()
                    env = child_env(pipeline_url, bronnen_url, sim.base, workdir / "outbox")
                    if args.concurrency:
                        env["NAZORG_REISDOCUMENTEN_CONCURRENCY"] = str(args.concurrency)
                    profiel = profiler_argv(args.profiel, f"batch-{n}-{latency:g}ms")
                    argv = [
                        sys.executable,
                        *profiel,
                        "-m",
                        "nazorg.cli",
                        "batch",
                        "--meldingen",
                        str(world.meldingen_file),
                    ]
                    argv += ["--json"]
                    result = run_child(argv, env, workdir)
                    sim_stats = sim.stats()
                    sim_cpu = sim.cpu_s() - cpu0
                rows.append(
                    {
                        "meldingen": n,
                        "latency ms": latency,
                        "run": "nazorg batch"
                        + ("" if result.returncode == 0 else f" (exit {result.returncode})"),
                        "wall s": result.wall_s,
                        "meldingen/s": n / result.wall_s,
                        "CPU s": result.cpu_s,
                        "peak RSS MiB": result.max_rss_mib,
                        "HC requests (reis/brp)": hc_requests(sim_stats),
                        "HC connections": sim_stats.get("connections"),
                        "sim CPU s": sim_cpu,
                        "ratio": result.wall_s / minimum_wall,
                    }
                )
            finally:
                sim.stop()
        return rows, parts, world.seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated numbers of meldingen")
    parser.add_argument(
        "--latencies", default="0,20", help="comma-separated added Haal Centraal latencies (ms)"
    )
    parser.add_argument("--chunk", type=int, default=1000, help="meldingen per chunk of the minimum")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="Reisdocumenten pool (default: NAZORG_REISDOCUMENTEN_CONCURRENCY)",
    )
    parser.add_argument(
        "--alleen-minimum", action="store_true", help="skip `nazorg batch` (the runner is not needed)"
    )
    parser.add_argument(
        "--niet-vastleggen", action="store_true", help="print, do not append to bench/results.md"
    )
    parser.add_argument(
        "--profiel",
        metavar="DIR",
        help="run `nazorg batch` under a profiler (pyinstrument if installed, else cProfile), one file per"
        " size and latency in DIR (the times then include the profiler's cost: do not record them)",
    )
    # the child's own arguments
    parser.add_argument("--_minimum", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--meldingen", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bronnen-url", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-url", help=argparse.SUPPRESS)
    parser.add_argument("--hc-base", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from nazorg.settings import settings

    if args.concurrency is None:
        args.concurrency = settings().reisdocumenten_concurrency
    if args._minimum:
        print(json.dumps(minimum(args)))
        return 0

    from _record import begin, markdown_table, record

    sizes = [int(s) for s in args.sizes.split(",") if s]
    latencies = [float(x) for x in args.latencies.split(",") if x]
    with_pipeline = not args.alleen_minimum and pipeline_available()
    notes = []
    if not args.alleen_minimum and not with_pipeline:
        notes.append(
            "`nazorg batch` / `nazorg.batch.run_batch` not available in this checkout: minimum only."
        )
    started = begin()
    rows: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    setup: list[dict[str, Any]] = []
    for n in sizes:
        r, p, seconds = measure(n, latencies, args, with_pipeline)
        rows += r
        parts += p
        setup.append({"meldingen": n, **{f"{k} s": v for k, v in seconds.items()}})
        print(markdown_table(r), flush=True)
    notes += [
        "minimum: the same lookup SQL per chunk and gemeente (consent-gated lookups only for people with"
        " consent), the same Haal Centraal requests through the same clients and concurrency, and COPY of the"
        " same row counts into tables LIKE the pipeline's (indexes and defaults, no FKs), one transaction per"
        " chunk;"
        " no Parquet and no outbox files.",
        "the pipeline does more than the minimum, all counted in its time: start-up imports (Airflow for"
        " the connection lookup, ~2 s; Great Expectations, ~4 s CPU, in a background thread during the first"
        " chunk), intake of the file (decoding, judging, inbox insert with hashes), claims and chunk"
        " bookkeeping, the probe of every besluit's sources per chunk, the deadline and size-cap guards of"
        " every SQL lookup (statement timeout, server-side cursor, watchdog), one Great Expectations"
        " validation per chunk, quarantine rows, outbox versions and Parquet per chunk.",
        "peak RSS is the child's own maximum (os.wait4); the simulator runs in a separate process (its CPU is"
        " shown apart). The machine is shared: see the load average.",
    ]
    params = {
        "sizes": args.sizes,
        "latencies ms": args.latencies,
        "chunk (minimum)": args.chunk,
        "Reisdocumenten concurrency": args.concurrency,
        "pipeline": "nazorg batch --meldingen FILE --json" if with_pipeline else "not run",
    }
    if args.niet_vastleggen:
        print(markdown_table(parts))
        return 0
    path = record(
        "Throughput (nazorg batch vs. bare minimum)",
        params,
        rows,
        started=started,
        tables={"Where the minimum spends its time": parts, "Setup (not measured)": setup},
        notes=notes,
    )
    print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
