"""`nazorg intake serve` as a real process on a free port, over real HTTP, against a fake Airflow.

The fake speaks the two calls of the Airflow REST API v2 the trigger makes
(``POST /auth/token``, ``POST /api/v2/dags/<dag>/dagRuns``, 409 for a run id it
has); the real-Airflow path is the lead's (tests/integration, embedded Airflow).
What runs for real here: uvicorn, the settings and wiring of the service
(senders from NAZORG_INTAKE_TOKENS, the pipeline DB from its connection, the
register's gemeenten), the REST client and the background retry.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import pytest

from nazorg.intake_api.afzenders import Soort, configuratie_regel, genereer_token
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.integration

TOKEN = genereer_token()
BSNS = list(islice(synthetic_bsns(), 10))
CAP = 8192


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeAirflow:
    """Airflow's token and trigger endpoints; can go down and come back on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.runs: dict[str, dict[str, Any]] = {}
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/auth/token":
                    self._answer(201, {"access_token": "jwt-test"})
                elif self.path.startswith("/api/v2/dags/") and self.path.endswith("/dagRuns"):
                    if self.headers.get("Authorization") != "Bearer jwt-test":
                        self._answer(401, {"detail": "no"})
                    elif body["dag_run_id"] in fake.runs:
                        self._answer(409, {"detail": "exists"})
                    else:
                        fake.runs[body["dag_run_id"]] = body
                        self._answer(200, {"dag_run_id": body["dag_run_id"]})
                else:
                    self._answer(404, {"detail": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Service:
    def __init__(self, base: str, log: Path, proc: subprocess.Popen[bytes]) -> None:
        self.base = base
        self.log = log
        self.proc = proc


@pytest.fixture(scope="module")
def airflow() -> Iterator[FakeAirflow]:
    fake = FakeAirflow(free_port())
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, airflow: FakeAirflow) -> Iterator[Service]:
    from sqlalchemy import create_engine

    from nazorg import migrations

    tmp = tmp_path_factory.mktemp("intake")
    db = f"sqlite:///{tmp / 'nazorg.db'}"
    engine = create_engine(db)
    migrations.upgrade(engine)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SOURCE_ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "AIRFLOW_CONN_NAZORG_DB": db,
        "NAZORG_INTAKE_TOKENS": "{" + configuratie_regel("pi", TOKEN, None, [Soort.EERSTEDAGSMELDING]) + "}",
        "NAZORG_INTAKE_MAX_BODY_BYTES": str(CAP),
        "NAZORG_INTAKE_TRIGGER_BACKOFF_S": "0.2",
        "NAZORG_INTAKE_TRIGGER_BACKOFF_MAX_S": "0.5",
        "NAZORG_INTAKE_TRIGGER_WAIT_S": "2",
        "NAZORG_AIRFLOW_URL": f"http://127.0.0.1:{airflow.port}",
        "NAZORG_AIRFLOW_USER": "intake",
        "NAZORG_AIRFLOW_PASSWORD": "test-only",
    }
    env.pop("NAZORG_INTAKE_TOKENS_FILE", None)
    log = tmp / "intake-api.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nazorg.cli", "intake", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("intake serve kwam niet op:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)
    yield Service(base, log, proc)
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def melding(melding_id: str, bsn: str) -> dict[str, str]:
    return {
        "melding_id": melding_id,
        "bsn": bsn,
        "gemeente_code": "9901",
        "inrichting": "PI Zuidkust",
        "datum_binnenkomst": (date.today() - timedelta(days=1)).isoformat(),
    }


def post(service: Service, body: object) -> httpx.Response:
    return httpx.post(
        f"{service.base}/v1/eerstedagsmeldingen",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )


def test_happy_path_over_http_stores_and_triggers_through_the_rest_api(
    service: Service, airflow: FakeAirflow
) -> None:
    response = post(service, melding("EDM-HTTP-1", BSNS[0]))
    assert response.status_code == 202, response.text
    assert response.headers["api-version"] == "1.0.0"
    assert "server" not in response.headers
    body = response.json()
    assert body["ontvangst"] == "opgeslagen" and body["trigger"] == "gestart"
    [(run_id, trigger)] = airflow.runs.items()
    assert trigger == {"dag_run_id": run_id, "logical_date": None, "conf": {"run_key": run_id}}
    assert "EDM" not in run_id
    again = post(service, melding("EDM-HTTP-1", BSNS[0]))
    assert again.status_code == 202 and again.json()["ontvangst"] == "al_aanwezig"
    status = httpx.get(
        f"{service.base}{body['status_url']}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert status.json() == {"melding_id": "EDM-HTTP-1", "status": "ontvangen"}


def test_a_declared_oversized_body_is_413_over_http(service: Service) -> None:
    response = httpx.post(
        f"{service.base}/v1/eerstedagsmeldingen",
        content=b" " * (CAP + 1),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_chunked_body_past_the_cap_is_answered_413_before_it_ends(service: Service) -> None:
    """A raw client streams chunks past the cap and then stops sending, without ending the body.

    The answer must come anyway: the server stopped reading at the cap. Were it
    reading to the end of the body, it would wait for the rest and this test
    would time out.
    """
    host, port = service.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                "POST /v1/eerstedagsmeldingen HTTP/1.1\r\n"
                f"Host: {host}\r\n"
                f"Authorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = b"[" * 1024
        # past the cap by two chunks, in one write (the server closes once it answered, so
        # writing on would only race that close); no terminating 0-chunk: the body never ends
        sock.sendall((f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * (CAP // len(chunk) + 2))
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_airflow_down_202_stored_then_the_trigger_lands_when_it_is_back(
    service: Service, airflow: FakeAirflow
) -> None:
    airflow.stop()
    try:
        response = post(service, melding("EDM-HTTP-2", BSNS[1]))
        assert response.status_code == 202
        assert response.json() == {
            "melding_id": "EDM-HTTP-2",
            "soort": "eerstedagsmelding",
            "ontvangst": "opgeslagen",
            "trigger": "uitgesteld",
            "status_url": "/v1/eerstedagsmeldingen/EDM-HTTP-2",
        }
        before = set(airflow.runs)
        time.sleep(0.6)  # a few tries fail meanwhile
    finally:
        airflow.start()
    deadline = time.monotonic() + 20
    while set(airflow.runs) == before:
        assert time.monotonic() < deadline, "trigger not retried after Airflow came back"
        time.sleep(0.1)
    assert len(set(airflow.runs) - before) == 1


def test_the_service_log_has_no_bsn_and_no_paths(service: Service) -> None:
    invalid = post(service, {**melding("EDM-HTTP-3", "999000000")})
    assert invalid.status_code == 400
    time.sleep(0.3)
    text = service.log.read_text(errors="replace")
    for bsn in [*BSNS[:2], "999000000"]:
        assert bsn not in text
    assert "EDM-HTTP" not in text and "/v1/" not in text
    assert "afzender=pi status=202" in text and "afzender=pi status=400" in text
    assert "afzender=- status=200" in text  # health checks: no sender


def test_make_up_supervises_the_intake_api_with_owner_only_files(tmp_path: Path) -> None:
    """What `make up` adds for the intake API, without Airflow: tokens made once, the process
    started under the environment's owner mark with its log and pid file under ``base``, and
    stopped again by `make down`'s path. No Airflow credentials yet: the trigger is deferred."""
    from sqlalchemy import create_engine

    from nazorg import migrations
    from nazorg_dev.demo import _intake_pid_file, _start_intake_api, _stop_intake_api, intake_secrets

    base = tmp_path / "local"
    base.mkdir(mode=0o700)
    db = f"sqlite:///{base / 'nazorg.db'}"
    engine = create_engine(db)
    migrations.upgrade(engine)
    engine.dispose()
    token_file, senders_file = intake_secrets(base)
    assert intake_secrets(base) == (token_file, senders_file)
    token = token_file.read_text().strip()
    assert token_file.stat().st_mode & 0o777 == 0o600 and senders_file.stat().st_mode & 0o777 == 0o600
    assert token not in senders_file.read_text()
    assert intake_secrets(base)[0].read_text().strip() == token  # made once, kept
    port = free_port()
    env = {
        "PYTHONPATH": str(SOURCE_ROOT / "src"),
        "AIRFLOW_CONN_NAZORG_DB": db,
        "NAZORG_INTAKE_TOKENS_FILE": str(senders_file),
        "NAZORG_AIRFLOW_CREDENTIALS": str(base / "airflow-credentials.json"),  # not there
    }
    _start_intake_api(base, port, env)
    try:
        pid_file = _intake_pid_file(base)
        assert pid_file.stat().st_mode & 0o777 == 0o600
        log = base / "logs" / "intake-api.log"
        assert (base / "logs").stat().st_mode & 0o777 == 0o700 and log.stat().st_mode & 0o077 == 0
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/eerstedagsmeldingen",
            content=json.dumps(melding("EDM-UP-1", BSNS[5])).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 202 and response.json()["trigger"] == "uitgesteld"
    finally:
        _stop_intake_api(base)
    assert not _intake_pid_file(base).exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
