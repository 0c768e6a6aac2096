"""The embedded default Airflow: api-server, scheduler and dag-processor as real processes.

Nothing here imports Airflow. Every component runs as ``airflow <command>`` in
its own session (process group) with one environment built by
:func:`airflow_env`, so the configuration lives in environment variables only
and :mod:`airflow` is never loaded into the calling process.

Layout under ``settings.home`` (``var/airflow`` by default, never committed):

* ``airflow.cfg`` - an empty placeholder, so Airflow does not write a full
  default config (with copies of the secrets below) on first start;
* ``nazorg-secrets.json`` - JWT secret, api-server secret key and Fernet key,
  generated once per home (mode 0600);
* ``simple_auth_manager_passwords.json`` - the SimpleAuthManager password of the
  ``admin`` user, generated once per home (mode 0600);
* ``airflow.db`` - the SQLite metadata database (unless ``metadata_url`` is set);
* ``logs/<name>.log`` - stdout and stderr of each component, task logs beside them;
* ``pids/<name>.pid`` - the process (group) id of each component.

SQLite cannot take concurrent writers, so on SQLite runs are paced: one active run
per DAG and a parallelism of 4 (LocalExecutor pre-forks that many workers). On
PostgreSQL the limits are 8 and 16.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from nazorg.airflow.rest import AirflowApi
from nazorg.settings import SOURCE_ROOT

PROCESSES: tuple[str, ...] = ("api-server", "scheduler", "dag-processor")
ADMIN_USER = "admin"
LOCALHOST = "127.0.0.1"

SQLITE_PARALLELISM = 4
SQLITE_MAX_ACTIVE_RUNS_PER_DAG = 1
POSTGRES_PARALLELISM = 8
POSTGRES_MAX_ACTIVE_RUNS_PER_DAG = 16

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
SECRETS_FILE = "nazorg-secrets.json"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"

_CONFIG_PLACEHOLDER = (
    "# Managed by nazorg_dev.airflow_embedded: every option is set through AIRFLOW__* environment\n"
    "# variables (see nazorg_dev.airflow_embedded.airflow_env). This file only stops Airflow from\n"
    "# writing a full default configuration here.\n"
)

# Popen objects of the components this process started, so that stop() can reap them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class EmbeddedAirflowError(RuntimeError):
    """The embedded Airflow could not be started or is unhealthy."""


class DagNotParsedError(TimeoutError):
    """The dag-processor did not register a DAG in time."""


@dataclass
class EmbeddedSettings:
    home: Path = field(default_factory=lambda: SOURCE_ROOT / "var" / "airflow")
    dags_folder: Path = field(default_factory=lambda: SOURCE_ROOT / "dags")
    plugins_folder: Path = field(default_factory=lambda: SOURCE_ROOT / "plugins")
    port: int = 8080
    #: hidden from repr: URLs and connection variables may carry passwords
    metadata_url: str | None = field(default=None, repr=False)
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)
    #: Port of the scheduler's task log server (Airflow's default); tests pick a free one.
    log_server_port: int = 8793

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser().resolve()
        self.dags_folder = Path(self.dags_folder).expanduser().resolve()
        self.plugins_folder = Path(self.plugins_folder).expanduser().resolve()
        url = self.metadata_url
        if url is not None:
            # psycopg 3 is the installed driver (psycopg2 and asyncpg are not)
            for bare in ("postgresql://", "postgres://"):
                if url.startswith(bare):
                    url = "postgresql+psycopg://" + url[len(bare) :]
            if not url.startswith(("sqlite:", "postgresql+psycopg://")):
                raise ValueError("metadata_url must be a sqlite:// or postgresql+psycopg:// URL")
            self.metadata_url = url

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def sql_alchemy_conn(self) -> str:
        return self.metadata_url or f"sqlite:///{self.home / 'airflow.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sql_alchemy_conn.startswith("sqlite:")

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.home / "pids"

    @property
    def passwords_file(self) -> Path:
        return self.home / PASSWORDS_FILE

    @property
    def secrets_file(self) -> Path:
        return self.home / SECRETS_FILE

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.pids_dir / f"{name}.pid"


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str
    password: str = field(repr=False)

    def api(self, timeout: float = 30) -> AirflowApi:
        return AirflowApi(self.url, self.username, self.password, timeout=timeout)


# -- secrets, generated once per home ---------------------------------------


def _create_once(path: Path, content: str) -> bool:
    """Atomically create ``path`` (mode 0600) unless it exists; True if this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _read_json(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text() or "{}")
    if not isinstance(loaded, dict):
        raise EmbeddedAirflowError(f"{path} does not hold a JSON object")
    return loaded


