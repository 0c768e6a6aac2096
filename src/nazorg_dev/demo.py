"""`make demo` and `make up`: the embedded default, end to end, with real parts.

Real Airflow processes (api-server, scheduler, dag-processor; LocalExecutor on
SQLite), the real REST API for triggering, the local Haal Centraal server over
HTTP and SQLite databases for the pipeline and the simulated bronnen. Secrets
(the pseudonym key, Airflow's admin password) are generated per environment
under ``var/`` and never committed.

Everything under ``var/`` is its owner's only (umask 077; an older environment
is tightened), and ``env.sh`` names the key file, never the key. Every process
listens on 127.0.0.1 only. An environment is stopped completely when its
command is interrupted (Ctrl-C, SIGTERM, SIGHUP) or fails, and a new bring-up
first stops whatever a killed one left behind: processes are found by the
owner mark in their environment (see :mod:`nazorg_dev.airflow_embedded`), so
nothing that this environment did not start is ever signalled.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from nazorg.connections import http_connection_json
from nazorg.settings import PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV, SOURCE_ROOT, reload_settings, settings
from nazorg_dev.airflow_embedded import (
    LOCALHOST,
    OWNER_ENV,
    owner_only,
    spawn,
    stop_owned,
    tighten,
    write_pid_file,
    write_private,
)

if TYPE_CHECKING:
    from nazorg.store import Store
    from nazorg_dev.airflow_embedded import Credentials, EmbeddedSettings

DEMO_DIR = SOURCE_ROOT / "var" / "demo"
LOCAL_DIR = SOURCE_ROOT / "var" / "local"
#: `nazorg airflow up --celery`: its own home, secrets and logs; PostgreSQL databases below
LOCAL_CELERY_DIR = SOURCE_ROOT / "var" / "local-celery"
#: the PostgreSQL server `up --celery` uses (trust auth on this machine), and its databases:
#: created when missing, never dropped (`make clean` leaves them)
CELERY_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
CELERY_DATABASES = {
    "metadata": "nazorg_airflow_celery",
    "nazorg_db": "nazorg_celery",
    "bronnen": "nazorg_celery_bronnen",
}
#: the signals that stop an environment its command was bringing up or running
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised like Ctrl-C so that every ``finally`` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _secret_file(path: Path) -> Path:
    """The file holding the environment's pseudonym key, made once (0600 from the start).

    The key comes from ``nazorg sleutel genereer``'s generator. A key left by an
    older version that the key rule now refuses is replaced (the demo's
    pseudonyms are throwaway).
    """
    from nazorg.sleutel import beoordeel, genereer

    with owner_only():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    weak = path.is_file() and not path.is_symlink() and beoordeel(path.read_text(encoding="utf-8").strip())
    if weak:
        path.unlink()
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(genereer())
    return path


@dataclass(frozen=True)
class CeleryMode:
    """`nazorg airflow up --celery`: CeleryExecutor, everything on PostgreSQL, Redis as broker."""

    workers: int = 2
    concurrency: int = 2
    redis_db: int = 0
    postgres: str = field(default=CELERY_POSTGRES, repr=False)

    def database_url(self, role: str) -> str:
        return f"{self.postgres.rstrip('/')}/{CELERY_DATABASES[role]}"


def ensure_postgres_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the server unless it exists (never drops anything)."""
    from sqlalchemy import create_engine, text

    url = server_url.replace("postgresql://", "postgresql+psycopg://", 1).rstrip("/") + "/postgres"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def environment(
    base: Path, hc_port: int, *, nazorg_db: str | None = None, bronnen: str | None = None
) -> dict[str, str]:
    """Connections and settings for every process of one embedded environment.

    No secret in here: it ends up in ``env.sh`` and in every process's
    environment. The pseudonym key is named by its file; the empty key variable
    overrides one the caller may have set, so every process uses that file.
    Pipeline and bronnen databases are SQLite files in ``base`` unless given.
    """
    hc = f"http://127.0.0.1:{hc_port}/haalcentraal/api"
    return {
        "AIRFLOW_CONN_NAZORG_DB": nazorg_db or f"sqlite:///{base / 'nazorg.db'}",
        "AIRFLOW_CONN_NAZORG_BRONNEN": bronnen or f"sqlite:///{base / 'bronnen.db'}",
        "AIRFLOW_CONN_HAAL_CENTRAAL_BRP": http_connection_json(f"{hc}/brp"),
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN": http_connection_json(f"{hc}/reisdocumenten"),
        PSEUDONYM_KEY_ENV: "",
        PSEUDONYM_KEY_FILE_ENV: str(_secret_file(base / "secrets" / "pseudoniem_sleutel")),
        "NAZORG_OUTBOX_DIR": str(base / "outbox"),
        "NAZORG_REGISTER_DIR": str(settings().register_dir),
        "NAZORG_AIRFLOW_CREDENTIALS": str(base / "airflow-credentials.json"),
        "GX_ANALYTICS_ENABLED": "False",
    }


