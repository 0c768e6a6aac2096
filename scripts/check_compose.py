"""Static validation of docker-compose.yml: no Docker engine runs on the build machines.

Checks what `docker compose config` would catch for us, plus our own rules:
every dependency names a service, every Airflow role shares one environment,
secrets are required variables (never literals), and the files the compose
file mounts exist.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REQUIRED_SERVICES = {
    "postgres",
    "redis",
    "haal-centraal",
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
}
SECRET_KEYS = re.compile(r"(PASSWORD|SECRET|FERNET|SLEUTEL)", re.IGNORECASE)
VAR = re.compile(r"\$\{[A-Z_]+(:\?[^}]*)?\}")


def problems(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: list[str] = []
    services = data.get("services") or {}
    missing = REQUIRED_SERVICES - services.keys()
    if missing:
        found.append(f"missing services: {sorted(missing)}")
    for name, service in services.items():
        if not ("image" in service or "build" in service):
            found.append(f"{name}: neither image nor build")
        deps = service.get("depends_on") or {}
        for dep in deps if isinstance(deps, list) else deps.keys():
            if dep not in services:
                found.append(f"{name}: depends_on unknown service {dep}")
        env = service.get("environment") or {}
        for key, value in env.items() if isinstance(env, dict) else []:
            text = str(value)
            if (
                SECRET_KEYS.search(key)
                and not VAR.search(text)
                and key != "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"
            ):
                found.append(f"{name}: {key} is a literal secret; use ${{VAR:?message}}")
        for volume in service.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if source.startswith(".") and not (path.parent / source).exists():
                found.append(f"{name}: mounted file {source} does not exist")
        is_role = name.startswith("airflow-") and name != "airflow-init"
        if is_role and env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            found.append(f"{name}: not on the shared CeleryExecutor environment")
    if "build" in str(data) and not (path.parent / "Dockerfile").exists():
        found.append("Dockerfile missing")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "docker-compose.yml")
    found = problems(path)
    for line in found:
        print(f"{path}: {line}", file=sys.stderr)
    if not found:
        print(f"{path}: ok ({len(yaml.safe_load(path.read_text())['services'])} services)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
