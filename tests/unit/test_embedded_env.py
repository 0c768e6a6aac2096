"""The embedded Airflow's environment and the REST client, without starting anything."""

from __future__ import annotations

import base64
import json
import logging
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nazorg.airflow import rest
from nazorg.airflow.rest import AirflowApi, AirflowApiError
from nazorg.settings import SOURCE_ROOT as REPO_ROOT
from nazorg_dev import airflow_embedded as embedded
from nazorg_dev.airflow_embedded import EmbeddedSettings, airflow_env

pytestmark = pytest.mark.unit

SECRET_KEYS = (
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__FERNET_KEY",
)


def settings_for(tmp_path: Path, **kwargs: Any) -> EmbeddedSettings:
    return EmbeddedSettings(
        home=tmp_path / "home",
        dags_folder=tmp_path / "dags",
        plugins_folder=tmp_path / "plugins",
        **kwargs,
    )


def test_sqlite_defaults_are_paced(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, port=18123, log_server_port=18124)
    env = airflow_env(settings)
    home = settings.home
    assert env["AIRFLOW_HOME"] == str(home)
    assert env["AIRFLOW_CONFIG"] == str(home / "airflow.cfg")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(tmp_path / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{home / 'airflow.db'}"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG"] == "1"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] == "0.1"
    assert int(env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"]) <= 10
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "18124"
    assert env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] == str(home / "logs")
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(
        home / "simple_auth_manager_passwords.json"
    )
    assert env["AIRFLOW__CORE__HIDE_SENSITIVE_VAR_CONN_FIELDS"] == "True"
    assert env["AIRFLOW__API__EXPOSE_CONFIG"] == "False"
    # the placeholder config keeps Airflow from writing a full one with copies of the secrets
    cfg = (home / "airflow.cfg").read_text()
    assert all(line.startswith("#") for line in cfg.splitlines())


def test_postgres_gets_more_parallelism(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/airflow"
    env = airflow_env(settings_for(tmp_path, metadata_url=url))
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == url
    assert env["AIRFLOW__CORE__PARALLELISM"] == "8"
    assert env["AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG"] == "16"


def test_postgres_urls_use_psycopg_for_sync_and_async(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, metadata_url="postgresql://postgres@127.0.0.1:5432/airflow")
    env = airflow_env(settings)
    expected = "postgresql+psycopg://postgres@127.0.0.1:5432/airflow"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == expected
    # Airflow would otherwise derive postgresql+asyncpg, which is not installed
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == expected
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC" not in airflow_env(settings_for(tmp_path))


def test_unknown_metadata_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="metadata_url"):
        settings_for(tmp_path, metadata_url="mysql://root@localhost/airflow")


def test_settings_repr_hides_urls_and_extra_env(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        metadata_url="postgresql+psycopg://u:db-pw-123@127.0.0.1/airflow",
        extra_env={"AIRFLOW_CONN_NAZORG_DB": "postgresql://u:conn-pw-456@h/db"},
    )
    assert "db-pw-123" not in repr(settings)
    assert "conn-pw-456" not in repr(settings)


