"""Attack classes 15-18: readable files, a log server on every interface, purged values in
SQLite's write-ahead log, and an interrupted demo that leaves its processes running.

The unit tests here start no Airflow: they check the file modes the supervisor and the
demo create, the key that stays out of ``env.sh``, the WAL after a purge, how processes
are found and stopped, and the signal handling. ``test_interrupted_environment_*`` runs
the demo's real bring-up (Airflow, Haal Centraal server) in a subprocess and signals it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from nazorg import migrations, pipeline
from nazorg.models import Fase
from nazorg.settings import PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV, SOURCE_ROOT
from nazorg.store import Store, make_engine, purge_checkpoint
from nazorg_dev import airflow_embedded as embedded
from nazorg_dev import demo
from nazorg_dev.airflow_embedded import OWNER_ENV, EmbeddedSettings, airflow_env
from tests.security.procs import LOOPBACK, alive, listeners, loose_modes, port_is_free, umask

PYTHON = sys.executable


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A developer's usual umask (022): what we create must be owner-only regardless."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def settings_for(tmp_path: Path) -> EmbeddedSettings:
    return EmbeddedSettings(
        home=tmp_path / "home", dags_folder=tmp_path / "dags", plugins_folder=tmp_path / "p"
    )


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != OWNER_ENV}
    env.update(extra)
    return env


# -- 15: owner-only files, no secret in env.sh ----------------------------------------


@pytest.mark.unit
@pytest.mark.usefixtures("permissive_umask")
def test_a_new_home_is_owner_only(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    airflow_env(settings)
    assert {p.name for p in settings.home.iterdir()} >= {"airflow.cfg", "logs", "pids", embedded.SECRETS_FILE}
    assert loose_modes(settings.home) == []
    assert os.umask(0o022) == 0o022, "the caller's umask is given back"


@pytest.mark.unit
@pytest.mark.usefixtures("permissive_umask")
def test_a_stale_home_is_tightened(tmp_path: Path) -> None:
    """A home from before the fix: airflow.db, logs and the log folder readable by all."""
    settings = settings_for(tmp_path)
    (settings.home / "logs" / "dag_id=x").mkdir(parents=True)
    for name in ("airflow.db", "logs/scheduler.log", "logs/dag_id=x/attempt=1.log"):
        (settings.home / name).write_text("synthetic")
    assert loose_modes(settings.home), "the stale home must start out loose"

    airflow_env(settings)

    assert loose_modes(settings.home) == []


@pytest.mark.unit
@pytest.mark.usefixtures("permissive_umask")
def test_spawned_processes_create_owner_only_files(tmp_path: Path) -> None:
    """Airflow creates airflow.db and the task logs itself: its umask must be 077."""
    script = (
        "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('x'); pathlib.Path(sys.argv[2]).mkdir()"
    )
    proc = embedded.spawn(
        [PYTHON, "-c", script, "made.txt", "made_dir"],
        tmp_path / "child.log",
        child_env(**{OWNER_ENV: str(tmp_path)}),
        tmp_path,
    )
    assert proc.wait(timeout=60) == 0
    for name, mode in (("made.txt", 0o600), ("made_dir", 0o700), ("child.log", 0o600)):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    with pytest.raises(ValueError, match=OWNER_ENV):
        embedded.spawn([PYTHON, "-c", "pass"], tmp_path / "x.log", child_env(), tmp_path)


@pytest.mark.unit
@pytest.mark.usefixtures("permissive_umask")
def test_env_sh_names_the_key_file_and_holds_no_secret(tmp_path: Path) -> None:
    base = tmp_path / "local"
    env = demo.environment(base, 12345)
    key_file = base / "secrets" / "pseudoniem_sleutel"
    key = key_file.read_text(encoding="utf-8").strip()
    assert len(key) >= 16
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.parent.stat().st_mode & 0o777 == 0o700
    assert key not in json.dumps(env), "no process environment carries the key"

    sh = base / "env.sh"
    sh.write_text(demo.env_sh(env))
    text = sh.read_text()
    assert key not in text
    assert f"export {PSEUDONYM_KEY_FILE_ENV}={key_file}\n" in text
    assert f"unset {PSEUDONYM_KEY_ENV}\n" in text

    # a shell that had its own key set: after `source env.sh` the file's key is the one used
    check = (
        "import pathlib, sys; from nazorg.settings import Settings; "
        "sys.exit(0 if Settings.from_env().pseudonym_key() == pathlib.Path(sys.argv[1]).read_bytes().strip() "
        "else 3)"
    )
    done = subprocess.run(
        [
            "bash",
            "-c",
            f'export {PSEUDONYM_KEY_ENV}=andere-sleutel-uit-de-shell; source "$1"; exec "$2" -c "$3" "$4"',
            "bash",
            str(sh),
            PYTHON,
            check,
            str(key_file),
        ],
        env=child_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]


# -- 17: purged values leave SQLite's write-ahead log ----------------------------------

MELDING = "EDM-WAL-0001"


def _files_holding(directory: Path, needle: bytes) -> list[str]:
    return sorted(p.name for p in directory.glob("nazorg.db*") if needle in p.read_bytes())


def _stage_overcollected(store: Store, mark: str) -> None:
    """A concept document and an outcome holding a distinctive (synthetic) value."""
    store.execute(
        "basisdocument_upsert",
        {
            "melding_id": MELDING,
            "gemeente_code": "0000",
            "status": "concept",
            # long enough to spill into overflow pages as well
            "inhoud": json.dumps({"overgeleverd": [mark] * 300}),
            "register_versie": "test",
            "nu": "2025-01-01T00:00:00Z",
        },
    )
    store.execute(
        "uitkomst_upsert",
        {
            "melding_id": MELDING,
            "check_id": "detentie",
            "aandachtsgebied": "zorg",
            "uitkomst": "ja",
            "dossierverantwoordelijke": mark,
            "contact_herkomst": "bron",
            "reden": None,
            "processing_activity_id": "pa-test",
            "nu": "2025-01-01T00:00:00Z",
            "pogingen": 1,
            "volgende_poging": None,
        },
    )


@pytest.fixture
def wal_store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    yield Store(engine, SOURCE_ROOT / "sql")
    engine.dispose()


@pytest.mark.unit
def test_a_purge_leaves_no_copy_in_the_wal_or_the_file(tmp_path: Path, wal_store: Store) -> None:
    mark = f"OVERGELEVERD-{uuid.uuid4().hex}"
    other = sqlite3.connect(tmp_path / "nazorg.db")  # another process's connection, open throughout
    try:
        assert other.execute("SELECT count(*) FROM basisdocument").fetchone() == (0,)
        _stage_overcollected(wal_store, mark)
        assert _files_holding(tmp_path, mark.encode()), "before the purge the value is on disk"

        pipeline._block(wal_store, MELDING, Fase.BEWAAK, "overcollectie", [("overgeleverd", "expect_x")])

        assert _files_holding(tmp_path, mark.encode()) == []
        assert other.execute("SELECT count(*) FROM basisdocument").fetchone() == (0,)
        assert other.execute("SELECT count(*) FROM uitkomst").fetchone() == (0,)
    finally:
        other.close()


@pytest.mark.unit
def test_a_checkpoint_held_up_by_a_reader_says_so_and_the_next_one_clears(
    tmp_path: Path, wal_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader inside an older snapshot keeps the log: reported (no values), cleared later."""
    mark = f"OVERGELEVERD-{uuid.uuid4().hex}"
    _stage_overcollected(wal_store, mark)
    reader = sqlite3.connect(tmp_path / "nazorg.db", isolation_level=None)
    impatient = create_engine(f"sqlite:///{tmp_path / 'nazorg.db'}", connect_args={"timeout": 0.2})
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM basisdocument").fetchone()  # holds its snapshot
        with wal_store.transaction() as conn:
            wal_store.execute("basisdocument_delete", {"melding_id": MELDING}, conn=conn)
            wal_store.execute("uitkomst_delete", {"melding_id": MELDING}, conn=conn)
        with caplog.at_level(logging.WARNING, logger="nazorg.store"):
            assert purge_checkpoint(impatient) is False
        assert "wal_checkpoint" in caplog.text
        assert mark not in caplog.text
        reader.execute("COMMIT")

        assert purge_checkpoint(impatient) is True
        assert _files_holding(tmp_path, mark.encode()) == []
    finally:
        reader.close()
        impatient.dispose()


