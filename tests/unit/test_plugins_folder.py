"""Airflow's plugin loader must not import the library under bare module names.

Airflow imports every ``.py`` file below the plugins folder as a top-level module
named after the file. With the library in ``plugins/`` that gave a second copy of
each module (``models``, ``guard``, ``register``...) in every Airflow process,
with its own state and its own heavy imports. The library lives in ``src/`` now;
``plugins/`` holds only what Airflow must find there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
print("MODULES " + json.dumps({name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}))
"""


def _loaded_modules(plugins_folder: Path, tmp_path: Path) -> dict[str, str | None]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    return json.loads(line[len("MODULES ") :])


def _library_modules_under_bare_names(modules: dict[str, str | None], library: Path) -> list[str]:
    return sorted(
        name
        for name, path in modules.items()
        if path and Path(path).resolve().is_relative_to(library) and not name.startswith("nazorg")
    )


def test_plugins_folder_holds_only_airflow_entry_points() -> None:
    plugins = REPO / "plugins"
    python_files = sorted(p.relative_to(plugins).as_posix() for p in plugins.rglob("*.py"))
    assert python_files == ["airflow_local_settings.py", "nazorg_operator.py"]


def test_loading_plugins_registers_no_library_module_under_a_bare_name(tmp_path: Path) -> None:
    modules = _loaded_modules(REPO / "plugins", tmp_path)
    assert _library_modules_under_bare_names(modules, REPO / "src") == []


def test_the_check_sees_a_library_in_the_plugins_folder(tmp_path: Path) -> None:
    """The old layout (library inside plugins/) is what the check above must catch."""
    plugins = tmp_path / "plugins"
    (plugins / "nazorg").mkdir(parents=True)
    (plugins / "nazorg" / "models.py").write_text("VALUE = 1\n")
    modules = _loaded_modules(plugins, tmp_path)
    assert _library_modules_under_bare_names(modules, plugins) == ["models"]
