"""The intake API in-process (httpx over ASGI, SQLite inbox): every refusal, storage, the trigger.

What these pin down: the gate's order and answers (401/429/403/415/413 before
anything is read or stored), that validation is nazorg.intake's (400 names
every field with a code and never a value), that a valid melding is in the
inbox before its trigger is tried and stays there when Airflow is away, and
that no BSN reaches a response or a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import yaml

from nazorg import migrations
from nazorg.intake import _PYDANTIC_CODES, REDEN_CODES_DECODE, Melding
from nazorg.intake_api.afzenders import (
    Afzender,
    Afzenders,
    Soort,
    configuratie_regel,
    genereer_token,
    token_hash,
)
from nazorg.intake_api.app import (
    API_VERSION,
    REDENEN,
    SoortRoute,
    create_app,
    eerstedagsmelding,
    laatstedagsmelding,
    melding_status,
    openapi_document,
)
from nazorg.intake_api.emmer import Emmers
from nazorg.intake_api.triggers import TriggerStatus, TriggerWachtrij, inbox_nog_nodig
from nazorg.register import default_policy
from nazorg.settings import SOURCE_ROOT, SettingsError
from nazorg.store import Store, make_engine, now
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 29)
GEMEENTEN = frozenset({"9901", "9902"})
#: what the app passes (app_from_settings): per gemeente the melding fields its besluit reads; a bare
#: set of codes would keep none of them (reclassering_betrokken is dropped for every gemeente)
MELDING_VELDEN = default_policy().melding_velden()
BSNS = list(islice(synthetic_bsns(), 20))
PI_TOKEN = genereer_token()
GEMEENTE_TOKEN = genereer_token()
LAATSTE_TOKEN = genereer_token()
CAP = 8192
URL = "/v1/eerstedagsmeldingen"


def melding(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "melding_id": "EDM-API-1",
        "bsn": BSNS[0],
        "gemeente_code": "9901",
        "inrichting": "PI Zuidkust",
        "datum_binnenkomst": (TODAY - timedelta(days=1)).isoformat(),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class FakeAirflow:
    """Stands in for the REST trigger: records run keys; ``down`` raises like a refused connection."""

    def __init__(self) -> None:
        self.down = 0  # this many calls fail before it answers
        self.calls: list[str] = []
        self.created: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, run_key: str) -> Literal["created", "exists"]:
        with self.lock:
            self.calls.append(run_key)
            if self.down:
                self.down -= 1
                raise httpx.ConnectError("connection refused")
            if run_key in self.created:
                return "exists"
            self.created.add(run_key)
            return "created"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class World:
    def __init__(
        self, tmp_path: Path, *, burst: int = 50, backoff_s: float = 0.05, pogingen: int = 5
    ) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
        migrations.upgrade(engine)
        self.store = Store(engine)
        self.airflow = FakeAirflow()
        self.clock = Clock()
        self.triggers = TriggerWachtrij(
            self.airflow,
            inbox_nog_nodig(self.store),
            backoff_s=backoff_s,
            backoff_max_s=1.0,
            pogingen=pogingen,
        )
        self.afzenders = Afzenders(
            [
                Afzender("pi", token_hash(PI_TOKEN), None, frozenset({Soort.EERSTEDAGSMELDING})),
                Afzender("gemeente-b", token_hash(GEMEENTE_TOKEN), frozenset({"9902"}), frozenset(Soort)),
                Afzender(
                    "alleen-laatste", token_hash(LAATSTE_TOKEN), None, frozenset({Soort.LAATSTEDAGSMELDING})
                ),
            ]
        )
        self.emmers = Emmers(rate_per_s=1.0, burst=burst, clock=self.clock)
        self.app = create_app(
            afzenders=self.afzenders,
            emmers=self.emmers,
            routes=[
                SoortRoute(
                    Soort.EERSTEDAGSMELDING,
                    "/eerstedagsmeldingen",
                    eerstedagsmelding(self.store, lambda: MELDING_VELDEN, self.triggers, 2.0, lambda: TODAY),
                ),
                SoortRoute(
                    Soort.LAATSTEDAGSMELDING,
                    "/laatstedagsmeldingen",
                    laatstedagsmelding(self.store, lambda: GEMEENTEN, lambda: TODAY),
                ),
            ],
            max_body_bytes=CAP,
            openapi=openapi_document(SOURCE_ROOT),
            status=melding_status(self.store),
            triggers=self.triggers,
        )
        self.triggers.start()

    def close(self) -> None:
        self.triggers.stop()
        self.store.engine.dispose()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def post(
        self, body: object, token: str | None = PI_TOKEN, *, url: str = URL, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", url, content=content, headers=headers, **kwargs)

    def reclassering(self) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            from sqlalchemy import text

            return dict(conn.execute(text("SELECT melding_id, reclassering_betrokken FROM inbox")).all())

    def inbox(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            from sqlalchemy import text

            return [
                dict(r._mapping)
                for r in conn.execute(text("SELECT melding_id, run_key, status, claim FROM inbox"))
            ]

    def quarantaine(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            from sqlalchemy import text

            return [
                dict(r._mapping)
                for r in conn.execute(text("SELECT melding_id, reden_code, veld FROM quarantaine"))
            ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def wait_until(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def is_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["api-version"] == API_VERSION
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code and body["title"]
    return body


# -- the happy path ----------------------------------------------------------------------------


def test_valid_melding_is_stored_triggered_and_answered_202(world: World) -> None:
    response = world.post(melding())
    assert response.status_code == 202, response.text
    assert response.headers["api-version"] == API_VERSION
    assert response.headers["location"] == "/v1/eerstedagsmeldingen/EDM-API-1"
    body = response.json()
    assert body == {
        "melding_id": "EDM-API-1",
        "soort": "eerstedagsmelding",
        "ontvangst": "opgeslagen",
        "trigger": "gestart",
        "status_url": "/v1/eerstedagsmeldingen/EDM-API-1",
    }
    [row] = world.inbox()
    assert row["melding_id"] == "EDM-API-1" and row["status"] == "ontvangen"
    assert world.airflow.calls == [row["run_key"]]  # Airflow sees the run key, not the melding id


def test_reclassering_betrokken_is_kept_only_where_the_besluit_reads_it(world: World) -> None:
    """Minimisation with the policy's melding fields: 9901's besluit runs the reclassering check."""
    assert "reclassering_betrokken" in MELDING_VELDEN["9901"]
    assert "reclassering_betrokken" not in MELDING_VELDEN["9902"]
    ruim = melding(melding_id="EDM-R-1", gemeente_code="9901", reclassering_betrokken="ja")
    strik = melding(melding_id="EDM-S-1", bsn=BSNS[1], gemeente_code="9902", reclassering_betrokken="ja")
    assert world.post(ruim).status_code == 202
    assert world.post(strik).status_code == 202
    assert world.reclassering() == {"EDM-R-1": "ja", "EDM-S-1": None}


def test_status_resource_for_a_sender_in_scope_only(world: World) -> None:
    world.post(melding())
    ok = world.request(
        "GET", "/v1/eerstedagsmeldingen/EDM-API-1", headers={"Authorization": f"Bearer {PI_TOKEN}"}
    )
    assert ok.status_code == 200 and ok.json() == {"melding_id": "EDM-API-1", "status": "ontvangen"}
    # gemeente-b may send for 9902 only: a 9901 melding is as absent to it as an unknown one
    other = world.request(
        "GET", "/v1/eerstedagsmeldingen/EDM-API-1", headers={"Authorization": f"Bearer {GEMEENTE_TOKEN}"}
    )
    is_problem(other, 404, "niet_gevonden")
    is_problem(world.request("GET", "/v1/eerstedagsmeldingen/EDM-API-1"), 401, "niet_geauthenticeerd")
    unknown = world.request(
        "GET", "/v1/eerstedagsmeldingen/EDM-X-2", headers={"Authorization": f"Bearer {PI_TOKEN}"}
    )
    is_problem(unknown, 404, "niet_gevonden")


# -- authentication and authorisation ------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(world: World) -> None:
    body = is_problem(world.post(melding(), token=None), 401, "niet_geauthenticeerd")
    assert "melding_id" not in json.dumps(body)
    response = world.post(melding(), token=None)
    assert response.headers["www-authenticate"] == 'Bearer realm="nazorg-intake"'
    assert world.inbox() == [] and world.quarantaine() == []


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {genereer_token()}",
        f"Bearer {PI_TOKEN}x",
        f"Basic {PI_TOKEN}",
        "Bearer ",
        "Bearer " + "a" * 5000,
    ],
)
def test_a_wrong_token_is_401_invalid_token(world: World, authorization: str) -> None:
    response = world.post(melding(), token=None, headers={"Authorization": authorization})
    is_problem(response, 401, "token_ongeldig")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert world.inbox() == [] and world.airflow.calls == []


def test_a_sender_without_the_soort_is_403_before_reading(world: World) -> None:
    is_problem(world.post(melding(), token=LAATSTE_TOKEN), 403, "soort_niet_toegestaan")
    assert world.inbox() == [] and world.quarantaine() == []


def test_a_sender_outside_its_gemeenten_is_403_and_nothing_is_stored(world: World) -> None:
    is_problem(
        world.post(melding(gemeente_code="9901"), token=GEMEENTE_TOKEN), 403, "gemeente_niet_toegestaan"
    )
    assert world.inbox() == [] and world.quarantaine() == [] and world.airflow.calls == []
    assert world.post(melding(gemeente_code="9902"), token=GEMEENTE_TOKEN).status_code == 202


# -- content type, size, rate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", None],
)
def test_a_wrong_content_type_is_415(world: World, content_type: str | None) -> None:
    headers = {"Authorization": f"Bearer {PI_TOKEN}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = world.request("POST", URL, content=json.dumps(melding()).encode(), headers=headers)
    is_problem(response, 415, "content_type_ongeldig")
    assert world.inbox() == []


def test_json_with_a_utf8_charset_is_accepted(world: World) -> None:
    response = world.post(melding(), headers={"Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 202


def test_a_declared_oversized_body_is_413_unread(world: World) -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(10):
            pulled += 1
            yield b" " * 1024

    response = world.request(
        "POST",
        URL,
        content=body(),
        headers={
            "Authorization": f"Bearer {PI_TOKEN}",
            "Content-Type": "application/json",
            "Content-Length": str(CAP + 1),
        },
    )
    is_problem(response, 413, "body_te_groot")
    assert pulled == 0  # the declared length sufficed


def test_a_streamed_oversized_body_is_413_after_reading_at_most_the_cap(world: World) -> None:
    """A chunked body without a length: reading stops at the cap, the rest is never pulled."""
    pulled = 0
    chunk = 1024

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(100_000):  # 100 MB if it were read to the end
            pulled += 1
            yield b"[" * chunk

    response = world.request(
        "POST",
        URL,
        content=endless(),
        headers={"Authorization": f"Bearer {PI_TOKEN}", "Content-Type": "application/json"},
    )
    is_problem(response, 413, "body_te_groot")
    assert pulled <= CAP // chunk + 1
    assert world.inbox() == [] and world.quarantaine() == []


def test_a_body_at_the_cap_is_read_and_judged(world: World) -> None:
    padded = json.dumps(melding()).encode()
    padded += b" " * (CAP - len(padded))
    assert len(padded) == CAP
    assert world.post(padded).status_code == 202


def test_a_flooding_sender_gets_429_with_retry_after_and_others_do_not(tmp_path: Path) -> None:
    world = World(tmp_path, burst=3)
    try:
        for i in range(3):
            assert world.post(melding(melding_id=f"EDM-F-{i}", bsn=BSNS[i])).status_code == 202
        flooded = world.post(melding(melding_id="EDM-F-9", bsn=BSNS[9]))
        is_problem(flooded, 429, "te_veel_verzoeken")
        assert int(flooded.headers["retry-after"]) >= 1
        assert len(world.inbox()) == 3  # the refused one was not read nor stored
        other = world.post(
            melding(melding_id="EDM-G-1", bsn=BSNS[10], gemeente_code="9902"), token=GEMEENTE_TOKEN
        )
        assert other.status_code == 202  # another sender has its own bucket
        world.clock.t += 1.0  # a second refills one request
        assert world.post(melding(melding_id="EDM-F-9", bsn=BSNS[9])).status_code == 202
    finally:
        world.close()


def test_the_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    emmers = Emmers(rate_per_s=2.0, burst=2, clock=clock)
    assert [emmers.neem("a"), emmers.neem("a")] == [0, 0]
    assert emmers.neem("a") == 1
    clock.t += 0.5
    assert emmers.neem("a") == 0
    assert emmers.neem("b") == 0


# -- validation ----------------------------------------------------------------------------------


def test_invalid_json_is_400_and_quarantined(world: World) -> None:
    body = is_problem(world.post(b'{"melding_id": "EDM-X-1", "bsn": '), 400, "melding_ongeldig")
    assert body["invalidParams"] == [{"name": "body", "code": "geen_json", "reason": REDENEN["geen_json"]}]
    assert [q["reden_code"] for q in world.quarantaine()] == ["geen_json"]
    assert world.inbox() == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"[1, 2]", "geen_object"),
        (b'{"a": 1, "a": 2}', "dubbele_sleutel"),
        (b"[" * 100 + b"]" * 100, "te_diep"),
        (b'{"x": NaN}', "getal_ongeldig"),
        (b'{"x": "\xff"}', "codering_ongeldig"),
    ],
)
def test_hostile_bodies_get_the_decoders_reason(world: World, raw: bytes, code: str) -> None:
    body = is_problem(world.post(raw), 400, "melding_ongeldig")
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [("body", code)]


def test_every_invalid_field_is_named_with_a_code_and_no_value_echoed(world: World) -> None:
    sent = melding(
        melding_id="EDM-V-1",
        bsn="12345678X",
        gemeente_code="GEM12",
        inrichting=None,  # missing
        datum_binnenkomst="nooit-ooit",
        verwachte_einddatum="ooitXYZ",
        reclassering_betrokken="misschienQQ",
        hiv_positief_geheim="waarde-die-niet-terug-mag",
    )
    response = world.post(sent)
    body = is_problem(response, 400, "melding_ongeldig")
    found = {(p["name"], p["code"]) for p in body["invalidParams"]}
    assert found == {
        ("bsn", "formaat_ongeldig"),
        ("gemeente_code", "formaat_ongeldig"),
        ("inrichting", "veld_ontbreekt"),
        ("datum_binnenkomst", "datum_ongeldig"),
        ("verwachte_einddatum", "datum_ongeldig"),
        ("reclassering_betrokken", "waarde_ongeldig"),
        ("<onbekend_veld:1>", "onbekend_veld"),
    }
    for value in (
        "12345678X",
        "GEM12",
        "nooit-ooit",
        "ooitXYZ",
        "misschienQQ",
        "hiv_positief",
        "waarde-die",
        "EDM-V-1",
    ):
        assert value not in response.text
    assert {q["veld"] for q in world.quarantaine()} == {name for name, _ in found}


def test_domain_rules_name_their_fields_too(world: World) -> None:
    bad_bsn = "999000000"  # fails the elfproef
    sent = melding(
        melding_id="EDM-V-2",
        bsn=bad_bsn,
        gemeente_code="9999",
        datum_binnenkomst=(TODAY + timedelta(days=3)).isoformat(),
    )
    response = world.post(sent)
    body = is_problem(response, 400, "melding_ongeldig")
    assert {(p["name"], p["code"]) for p in body["invalidParams"]} == {
        ("bsn", "bsn_elfproef"),
        ("gemeente_code", "gemeente_onbekend"),
        ("datum_binnenkomst", "datum_in_toekomst"),
    }
    assert bad_bsn not in response.text and "9999" not in response.text


# -- duplicates ------------------------------------------------------------------------------------


def test_the_same_melding_twice_is_202_both_times_and_stored_once(world: World) -> None:
    first = world.post(melding())
    again = world.post(melding())
    assert first.status_code == again.status_code == 202
    assert first.json()["ontvangst"] == "opgeslagen"
    assert again.json()["ontvangst"] == "al_aanwezig"
    assert again.json()["trigger"] == "bestond_al"  # Airflow answered 409 for the same run id
    assert len(world.inbox()) == 1


def test_another_melding_under_a_used_id_is_409_and_quarantined(world: World) -> None:
    assert world.post(melding()).status_code == 202
    conflict = world.post(melding(bsn=BSNS[1]))
    is_problem(conflict, 409, "melding_id_conflict")
    assert BSNS[1] not in conflict.text
    assert [q["reden_code"] for q in world.quarantaine()] == ["melding_id_conflict"]
    assert [r["melding_id"] for r in world.inbox()] == ["EDM-API-1"]


# -- Airflow away --------------------------------------------------------------------------------


def test_airflow_down_still_202_stored_and_the_trigger_is_retried(world: World) -> None:
    world.airflow.down = 2
    response = world.post(melding())
    assert response.status_code == 202
    assert response.json()["trigger"] == "uitgesteld"
    [row] = world.inbox()
    assert row["status"] == "ontvangen"
    wait_until(lambda: row["run_key"] in world.airflow.created)
    assert world.airflow.calls == [row["run_key"]] * 3
    assert world.triggers.open() == []


def test_a_retry_stops_once_the_batch_has_claimed_the_melding(tmp_path: Path) -> None:
    world = World(tmp_path, backoff_s=0.3)
    try:
        world.airflow.down = 100
        assert world.post(melding()).json()["trigger"] == "uitgesteld"
        # the batch sweep claims it meanwhile (what verzamel_claim does)
        from sqlalchemy import text

        with world.store.engine.begin() as conn:
            conn.execute(
                text("UPDATE inbox SET claim = 'batch:x', claim_tot = '9999-12-31T00:00:00.000+00:00'")
            )
        wait_until(lambda: world.triggers.open() == [])
        assert len(world.airflow.calls) == 1  # no try after the claim
    finally:
        world.close()


def test_after_the_last_try_the_batch_sweep_picks_the_melding_up(tmp_path: Path) -> None:
    """The retries are bounded; the melding stays `ontvangen` and the batch DAG's claim takes it."""
    world = World(tmp_path, backoff_s=0.01, pogingen=3)
    try:
        world.airflow.down = 100
        assert world.post(melding()).json()["trigger"] == "uitgesteld"
        wait_until(lambda: world.triggers.open() == [])
        assert len(world.airflow.calls) == 3
        [row] = world.inbox()
        assert row["status"] == "ontvangen" and row["claim"] is None
        claimed = world.store.execute(
            "batch/verzamel_claim",
            {
                "token": "batch:test",
                "claim_tot": "9999-12-31T00:00:00.000+00:00",
                "nu": now(),
                "ontvangen": "ontvangen",
                "in_behandeling": "in_behandeling",
                "gepubliceerd": "gepubliceerd",
                "onbekend": "onbekend",
                "niet_uitgevoerd": "niet_uitgevoerd",
                "geen_toestemming": "geen_toestemming",
                "max_pogingen": 3,
            },
        )
        assert claimed == 1
    finally:
        world.close()


