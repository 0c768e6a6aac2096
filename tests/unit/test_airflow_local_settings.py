"""GX is warmed only in the processes that fork task processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
sys.argv = ["airflow", *{args!r}]
sys.path.insert(0, {plugins!r})
import airflow_local_settings
import nazorg.guard as guard
print("great_expectations" in sys.modules, bool(guard._RUNNERS), "sqlglot" in sys.modules)
"""


def _warmed(*args: str) -> str:
    code = SCRIPT.format(args=list(args), plugins=str(REPO / "plugins"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


@pytest.mark.unit
@pytest.mark.parametrize("args", [("dag-processor",), ("api-server",), ("db", "migrate"), ("dags", "test")])
def test_parsing_and_serving_processes_stay_light(args: tuple[str, ...]) -> None:
    assert _warmed(*args) == "False False False"


@pytest.mark.integration
def test_scheduler_warms_the_guard_before_forking() -> None:
    assert _warmed("scheduler") == "True True True"
