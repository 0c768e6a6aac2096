"""The operator's view as Airflow serves it: the plugin loads, and Airflow's login guards the page.

Each test runs Airflow in a subprocess (its configuration is read from the
environment once per process): Airflow's plugins manager loads ``plugins/``,
and the second test builds Airflow's own api-server app (``create_app("core")``,
which mounts plugin apps exactly as ``airflow api-server`` does) with the
SimpleAuthManager, on a throw-away SQLite metadata DB, and sends requests to it
in-process through httpx (no server, no port, no scheduler). What only a running
api-server adds (uvicorn, the UI's menu and iframe) is not covered here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
#: a signing key for the test's tokens only (not a secret); long enough for HS512
JWT_SECRET = "operator-view-test-" + "0123456789abcdef" * 4

LOAD = """
import json
from airflow import plugins_manager
plugins, errors = plugins_manager._get_plugins()
apps, _ = plugins_manager.get_fastapi_plugins()
views, _ = plugins_manager._get_ui_plugins()
print("RESULT " + json.dumps({
    "plugins": sorted(p.name for p in plugins),
    "errors": errors,
    "apps": [
        {"url_prefix": a["url_prefix"], "name": a["name"], "type": type(a["app"]).__name__}
        for a in apps
    ],
    "views": views,
}))
"""

SERVE = """
import asyncio, json
import httpx
from airflow.utils.db import initdb
initdb()
from airflow.api_fastapi.app import create_app, get_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
app = create_app("core")
am = get_auth_manager()
viewer = am.generate_jwt(SimpleAuthManagerUser(username="kijker", role="viewer"))
rolloos = am.generate_jwt(SimpleAuthManagerUser(username="niemand", role=None))
cases = {
    "anoniem_html": ("/nazorg-operator/", {}),
    "anoniem_json": ("/nazorg-operator/tellingen.json", {}),
    "vals_cookie": ("/nazorg-operator/", {"cookies": {"_token": "geen.geldig.token"}}),
    "zonder_rol": ("/nazorg-operator/", {"headers": {"Authorization": "Bearer " + rolloos}}),
    "cookie_html": ("/nazorg-operator/", {"cookies": {"_token": viewer}}),
    "bearer_json": ("/nazorg-operator/tellingen.json", {"headers": {"Authorization": "Bearer " + viewer}}),
}
async def go():
    out = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://airflow") as c:
        for name, (url, kw) in cases.items():
            r = await c.get(url, **kw)
            out[name] = {"status": r.status_code, "text": r.text, "headers": dict(r.headers)}
    return out
print("RESULT " + json.dumps(asyncio.run(go())))
"""


def _airflow(script: str, tmp_path: Path, extra: dict[str, str] | None = None) -> Any:
    home = tmp_path / "airflow"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "kijker:viewer",
        "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
        **(extra or {}),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False, timeout=240
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def test_airflow_loads_the_plugin_with_its_app_and_menu_entry(tmp_path: Path) -> None:
    found = _airflow(LOAD, tmp_path)
    assert "nazorg_operator" in found["plugins"]
    assert found["errors"] == {}
    assert found["apps"] == [
        {"url_prefix": "/nazorg-operator", "name": "Nazorg beheeroverzicht", "type": "FastAPI"}
    ]
    (view,) = found["views"]
    assert view["name"] == "Nazorg beheeroverzicht"
    assert view["href"] == "nazorg-operator/"  # relative: Airflow's base_url is prepended
    assert view["destination"] == "nav" and view["url_route"]


@pytest.fixture
def pipeline_db(tmp_path: Path) -> dict[str, str]:
    """A pipeline DB at head holding one melding (a synthetic 999-series BSN)."""
    from sqlalchemy import text

    from nazorg import migrations
    from nazorg.store import make_engine, now
    from nazorg_dev.sim.population import population

    url = f"sqlite:///{tmp_path / 'nazorg.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    bsn = population()[0].bsn
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inbox (melding_id, bsn, gemeente_code, inrichting, datum_binnenkomst, "
                "inhoud_hash, status, ontvangen_op, bijgewerkt_op, run_key) VALUES "
                "('EDM-PLUGIN-1', :bsn, '9901', 'PI Zuidkust', '2026-11-01', 'h', 'ontvangen', :nu, :nu, "
                "'r-plugintest')"
            ),
            {"bsn": bsn, "nu": now()},
        )
    engine.dispose()
    return {"AIRFLOW_CONN_NAZORG_DB": url, "bsn": bsn}


def test_the_page_is_behind_airflows_login(tmp_path: Path, pipeline_db: dict[str, str]) -> None:
    bsn = pipeline_db.pop("bsn")
    r = _airflow(SERVE, tmp_path, {**pipeline_db, "NAZORG_PROJECT_DIR": str(REPO)})

    # no login, a forged token, or a user without a role: refused before any count is read
    assert r["anoniem_html"]["status"] == 401
    assert r["anoniem_json"]["status"] == 401
    assert r["vals_cookie"]["status"] == 403
    assert r["zonder_rol"]["status"] == 403
    for name in ("anoniem_html", "anoniem_json", "vals_cookie", "zonder_rol"):
        assert "ontvangen" not in r[name]["text"], name

    # logged in through the UI's cookie or with an API token: the counts
    assert r["cookie_html"]["status"] == 200, r["cookie_html"]["text"][:500]
    assert "Nazorg-intake: beheeroverzicht" in r["cookie_html"]["text"]
    assert r["bearer_json"]["status"] == 200, r["bearer_json"]["text"][:500]
    data = json.loads(r["bearer_json"]["text"])
    assert [(m["status"], m["totaal"]) for m in data["meldingen"]] == [("ontvangen", 1)]

    for name in ("cookie_html", "bearer_json"):
        headers = r[name]["headers"]
        assert headers["cache-control"] == "no-store"
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        for geheim in ("EDM-PLUGIN-1", "r-plugintest", bsn):
            assert geheim not in r[name]["text"], name