def test_a_request_waits_for_its_trigger_no_longer_than_configured(tmp_path: Path) -> None:
    release = threading.Event()

    def slow(run_key: str) -> Literal["created", "exists"]:
        release.wait(10)
        return "created"

    triggers = TriggerWachtrij(slow, lambda _k: True, backoff_s=1, backoff_max_s=1, pogingen=1)
    triggers.start()
    try:
        start = time.monotonic()
        assert triggers.dien_in("nzr_x", wacht_s=0.2) is TriggerStatus.UITGESTELD
        assert time.monotonic() - start < 2
    finally:
        release.set()
        triggers.stop()


# -- privacy -----------------------------------------------------------------------------------------


def test_no_bsn_in_any_response_or_log_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.airflow.down = 1
    responses = [
        world.post(melding(melding_id="EDM-P-1", bsn=BSNS[2])),
        world.post(melding(melding_id="EDM-P-1", bsn=BSNS[3])),  # conflict
        world.post(melding(melding_id="EDM-P-2", bsn=BSNS[4], gemeente_code="9999")),
        world.post(melding(melding_id="EDM-P-3", bsn="999000000")),
        world.post(melding(melding_id="EDM-P-4", bsn=BSNS[5], gemeente_code="9901"), token=GEMEENTE_TOKEN),
        world.post(json.dumps(melding(bsn=BSNS[6])).encode()[:-3]),
        world.post(melding(bsn=BSNS[7]), token="nzi_wrong"),
    ]
    wait_until(lambda: world.triggers.open() == [])
    text = caplog.text + "".join(r.text for r in responses) + "".join(str(r.headers) for r in responses)
    for bsn in [*BSNS[2:8], "999000000"]:
        assert bsn not in text
    access = [r.getMessage() for r in caplog.records if r.name == "nazorg.intake_api.toegang"]
    assert len(access) == len(responses)
    assert access[0].startswith("afzender=pi status=202 in=")
    assert access[-1].startswith("afzender=- status=401")
    assert not any("/v1" in line or "EDM" in line for line in access)


