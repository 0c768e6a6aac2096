"""`make demo` and `make up`: the embedded default, end to end, with real parts.

Real Airflow processes (api-server, scheduler, dag-processor; LocalExecutor on
SQLite), the real REST API for triggering, the local Haal Centraal server over
HTTP and SQLite databases for the pipeline and the simulated bronnen. Secrets
(the pseudonym key, Airflow's admin password) are generated per environment
under ``var/`` and never committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from nazorg.connections import http_connection_json
from nazorg.settings import SOURCE_ROOT, reload_settings, settings

if TYPE_CHECKING:
    from nazorg.store import Store
    from nazorg_dev.airflow_embedded import Credentials, EmbeddedSettings

DEMO_DIR = SOURCE_ROOT / "var" / "demo"
LOCAL_DIR = SOURCE_ROOT / "var" / "local"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _secret(path: Path) -> str:
    """The environment's pseudonym key: made once with ``nazorg sleutel genereer``'s generator.

    A key left by an older version that the key rule now refuses is replaced
    (the demo's pseudonyms are throwaway).
    """
    from nazorg.sleutel import beoordeel, genereer

    if not path.exists() or beoordeel(path.read_text(encoding="utf-8").strip()) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(genereer(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def environment(base: Path, hc_port: int) -> dict[str, str]:
    """Connections and settings for every process of one embedded environment."""
    hc = f"http://127.0.0.1:{hc_port}/haalcentraal/api"
    return {
        "AIRFLOW_CONN_NAZORG_DB": f"sqlite:///{base / 'nazorg.db'}",
        "AIRFLOW_CONN_NAZORG_BRONNEN": f"sqlite:///{base / 'bronnen.db'}",
        "AIRFLOW_CONN_HAAL_CENTRAAL_BRP": http_connection_json(f"{hc}/brp"),
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN": http_connection_json(f"{hc}/reisdocumenten"),
        "NAZORG_PSEUDONIEM_SLEUTEL": _secret(base / "secrets" / "pseudoniem_sleutel"),
        "NAZORG_OUTBOX_DIR": str(base / "outbox"),
        "NAZORG_REGISTER_DIR": str(settings().register_dir),
        "NAZORG_AIRFLOW_CREDENTIALS": str(base / "airflow-credentials.json"),
        "GX_ANALYTICS_ENABLED": "False",
    }


def _start_haal_centraal(base: Path, port: int, env: dict[str, str]) -> int:
    log = (base / "logs").resolve()
    log.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [sys.executable, "-m", "nazorg.cli", "sim", "haal-centraal", "--port", str(port)],
        stdout=(log / "haal-centraal.log").open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    (base / "haal-centraal.pid").write_text(str(proc.pid), encoding="utf-8")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc.pid
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"Haal Centraal-server stopte; zie {log / 'haal-centraal.log'}") from None
            time.sleep(0.2)
    raise RuntimeError("Haal Centraal-server kwam niet op")


def _stop_haal_centraal(base: Path) -> None:
    pid_file = base / "haal-centraal.pid"
    if not pid_file.exists():
        return
    with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
        os.killpg(int(pid_file.read_text()), signal.SIGTERM)
    pid_file.unlink(missing_ok=True)


def _refresh() -> None:
    """This process now runs under ``env``: forget settings and runtime read before."""
    from nazorg import wiring

    reload_settings()
    wiring.reset()


def _settings(base: Path, env: dict[str, str], port: int) -> EmbeddedSettings:
    from nazorg_dev.airflow_embedded import EmbeddedSettings

    return EmbeddedSettings(home=base / "airflow", port=port, extra_env=env)


def bring_up(base: Path, airflow_port: int) -> Credentials:
    """Start the local Haal Centraal server and Airflow; fill the simulated world.

    Writes ``env.sh`` (connections and settings for the CLI) and the Airflow
    credentials file under ``base``; both stay out of git (``var/``).
    """
    from nazorg import migrations
    from nazorg.connections import NAZORG_BRONNEN, NAZORG_DB
    from nazorg.store import Store, engine_for
    from nazorg_dev.airflow_embedded import start
    from nazorg_dev.sim.bronnen import vul_bronnen, vul_toestemmingen
    from nazorg_dev.sim.population import DEFAULT_SEED, population

    base.mkdir(parents=True, exist_ok=True)
    hc_port = _free_port()
    env = environment(base, hc_port)
    os.environ.update(env)
    _refresh()
    _start_haal_centraal(base, hc_port, env)
    # the embedded default is its own operator: it migrates what a deployment runs `nazorg db upgrade` for
    migrations.upgrade(engine_for(NAZORG_DB))
    people = population()
    vul_bronnen(engine_for(NAZORG_BRONNEN), people, DEFAULT_SEED)
    vul_toestemmingen(Store.from_connection(), people)
    settings = _settings(base, env, airflow_port)
    creds = start(settings)
    (base / "env.sh").write_text("".join(f"export {k}='{v}'\n" for k, v in env.items()), encoding="utf-8")
    (base / "airflow-credentials.json").write_text(
        json.dumps({"url": creds.url, "username": creds.username, "password": creds.password}),
        encoding="utf-8",
    )
    (base / "airflow-credentials.json").chmod(0o600)
    return creds


def bring_down(base: Path, airflow_port: int = 8080) -> None:
    from nazorg_dev.airflow_embedded import stop

    stop(_settings(base, {}, airflow_port))
    _stop_haal_centraal(base)


def _summary(store: Store, states: dict[str, str], base: Path) -> str:
    from nazorg.wiring import runtime

    rows = store.query("uitkomst_totalen")
    per_check: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        per_check[r["check_id"]][r["uitkomst"]] += int(r["aantal"])
    lines = ["", "== Samenvatting nazorg-intake demo ==", ""]
    run_counts = Counter(states.values())
    lines.append(f"Runs: {dict(run_counts)} (van {len(states)})")
    published = store.query("outbox_count")[0]["aantal"]
    lines.append(f"Gepubliceerde basisdocumenten: {published}  ->  {base / 'outbox'}")
    lines.append("")
    lines.append(f"{'check':<24}{'ja':>5}{'nee':>6}{'onbekend':>10}{'niet_uitgevoerd':>17}")
    for check_id in runtime().policy.register.ids:
        c = per_check.get(check_id, Counter())
        lines.append(f"{check_id:<24}{c['ja']:>5}{c['nee']:>6}{c['onbekend']:>10}{c['niet_uitgevoerd']:>17}")
    quarantined = store.query("quarantaine_list")
    lines.append("")
    lines.append(f"Quarantaine ({len(quarantined)} regels; redenen en veldnamen, nooit waarden):")
    for q in quarantined:
        lines.append(
            f"  {q['melding_id'] or '-':<14} {q['fase']:<7} {q['reden_code']:<28} {q['veld'] or ''}"
            f"  ({q['herkomst']})"
        )
    lines.append("")
    lines.append("Bekijk een document: .venv/bin/nazorg basisdocument toon <melding_id> --format html")
    lines.append(f"  (met de omgeving van de demo: source {base / 'env.sh'})")
    return "\n".join(lines)


def run_demo(aantal: int = 20, ongeldig: int = 4) -> int:
    from nazorg.airflow.trigger import DAG_ID, run_id_for, trigger_all
    from nazorg.inbox import dien_in
    from nazorg.intake import beoordeel_alle, decode, nieuwe_inzending
    from nazorg.wiring import runtime
    from nazorg_dev.airflow_embedded import wait_for_dag
    from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen

    base = DEMO_DIR
    bring_down(base)  # a previous demo interrupted half-way
    shutil.rmtree(base, ignore_errors=True)
    port = _free_port()
    started = time.monotonic()
    try:
        print(f"[demo] omgeving opzetten in {base} (Airflow, Haal Centraal-server, bronnen) ...", flush=True)
        creds = bring_up(base, port)
        records = [*meldingen(aantal), *ongeldige_meldingen()[:ongeldig]]
        path = base / "meldingen.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        rt = runtime()
        store = rt.store
        inzending = nieuwe_inzending()
        beoordelingen = beoordeel_alle(
            decode(path.read_bytes(), inzending), rt.policy.besluiten, date.today()
        )
        result = dien_in(store, beoordelingen, inzending=inzending)
        print(f"[demo] {len(records)} meldingen ingediend: {dict(result.aantallen)}", flush=True)
        api = creds.api()
        wait_for_dag(api, DAG_ID, timeout_s=180)
        ids = list(result.melding_ids)
        triggered = trigger_all(api, ids)
        print(f"[demo] {Counter(triggered.values())} runs via de REST API; wachten ...", flush=True)
        states = api.wait_for_runs(DAG_ID, [run_id_for(m) for m in ids], timeout_s=1200)
        print(_summary(store, states, base))
        print(f"\n[demo] klaar in {time.monotonic() - started:.0f} s")
        failed = [m for m, s in states.items() if s != "success"]
        if failed:
            print(f"[demo] mislukte runs: {len(failed)}; zie de Airflow-logs in {base / 'airflow' / 'logs'}")
            return 1
        return 0
    finally:
        bring_down(base, port)


def airflow_command(actie: str) -> int:
    """`make up` / `make down` / status for exploring in the UI."""
    from nazorg_dev.airflow_embedded import status

    base = LOCAL_DIR
    if actie == "up":
        creds = bring_up(base, 8080)
        print(f"Airflow UI: {creds.url}  gebruiker: {creds.username}  wachtwoord: {creds.password}")
        print(f"Omgeving voor de CLI: source {base / 'env.sh'}")
        return 0
    if actie == "down":
        bring_down(base, 8080)
        print("gestopt")
        return 0
    print(json.dumps(status(_settings(base, {}, 8080)), indent=2))
    return 0
