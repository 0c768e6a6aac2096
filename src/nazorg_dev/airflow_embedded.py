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

Everything there is the owner's only: directories 0700, files 0600. The
supervisor creates under umask 077 and starts every process with it (Airflow
creates ``airflow.db`` and the task logs itself), and tightens what an older
home left behind.

Nothing listens beyond loopback: the api-server binds 127.0.0.1, and the
scheduler starts no task log server (Airflow's ``serve-logs`` binds every
interface, with no option to change that); the api-server reads task logs from
the shared log folder instead, which is all a single machine needs.

:func:`stop` finds every process of a home, also what a supervisor that was
killed outright left behind (see :func:`processes_of`): the recorded component
sessions and their descendants, a dead component's session members that carry
the home's mark, and processes whose environment carries :data:`OWNER_ENV`.
Nothing else is ever signalled.

SQLite cannot take concurrent writers, so on SQLite runs are paced: one active run
per DAG and a parallelism of 4 (LocalExecutor pre-forks that many workers). On
PostgreSQL the limits are 8 and 16.

**CeleryExecutor** (``executor="celery"``, PostgreSQL metadata only): the same three
components plus ``workers`` processes ``airflow celery worker``, each in its own
session with its own Celery node name (``w1@host``, ``w2@host``, ...), log file
(``logs/worker-1.log``) and pid file (``pids/worker-1.pid``). The broker is Redis
(``redis://127.0.0.1:6379/<redis_db>`` unless ``broker_url`` says otherwise; give
every environment its own db index), the result backend the metadata database
(``db+postgresql+psycopg://...``). Workers start no log server either
(``--skip-serve-logs``: the server binds every interface), and each reports its
node name as the hostname of the task instances it runs (see
:mod:`nazorg_dev.celery_hostname`). :func:`start` returns once every worker answers
a Celery ping. A worker that dies mid-task leaves its task instance ``running``
until the scheduler misses its heartbeat for ``[scheduler]
task_instance_heartbeat_timeout`` seconds (Airflow's default 300; 30 here, checked
every 5 s), then fails that try, and a task with retries runs again on a live
worker. A task the dead worker had taken but not yet started has no heartbeat to
miss: it stays ``queued`` until ``[scheduler] task_queued_timeout`` (120 s here,
Airflow's default 600) re-queues it. :func:`kill_worker` kills one worker's whole session, as losing its
machine would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from nazorg.airflow.rest import AirflowApi
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.celery_hostname import WORKER_NAME_ENV

#: the components of every embedded Airflow; a Celery one adds its workers (see EmbeddedSettings.components)
PROCESSES: tuple[str, ...] = ("api-server", "scheduler", "dag-processor")
EXECUTORS: tuple[str, ...] = ("local", "celery")
#: Redis on this machine; the db index is appended per environment
DEFAULT_REDIS = "redis://127.0.0.1:6379"
#: seconds without a task heartbeat after which the scheduler fails a Celery task's try (Airflow: 300)
CELERY_TASK_HEARTBEAT_TIMEOUT_S = 30
#: how often the scheduler looks for such task instances (Airflow: 10)
CELERY_HEARTBEAT_DETECTION_INTERVAL_S = 5
#: a task a killed worker had taken but not yet started stays ``queued`` (no heartbeat to miss)
#: until the scheduler re-queues it after this long (Airflow: 600), looked for every 15 s
CELERY_TASK_QUEUED_TIMEOUT_S = 120
CELERY_TASK_QUEUED_CHECK_S = 15
#: Redis redelivers a task a dead worker took after this long; longer than any task may run, so a
#: task is never run twice by the broker (Airflow's own retry, after the heartbeat timeout, is what
#: brings a killed worker's task back)
CELERY_VISIBILITY_TIMEOUT_S = 86400
ADMIN_USER = "admin"
LOCALHOST = "127.0.0.1"

SQLITE_PARALLELISM = 4
SQLITE_MAX_ACTIVE_RUNS_PER_DAG = 1
POSTGRES_PARALLELISM = 8
POSTGRES_MAX_ACTIVE_RUNS_PER_DAG = 16

#: umask of everything the embedded default creates and starts: owner-only files
OWNER_ONLY_UMASK = 0o077
#: names, in a process's environment, the home (or demo environment) it was started for
OWNER_ENV = "NAZORG_EMBEDDED_OWNER"
BATCH_SCHEDULE_ENV = "NAZORG_BATCH_SCHEDULE"

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
    #: Airflow's ``[logging] worker_log_server_port``. No log server is started (see the
    #: module docstring), so nothing binds it; the api-server only tries it for a running task.
    log_server_port: int = 8793
    #: "local" (LocalExecutor) or "celery" (CeleryExecutor; needs a PostgreSQL ``metadata_url``)
    executor: str = "local"
    #: Celery only: how many ``airflow celery worker`` processes, and task slots in each
    workers: int = 2
    worker_concurrency: int = 2
    #: Celery only: the Redis db index of the default broker URL; one per environment
    redis_db: int = 0
    #: Celery only: broker and result backend, when not the defaults (Redis on this machine;
    #: ``db+`` the metadata database)
    broker_url: str | None = field(default=None, repr=False)
    result_backend: str | None = field(default=None, repr=False)

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
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}")
        if self.is_celery:
            if self.is_sqlite:
                raise ValueError(
                    "the CeleryExecutor needs a PostgreSQL metadata database (metadata_url): "
                    "SQLite takes one writer at a time and cannot be Celery's result backend"
                )
            if self.workers < 1 or self.worker_concurrency < 1:
                raise ValueError("workers and worker_concurrency must be at least 1")
            if self.redis_db < 0:
                raise ValueError("redis_db must be a Redis database index (0 or more)")

    @property
    def is_celery(self) -> bool:
        return self.executor == "celery"

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or f"{DEFAULT_REDIS}/{self.redis_db}"

    @property
    def celery_result_backend(self) -> str:
        return self.result_backend or f"db+{self.sql_alchemy_conn}"

    @property
    def worker_names(self) -> tuple[str, ...]:
        """Component names of the Celery workers (``worker-1``, ...); none for LocalExecutor."""
        return tuple(f"worker-{i}" for i in range(1, self.workers + 1)) if self.is_celery else ()

    @property
    def components(self) -> tuple[str, ...]:
        return PROCESSES + self.worker_names

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


# -- owner-only files ----------------------------------------------------------


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Files and directories created meanwhile by this process are its owner's only.

    The umask is process-wide: commands (``nazorg demo``, ``nazorg airflow up``)
    hold it for their whole run; library callers only around their own writes.
    """
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def tighten(root: Path) -> None:
    """Make an existing tree owner-only (directories 0700, files without group/other bits).

    For homes and environments created before the umask was set: their
    databases, logs and secrets were readable by every local user.
    """
    if not root.exists():
        return
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o700)
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            with contextlib.suppress(FileNotFoundError):
                mode = os.lstat(path).st_mode
                if stat.S_ISREG(mode):
                    os.chmod(path, stat.S_IMODE(mode) & 0o700)


def write_private(path: Path, content: str) -> None:
    """Write ``path`` as the owner's only, from its first byte on (no chmod afterwards)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


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
        write_private(path, json.dumps(stored) + "\n")
    return str(stored[ADMIN_USER])


def credentials(settings: EmbeddedSettings) -> Credentials:
    return Credentials(settings.url, ADMIN_USER, admin_password(settings))


# -- environment --------------------------------------------------------------


def _prepare_home(settings: EmbeddedSettings) -> None:
    with owner_only():
        for folder in (settings.home, settings.logs_dir, settings.pids_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tighten(settings.home)
        _create_once(settings.home / "airflow.cfg", _CONFIG_PLACEHOLDER)


def airflow_env(settings: EmbeddedSettings) -> dict[str, str]:
    """The complete environment for every airflow process of this home.

    The caller's environment is inherited except for any ``AIRFLOW*`` variable
    (a developer's own ``AIRFLOW_HOME`` or connections must not leak in);
    connections and ``NAZORG_*`` settings come through ``settings.extra_env``,
    which is merged last; :data:`OWNER_ENV` marks every process as this home's.
    Creates ``home`` (owner-only) and its secrets on first use.
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
            # api-server on loopback only; workers reach it through the execution API.
            # No scheduler health check server (it would bind 0.0.0.0); loopback should
            # it ever be switched on.
            "AIRFLOW__API__HOST": LOCALHOST,
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": LOCALHOST,
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
    if settings.is_celery:
        env.update(_celery_env(settings))
    # The hourly batch sweep would race the per-melding runs this stack is started for (the demo, the
    # tests, `make up`): its first run fires as soon as the DAG is parsed and may claim a melding between
    # its trigger and its first task. Here intake_batch runs when triggered, unless the caller's
    # environment or extra_env names a schedule; a deployment keeps its hourly default.
    env.setdefault(BATCH_SCHEDULE_ENV, "none")
    env.update(settings.extra_env)
    env[OWNER_ENV] = str(home)
    return env


def _celery_env(settings: EmbeddedSettings) -> dict[str, str]:
    """What the CeleryExecutor adds, for the scheduler and the workers alike."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": settings.celery_broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": settings.celery_result_backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(settings.worker_concurrency),
        # `celery inspect ping` is how start() knows the workers are up
        "AIRFLOW__CELERY__WORKER_ENABLE_REMOTE_CONTROL": "True",
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(CELERY_VISIBILITY_TIMEOUT_S),
        # a killed worker's task is failed (and retried, if the task has retries) within about
        # 35 s instead of 5 minutes; a task heartbeats every few seconds, so only a worker that
        # is gone or stalled for 30 s trips it
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(CELERY_TASK_HEARTBEAT_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(
            CELERY_HEARTBEAT_DETECTION_INTERVAL_S
        ),
        # ... and one it had taken but not started is re-queued after 2 minutes, not 10
        # (CI caught a batch run waiting on such a chunk)
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(CELERY_TASK_QUEUED_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": str(CELERY_TASK_QUEUED_CHECK_S),
    }


# -- processes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Proc:
    ppid: int
    pgrp: int
    session: int
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
        table[int(entry.name)] = _Proc(int(fields[1]), int(fields[2]), int(fields[3]), state, int(fields[19]))
    return table


def read_pid_file(path: Path) -> tuple[int, int] | None:
    """``(pid, start ticks)`` from a pid file written by :func:`write_pid_file`."""
    try:
        pid, ticks = path.read_text().split()
        return int(pid), int(ticks)
    except (OSError, ValueError):
        return None


def write_pid_file(path: Path, pid: int) -> None:
    """Record ``pid`` with its start time, so a reused pid is never taken for it."""
    started = _proc_table().get(pid)
    if started is None:
        raise EmbeddedAirflowError(f"process {pid} exited at once")
    write_private(path, f"{pid} {started.start_ticks}\n")


def _recorded_running(path: Path, table: Mapping[int, _Proc]) -> int | None:
    """The pid in ``path`` if that very process runs (same pid and start time)."""
    recorded = read_pid_file(path)
    if recorded is None:
        return None
    pid, ticks = recorded
    proc = table.get(pid)
    return pid if proc is not None and proc.start_ticks == ticks else None


def _running_pid(
    settings: EmbeddedSettings, name: str, table: Mapping[int, _Proc] | None = None
) -> int | None:
    """The pid of component ``name`` if it runs. A process counts only if its start time
    (clock ticks since boot) matches the pid file, so a reused pid is never taken for it.
    """
    return _recorded_running(settings.pid_file(name), table if table is not None else _proc_table())


def status(settings: EmbeddedSettings) -> dict[str, bool]:
    table = _proc_table()
    return {name: _running_pid(settings, name, table) is not None for name in settings.components}


def _descendants(roots: set[int], table: Mapping[int, _Proc]) -> set[int]:
    """``roots``, their process groups and sessions and all their (grand)children that are alive."""
    found = {pid for pid in roots if pid in table}
    found |= {pid for pid, proc in table.items() if proc.pgrp in roots or proc.session in roots}
    while True:
        more = {pid for pid, proc in table.items() if proc.ppid in found} - found
        if not more:
            return found
        found |= more


def _environ(pid: int) -> set[bytes]:
    """The environment ``pid`` was started with; empty if unreadable (another user's) or
    overwritten (``setproctitle``, which Airflow's api-server and task runners call, reuses
    that memory for the process title)."""
    try:
        return set(Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
    except OSError:
        return set()


def _cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _self_and_ancestors(table: Mapping[int, _Proc]) -> set[int]:
    chain: set[int] = set()
    pid = os.getpid()
    while pid > 1 and pid not in chain:
        chain.add(pid)
        proc = table.get(pid)
        if proc is None:
            break
        pid = proc.ppid
    return chain


def processes_of(
    owner: Path, pid_files: Iterable[Path] = (), table: Mapping[int, _Proc] | None = None
) -> set[int]:
    """Every live process started for ``owner`` (an Airflow home or a demo environment).

    * the leaders recorded in ``pid_files`` that still run (same pid, same start
      time), with their sessions, process groups and descendants;
    * for a recorded leader that is gone (killed, crashed): the members of its
      session or group that started after it and carry a mark of ``owner`` (in
      the environment, or ``owner`` as working directory where the process title
      overwrote the environment). A dead scheduler's log server or task
      processes, for example. The mark rules out a session whose id was reused;
    * every process whose environment carries ``OWNER_ENV=<owner>`` (what a
      supervisor that was killed before writing a pid file left running);
    * and the descendants of all of those. Never the caller or its ancestors.
    """
    table = table if table is not None else _proc_table()
    mark = f"{OWNER_ENV}={owner}".encode()
    home_mark = f"AIRFLOW_HOME={owner}".encode()
    leaders: set[int] = set()
    gone: dict[int, int] = {}
    for path in pid_files:
        recorded = read_pid_file(path)
        if recorded is None:
            continue
        if _recorded_running(path, table) is not None:
            leaders.add(recorded[0])
        elif recorded[0] not in table:  # a live process with that pid is someone else's
            gone[recorded[0]] = recorded[1]

    def ours(pid: int, proc: _Proc) -> bool:
        environ = _environ(pid)
        if mark in environ:
            return True
        since = gone.get(proc.session, gone.get(proc.pgrp))
        if since is None or proc.start_ticks < since:
            return False
        return home_mark in environ or _cwd(pid) == owner

    found = leaders | {pid for pid, proc in table.items() if ours(pid, proc)}
    return _descendants(found, table) - _self_and_ancestors(table)


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
                umask=OWNER_ONLY_UMASK,
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


#: extra arguments per component: loopback for the api-server, no 0.0.0.0 log server
_ARGS: dict[str, tuple[str, ...]] = {"scheduler": ("--skip-serve-logs",)}


def spawn(args: list[str], log_path: Path, env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``args`` in a session of its own, owner-only umask, output to ``log_path``.

    The caller's ``env`` must carry :data:`OWNER_ENV`, so the process can be found again.
    """
    if OWNER_ENV not in env:
        raise ValueError(f"env lacks {OWNER_ENV}: the process could not be found again")
    with owner_only(), log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            umask=OWNER_ONLY_UMASK,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def worker_node_name(index: int) -> str:
    """The Celery node name of worker ``index`` (1-based) as Celery expands it (``w1@host``)."""
    return f"w{index}@{socket.gethostname()}"


def _worker_args(settings: EmbeddedSettings, index: int) -> list[str]:
    return [
        "celery",
        "worker",
        "--celery-hostname",
        f"w{index}@%h",
        "--concurrency",
        str(settings.worker_concurrency),
        # no log server: it binds every interface (the api-server reads the shared log folder)
        "--skip-serve-logs",
    ]


def _spawn(settings: EmbeddedSettings, name: str, env: dict[str, str]) -> int:
    if name in settings.worker_names:
        index = settings.worker_names.index(name) + 1
        args = [*_airflow_command(), *_worker_args(settings, index)]
        # the task instances this worker runs name it (nazorg_dev.celery_hostname)
        env = {
            **env,
            WORKER_NAME_ENV: f"w{index}",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "nazorg_dev.celery_hostname.hostname",
        }
    else:
        args = [*_airflow_command(), name, *_ARGS.get(name, ())]
    if name == "api-server":
        args += ["--host", LOCALHOST, "--port", str(settings.port)]
    proc = spawn(args, settings.log_file(name), env, settings.home)
    try:
        write_pid_file(settings.pid_file(name), proc.pid)
    except EmbeddedAirflowError:
        raise EmbeddedAirflowError(
            f"airflow {name} exited at once; {settings.log_file(name)}:\n" + _tail(settings.log_file(name))
        ) from None
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


def _check_running(settings: EmbeddedSettings) -> None:
    table = _proc_table()
    for name in settings.components:
        if _running_pid(settings, name, table) is None:
            log_path = settings.log_file(name)
            raise EmbeddedAirflowError(f"airflow {name} is not running; {log_path}:\n{_tail(log_path)}")


def ping_workers(settings: EmbeddedSettings, timeout_s: float = 1.0) -> set[str]:
    """Node names of the Celery workers on this environment's broker that answer a ping."""
    from celery import Celery

    app = Celery("nazorg-embedded-ping", broker=settings.celery_broker_url, set_as_current=False)
    try:
        replies = app.control.ping(timeout=timeout_s) or []
    finally:
        app.close()
    return {str(name) for reply in replies for name in reply}


def _check_broker(settings: EmbeddedSettings) -> None:
    """Refuse to start workers against a broker that is not there (they would retry forever)."""
    from kombu import Connection

    try:
        with Connection(settings.celery_broker_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises the transport's own errors
        raise EmbeddedAirflowError(
            f"the Celery broker is not reachable ({type(exc).__name__}); is Redis running?"
        ) from None


def _wait_workers(settings: EmbeddedSettings, deadline: float) -> None:
    expected = {worker_node_name(i) for i in range(1, settings.workers + 1)}
    answered: set[str] = set()
    while True:
        _check_running(settings)
        answered = ping_workers(settings)
        if expected <= answered:
            return
        if time.monotonic() >= deadline:
            raise EmbeddedAirflowError(
                f"Celery workers not ready in time: {sorted(expected - answered)} did not answer a ping; "
                f"logs in {settings.logs_dir}"
            )
        time.sleep(0.5)


def _wait_healthy(settings: EmbeddedSettings, since: float | None, deadline: float) -> None:
    _wait_components(settings, since, deadline)
    if settings.is_celery:
        _wait_workers(settings, deadline)


def _wait_components(settings: EmbeddedSettings, since: float | None, deadline: float) -> None:
    last: object = "no answer yet"
    warmed = False
    with httpx.Client(base_url=settings.url, timeout=5.0) as client:
        while True:
            table = _proc_table()
            for name in settings.components:
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
    """Start the api-server, scheduler and dag-processor (and the Celery workers) and wait
    until they report healthy (and every worker answers a ping).

    Idempotent: a home whose components all run is only checked. A home that runs
    in part is what an interrupted run leaves behind (a dead scheduler's orphans
    among it): everything of it is stopped first and started afresh. On failure or
    interruption everything of this home is stopped again; the error names the log.
    """
    deadline = time.monotonic() + timeout_s
    env = airflow_env(settings)
    running = status(settings)
    if all(running.values()):
        _wait_healthy(settings, None, deadline)
        return credentials(settings)

    stop(settings)
    if _port_in_use(settings.port):
        raise EmbeddedAirflowError(
            f"port {settings.port} is taken by a process that is not this home's api-server"
        )
    if settings.is_celery:
        _check_broker(settings)
    try:
        _migrate(settings, env, deadline - time.monotonic())
        since = time.time()
        for name in settings.components:
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


def stop_owned(owner: Path, pid_files: Iterable[Path] = (), timeout_s: float = 30) -> None:
    """Stop every process started for ``owner`` (see :func:`processes_of`); remove ``pid_files``.

    SIGTERM to the recorded process groups whose leader still runs and to every
    other process found; SIGKILL to whatever is left after ``timeout_s``.
    Processes forked meanwhile are found and stopped as well. Idempotent;
    nothing running is not an error. Processes of other owners are never signalled.
    """
    files = list(pid_files)
    table = _proc_table()
    leaders = {pid for path in files if (pid := _recorded_running(path, table))}
    tracked = processes_of(owner, files, table)
    for pgid in leaders:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    _signal(tracked - leaders, signal.SIGTERM)
    signalled = set(tracked)

    deadline = time.monotonic() + timeout_s
    while True:
        _reap()
        table = _proc_table()
        # children forked while shutting down belong to us as well
        tracked = processes_of(owner, files, table) | _descendants({p for p in tracked if p in table}, table)
        tracked -= _self_and_ancestors(table)
        if not tracked:
            break
        _signal(tracked - signalled, signal.SIGTERM)
        signalled |= tracked
        if time.monotonic() >= deadline:
            _signal(tracked, signal.SIGKILL)
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
    for path in files:
        path.unlink(missing_ok=True)


def pid_files(settings: EmbeddedSettings) -> list[Path]:
    """The pid files of this home's components, also of workers that ``settings`` does not name
    (``nazorg airflow down`` does not know how many workers ``up --celery`` started)."""
    files = {settings.pid_file(name) for name in settings.components}
    if settings.pids_dir.is_dir():
        files |= set(settings.pids_dir.glob("*.pid"))
    return sorted(files)


def stop(settings: EmbeddedSettings, timeout_s: float = 30) -> None:
    """Stop every process of this home (see :func:`stop_owned`) and remove its pid files."""
    stop_owned(settings.home, pid_files(settings), timeout_s)


def kill_worker(settings: EmbeddedSettings, index: int, sig: signal.Signals = signal.SIGKILL) -> set[int]:
    """Send ``sig`` to Celery worker ``index`` (1-based) and everything in its session: its pool
    processes and the task processes they supervise, as losing its machine would. For tests.

    Returns the pids signalled. The pid file stays, so :func:`status` reports the worker
    as not running and :func:`stop` still sweeps whatever survived.
    """
    name = f"worker-{index}"
    if name not in settings.worker_names:
        raise ValueError(f"no Celery worker {index} in this environment")
    table = _proc_table()
    leader = _running_pid(settings, name, table)
    if leader is None:
        raise EmbeddedAirflowError(f"Celery worker {index} is not running")
    pids = _descendants({leader}, table) - _self_and_ancestors(table)
    _signal(pids, sig)
    if sig == signal.SIGKILL:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and pids & set(_proc_table()):
            _reap()
            time.sleep(0.05)
    _reap()
    return pids


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