def env_sh(env: dict[str, str]) -> str:
    """``env`` as shell lines; an empty value unsets the variable (a shell's own key must go)."""
    return "".join(
        f"export {key}={shlex.quote(value)}\n" if value else f"unset {key}\n" for key, value in env.items()
    )


def _haal_centraal_pid_file(base: Path) -> Path:
    return base / "haal-centraal.pid"


def _start_haal_centraal(base: Path, port: int, env: dict[str, str]) -> int:
    log = (base / "logs").resolve()
    with owner_only():
        log.mkdir(mode=0o700, parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "nazorg.cli"]
    proc = spawn(
        [*cli, "sim", "haal-centraal", "--host", LOCALHOST, "--port", str(port)],
        log / "haal-centraal.log",
        {**os.environ, **env, OWNER_ENV: str(base)},
        base,
    )
    write_pid_file(_haal_centraal_pid_file(base), proc.pid)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc.pid
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"Haal Centraal-server stopte; zie {log / 'haal-centraal.log'}") from None
            time.sleep(0.2)
    raise RuntimeError("Haal Centraal-server kwam niet op")


def _stop_haal_centraal(base: Path) -> None:
    """Stop the Haal Centraal server of ``base`` (and anything else started for ``base``)."""
    stop_owned(base, [_haal_centraal_pid_file(base)])


#: `make up`: the intake API beside Airflow (`nazorg intake serve`), on 127.0.0.1 only
INTAKE_PORT = 8090
INTAKE_AFZENDER = "pi"


def _intake_pid_file(base: Path) -> Path:
    return base / "intake-api.pid"


def intake_secrets(base: Path) -> tuple[Path, Path]:
    """(token file, senders file) of the environment's one sender ``pi``: made once, owner-only.

    The senders file holds only the token's hash (what a deployment configures);
    the token file is what the PI's side would be given.
    """
    from nazorg.intake_api.afzenders import Soort, configuratie_regel, genereer_token

    folder = base / "secrets"
    with owner_only():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    token_file, senders_file = folder / "intake-token-pi", folder / "intake-tokens.json"
    if not (token_file.is_file() and senders_file.is_file()):
        token = genereer_token()
        write_private(token_file, token + "\n")
        regel = configuratie_regel(INTAKE_AFZENDER, token, None, list(Soort))
        write_private(senders_file, "{" + regel + "}\n")
    return token_file, senders_file


#: `make up`: one werklijst account on the same service (/werklijst), for the demo gemeente 9901
WERKLIJST_ACCOUNT = "coord.ruimhaven"
WERKLIJST_GEMEENTE = "9901"