def _home_secrets(home: Path) -> dict[str, str]:
    """JWT secret, api secret key and Fernet key of this home, created on first use."""
    path = home / SECRETS_FILE
    fresh = {
        "jwt_secret": secrets.token_urlsafe(48),
        "api_secret_key": secrets.token_urlsafe(32),
        "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    _create_once(path, json.dumps(fresh, indent=2) + "\n")
    stored = _read_json(path)
    missing = [key for key in fresh if not stored.get(key)]
    if missing:
        raise EmbeddedAirflowError(f"{path} lacks {', '.join(missing)}; remove it to regenerate")
    return {key: str(stored[key]) for key in fresh}


def admin_password(settings: EmbeddedSettings) -> str:
    """The admin password of this home, generated once (SimpleAuthManager keeps existing ones)."""
    path = settings.passwords_file
    _create_once(path, json.dumps({ADMIN_USER: secrets.token_urlsafe(18)}) + "\n")
    stored = _read_json(path)
    if not stored.get(ADMIN_USER):
        stored[ADMIN_USER] = secrets.token_urlsafe(18)
        path.write_text(json.dumps(stored) + "\n")
        path.chmod(0o600)
    return str(stored[ADMIN_USER])


def credentials(settings: EmbeddedSettings) -> Credentials:
    return Credentials(settings.url, ADMIN_USER, admin_password(settings))


# -- environment --------------------------------------------------------------


def _prepare_home(settings: EmbeddedSettings) -> None:
    for folder in (settings.home, settings.logs_dir, settings.pids_dir):
        folder.mkdir(parents=True, exist_ok=True)
    _create_once(settings.home / "airflow.cfg", _CONFIG_PLACEHOLDER)


def airflow_env(settings: EmbeddedSettings) -> dict[str, str]:
    """The complete environment for every airflow process of this home.

    The caller's environment is inherited except for any ``AIRFLOW*`` variable
    (a developer's own ``AIRFLOW_HOME`` or connections must not leak in);
    connections and ``NAZORG_*`` settings come through ``settings.extra_env``,
    which is merged last. Creates ``home`` and its secrets on first use.
    """
    _prepare_home(settings)
    keys = _home_secrets(settings.home)
    admin_password(settings)
    home = settings.home
    sqlite = settings.is_sqlite
    parallelism = SQLITE_PARALLELISM if sqlite else POSTGRES_PARALLELISM
    max_runs = SQLITE_MAX_ACTIVE_RUNS_PER_DAG if sqlite else POSTGRES_MAX_ACTIVE_RUNS_PER_DAG

    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", os.defpath)])
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
            # where the DAGs and plugins are; no example DAGs
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.plugins_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # executor and metadata database, paced for SQLite
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.sql_alchemy_conn,
            # else Airflow derives postgresql+asyncpg (not installed); SQLAlchemy picks
            # psycopg's async mode for create_async_engine by itself
            **({} if sqlite else {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": settings.sql_alchemy_conn}),
            # SQLite: wait for the write lock rather than fail after Python's default 5 s
            **(
                {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "nazorg_dev.sqlite_connect_args.CONNECT_ARGS"}
                if sqlite
                else {}
            ),
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": str(max_runs),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # fast pickup and fast appearance of new DAG files
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            # api-server on loopback only; workers reach it through the execution API
            "AIRFLOW__API__HOST": LOCALHOST,
            "AIRFLOW__API__PORT": str(settings.port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{settings.url}/execution/",
            # one admin user; its password is generated once and kept in home
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(settings.passwords_file),
            # secrets generated once per home; identical for every component
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            # hide what can be hidden (conf and XCom are always shown unmasked)
            "AIRFLOW__CORE__HIDE_SENSITIVE_VAR_CONN_FIELDS": "True",
            # Airflow's audit log (table `log`) keeps every API request body, refused ones too:
            # a trigger's conf and run id are masked there (ours only ever hold the run key)
            "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "bsn,burgerservicenummer,conf,dag_run_id",
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            "AIRFLOW__API__EXPOSE_STACKTRACE": "False",
            # logs
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.logs_dir),
            "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(
                settings.logs_dir / "dag_processor"
            ),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.log_server_port),
        }
    )
    env.update(settings.extra_env)
    return env


