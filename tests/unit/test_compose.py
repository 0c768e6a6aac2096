"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine runs here).

The shipped files pass; each rule is shown to catch its mistake on its own, in a copy of
the shipped files with that one thing changed.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_compose", REPO / "scripts" / "check_compose.py")
assert spec and spec.loader
check_compose = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_compose)

AIRFLOW_ROLES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-worker")


def test_shipped_compose_file_is_valid() -> None:
    assert check_compose.problems(REPO / "docker-compose.yml") == []


def test_compose_check_finds_real_mistakes(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    data["services"]["airflow-worker"]["depends_on"] = {"rabbit": {"condition": "service_started"}}
    data["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
    del data["services"]["redis"]
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(yaml.safe_dump(data))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    found = "\n".join(check_compose.problems(bad))
    assert "unknown service rabbit" in found
    assert "not a required variable" in found
    assert "missing services" in found


def _set_env(service: str, key: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["services"][service]["environment"][key] = value

    return change


def _drop(service: str, key: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["services"][service].pop(key, None)

    return change


def _worker_command(data: dict[str, Any]) -> None:
    data["services"]["airflow-worker"]["command"] = ["airflow", "celery", "worker"]


def _redis_without_password(data: dict[str, Any]) -> None:
    data["services"]["redis"]["command"] = ["redis-server", "--save", ""]


def _trivial_healthcheck(data: dict[str, Any]) -> None:
    data["services"]["airflow-scheduler"]["healthcheck"] = {"test": ["CMD", "true"]}


def _init_restarts(data: dict[str, Any]) -> None:
    data["services"]["airflow-init"]["restart"] = "unless-stopped"


def _worker_container_name(data: dict[str, Any]) -> None:
    data["services"]["airflow-worker"]["container_name"] = "worker"


COMPOSE_MISTAKES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # the original default: a literal user (and Airflow then prints a generated password)
    "literal admin user": (
        _set_env("airflow-api-server", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin"),
        "airflow-api-server: SIMPLE_AUTH_MANAGER_USERS names a literal user",
    ),
    "all admins": (
        _set_env("airflow-api-server", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True"),
        "lets anyone in without a password",
    ),
    "no passwords file": (
        _set_env("airflow-api-server", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", ""),
        "no SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
    ),
    "default password": (
        _set_env("postgres", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-airflow}"),
        "postgres: POSTGRES_PASSWORD is not a required variable",
    ),
    "optional password": (
        _set_env("airflow-init", "AIRFLOW_ADMIN_PASSWORD", "${AIRFLOW_ADMIN_PASSWORD}"),
        "airflow-init: AIRFLOW_ADMIN_PASSWORD is not a required variable",
    ),
    "literal password in a URL": (
        _set_env("airflow-worker", "AIRFLOW_CONN_NAZORG_DB", "postgresql://airflow:airflow@postgres/nazorg"),
        "airflow-worker: AIRFLOW_CONN_NAZORG_DB has a password in its URL",
    ),
    "default in a URL": (
        _set_env(
            "airflow-worker", "AIRFLOW__CELERY__BROKER_URL", "redis://:${REDIS_PASSWORD:-redis}@redis:6379/0"
        ),
        "gives REDIS_PASSWORD a default or none",
    ),
    "literal fernet key": (
        _set_env("airflow-scheduler", "AIRFLOW__CORE__FERNET_KEY", "x" * 44),
        "airflow-scheduler: AIRFLOW__CORE__FERNET_KEY is not a required variable",
    ),
    "redis without password": (_redis_without_password, "redis: no --requirepass"),
    "worker without healthcheck": (_drop("airflow-worker", "healthcheck"), "airflow-worker: no healthcheck"),
    "haal-centraal without healthcheck": (
        _drop("haal-centraal", "healthcheck"),
        "haal-centraal: no healthcheck",
    ),
    "healthcheck that cannot fail": (_trivial_healthcheck, "airflow-scheduler: healthcheck cannot fail"),
    "init is no longer one-shot": (_init_restarts, "airflow-init: no healthcheck"),
    "worker serving logs": (_worker_command, "airflow-worker: serves its logs"),
    "worker not scalable": (_worker_container_name, "keeps it from scaling"),
    "role off the CeleryExecutor": (
        _set_env("airflow-scheduler", "AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "airflow-scheduler: not on the shared CeleryExecutor environment",
    ),
}


def _copy_project(tmp_path: Path) -> Path:
    for name in ("docker-compose.yml", "Dockerfile", "requirements.txt", "constraints.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "compose-init-databases.sql", tmp_path / "scripts")
    return tmp_path / "docker-compose.yml"


@pytest.mark.parametrize("mistake", sorted(COMPOSE_MISTAKES))
def test_each_compose_rule_catches_its_mistake(tmp_path: Path, mistake: str) -> None:
    compose = _copy_project(tmp_path)
    assert check_compose.problems(compose) == [], "the copy must pass before it is changed"
    change, expected = COMPOSE_MISTAKES[mistake]
    # the anchors are expanded on load: every service carries its own environment copy
    data = yaml.safe_load(compose.read_text())
    for service in data["services"].values():
        if isinstance(service.get("environment"), dict):
            service["environment"] = dict(service["environment"])
    change(data)
    compose.write_text(yaml.safe_dump(data))
    found = check_compose.problems(compose)
    assert any(expected in line for line in found), found


DOCKERFILE_MISTAKES: dict[str, tuple[str, str, str, str]] = {
    # file, text replaced, replacement, expected problem
    "bare python image": (
        "Dockerfile",
        "FROM apache/airflow:3.3.2-python3.11",
        "FROM python:3.11-slim",
        "not built FROM apache/airflow:3.3.2",
    ),
    "another airflow version": (
        "Dockerfile",
        "FROM apache/airflow:3.3.2-python3.11",
        "FROM apache/airflow:3.3.1-python3.11",
        "not built FROM apache/airflow:3.3.2",
    ),
    "installed as root": ("Dockerfile", "USER airflow\nWORKDIR", "WORKDIR", "not installed as USER airflow"),
    "without constraints": (
        "Dockerfile",
        "-r requirements.txt -c constraints.txt",
        "-r requirements.txt",
        "without -c constraints.txt",
    ),
    "unpinned extra install": (
        "Dockerfile",
        "pip install --no-cache-dir --no-deps .",
        "pip install --no-cache-dir . celery",
        "may install unpinned dependencies",
    ),
    "unpinned requirement": (
        "requirements.txt",
        "httpx==0.28.1",
        "httpx>=0.28",
        "'httpx>=0.28' is not pinned",
    ),
    "requirement off its constraint": (
        "requirements.txt",
        "httpx==0.28.1",
        "httpx==0.28.0",
        "httpx==0.28.0 is not the version in constraints.txt",
    ),
    "celery provider not required": (
        "requirements.txt",
        "apache-airflow-providers-celery==",
        "# apache-airflow-providers-celery==",
        "apache-airflow-providers-celery is not a pinned requirement",
    ),
}


@pytest.mark.parametrize("mistake", sorted(DOCKERFILE_MISTAKES))
def test_each_image_rule_catches_its_mistake(tmp_path: Path, mistake: str) -> None:
    compose = _copy_project(tmp_path)
    name, old, new, expected = DOCKERFILE_MISTAKES[mistake]
    path = tmp_path / name
    assert old in path.read_text(), f"{name} no longer contains {old!r}: update this test"
    path.write_text(path.read_text().replace(old, new, 1))
    found = check_compose.problems(compose)
    assert any(expected in line for line in found), found


def test_the_image_pins_what_requirements_pin() -> None:
    """Not a tautology of the checker: the FROM tag and the requirement read independently."""
    requirements = (REPO / "requirements.txt").read_text().splitlines()
    assert "apache-airflow==3.3.2" in requirements
    assert any(line.startswith("apache-airflow-providers-celery==") for line in requirements)
    froms = [line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]
    assert froms == ["FROM apache/airflow:3.3.2-python3.11"]
    compose = (REPO / "docker-compose.yml").read_text()
    assert "admin:admin" not in compose
    for role in AIRFLOW_ROLES:
        assert "healthcheck" in yaml.safe_load(compose)["services"][role]


def test_the_intake_api_service_is_required_loopback_and_has_no_token_default(tmp_path: Path) -> None:
    """The PI-facing service: checked like the others, and dropping it is a finding."""
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    intake = data["services"]["intake-api"]
    assert intake["command"][:3] == ["nazorg", "intake", "serve"]
    assert all(str(port).startswith("127.0.0.1:") for port in intake["ports"])
    assert "/v1/health" in " ".join(intake["healthcheck"]["test"])
    assert intake["environment"]["NAZORG_INTAKE_TOKENS"].startswith("${NAZORG_INTAKE_TOKENS:?")

    intake["environment"]["NAZORG_INTAKE_TOKENS"] = '${NAZORG_INTAKE_TOKENS:-{"pi": "x"}}'
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(yaml.safe_dump(data))
    shutil.copy(REPO / "Dockerfile", tmp_path / "Dockerfile")
    found = "\n".join(check_compose.problems(bad))
    assert "intake-api: NAZORG_INTAKE_TOKENS is not a required variable" in found

    del data["services"]["intake-api"]
    bad.write_text(yaml.safe_dump(data))
    assert "missing services: ['intake-api']" in check_compose.problems(bad)


@pytest.mark.parametrize("key", ["NAZORG_WERKLIJST_ACCOUNTS", "NAZORG_WERKLIJST_SESSIE_SLEUTEL"])
def test_the_werklijst_secrets_are_required_without_defaults(tmp_path: Path, key: str) -> None:
    """The intake service serves /werklijst: its accounts and session key have no working default,
    and its session cookie stays Secure (TLS in front)."""
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    env = data["services"]["intake-api"]["environment"]
    assert env[key].startswith(f"${{{key}:?")
    assert env["NAZORG_WERKLIJST_COOKIE_SECURE"] == "true"

    env[key] = f"${{{key}:-x}}"
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(yaml.safe_dump(data))
    shutil.copy(REPO / "Dockerfile", tmp_path / "Dockerfile")
    assert f"intake-api: {key} is not a required variable" in "\n".join(check_compose.problems(bad))