def werklijst_secrets(base: Path) -> dict[str, str]:
    """The werklijst's settings for the service of ``base``: one coördinator account, made once, owner-only.

    The accounts file holds only the password's scrypt hash; the password is in
    its own file (what the coördinator would be given). The session key stays in
    a file and in the service's environment only, not in ``env.sh``. The cookie
    is not ``Secure`` because the service listens on plain HTTP on 127.0.0.1.
    """
    import secrets as random

    from nazorg.werklijst.accounts import configuratie_regel, genereer_wachtwoord

    folder = base / "secrets"
    with owner_only():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    wachtwoord_file = folder / f"werklijst-wachtwoord-{WERKLIJST_ACCOUNT}"
    accounts_file, sleutel_file = folder / "werklijst-accounts.json", folder / "werklijst-sessie-sleutel"
    if not (wachtwoord_file.is_file() and accounts_file.is_file()):
        wachtwoord = genereer_wachtwoord()
        write_private(wachtwoord_file, wachtwoord + "\n")
        regel = configuratie_regel(WERKLIJST_ACCOUNT, wachtwoord, WERKLIJST_GEMEENTE, "coordinator")
        write_private(accounts_file, "{" + regel + "}\n")
    if not sleutel_file.is_file():
        write_private(sleutel_file, random.token_hex(32) + "\n")
    return {
        "NAZORG_WERKLIJST_ACCOUNTS_FILE": str(accounts_file),
        "NAZORG_WERKLIJST_SESSIE_SLEUTEL": sleutel_file.read_text(encoding="utf-8").strip(),
        "NAZORG_WERKLIJST_COOKIE_SECURE": "false",
    }