@pytest.mark.unit
def test_purge_checkpoint_is_a_no_op_off_sqlite() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert purge_checkpoint(engine) is True  # never connects: port 1 would refuse


# -- 18: processes are found and stopped, and nothing else ------------------------------


def _sleeper(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "300"], env=env, start_new_session=True)


def _kill(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.unit
def test_stop_finds_what_a_killed_supervisor_left_behind_and_nothing_else(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    left_behind = _sleeper(child_env(**{OWNER_ENV: str(settings.home)}))  # no pid file: its supervisor died
    other_home = _sleeper(child_env(**{OWNER_ENV: str(tmp_path / "other")}))
    unmarked = _sleeper(child_env(AIRFLOW_HOME=str(settings.home)))  # not in a recorded group
    try:
        embedded.stop(settings, timeout_s=10)
        assert left_behind.wait(timeout=10) == -signal.SIGTERM
        assert alive(other_home.pid) and alive(unmarked.pid)
    finally:
        _kill(left_behind, other_home, unmarked)


def _orphan_in_dead_group(cwd: Path, **env: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """A session leader that exits and leaves a child in its session (a scheduler's log server)."""
    leader = subprocess.Popen(
        ["sh", "-c", 'sleep 300 & echo "$!"; read -r _'],
        env=child_env(**env),
        cwd=cwd,
        start_new_session=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert leader.stdout is not None and leader.stdin is not None
    orphan = int(leader.stdout.readline())
    ticks = embedded._proc_table()[leader.pid].start_ticks
    leader.stdin.close()
    leader.wait(timeout=10)
    return leader, orphan, ticks


@pytest.mark.unit
@pytest.mark.parametrize("marked_by", ["AIRFLOW_HOME", "working directory"])
def test_stop_sweeps_the_session_of_a_dead_recorded_leader(tmp_path: Path, marked_by: str) -> None:
    """What held port 8793: the log server of a scheduler that was gone, in its session."""
    settings = settings_for(tmp_path)
    settings.pids_dir.mkdir(parents=True)
    elsewhere = tmp_path / "someone-else"
    elsewhere.mkdir()
    if marked_by == "AIRFLOW_HOME":
        leader, orphan, ticks = _orphan_in_dead_group(tmp_path, AIRFLOW_HOME=str(settings.home))
        other_leader, stranger, other_ticks = _orphan_in_dead_group(tmp_path, AIRFLOW_HOME=str(elsewhere))
    else:
        # a process title (setproctitle, as Airflow's log server sets) can overwrite the
        # environment: then the working directory is the mark
        leader, orphan, ticks = _orphan_in_dead_group(settings.home)
        other_leader, stranger, other_ticks = _orphan_in_dead_group(elsewhere)
    try:
        assert alive(orphan) and alive(stranger)
        settings.pid_file("scheduler").write_text(f"{leader.pid} {ticks}\n")
        settings.pid_file("dag-processor").write_text(f"{other_leader.pid} {other_ticks}\n")

        embedded.stop(settings, timeout_s=10)

        assert not alive(orphan)
        assert alive(stranger), "a session member without this home's mark is not ours to stop"
    finally:
        for pid in (orphan, stranger):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


INTERRUPTED_SCRIPT = textwrap.dedent(
    """
    import os, pathlib, signal, sys, time
    from nazorg_dev.demo import Interrupted, stopped_on_interrupt

    out = pathlib.Path(sys.argv[1])
    sig = getattr(signal, sys.argv[2])

    def cleanup():
        os.kill(os.getpid(), sig)  # a second signal must not cut the cleanup short
        time.sleep(0.2)
        out.write_text("gestopt")

    try:
        with stopped_on_interrupt(cleanup):
            os.kill(os.getpid(), sig)
            time.sleep(60)
    except Interrupted as exc:
        sys.exit(exc.exit_code)
    """
)


@pytest.mark.unit
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_runs_the_cleanup_once_to_the_end(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [PYTHON, "-c", INTERRUPTED_SCRIPT, str(out), sig.name],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 128 + sig, done.stderr.decode(errors="replace")[-2000:]
    assert out.read_text() == "gestopt"


@pytest.mark.unit
def test_cleanup_on_failure_and_kept_on_success_when_asked() -> None:
    calls: list[str] = []
    with demo.stopped_on_interrupt(lambda: calls.append("up-kept"), keep_on_success=True):
        pass
    assert calls == []
    with pytest.raises(RuntimeError), demo.stopped_on_interrupt(lambda: calls.append("failed")):
        raise RuntimeError("synthetic")
    with demo.stopped_on_interrupt(lambda: calls.append("done")):
        pass
    assert calls == ["failed", "done"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, "handlers are given back"


# -- 16 + 18 for real: the demo's bring-up, interrupted -------------------------------

HOLD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nazorg_dev.demo import Interrupted, session

    try:
        with session(Path(sys.argv[1]), int(sys.argv[2]), timeout_s=600):
            print("UP", flush=True)
            time.sleep(900)
    except Interrupted as exc:
        sys.exit(exc.exit_code)
    """
)


def _bring_up_and_hold(base: Path, port: int, tmp_path: Path) -> subprocess.Popen[str]:
    """The demo's bring-up in a subprocess, holding its environment until signalled."""
    env = child_env()
    env.pop(PSEUDONYM_KEY_ENV, None)
    proc = subprocess.Popen(
        [PYTHON, "-c", HOLD_SCRIPT, str(base), str(port)],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / f"bring-up-{port}.err").open("wb"),
        text=True,
        env=env,
    )
    stdout = proc.stdout
    assert stdout is not None
    up = threading.Event()

    def watch() -> None:
        for line in stdout:  # migrations log here too
            if line == "UP\n":
                up.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    if not up.wait(timeout=400):
        proc.kill()
        proc.wait()
        demo.bring_down(base, port)
        err = (tmp_path / f"bring-up-{port}.err").read_text(errors="replace")
        pytest.fail(f"bring-up did not come up:\n{err[-4000:]}")
    return proc


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.integration
def test_interrupted_environment_stops_everything_and_a_stale_one_is_recovered(tmp_path: Path) -> None:
    base = tmp_path / "var" / "demo"
    port = demo._free_port()
    supervisors: list[subprocess.Popen[str]] = []
    try:
        # 1. SIGTERM once Airflow is up: nothing of the environment survives, every port is free
        first = _bring_up_and_hold(base, port, tmp_path)
        supervisors.append(first)
        started = demo.environment_processes(base)
        assert len(started) >= 4, "the Airflow components and the Haal Centraal server"
        sockets = listeners(started)
        assert {s.port for s in sockets} >= {port}, "the api-server listens"
        assert len({s.port for s in sockets}) >= 2, "and so does the Haal Centraal server"
        assert {s.address for s in sockets} <= LOOPBACK, sorted(map(str, sockets))
        assert {umask(pid) for pid in started} == {0o077}
        assert loose_modes(base) == []
        env_sh = (base / "env.sh").read_text()
        key = (base / "secrets" / "pseudoniem_sleutel").read_text().strip()
        password = json.loads((base / "airflow-credentials.json").read_text())["password"]
        assert key not in env_sh and password not in env_sh

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=180) == 128 + signal.SIGTERM
        assert not {pid for pid in started if alive(pid)}
        assert demo.environment_processes(base) == set()
        assert all(port_is_free(s.port) for s in sockets)

        # 2. a second bring-up on the same var dir comes up; then its supervisor is killed
        #    outright (no cleanup possible) and what it left is stopped by the next bring-down
        second = _bring_up_and_hold(base, port, tmp_path)
        supervisors.append(second)
        second.kill()
        second.wait()
        left = demo.environment_processes(base)
        assert len(left) >= 4, "a SIGKILLed supervisor leaves its processes behind"
        assert not port_is_free(port)

        demo.bring_down(base, port)  # what every bring-up and demo does first

        assert not {pid for pid in left if alive(pid)}
        assert demo.environment_processes(base) == set()
        assert port_is_free(port)
    finally:
        for proc in supervisors:
            _end(proc)
        demo.bring_down(base, port)
