from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_compose", REPO / "scripts" / "check_compose.py")
assert spec and spec.loader
check_compose = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_compose)


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
    assert "literal secret" in found
    assert "missing services" in found
