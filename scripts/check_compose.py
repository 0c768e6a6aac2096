"""Static validation of docker-compose.yml and its Dockerfile: no Docker engine runs on the
machines where this project is developed and tested, so nothing here starts a container.

Checks what `docker compose config` would catch for us, plus our own rules:

* every dependency names a service; every Airflow role shares the CeleryExecutor environment;
* every service has a healthcheck that can fail, except a one-shot job (``restart: "no"``)
  that its dependents wait for with ``service_completed_successfully``;
* no working default password anywhere: a secret (a key or value naming a password, secret,
  Fernet key or pseudonym key, a password inside a URL, Redis's ``--requirepass``) is a
  required variable ``${VAR:?message}``, never a literal, never ``${VAR}`` or ``${VAR:-default}``;
  SimpleAuthManager's user comes from a variable, its passwords file is set, and "all admins"
  (no login at all) is off; Redis requires a password; the werklijst's accounts (password
  hashes) count as a secret too;
* the Celery worker is scalable (no container name, no published port) and serves no logs;
* the Dockerfile builds FROM the official ``apache/airflow`` image of the Airflow version
  pinned in requirements.txt and installs the pinned requirements under constraints.txt as
  the airflow user; every requirement is pinned (``==``) to the version in constraints.txt,
  the Celery provider among them;
* the files the compose file mounts exist.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

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
    "intake-api",
}
WORKER = "airflow-worker"
#: ACCOUNTS: the werklijst's accounts carry password hashes (an offline attack target)
SECRET_KEYS = re.compile(r"(PASSWORD|SECRET|FERNET|SLEUTEL|TOKEN|API_KEY|_AUTH$|ACCOUNTS)", re.IGNORECASE)
#: every ${...} reference in a value
REFERENCE = re.compile(r"\$\{([^}]*)\}")
REQUIRED_REFERENCE = re.compile(r"^[A-Z_][A-Z0-9_]*:\?.+$")
#: scheme://user:password@host: the password part
URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]*)@")
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;#]+)")
CELERY_PROVIDER = "apache-airflow-providers-celery"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _refs(text: str) -> list[str]:
    return REFERENCE.findall(text)


def _required_only(text: str) -> bool:
    """``text`` is made of required variables where it matters: at least one reference, and
    every reference is ``${VAR:?message}``."""
    refs = _refs(text)
    return bool(refs) and all(REQUIRED_REFERENCE.match(ref) for ref in refs)


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {k: v for k, _, v in (str(item).partition("=") for item in env)}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [] if value is None else [str(value)]


def _secret_problems(name: str, service: dict[str, Any]) -> list[str]:
    found = []
    for key, value in _env(service).items():
        # a *_FILE names where a secret is kept, not the secret
        if SECRET_KEYS.search(key) and not key.endswith("_FILE") and not _required_only(value):
            found.append(f"{name}: {key} is not a required variable; use ${{VAR:?message}}")
        for password in URL_PASSWORD.findall(value):
            if not _required_only(password):
                found.append(f"{name}: {key} has a password in its URL that is not ${{VAR:?message}}")
    for text in _texts(service.get("command")) + _texts(service.get("healthcheck")):
        for password in URL_PASSWORD.findall(text):
            if not _required_only(password):
                found.append(f"{name}: a URL in its command has a password that is not ${{VAR:?message}}")
    # a secret-named variable used with a default (or bare) anywhere in the service
    for text in _texts(service):
        for ref in _refs(text):
            var = ref.split(":", 1)[0].split("-", 1)[0]
            if SECRET_KEYS.search(var) and not REQUIRED_REFERENCE.match(ref):
                found.append(f"{name}: ${{{ref}}} gives {var} a default or none; use ${{{var}:?message}}")
    return found


def _auth_problems(name: str, env: dict[str, str]) -> list[str]:
    if env.get("AIRFLOW__CORE__AUTH_MANAGER", "").rsplit(".", 1)[-1] != "SimpleAuthManager":
        return []
    found = []
    users = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "")
    if not all(_required_only(user.rsplit(":", 1)[0]) for user in users.split(",")):
        found.append(f"{name}: SIMPLE_AUTH_MANAGER_USERS names a literal user; use ${{VAR:?message}}:role")
    if not env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        found.append(f"{name}: no SIMPLE_AUTH_MANAGER_PASSWORDS_FILE (Airflow would print a generated one)")
    if env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False").lower() != "false":
        found.append(f"{name}: SIMPLE_AUTH_MANAGER_ALL_ADMINS lets anyone in without a password")
    return found


def _healthcheck_problems(name: str, service: dict[str, Any], services: dict[str, Any]) -> list[str]:
    check = service.get("healthcheck")
    if check:
        test = check.get("test")
        if check.get("disable") or not test or test in (["NONE"], "NONE"):
            return [f"{name}: healthcheck is disabled"]
        command = " ".join(test[1:]) if isinstance(test, list) else str(test)
        if command.strip() in {"true", "exit 0", ":"}:
            return [f"{name}: healthcheck cannot fail"]
        return []
    one_shot = str(service.get("restart", "no")) == "no"
    waited_for = [
        other
        for other, svc in services.items()
        if isinstance(svc.get("depends_on"), dict) and name in svc["depends_on"]
    ]
    completed = all(
        services[o]["depends_on"][name].get("condition") == "service_completed_successfully"
        for o in waited_for
    )
    if one_shot and waited_for and completed:
        return []
    return [f"{name}: no healthcheck"]


def _dockerfile_problems(dockerfile: Path, requirements: Path, constraints: Path) -> list[str]:
    found: list[str] = []
    if not dockerfile.exists():
        return ["Dockerfile missing"]
    pins: dict[str, str] = {}
    if not requirements.exists():
        return [f"{requirements.name} missing"]
    constraint_pins = {}
    if constraints.exists():
        for line in constraints.read_text().splitlines():
            if match := PIN.match(line.strip()):
                constraint_pins[_norm(match[1])] = match[3]
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        if match is None:
            found.append(f"requirements.txt: {line!r} is not pinned with ==")
            continue
        pins[_norm(match[1])] = match[3]
        if constraint_pins.get(_norm(match[1])) != match[3]:
            found.append(f"requirements.txt: {match[1]}=={match[3]} is not the version in constraints.txt")
    if CELERY_PROVIDER not in pins:
        found.append(f"requirements.txt: {CELERY_PROVIDER} is not a pinned requirement")
    airflow = pins.get("apache-airflow")

    lines = [ln.strip() for ln in dockerfile.read_text().splitlines()]
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    froms = [ln for ln in instructions if ln.upper().startswith("FROM ")]
    expected = re.compile(rf"^FROM\s+apache/airflow:{re.escape(airflow or '?')}(-python3\.\d+)?(\s|$)", re.I)
    if len(froms) != 1 or not expected.match(froms[0]):
        found.append(f"Dockerfile: not built FROM apache/airflow:{airflow} (the pinned Airflow)")
    user = None
    installed = False
    for ln in instructions:
        if ln.upper().startswith("USER "):
            user = ln.split()[1]
        if "pip install" in ln and "-r requirements.txt" in ln:
            installed = True
            if user != "airflow":
                found.append("Dockerfile: requirements are not installed as USER airflow")
            if "-c constraints.txt" not in ln:
                found.append("Dockerfile: requirements are installed without -c constraints.txt")
            if "--no-cache-dir" not in ln:
                found.append("Dockerfile: pip install without --no-cache-dir")
        elif "pip install" in ln and "--no-deps" not in ln:
            found.append(f"Dockerfile: {ln!r} may install unpinned dependencies (use --no-deps)")
    if not installed:
        found.append("Dockerfile: does not pip install -r requirements.txt")
    if user != "airflow":
        found.append("Dockerfile: the image does not end as USER airflow")
    return found


def problems(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: list[str] = []
    services: dict[str, Any] = data.get("services") or {}
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
        env = _env(service)
        found += _secret_problems(name, service)
        found += _auth_problems(name, env)
        found += _healthcheck_problems(name, service, services)
        for volume in service.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if source.startswith(".") and not (path.parent / source).exists():
                found.append(f"{name}: mounted file {source} does not exist")
        is_role = name.startswith("airflow-") and name != "airflow-init"
        if is_role and env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            found.append(f"{name}: not on the shared CeleryExecutor environment")
    redis = services.get("redis") or {}
    redis_command = " ".join(_texts(redis.get("command")))
    if redis and "--requirepass" not in redis_command:
        found.append("redis: no --requirepass: anyone on the network may use the broker")
    worker = services.get(WORKER) or {}
    if worker:
        if "container_name" in worker or worker.get("ports"):
            found.append(f"{WORKER}: a container name or published port keeps it from scaling")
        command = " ".join(_texts(worker.get("command")))
        if "celery worker" not in command:
            found.append(f"{WORKER}: does not run `airflow celery worker`")
        if "--skip-serve-logs" not in command:
            found.append(f"{WORKER}: serves its logs on every interface (add --skip-serve-logs)")
    if "build" in str(data):
        root = path.parent
        files = (root / "Dockerfile", root / "requirements.txt", root / "constraints.txt")
        found += _dockerfile_problems(*files)
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