# -- processes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Proc:
    ppid: int
    pgrp: int
    state: str
    start_ticks: int


def _proc_table() -> dict[int, _Proc]:
    """Every live (non-zombie) process on this machine, from ``/proc``."""
    table: dict[int, _Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        state = fields[0]
        if state in {"Z", "X", "x"}:
            continue
        table[int(entry.name)] = _Proc(int(fields[1]), int(fields[2]), state, int(fields[19]))
    return table


def _read_pid(settings: EmbeddedSettings, name: str) -> tuple[int, int] | None:
    """``(pid, start ticks)`` from the pid file of ``name``."""
    try:
        pid, ticks = settings.pid_file(name).read_text().split()
        return int(pid), int(ticks)
    except (OSError, ValueError):
        return None


def _running_pid(
    settings: EmbeddedSettings, name: str, table: Mapping[int, _Proc] | None = None
) -> int | None:
    """The pid of component ``name`` if it runs. A process counts only if its start time
    (clock ticks since boot) matches the pid file, so a reused pid is never taken for it.
    """
    recorded = _read_pid(settings, name)
    if recorded is None:
        return None
    pid, ticks = recorded
    proc = (table if table is not None else _proc_table()).get(pid)
    return pid if proc is not None and proc.start_ticks == ticks else None


def status(settings: EmbeddedSettings) -> dict[str, bool]:
    table = _proc_table()
    return {name: _running_pid(settings, name, table) is not None for name in PROCESSES}


def _descendants(roots: set[int], table: Mapping[int, _Proc]) -> set[int]:
    """``roots``, their process groups and all their (grand)children that are alive."""
    found = {pid for pid in roots if pid in table}
    found |= {pid for pid, proc in table.items() if proc.pgrp in roots}
    while True:
        more = {pid for pid, proc in table.items() if proc.ppid in found} - found
        if not more:
            return found
        found |= more


def _airflow_command() -> list[str]:
    script = Path(sys.executable).parent / "airflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "airflow"]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCALHOST, port)) == 0


def _migrate(settings: EmbeddedSettings, env: dict[str, str], timeout_s: float) -> None:
    log_path = settings.log_file("db-migrate")
    with log_path.open("ab") as log:
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [*_airflow_command(), "db", "migrate"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=settings.home,
                timeout=max(timeout_s, 1.0),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedAirflowError(
                f"airflow db migrate took longer than {timeout_s:.0f}s; see {log_path}"
            ) from exc
    if done.returncode != 0:
        raise EmbeddedAirflowError(
            f"airflow db migrate failed ({done.returncode}); {log_path}:\n{_tail(log_path)}"
        )


def _spawn(settings: EmbeddedSettings, name: str, env: dict[str, str]) -> int:
    args = [*_airflow_command(), name]
    if name == "api-server":
        args += ["--host", LOCALHOST, "--port", str(settings.port)]
    with settings.log_file(name).open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=settings.home,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    started = _proc_table().get(proc.pid)
    if started is None:
        raise EmbeddedAirflowError(
            f"airflow {name} exited at once; {settings.log_file(name)}:\n" + _tail(settings.log_file(name))
        )
    settings.pid_file(name).write_text(f"{proc.pid} {started.start_ticks}\n")
    return proc.pid


def _after(heartbeat: object, since: float | None) -> bool:
    if since is None:
        return True
    if not isinstance(heartbeat, str):
        return False
    moment = datetime.fromisoformat(heartbeat)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() >= since - 2.0


def _healthy(health: Mapping[str, Any], since: float | None) -> bool:
    def ok(part: str, beat: str) -> bool:
        info = health.get(part) or {}
        return bool(info.get("status") == "healthy" and _after(info.get(beat), since))

    return (
        (health.get("metadatabase") or {}).get("status") == "healthy"
        and ok("scheduler", "latest_scheduler_heartbeat")
        and ok("dag_processor", "latest_dag_processor_heartbeat")
    )


def _wait_healthy(settings: EmbeddedSettings, since: float | None, deadline: float) -> None:
    last: object = "no answer yet"
    warmed = False
    with httpx.Client(base_url=settings.url, timeout=5.0) as client:
        while True:
            table = _proc_table()
            for name in PROCESSES:
                if _running_pid(settings, name, table) is None:
                    log_path = settings.log_file(name)
                    raise EmbeddedAirflowError(
                        f"airflow {name} is not running; {log_path}:\n{_tail(log_path)}"
                    )
            try:
                response = client.get("/api/v2/monitor/health")
                if response.status_code == 200 and not warmed:
                    # The api-server builds the execution API on its first request, which
                    # blocks it for seconds (long enough for a task's first call to time out
                    # and be retried); pay that here, before any task runs.
                    remaining = max(deadline - time.monotonic(), 5.0)
                    warmed = client.get("/execution/health", timeout=remaining).is_success
                if response.status_code == 200:
                    health = response.json()
                    if warmed and _healthy(health, since):
                        return
                    last = health
                else:
                    last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise EmbeddedAirflowError(
                    f"embedded Airflow at {settings.url} not healthy in time; last: {last}; "
                    f"logs in {settings.logs_dir}"
                )
            time.sleep(0.25)


def start(settings: EmbeddedSettings, timeout_s: float = 180) -> Credentials:
    """Start what is not running yet and wait until the api-server, scheduler and
    dag-processor report healthy. Idempotent: running components are not started twice.
    On failure everything of this home is stopped again and the error names the log.
    """
    deadline = time.monotonic() + timeout_s
    env = airflow_env(settings)
    running = status(settings)
    if all(running.values()):
        _wait_healthy(settings, None, deadline)
        return credentials(settings)

    if not running["api-server"] and _port_in_use(settings.port):
        raise EmbeddedAirflowError(
            f"port {settings.port} is taken by a process that is not this home's api-server"
        )
    if not running["scheduler"] and _port_in_use(settings.log_server_port):
        raise EmbeddedAirflowError(
            f"log server port {settings.log_server_port} is taken; set log_server_port"
        )

    try:
        if not any(running.values()):
            _migrate(settings, env, deadline - time.monotonic())
        since = time.time()
        for name in PROCESSES:
            if not running[name]:
                _spawn(settings, name, env)
        _wait_healthy(settings, since, deadline)
    except BaseException:
        stop(settings)
        raise
    return credentials(settings)


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _reap() -> None:
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[pid]


def stop(settings: EmbeddedSettings, timeout_s: float = 30) -> None:
    """SIGTERM every component's process group and all its descendants (task processes
    run in process groups of their own), SIGKILL whatever is left after ``timeout_s``,
    then remove the pid files. Idempotent; nothing running is not an error.
    """
    table = _proc_table()
    leaders = {pid for name in PROCESSES if (pid := _running_pid(settings, name, table))}
    tracked = _descendants(leaders, table)
    for pgid in leaders:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    _signal(tracked - leaders, signal.SIGTERM)

    deadline = time.monotonic() + timeout_s
    while True:
        _reap()
        table = _proc_table()
        alive = {pid for pid in tracked if pid in table}
        # children forked while shutting down belong to us as well
        tracked |= _descendants(alive, table) if alive else set()
        alive = {pid for pid in tracked if pid in table}
        if not alive:
            break
        if time.monotonic() >= deadline:
            _signal(alive, signal.SIGKILL)
            for pgid in leaders:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.2)
            _reap()
            break
        time.sleep(0.1)

    for pid in list(_CHILDREN):
        with contextlib.suppress(subprocess.TimeoutExpired):
            _CHILDREN[pid].wait(timeout=5)
            del _CHILDREN[pid]
    for name in PROCESSES:
        settings.pid_file(name).unlink(missing_ok=True)


def wait_for_dag(api: AirflowApi, dag_id: str, timeout_s: float = 120, poll_s: float = 0.5) -> dict[str, Any]:
    """Wait until the dag-processor has registered ``dag_id``; its API record.

    Raises :class:`DagNotParsedError` with the current import errors (file and
    traceback) when it does not appear in time.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        dag = api.get_dag(dag_id)
        if dag is not None:
            return dag
        if time.monotonic() >= deadline:
            break
        time.sleep(poll_s)

    errors = api.import_errors()
    if errors:
        report = "\n\n".join(
            f"--- {err.get('filename')} (bundle {err.get('bundle_name')}):\n"
            f"{str(err.get('stack_trace', '')).rstrip()}"
            for err in errors
        )
        raise DagNotParsedError(
            f"DAG {dag_id!r} did not appear within {timeout_s:g}s; {len(errors)} import error(s):\n{report}"
        )
    raise DagNotParsedError(
        f"DAG {dag_id!r} did not appear within {timeout_s:g}s and there are no import errors: "
        "is the file in the dags folder, does it define that dag_id, is the dag-processor running?"
    )
