"""Where the policy and query files live.

The package is installed editable from ``plugins/``, so the repository root is
two levels up. Deployments point elsewhere with environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def register_dir() -> Path:
    return Path(os.environ.get("NAZORG_REGISTER_DIR", REPO_ROOT / "register"))


def sql_dir() -> Path:
    return Path(os.environ.get("NAZORG_SQL_DIR", REPO_ROOT / "sql"))


def expectations_dir() -> Path:
    return Path(os.environ.get("NAZORG_EXPECTATIONS_DIR", REPO_ROOT / "expectations"))


def outbox_dir() -> Path:
    return Path(os.environ.get("NAZORG_OUTBOX_DIR", REPO_ROOT / "var" / "outbox"))