# -- the OpenAPI document and the URI rules ------------------------------------------------------


def test_the_served_openapi_is_the_committed_file(world: World) -> None:
    response = world.request("GET", "/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["api-version"] == API_VERSION
    committed = yaml.safe_load((SOURCE_ROOT / "api" / "intake-openapi.yaml").read_text(encoding="utf-8"))
    assert response.json() == json.loads(json.dumps(committed))
    assert committed["info"]["version"] == API_VERSION


def test_the_openapi_document_describes_exactly_the_apps_routes(world: World) -> None:
    from fastapi.routing import APIRoute

    doc = openapi_document(SOURCE_ROOT)
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {
        (route.path.removeprefix("/v1"), method)
        for route in world.app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert documented == served
    assert all(not path.endswith("/") and path == path.lower() for path, _ in documented)


def test_the_openapi_schema_is_the_intake_schema(world: World) -> None:
    doc = openapi_document(SOURCE_ROOT)
    schema = doc["components"]["schemas"]["Eerstedagsmelding"]
    assert set(schema["properties"]) == set(Melding.model_fields)
    assert set(schema["required"]) == {n for n, f in Melding.model_fields.items() if f.is_required()}
    for name, field in Melding.model_fields.items():
        pattern = next((m.pattern for m in field.metadata if hasattr(m, "pattern") and m.pattern), None)
        if pattern:
            assert schema["properties"][name]["pattern"] == pattern
    problem = doc["components"]["schemas"]["Probleem"]["properties"]
    codes = set(problem["invalidParams"]["items"]["properties"]["code"]["enum"])
    produced = set(_PYDANTIC_CODES.values()) | (REDEN_CODES_DECODE - {"bestand_te_groot"}) | set(REDENEN)
    assert produced <= codes and codes <= set(REDENEN)


def test_a_trailing_slash_is_not_the_collection(world: World) -> None:
    response = world.request(
        "POST",
        URL + "/",
        content=json.dumps(melding()).encode(),
        headers={"Authorization": f"Bearer {PI_TOKEN}", "Content-Type": "application/json"},
    )
    is_problem(response, 404, "niet_gevonden")
    assert world.inbox() == []


def test_health_needs_no_token(world: World) -> None:
    response = world.request("GET", "/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


# -- the sender configuration -----------------------------------------------------------------------


def test_a_generated_token_configures_and_authenticates() -> None:
    token = genereer_token()
    assert len(token) > 40
    line = configuratie_regel("pi", token, None, [Soort.EERSTEDAGSMELDING])
    assert token not in line
    afzenders = Afzenders.parse("{" + line + "}")
    found = afzenders.authenticeer(token)
    assert found is not None and found.afzender_id == "pi" and found.gemeenten is None
    assert afzenders.authenticeer(genereer_token()) is None


@pytest.mark.parametrize(
    "config",
    [
        "not json",
        "[]",
        '{"PI!": {"sha256": "' + "a" * 64 + '", "gemeenten": "*", "soorten": ["eerstedagsmelding"]}}',
        '{"pi": {"sha256": "secretvalue", "gemeenten": "*", "soorten": ["eerstedagsmelding"]}}',
        '{"pi": {"sha256": "' + "a" * 64 + '", "gemeenten": ["12"], "soorten": ["eerstedagsmelding"]}}',
        '{"pi": {"sha256": "' + "a" * 64 + '", "gemeenten": "*", "soorten": ["alles"]}}',
        '{"pi": {"sha256": "' + "a" * 64 + '", "gemeenten": "*"}}',
        '{"a1": {"sha256": "' + "a" * 64 + '", "gemeenten": "*", "soorten": ["eerstedagsmelding"]},'
        ' "b1": {"sha256": "' + "a" * 64 + '", "gemeenten": "*", "soorten": ["eerstedagsmelding"]}}',
    ],
)
def test_a_bad_sender_configuration_is_refused_without_echoing_it(config: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Afzenders.parse(config)
    assert "secretvalue" not in str(refused.value) and "a" * 64 not in str(refused.value)


def test_the_cli_prints_a_token_whose_line_configures_it(capsys: pytest.CaptureFixture[str]) -> None:
    from nazorg.cli import main

    assert main(["intake", "token", "genereer", "pi", "--gemeente", "9901"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[0].rsplit(" ", 1)[1]
    line = out.splitlines()[2].strip()
    afzender = Afzenders.parse("{" + line + "}").authenticeer(token)
    assert afzender is not None and afzender.gemeenten == frozenset({"9901"})
    assert afzender.soorten == frozenset({Soort.EERSTEDAGSMELDING})


def test_an_unexpected_error_is_500_and_logged_by_type_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver's message carries statement parameters: only the exception's type may be logged."""

    def kapot(body: bytes, afzender: Afzender) -> Any:
        raise ValueError(f"INSERT failed for bsn={BSNS[8]}")

    app = create_app(
        afzenders=world.afzenders,
        emmers=world.emmers,
        routes=[SoortRoute(Soort.EERSTEDAGSMELDING, "/eerstedagsmeldingen", kapot)],
        max_body_bytes=CAP,
        openapi=openapi_document(SOURCE_ROOT),
    )
    world.app = app
    caplog.set_level(logging.DEBUG)
    response = world.post(melding(bsn=BSNS[8]))
    is_problem(response, 500, "intern_fout")
    assert BSNS[8] not in caplog.text + response.text
    assert "ValueError" in caplog.text


def test_a_single_try_trigger_raises_on_a_5xx_without_retrying() -> None:
    """The intake API keeps its own retry schedule: ``attempts=1`` must not sleep through five."""
    from nazorg.airflow.rest import AirflowApi, AirflowApiError

    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "t"})
        return httpx.Response(503, json={"detail": "database is locked"})

    api = AirflowApi("http://airflow", "u", "p", transport=httpx.MockTransport(handler))
    start = time.monotonic()
    with pytest.raises(AirflowApiError):
        api.trigger("eerstedagsmelding", "r-abc", {"run_key": "r-abc"}, attempts=1)
    assert time.monotonic() - start < 0.5
    assert calls.count("/api/v2/dags/eerstedagsmelding/dagRuns") == 1


def test_intake_settings_are_read_and_checked(tmp_path: Path) -> None:
    from nazorg.settings import Settings

    config = Settings.from_env(
        {
            "NAZORG_INTAKE_TOKENS_FILE": str(tmp_path / "tokens.json"),
            "NAZORG_INTAKE_PORT": "9123",
            "NAZORG_INTAKE_MAX_BODY_BYTES": "4096",
            "NAZORG_INTAKE_RATE_PER_S": "0.5",
            "NAZORG_INTAKE_TRIGGER_ATTEMPTS": "3",
        }
    )
    assert config.intake_tokens_file == (tmp_path / "tokens.json").resolve()
    assert (config.intake_port, config.intake_max_body_bytes, config.intake_rate_per_s) == (9123, 4096, 0.5)
    assert config.intake_trigger_attempts == 3
    with pytest.raises(SettingsError, match="intake_max_body_bytes"):
        Settings.from_env({"NAZORG_INTAKE_MAX_BODY_BYTES": str(10**6)})
    with pytest.raises(SettingsError, match="NAZORG_INTAKE_BURST"):
        Settings.from_env({"NAZORG_INTAKE_BURST": "0"})
    with pytest.raises(SettingsError, match="NAZORG_INTAKE_TOKENS"):
        Afzenders.uit_settings(Settings.from_env({}))
    (tmp_path / "tokens.json").write_text(
        "{" + configuratie_regel("pi", PI_TOKEN, None, [Soort.EERSTEDAGSMELDING]) + "}"
    )
    assert Afzenders.uit_settings(config).authenticeer(PI_TOKEN) is not None


def test_a_melding_already_processed_is_not_triggered_again(world: World) -> None:
    """Re-sent after the batch published it: a new per-melding run would take it up again."""
    from sqlalchemy import text

    assert world.post(melding()).json()["trigger"] == "gestart"
    with world.store.engine.begin() as conn:
        conn.execute(text("UPDATE inbox SET status = 'gepubliceerd'"))
    again = world.post(melding())
    assert again.status_code == 202 and again.json()["trigger"] == "niet_nodig"
    assert len(world.airflow.calls) == 1


def test_a_second_kind_of_melding_is_one_more_route_through_the_same_gate(world: World) -> None:
    """How the laatstedagsmelding plugs in: a SoortRoute; the gate (token, bucket, soort) is shared."""
    seen: list[tuple[bytes, str]] = []

    def laatste(body: bytes, afzender: Afzender) -> Any:
        from nazorg.intake_api.app import Antwoord

        seen.append((body, afzender.afzender_id))
        return Antwoord(202, {"soort": "laatstedagsmelding"})

    world.app = create_app(
        afzenders=world.afzenders,
        emmers=world.emmers,
        routes=[SoortRoute(Soort.LAATSTEDAGSMELDING, "/laatstedagsmeldingen", laatste)],
        max_body_bytes=CAP,
        openapi=openapi_document(SOURCE_ROOT),
    )
    headers = {"Content-Type": "application/json"}
    ok = world.request(
        "POST",
        "/v1/laatstedagsmeldingen",
        content=b"{}",
        headers={**headers, "Authorization": f"Bearer {LAATSTE_TOKEN}"},
    )
    assert ok.status_code == 202 and seen == [(b"{}", "alleen-laatste")]
    refused = world.request(
        "POST",
        "/v1/laatstedagsmeldingen",
        content=b"{}",
        headers={**headers, "Authorization": f"Bearer {PI_TOKEN}"},
    )
    is_problem(refused, 403, "soort_niet_toegestaan")
    assert len(seen) == 1


# -- laatstedagsmelding -----------------------------------------------------------------------------

LAATSTE_URL = "/v1/laatstedagsmeldingen"


def laatste(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "melding_id": "EDM-API-1",
        "bsn": BSNS[0],
        "datum_uitstroom": TODAY.isoformat(),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def post_laatste(
    world: World, body: object, token: str | None = LAATSTE_TOKEN, **kwargs: Any
) -> httpx.Response:
    return world.post(body, token, url=LAATSTE_URL, **kwargs)


def laatstedag_rows(world: World) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with world.store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT melding_id, datum_uitstroom, gemeente_hervestiging, status "
                    "FROM laatstedagsmelding"
                )
            )
        ]


def test_a_laatstedagsmelding_is_stored_202_and_starts_no_run(world: World) -> None:
    assert world.post(melding()).status_code == 202
    calls = list(world.airflow.calls)
    response = post_laatste(world, laatste(gemeente_hervestiging="9902"))
    assert response.status_code == 202, response.text
    assert response.headers["api-version"] == API_VERSION
    assert response.json() == {
        "melding_id": "EDM-API-1",
        "soort": "laatstedagsmelding",
        "ontvangst": "opgeslagen",
        "verwerking": "gepland",  # the scheduled DAG takes it up
    }
    assert laatstedag_rows(world) == [("EDM-API-1", TODAY.isoformat(), "9902", "ontvangen")]
    again = post_laatste(world, laatste(gemeente_hervestiging="9902"))
    assert again.status_code == 202 and again.json()["ontvangst"] == "al_aanwezig"
    assert world.airflow.calls == calls and world.triggers.open() == []
    assert len(laatstedag_rows(world)) == 1 and world.quarantaine() == []
    # a BSN written without its leading zero is the same BSN (nazorg.laatstedag's rule)
    assert BSNS[0] not in response.text


def test_the_laatstedagsmelding_gate_refuses_in_the_same_order(tmp_path: Path) -> None:
    world = World(tmp_path, burst=2)
    try:
        body = json.dumps(laatste()).encode()
        is_problem(post_laatste(world, body, token=None), 401, "niet_geauthenticeerd")
        is_problem(post_laatste(world, body, token="nzi_wrong"), 401, "token_ongeldig")
        # the PI's token carries only the eerstedagsmelding
        is_problem(post_laatste(world, body, token=PI_TOKEN), 403, "soort_niet_toegestaan")
        wrong_type = post_laatste(world, body, headers={"Content-Type": "text/plain"})
        is_problem(wrong_type, 415, "content_type_ongeldig")  # alleen-laatste's bucket: 1 of 2
        is_problem(
            post_laatste(world, body, headers={"Content-Type": "text/plain"}), 415, "content_type_ongeldig"
        )
        is_problem(post_laatste(world, body), 429, "te_veel_verzoeken")  # bucket before body and judging
        world.clock.t += 10.0
        is_problem(post_laatste(world, b" " * (CAP + 1)), 413, "body_te_groot")
        assert laatstedag_rows(world) == [] and world.quarantaine() == []
    finally:
        world.close()


def test_an_invalid_laatstedagsmelding_names_its_fields_and_is_quarantined(world: World) -> None:
    sent = laatste(
        bsn="12345678X", datum_uitstroom="nooit-ooit", gemeente_hervestiging="GEM12", extra="geheimQQ"
    )
    response = post_laatste(world, sent)
    body = is_problem(response, 400, "melding_ongeldig")
    found = {(p["name"], p["code"]) for p in body["invalidParams"]}
    assert found == {
        ("bsn", "formaat_ongeldig"),
        ("datum_uitstroom", "datum_ongeldig"),
        ("gemeente_hervestiging", "formaat_ongeldig"),
        ("<onbekend_veld:1>", "onbekend_veld"),
    }
    assert all(p["reason"] == REDENEN[p["code"]] for p in body["invalidParams"])
    for value in ("12345678X", "nooit-ooit", "GEM12", "geheimQQ", "extra"):
        assert value not in response.text
    assert {(q["veld"], q["reden_code"]) for q in world.quarantaine()} == found
    hostile = post_laatste(world, b'{"a": 1, "a": 2}')
    assert is_problem(hostile, 400, "melding_ongeldig")["invalidParams"][0]["code"] == "dubbele_sleutel"
    assert laatstedag_rows(world) == []


@pytest.mark.parametrize(
    ("overrides", "veld", "code"),
    [
        ({"melding_id": "EDM-NIET-ER"}, "melding_id", "melding_onbekend"),
        ({"bsn": BSNS[1]}, "bsn", "bsn_ongelijk"),
        (
            {"datum_uitstroom": (TODAY - timedelta(days=5)).isoformat()},
            "datum_uitstroom",
            "uitstroom_voor_binnenkomst",
        ),
        (
            {"datum_uitstroom": (TODAY + timedelta(days=1)).isoformat()},
            "datum_uitstroom",
            "datum_in_toekomst",
        ),
        ({"gemeente_hervestiging": "9999"}, "gemeente_hervestiging", "gemeente_onbekend"),
        ({"bsn": "999000000"}, "bsn", "bsn_elfproef"),
    ],
)
def test_the_inbox_rules_refuse_with_their_reason_in_quarantine(
    world: World, overrides: dict[str, object], veld: str, code: str
) -> None:
    assert world.post(melding()).status_code == 202  # datum_binnenkomst: the day before TODAY
    response = post_laatste(world, laatste(**overrides))
    body = is_problem(response, 400, "melding_ongeldig")
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [(veld, code)]
    assert body["inzending"]
    assert [(q["veld"], q["reden_code"]) for q in world.quarantaine()] == [(veld, code)]
    assert laatstedag_rows(world) == []
    assert BSNS[0] not in response.text and BSNS[1] not in response.text


def test_another_laatstedagsmelding_for_the_melding_is_409_and_quarantined(world: World) -> None:
    assert world.post(melding()).status_code == 202
    assert post_laatste(world, laatste()).status_code == 202
    conflict = post_laatste(world, laatste(datum_uitstroom=(TODAY - timedelta(days=1)).isoformat()))
    is_problem(conflict, 409, "laatstedag_conflict")
    assert [(q["veld"], q["reden_code"]) for q in world.quarantaine()] == [
        ("melding_id", "laatstedag_conflict")
    ]
    assert laatstedag_rows(world) == [("EDM-API-1", TODAY.isoformat(), None, "ontvangen")]


def test_a_sender_bound_to_gemeenten_cannot_tell_another_gemeentes_melding_from_an_unknown_one(
    world: World,
) -> None:
    assert world.post(melding(gemeente_code="9901")).status_code == 202
    # gemeente-b serves 9902 only: 9901's melding, even with a wrong BSN, is "unknown" to it
    answers = [
        post_laatste(world, laatste(), token=GEMEENTE_TOKEN),
        post_laatste(world, laatste(bsn=BSNS[1]), token=GEMEENTE_TOKEN),
        post_laatste(world, laatste(melding_id="EDM-NIET-ER"), token=GEMEENTE_TOKEN),
    ]
    shapes = [
        [(p["name"], p["code"]) for p in is_problem(r, 400, "melding_ongeldig")["invalidParams"]]
        for r in answers
    ]
    assert shapes == [[("melding_id", "melding_onbekend")]] * 3
    assert laatstedag_rows(world) == []
    # a 9902 melding it may close
    assert world.post(melding(melding_id="EDM-B-1", bsn=BSNS[2], gemeente_code="9902")).status_code == 202
    ok = post_laatste(world, laatste(melding_id="EDM-B-1", bsn=BSNS[2]), token=GEMEENTE_TOKEN)
    assert ok.status_code == 202


def test_no_bsn_in_any_laatstedagsmelding_response_or_log_line(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert world.post(melding(bsn=BSNS[3])).status_code == 202
    responses = [
        post_laatste(world, laatste(bsn=BSNS[3])),
        post_laatste(world, laatste(bsn=BSNS[4])),  # bsn_ongelijk
        post_laatste(world, laatste(bsn=BSNS[3], datum_uitstroom=(TODAY - timedelta(days=1)).isoformat())),
        post_laatste(world, laatste(melding_id="EDM-P-9", bsn=BSNS[5])),  # melding_onbekend
        post_laatste(world, json.dumps(laatste(bsn=BSNS[6])).encode()[:-3]),
        post_laatste(world, laatste(bsn=BSNS[7]), token=PI_TOKEN),
    ]
    text = caplog.text + "".join(r.text for r in responses) + "".join(str(r.headers) for r in responses)
    for bsn in BSNS[3:8]:
        assert bsn not in text
    assert [r.status_code for r in responses] == [202, 400, 409, 400, 400, 403]
