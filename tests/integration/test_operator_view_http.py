"""The operator's view inside a real ``airflow api-server`` (embedded Airflow, SQLite, loopback).

What the in-process test (tests/unit/test_operator_plugin.py) cannot show: that
the api-server as started from the command line (uvicorn, its middleware, the
plugins folder read from the environment) mounts the page, lists its menu entry
through the REST API the UI reads, refuses it without a login and serves it with
a token from ``/auth/token``. It starts the embedded default (api-server,
scheduler, dag-processor) with an empty dags folder.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nazorg_dev import airflow_embedded as embedded
from nazorg_dev.airflow_embedded import Credentials, EmbeddedSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    creds: Credentials
    token: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from nazorg import migrations
    from nazorg.store import make_engine

    root = tmp_path_factory.mktemp("operatorview")
    (root / "dags").mkdir()
    url = f"sqlite:///{root / 'nazorg.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    settings = EmbeddedSettings(
        home=root / "home",
        dags_folder=root / "dags",
        plugins_folder=REPO / "plugins",
        port=_free_port(),
        log_server_port=_free_port(),
        extra_env={"AIRFLOW_CONN_NAZORG_DB": url, "NAZORG_PROJECT_DIR": str(REPO)},
    )
    try:
        creds = embedded.start(settings, timeout_s=240)
        response = httpx.post(
            f"{creds.url}/auth/token",
            json={"username": creds.username, "password": creds.password},
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        yield Server(creds, response.json()["access_token"])
    finally:
        embedded.stop(settings)


def test_the_api_server_refuses_the_page_without_login(server: Server) -> None:
    for path in ("/nazorg-operator/", "/nazorg-operator/tellingen.json"):
        assert httpx.get(f"{server.creds.url}{path}", timeout=30).status_code == 401, path


def test_the_api_server_serves_the_page_and_its_counts_to_a_logged_in_user(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    page = httpx.get(f"{server.creds.url}/nazorg-operator/", headers=auth, timeout=60)
    assert page.status_code == 200, page.text[:500]
    assert "Nazorg-intake: beheeroverzicht" in page.text
    data = httpx.get(f"{server.creds.url}/nazorg-operator/tellingen.json", headers=auth, timeout=60)
    assert data.status_code == 200, data.text[:500]
    assert data.json()["meldingen"] == []


def test_the_ui_is_told_about_the_menu_entry(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    plugins = httpx.get(f"{server.creds.url}/api/v2/plugins", headers=auth, timeout=30).json()["plugins"]
    (ours,) = [p for p in plugins if p["name"] == "nazorg_operator"]
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/nazorg-operator"]
    assert [v["href"] for v in ours["external_views"]] == ["nazorg-operator/"]