def _start_intake_api(base: Path, port: int, env: dict[str, str]) -> int:
    """Start `nazorg intake serve` for ``base`` (log and pid file under it) and wait for its health."""
    import httpx

    from nazorg_dev.airflow_embedded import _port_in_use

    if _port_in_use(port):
        raise RuntimeError(f"poort {port} van de intake-API is bezet")
    log = (base / "logs").resolve()
    with owner_only():
        log.mkdir(mode=0o700, parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "nazorg.cli"]
    proc = spawn(
        [*cli, "intake", "serve", "--host", LOCALHOST, "--port", str(port)],
        log / "intake-api.log",
        {**os.environ, **env, OWNER_ENV: str(base)},
        base,
    )
    write_pid_file(_intake_pid_file(base), proc.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{LOCALHOST}:{port}/v1/health", timeout=1).status_code == 200:
                return proc.pid
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    _stop_intake_api(base)
    raise RuntimeError(f"intake-API kwam niet op; zie {log / 'intake-api.log'}")


def _stop_intake_api(base: Path) -> None:
    """Stop the intake API of ``base`` (and anything else started for ``base``)."""
    stop_owned(base, [_intake_pid_file(base)])


def _refresh() -> None:
    """This process now runs under ``env``: forget settings and runtime read before."""
    from nazorg import wiring
    from nazorg.store import dispose_engines

    reload_settings()
    wiring.reset()
    dispose_engines()  # engines are cached per connection id, and the connections changed


def _settings(
    base: Path, env: dict[str, str], port: int, celery: CeleryMode | None = None
) -> EmbeddedSettings:
    from nazorg_dev.airflow_embedded import EmbeddedSettings

    if celery is None:
        return EmbeddedSettings(home=base / "airflow", port=port, extra_env=env)
    return EmbeddedSettings(
        home=base / "airflow",
        port=port,
        extra_env=env,
        metadata_url=celery.database_url("metadata"),
        executor="celery",
        workers=celery.workers,
        worker_concurrency=celery.concurrency,
        redis_db=celery.redis_db,
    )


def bring_up(
    base: Path,
    airflow_port: int,
    timeout_s: float = 180,
    celery: CeleryMode | None = None,
    intake_port: int | None = None,
) -> Credentials:
    """Start the local Haal Centraal server and Airflow; fill the simulated world.

    First stops whatever an earlier bring-up of ``base`` left running: the
    connections below name a new Haal Centraal port. Writes ``env.sh``
    (connections and settings for the CLI, no secrets) and the Airflow
    credentials file (0600) under ``base``; both stay out of git (``var/``).
    """
    with owner_only():
        return _bring_up(base, airflow_port, timeout_s, celery, intake_port)


def _bring_up(
    base: Path, airflow_port: int, timeout_s: float, celery: CeleryMode | None, intake_port: int | None = None
) -> Credentials:
    from nazorg import migrations
    from nazorg.connections import NAZORG_BRONNEN, NAZORG_DB
    from nazorg.store import Store, engine_for
    from nazorg_dev.airflow_embedded import start
    from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
    from nazorg_dev.sim.population import DEFAULT_SEED, population

    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    tighten(base)
    bring_down(base, airflow_port)
    hc_port = _free_port()
    if celery is None:
        env = environment(base, hc_port)
    else:
        for name in CELERY_DATABASES.values():
            ensure_postgres_database(celery.postgres, name)
        env = environment(
            base, hc_port, nazorg_db=celery.database_url("nazorg_db"), bronnen=celery.database_url("bronnen")
        )
    os.environ.update(env)
    _refresh()
    _start_haal_centraal(base, hc_port, env)
    # the embedded default is its own operator: it migrates what a deployment runs `nazorg db upgrade` for
    migrations.upgrade(engine_for(NAZORG_DB))
    people = population()
    vul_bronnen(engine_for(NAZORG_BRONNEN), people, DEFAULT_SEED)
    vul_toestemmingen(Store.from_connection(), people)  # meldingen already there (a re-used base)
    settings = _settings(base, env, airflow_port, celery)
    creds = start(settings, timeout_s)
    if intake_port is not None:
        # after Airflow: the service reads the credentials file below to trigger runs
        env = {
            **env,
            "NAZORG_INTAKE_TOKENS_FILE": str(intake_secrets(base)[1]),
            "NAZORG_INTAKE_PORT": str(intake_port),
        }
    write_private(base / "env.sh", env_sh(env))
    write_private(
        base / "airflow-credentials.json",
        json.dumps({"url": creds.url, "username": creds.username, "password": creds.password}),
    )
    if intake_port is not None:
        _start_intake_api(base, intake_port, {**env, **werklijst_secrets(base)})
    return creds


def bring_down(base: Path, airflow_port: int = 8080) -> None:
    """Stop every process of the environment in ``base``; idempotent."""
    from nazorg_dev.airflow_embedded import stop

    stop(_settings(base, {}, airflow_port))
    _stop_intake_api(base)
    _stop_haal_centraal(base)


def environment_processes(base: Path) -> set[int]:
    """Every live process of the environment in ``base`` (what :func:`bring_down` stops)."""
    from nazorg_dev.airflow_embedded import pid_files, processes_of

    home = _settings(base, {}, 8080)
    airflow = processes_of(home.home, pid_files(home))
    return airflow | processes_of(base, [_haal_centraal_pid_file(base), _intake_pid_file(base)])


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl-C must not cut a cleanup short (it ends in SIGKILL within bounded time)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def stopped_on_interrupt(cleanup: Callable[[], None], *, keep_on_success: bool = False) -> Iterator[None]:
    """Run ``cleanup`` once when the block is interrupted or fails (and on success, unless
    ``keep_on_success``). SIGTERM and SIGHUP raise :class:`Interrupted` like Ctrl-C does,
    instead of ending the process on the spot with its children still running; an
    ``atexit`` hook is the last resort for an exit that skips the block's unwinding.
    """
    done = False

    def run_cleanup() -> None:
        nonlocal done
        if not done:
            done = True
            with _signals_ignored():
                cleanup()

    def interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, interrupted) for sig in STOP_SIGNALS}
    atexit.register(run_cleanup)
    try:
        yield
    except BaseException:
        run_cleanup()
        raise
    else:
        if not keep_on_success:
            run_cleanup()
    finally:
        atexit.unregister(run_cleanup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def session(base: Path, airflow_port: int, timeout_s: float = 180) -> Iterator[Credentials]:
    """An environment in ``base`` for the block's duration, stopped however the block ends."""
    with owner_only(), stopped_on_interrupt(lambda: bring_down(base, airflow_port)):
        yield bring_up(base, airflow_port, timeout_s)


def _summary(store: Store, states: dict[str, str], base: Path) -> str:
    from nazorg.wiring import runtime

    rows = store.query("uitkomst_totalen")
    per_check: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        per_check[r["check_id"]][r["uitkomst"]] += int(r["aantal"])
    lines = ["", "== Samenvatting nazorg-intake demo ==", ""]
    run_counts = Counter(states.values())
    lines.append(f"Runs: {dict(run_counts)} (van {len(states)})")
    published = store.query("outbox_count")[0]["aantal"]
    lines.append(f"Gepubliceerde basisdocumenten: {published}  ->  {base / 'outbox'}")
    lines.append("")
    lines.append(f"{'check':<24}{'ja':>5}{'nee':>6}{'onbekend':>10}{'niet_uitgevoerd':>17}")
    for check_id in runtime().policy.register.ids:
        c = per_check.get(check_id, Counter())
        lines.append(f"{check_id:<24}{c['ja']:>5}{c['nee']:>6}{c['onbekend']:>10}{c['niet_uitgevoerd']:>17}")
    quarantined = store.query("quarantaine_list")
    lines.append("")
    lines.append(f"Quarantaine ({len(quarantined)} regels; redenen en veldnamen, nooit waarden):")
    for q in quarantined:
        lines.append(
            f"  {q['melding_id'] or '-':<14} {q['fase']:<7} {q['reden_code']:<28} {q['veld'] or ''}"
            f"  ({q['herkomst']})"
        )
    lines.append("")
    lines.append("Bekijk een document: .venv/bin/nazorg basisdocument toon <melding_id> --format html")
    lines.append(f"  (met de omgeving van de demo: source {base / 'env.sh'})")
    return "\n".join(lines)


def run_demo(aantal: int = 20, ongeldig: int = 4) -> int:
    """The demo in ``var/demo``: a fresh environment, ``aantal`` meldingen plus ``ongeldig``
    invalid ones through the real Airflow, a summary; stopped however it ends."""
    base = DEMO_DIR
    port = _free_port()
    started = time.monotonic()
    try:
        with owner_only():
            bring_down(base)  # a previous demo interrupted half-way, or killed outright
            shutil.rmtree(base, ignore_errors=True)
            print(f"[demo] omgeving opzetten in {base} (Airflow, Haal Centraal, bronnen) ...", flush=True)
            with session(base, port) as creds:
                return _run(base, creds, started, aantal, ongeldig)
    except Interrupted as exc:
        print(f"\n[demo] onderbroken ({exc}); alles wat de demo startte is gestopt", flush=True)
        return exc.exit_code


def _run(base: Path, creds: Credentials, started: float, aantal: int, ongeldig: int) -> int:
    from nazorg.airflow.trigger import DAG_ID, run_id_for, trigger_all
    from nazorg.inbox import dien_in, run_key_voor
    from nazorg.intake import beoordeel_alle, decode, nieuwe_inzending
    from nazorg.wiring import runtime
    from nazorg_dev.airflow_embedded import wait_for_dag
    from nazorg_dev.sim.bronnen import vul_toestemmingen
    from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen
    from nazorg_dev.sim.population import population

    records = [*meldingen(aantal), *ongeldige_meldingen()[:ongeldig]]
    path = base / "meldingen.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rt = runtime()
    store = rt.store
    inzending = nieuwe_inzending()
    beoordelingen = beoordeel_alle(
        decode(path.read_bytes(), inzending), rt.policy.melding_velden(), date.today()
    )
    result = dien_in(store, beoordelingen, inzending=inzending)
    vul_toestemmingen(store, population())  # consent is per melding: recorded after intake
    print(f"[demo] {len(records)} meldingen ingediend: {dict(result.aantallen)}", flush=True)
    api = creds.api()
    wait_for_dag(api, DAG_ID, timeout_s=180)
    # Airflow sees only the run keys the inbox gave the meldingen, never a melding id
    keys = [k for m in dict.fromkeys(result.melding_ids) if (k := run_key_voor(store, m))]
    triggered = trigger_all(api, keys)
    print(f"[demo] {Counter(triggered.values())} runs via de REST API; wachten ...", flush=True)
    states = api.wait_for_runs(DAG_ID, [run_id_for(k) for k in keys], timeout_s=1200)
    print(_summary(store, states, base))
    print(f"\n[demo] klaar in {time.monotonic() - started:.0f} s")
    failed = [m for m, s in states.items() if s != "success"]
    if failed:
        print(f"[demo] mislukte runs: {len(failed)}; zie de Airflow-logs in {base / 'airflow' / 'logs'}")
        return 1
    return 0


def airflow_command(actie: str, celery: CeleryMode | None = None) -> int:
    """`make up` / `make up-celery` / `make down` / status for exploring in the UI.

    ``up`` leaves the environment running, but not a half-started one: an
    interrupted or failed bring-up stops everything it started. The LocalExecutor
    environment (``var/local``) and the Celery one (``var/local-celery``) share port
    8080, so bringing up one stops the other; ``down`` stops both.
    """
    from nazorg_dev.airflow_embedded import pid_files, status

    base = LOCAL_DIR if celery is None else LOCAL_CELERY_DIR
    if actie == "up":
        other = LOCAL_CELERY_DIR if celery is None else LOCAL_DIR
        try:
            with owner_only(), stopped_on_interrupt(lambda: bring_down(base, 8080), keep_on_success=True):
                bring_down(other, 8080)
                creds = bring_up(
                    base, 8080, timeout_s=300 if celery else 180, celery=celery, intake_port=INTAKE_PORT
                )
        except Interrupted as exc:
            print(f"\nonderbroken ({exc}); alles wat gestart was is gestopt", flush=True)
            return exc.exit_code
        print(f"Airflow UI: {creds.url}  gebruiker: {creds.username}  wachtwoord: {creds.password}")
        if celery is not None:
            print(
                f"CeleryExecutor: {celery.workers} workers (w1..w{celery.workers}), "
                f"Redis db {celery.redis_db}, PostgreSQL {', '.join(CELERY_DATABASES.values())}"
            )
        print(
            f"Intake-API: http://{LOCALHOST}:{INTAKE_PORT}/v1  token van afzender {INTAKE_AFZENDER}: "
            f"{intake_secrets(base)[0]}  log: {base / 'logs' / 'intake-api.log'}"
        )
        print(
            f"Werklijst: http://{LOCALHOST}:{INTAKE_PORT}/werklijst/  account {WERKLIJST_ACCOUNT}, "
            f"wachtwoord in {base / 'secrets' / ('werklijst-wachtwoord-' + WERKLIJST_ACCOUNT)}"
        )
        print(f"Omgeving voor de CLI: source {base / 'env.sh'}")
        return 0
    if actie == "down":
        for each in (LOCAL_DIR, LOCAL_CELERY_DIR):
            bring_down(each, 8080)
        print("gestopt")
        return 0
    report = {}
    for label, each in (("local", LOCAL_DIR), ("celery", LOCAL_CELERY_DIR)):
        settings = _settings(each, {}, 8080)
        workers = sorted(p.stem for p in pid_files(settings) if p.stem.startswith("worker-") and p.exists())
        if workers:
            settings = _settings(each, {}, 8080, CeleryMode(workers=len(workers)))
        report[label] = status(settings)
    print(json.dumps(report, indent=2))
    return 0