def test_secrets_are_generated_once_per_home_and_reused(tmp_path: Path) -> None:
    first = airflow_env(settings_for(tmp_path))
    again = airflow_env(settings_for(tmp_path))
    other = airflow_env(settings_for(tmp_path / "other"))
    for key in SECRET_KEYS:
        assert first[key] and len(first[key]) >= 32
        assert again[key] == first[key]
        assert other[key] != first[key]
    assert len(base64.urlsafe_b64decode(first["AIRFLOW__CORE__FERNET_KEY"])) == 32

    settings = settings_for(tmp_path)
    password = embedded.admin_password(settings)
    assert len(password) >= 16
    assert embedded.admin_password(settings) == password
    assert embedded.admin_password(settings_for(tmp_path / "other")) != password
    assert json.loads(settings.passwords_file.read_text()) == {"admin": password}
    for path in (settings.passwords_file, settings.secrets_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_password_written_by_airflow_is_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.home.mkdir(parents=True)
    settings.passwords_file.write_text(json.dumps({"admin": "chosen-by-airflow"}))
    assert embedded.credentials(settings).password == "chosen-by-airflow"


def test_extra_env_is_merged_last_and_inherited_airflow_vars_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LEAKED", "postgres://someone@elsewhere/db")
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("NAZORG_INHERITED", "kept")
    extra = {
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW_CONN_NAZORG_DB": "postgresql://postgres@127.0.0.1:5432/nazorg",
        "NAZORG_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    env = airflow_env(settings_for(tmp_path, extra_env=extra))
    assert "AIRFLOW_CONN_LEAKED" not in env
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["NAZORG_INHERITED"] == "kept"
    for key, value in extra.items():
        assert env[key] == value


def test_the_batch_sweep_runs_only_when_triggered_unless_a_schedule_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first hourly run would race the per-melding runs the embedded stack is started for."""
    monkeypatch.delenv("NAZORG_BATCH_SCHEDULE", raising=False)
    assert airflow_env(settings_for(tmp_path))["NAZORG_BATCH_SCHEDULE"] == "none"
    monkeypatch.setenv("NAZORG_BATCH_SCHEDULE", "@daily")
    assert airflow_env(settings_for(tmp_path))["NAZORG_BATCH_SCHEDULE"] == "@daily"
    env = airflow_env(settings_for(tmp_path, extra_env={"NAZORG_BATCH_SCHEDULE": "*/5 * * * *"}))
    assert env["NAZORG_BATCH_SCHEDULE"] == "*/5 * * * *"


def test_no_secret_value_is_hard_coded(tmp_path: Path) -> None:
    env = airflow_env(settings_for(tmp_path))
    password = embedded.admin_password(settings_for(tmp_path))
    sources = "".join(Path(module.__file__ or "").read_text() for module in (embedded, rest))
    for value in [*(env[key] for key in SECRET_KEYS), password]:
        assert value not in sources
    # the default home, where the secrets are kept, is ignored by git
    default_home = EmbeddedSettings().home
    assert default_home == REPO_ROOT / "var" / "airflow"
    assert "var/" in (REPO_ROOT / ".gitignore").read_text().split()


def test_credentials_repr_hides_the_password() -> None:
    creds = embedded.Credentials("http://127.0.0.1:1", "admin", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(creds)


def test_nothing_running_is_reported_and_stop_is_harmless(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert embedded.status(settings) == {
        "api-server": False,
        "scheduler": False,
        "dag-processor": False,
    }
    embedded.stop(settings)
    embedded.stop(settings)


def test_stale_or_reused_pid_is_not_running(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.pids_dir.mkdir(parents=True)
    # pid 1 exists, but it is not the process the pid file recorded
    settings.pid_file("scheduler").write_text("1 999999999\n")
    settings.pid_file("api-server").write_text("garbage\n")
    assert embedded.status(settings) == dict.fromkeys(embedded.PROCESSES, False)
    embedded.stop(settings)
    assert not any(settings.pids_dir.iterdir())


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.pids_dir.mkdir(parents=True)
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(embedded._descendants({leader.pid}, embedded._proc_table())) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        ticks = embedded._proc_table()[leader.pid].start_ticks
        settings.pid_file("dag-processor").write_text(f"{leader.pid} {ticks}\n")
        assert embedded.status(settings)["dag-processor"] is True
        group = embedded._descendants({leader.pid}, embedded._proc_table())

        embedded.stop(settings, timeout_s=5)

        assert leader.wait(timeout=5) is not None
        assert not group & set(embedded._proc_table())
        assert embedded.status(settings)["dag-processor"] is False
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()


class FakeApi:
    """Stands in for AirflowApi in wait_for_dag."""

    def __init__(self, appears_after: int | None, errors: list[dict[str, Any]]) -> None:
        self.calls = 0
        self.appears_after = appears_after
        self.errors = errors

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        self.calls += 1
        if self.appears_after is not None and self.calls > self.appears_after:
            return {"dag_id": dag_id}
        return None

    def import_errors(self) -> list[dict[str, Any]]:
        return self.errors


def test_wait_for_dag_returns_once_parsed() -> None:
    fake = FakeApi(appears_after=2, errors=[])
    dag = embedded.wait_for_dag(fake, "d", timeout_s=5, poll_s=0.01)  # type: ignore[arg-type]
    assert dag == {"dag_id": "d"}


def test_wait_for_dag_reports_import_errors() -> None:
    error = {"filename": "broken.py", "bundle_name": "dags-folder", "stack_trace": "NameError: x"}
    fake = FakeApi(appears_after=None, errors=[error])
    with pytest.raises(embedded.DagNotParsedError, match=r"(?s)1 import error.*broken\.py.*NameError"):
        embedded.wait_for_dag(fake, "d", timeout_s=0.05, poll_s=0.01)  # type: ignore[arg-type]
    with pytest.raises(embedded.DagNotParsedError, match="no import errors"):
        embedded.wait_for_dag(FakeApi(None, []), "d", timeout_s=0.05, poll_s=0.01)  # type: ignore[arg-type]


# -- REST client against a fake api-server --------------------------------------------


class FakeServer:
    def __init__(self) -> None:
        self.tokens_issued = 0
        self.expire_next = False
        self.runs: dict[str, str] = {}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path == "/auth/token":
            body = json.loads(request.content)
            if body != {"username": "admin", "password": "pw"}:
                return httpx.Response(401, json={"detail": "Invalid credentials"})
            self.tokens_issued += 1
            return httpx.Response(201, json={"access_token": f"tok{self.tokens_issued}"})
        expected = f"Bearer tok{self.tokens_issued}"
        if self.expire_next or request.headers.get("authorization") != expected:
            self.expire_next = False
            return httpx.Response(401, json={"detail": "Invalid JWT token"})
        if path == "/api/v2/dags/d/dagRuns" and request.method == "POST":
            body = json.loads(request.content)
            if "logical_date" not in body or body["logical_date"] is not None:
                return httpx.Response(422, json={"detail": "logical_date required"})
            if "dag_run_id" not in body:  # Airflow generates the id (and takes no conf here)
                run_id = f"manual__2026-01-01T00:00:00+00:00_{len(self.runs):08d}"
                self.runs[run_id] = "queued"
                return httpx.Response(200, json={"dag_run_id": run_id, "conf": body.get("conf", {})})
            if body["conf"].get("bad"):
                return httpx.Response(400, json={"detail": "Invalid input for param"})
            if body["dag_run_id"] in self.runs:
                return httpx.Response(409, json={"detail": {"reason": "Unique constraint"}})
            self.runs[body["dag_run_id"]] = "queued"
            return httpx.Response(200, json={"dag_run_id": body["dag_run_id"]})
        if path.startswith("/api/v2/dags/d/dagRuns/") and path.endswith("/taskInstances"):
            offset = int(request.url.params["offset"])
            tis = [
                {"task_id": "a", "map_index": -1, "state": "success"},
                {"task_id": "m", "map_index": 0, "state": "failed"},
            ]
            return httpx.Response(200, json={"task_instances": tis[offset:], "total_entries": 2})
        if path.startswith("/api/v2/dags/d/dagRuns/"):
            run_id = path.rsplit("/", 1)[1]
            if run_id not in self.runs:
                return httpx.Response(404, json={"detail": "not found"})
            return httpx.Response(200, json={"state": self.runs[run_id]})
        if path == "/api/v2/dags/d" and request.method == "PATCH":
            assert request.url.params["update_mask"] == "is_paused"
            assert json.loads(request.content) == {"is_paused": False}
            return httpx.Response(200, json={"dag_id": "d", "is_paused": False})
        return httpx.Response(404, json={"detail": "no route"})


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def api(server: FakeServer) -> AirflowApi:
    return AirflowApi("http://af.test/", "admin", "pw", transport=httpx.MockTransport(server))


def test_trigger_is_idempotent_with_bearer_token(api: AirflowApi, server: FakeServer) -> None:
    assert api.trigger("d", "r1", {"melding_id": "m1"}) == "created"
    assert api.trigger("d", "r1", {"melding_id": "m1"}) == "exists"
    assert server.tokens_issued == 1
    assert server.seen[0].url.path == "/auth/token"
    api.unpause("d")


def test_a_generated_trigger_sends_no_run_id_nor_conf_and_returns_airflows_id(
    api: AirflowApi, server: FakeServer
) -> None:
    first = api.trigger_generated("d")
    second = api.trigger_generated("d")
    assert first != second
    assert set(server.runs) == {first, second}
    posts = [json.loads(r.content) for r in server.seen if r.url.path.endswith("/dagRuns")]
    assert posts == [{"logical_date": None}] * 2


def test_a_401_refreshes_the_token_once(api: AirflowApi, server: FakeServer) -> None:
    api.trigger("d", "r1", {})
    server.expire_next = True
    assert api.run_state("d", "r1") == "queued"
    assert server.tokens_issued == 2


def test_bad_credentials_raise_auth_error(server: FakeServer) -> None:
    bad = AirflowApi("http://af.test", "admin", "wrong", transport=httpx.MockTransport(server))
    with pytest.raises(rest.AirflowAuthError, match=r"401.*Invalid credentials"):
        bad.run_state("d", "r1")


def test_errors_carry_status_and_detail_but_never_the_conf(
    api: AirflowApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AirflowApiError) as info:
        api.trigger("d", "r2", {"bad": "999999990-geheim"})
    assert info.value.status_code == 400
    assert info.value.detail == "Invalid input for param"
    assert "999999990-geheim" not in str(info.value)
    assert "999999990-geheim" not in caplog.text
    assert "pw" not in repr(api)


def test_wait_for_runs_and_task_states(api: AirflowApi, server: FakeServer) -> None:
    api.trigger("d", "r1", {})
    api.trigger("d", "r2", {})
    server.runs.update({"r1": "success", "r2": "failed"})
    assert api.wait_for_runs("d", ["r1", "r2"], timeout_s=1, poll_s=0.01) == {
        "r1": "success",
        "r2": "failed",
    }
    assert api.task_states("d", "r1") == {"a": "success", "m[0]": "failed"}


def test_wait_for_runs_times_out_naming_unfinished_runs(api: AirflowApi, server: FakeServer) -> None:
    for run_id in ("r1", "r2"):
        api.trigger("d", run_id, {})
    server.runs["r1"] = "success"
    with pytest.raises(TimeoutError, match=r"unfinished.*: r2$"):
        api.wait_for_runs("d", ["r1", "r2"], timeout_s=0.05, poll_s=0.01)


def test_a_trigger_whose_answer_timed_out_is_retried_and_reported_as_existing(
    api: AirflowApi, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The api-server may create the run but answer after our read timeout (SQLite lock waits)."""
    monkeypatch.setattr(rest.time, "sleep", lambda _s: None)
    real = server.__call__
    calls = {"n": 0}

    def slow_first(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if request.url.path.endswith("/dagRuns") and calls["n"] == 0:
            calls["n"] += 1
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    flaky = AirflowApi("http://af.test/", "admin", "pw", transport=httpx.MockTransport(slow_first))
    assert flaky.trigger("d", "r9", {"melding_id": "m9"}) == "exists"
    assert server.runs == {"r9": "queued"}


# -- CeleryExecutor ---------------------------------------------------------------

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/airflow_celery"


def test_celery_needs_postgres_and_sane_numbers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL metadata database"):
        settings_for(tmp_path, executor="celery")
    with pytest.raises(ValueError, match="PostgreSQL metadata database"):
        settings_for(tmp_path, executor="celery", metadata_url=f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(ValueError, match="executor"):
        settings_for(tmp_path, executor="kubernetes", metadata_url=PG)
    with pytest.raises(ValueError, match="at least 1"):
        settings_for(tmp_path, executor="celery", metadata_url=PG, workers=0)
    with pytest.raises(ValueError, match="redis_db"):
        settings_for(tmp_path, executor="celery", metadata_url=PG, redis_db=-1)


def test_celery_environment(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, executor="celery", metadata_url=PG, workers=3, worker_concurrency=5, redis_db=7
    )
    env = airflow_env(settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/7"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{PG}"
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "5"
    # a killed worker's task comes back within a minute, not after Airflow's 300 s
    assert int(env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]) <= 60
    assert float(env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"]) <= 10
    # ... and never from the broker, which would run it a second time alongside
    assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) >= 3600
    assert settings.worker_names == ("worker-1", "worker-2", "worker-3")
    assert settings.components == (*embedded.PROCESSES, "worker-1", "worker-2", "worker-3")
    assert embedded.status(settings) == dict.fromkeys(settings.components, False)
    # the LocalExecutor path is untouched
    local = airflow_env(settings_for(tmp_path / "local"))
    assert local["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not any(key.startswith("AIRFLOW__CELERY") for key in local)
    assert settings_for(tmp_path / "local").components == embedded.PROCESSES


def test_celery_broker_and_backend_can_be_given_and_stay_out_of_repr(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        executor="celery",
        metadata_url=PG,
        broker_url="redis://:broker-pw-1@127.0.0.1:6379/3",
        result_backend="db+postgresql+psycopg://u:backend-pw-2@127.0.0.1/results",
    )
    env = airflow_env(settings)
    assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@127.0.0.1:6379/3")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("/results")
    assert "broker-pw-1" not in repr(settings)
    assert "backend-pw-2" not in repr(settings)


def test_workers_have_their_own_names_and_no_log_server(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, executor="celery", metadata_url=PG, worker_concurrency=3)
    args = embedded._worker_args(settings, 2)
    assert args[:2] == ["celery", "worker"]
    assert args[args.index("--celery-hostname") + 1] == "w2@%h"
    assert args[args.index("--concurrency") + 1] == "3"
    assert "--skip-serve-logs" in args


def test_task_hostname_names_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from nazorg_dev import celery_hostname

    monkeypatch.delenv(celery_hostname.WORKER_NAME_ENV, raising=False)
    assert celery_hostname.hostname() == socket.gethostname()
    monkeypatch.setenv(celery_hostname.WORKER_NAME_ENV, "w2")
    assert celery_hostname.hostname() == embedded.worker_node_name(2) == f"w2@{socket.gethostname()}"


def test_stop_knows_workers_it_was_not_told_about(tmp_path: Path) -> None:
    """`nazorg airflow down` builds plain settings; the workers' pid files are still found."""
    celery = settings_for(tmp_path, executor="celery", metadata_url=PG, workers=3)
    celery.pids_dir.mkdir(parents=True)
    celery.pid_file("worker-3").write_text("1 1\n")
    plain = settings_for(tmp_path)
    assert celery.pid_file("worker-3") in embedded.pid_files(plain)
    with pytest.raises(ValueError, match="no Celery worker 4"):
        embedded.kill_worker(celery, 4)
    with pytest.raises(embedded.EmbeddedAirflowError, match="not running"):
        embedded.kill_worker(celery, 1)


def test_cli_airflow_up_celery_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from nazorg import cli
    from nazorg_dev import demo

    calls: list[tuple[str, object]] = []

    def record(actie: str, celery: object = None) -> int:
        calls.append((actie, celery))
        return 0

    monkeypatch.setattr(demo, "airflow_command", record)
    assert cli.main(["airflow", "up", "--celery", "--workers", "3", "--redis-db", "5"]) == 0
    assert cli.main(["airflow", "up"]) == 0
    assert cli.main(["airflow", "down"]) == 0
    assert calls == [
        ("up", demo.CeleryMode(workers=3, concurrency=2, redis_db=5)),
        ("up", None),
        ("down", None),
    ]
    with pytest.raises(SystemExit):
        cli.main(["airflow", "up", "--celery", "--workers", "0"])


def test_celery_mode_uses_its_own_databases_and_home(tmp_path: Path) -> None:
    from nazorg_dev import demo

    mode = demo.CeleryMode(workers=2, redis_db=4)
    settings = demo._settings(tmp_path, {}, 8080, mode)
    assert settings.is_celery and settings.workers == 2 and settings.redis_db == 4
    assert settings.sql_alchemy_conn.endswith("/nazorg_airflow_celery")
    assert mode.database_url("nazorg_db").endswith("/nazorg_celery")
    assert demo.LOCAL_CELERY_DIR != demo.LOCAL_DIR
    env = demo.environment(tmp_path, 5010, nazorg_db=mode.database_url("nazorg_db"))
    assert env["AIRFLOW_CONN_NAZORG_DB"] == mode.database_url("nazorg_db")
    assert env["AIRFLOW_CONN_NAZORG_BRONNEN"] == f"sqlite:///{tmp_path / 'bronnen.db'}"
