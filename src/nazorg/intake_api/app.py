"""The intake API: the PI sends eerstedagsmeldingen over HTTPS instead of as files.

Every request goes through the same gate, in this order, and stops at the first
refusal: a bearer token of a configured sender (401), that sender's bucket
(429), the sender's right to this kind of melding (403), the content type
(415), the body size, enforced while reading so an oversized body is never
read to its end (413). Only then is the body decoded and validated by the very
code the file intake uses (:mod:`nazorg.intake`), and stored by
:func:`nazorg.inbox.dien_in`: a refused melding is quarantined with its reason
codes (400 lists every field by name and code), a valid one for a gemeente the
sender does not serve is refused unstored (403), a valid one is stored and its
run triggered (202; see :mod:`nazorg.intake_api.triggers` for Airflow being down).

Nothing a sender sent comes back or into a log except the melding id of a
melding that passed validation (the id of its own resource). The access log has
the sender id, the status, the byte counts and the duration, never a path.

A kind of melding is one :class:`Soort` route: a path and a function from the
body bytes and sender to a response. The laatstedagsmelding is a second route
through the same gate (:func:`laatstedagsmelding`, judged and stored by
:mod:`nazorg.laatstedag`); it starts no run: its DAG is scheduled.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from nazorg.intake_api.afzenders import Afzender, Afzenders, Soort
from nazorg.intake_api.emmer import Emmers
from nazorg.intake_api.triggers import TriggerStatus, TriggerWachtrij

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, MutableMapping

    from nazorg.intake import Gemeenten
    from nazorg.settings import Settings
    from nazorg.store import Store

log = logging.getLogger(__name__)
toegang = logging.getLogger("nazorg.intake_api.toegang")

API_VERSION = "1.0.0"
"""The full version of the API (API-57: every response carries it as ``API-Version``)."""
BASE = "/v1"
OPENAPI_FILE = Path("api") / "intake-openapi.yaml"
"""The committed OpenAPI document, relative to the project directory (NAZORG_PROJECT_DIR)."""
REALM = "nazorg-intake"
PROBLEM = "application/problem+json"
PROBLEM_TYPE = "urn:nazorg:intake:probleem:"
BODY_FIELD = "body"
"""``invalidParams`` name of a refusal that concerns the body as a whole (not JSON, too deep, ...)."""

REDENEN: Mapping[str, str] = {
    "veld_ontbreekt": "Verplicht veld ontbreekt.",
    "onbekend_veld": "Veld(en) buiten het schema; namen worden niet herhaald.",
    "formaat_ongeldig": "Waarde heeft niet het voorgeschreven formaat.",
    "te_lang": "Waarde is te lang.",
    "te_kort": "Waarde is te kort.",
    "type_ongeldig": "Waarde heeft het verkeerde type.",
    "waarde_ongeldig": "Waarde hoort niet bij de toegestane waarden.",
    "datum_ongeldig": "Geen geldige datum (JJJJ-MM-DD).",
    "melding_id_cijferreeks": "melding_id bevat een reeks van acht of meer cijfers.",
    "bsn_elfproef": "BSN voldoet niet aan de elfproef.",
    "gemeente_onbekend": "Gemeente heeft geen besluit in het register.",
    "datum_in_toekomst": "Datum ligt in de toekomst.",
    "datum_te_oud": "Datum ligt meer dan een jaar terug.",
    "einddatum_voor_binnenkomst": "Verwachte einddatum ligt voor de datum van binnenkomst.",
    "geen_object": "De body is geen JSON-object.",
    "geen_json": "De body is geen geldige JSON.",
    "te_groot": "De melding is te groot.",
    "te_diep": "De JSON is te diep genest.",
    "dubbele_sleutel": "Een sleutel komt twee keer voor.",
    "getal_ongeldig": "NaN of Infinity is geen JSON.",
    "getal_te_groot": "Een getal is te groot.",
    "codering_ongeldig": "De body is geen geldige UTF-8.",
    "melding_onbekend": "Geen eerstedagsmelding met dit melding_id (voor deze afzender).",
    "bsn_ongelijk": "BSN hoort niet bij de eerstedagsmelding met dit melding_id.",
    "uitstroom_voor_binnenkomst": "Datum van uitstroom ligt voor de datum van binnenkomst.",
    "ongeldig": "Ongeldige waarde.",
    "intern_fout": "De melding kon niet worden beoordeeld.",
}
"""A fixed text per reason code: ``invalidParams[].reason`` never carries what was sent."""


@dataclass(frozen=True)
class Antwoord:
    """What a kind of melding's handler decided; rendered by the gate."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] | None = None
    problem: bool = False


Verwerk = Callable[[bytes, Afzender], Antwoord]
"""A kind of melding: body bytes (bounded, unparsed) and the authenticated sender to an answer."""


@dataclass(frozen=True)
class SoortRoute:
    soort: Soort
    pad: str  # collection path below /v1, kebab-case, no trailing slash (API-48)
    verwerk: Verwerk


def probleem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Antwoord:
    """An RFC 9457 problem (``application/problem+json``); ``code`` is ours, fixed text only."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Antwoord(status, body, headers, problem=True)


def _render(antwoord: Antwoord) -> Response:
    return Response(
        content=json.dumps(antwoord.body, ensure_ascii=False),
        status_code=antwoord.status,
        headers=dict(antwoord.headers or {}),
        media_type=PROBLEM if antwoord.problem else "application/json",
    )


# -- the access log and the version header ---------------------------------------------------


class Toegang:
    """Pure ASGI middleware: ``API-Version`` on every response, one access-log line per request.

    The line has the sender id (``-`` before authentication), status, bytes in
    and out and the duration: no path (a path can hold a melding id), no query,
    no client address, no header value.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info: dict[str, Any] = {"afzender": "-", "status": 500, "in": 0, "uit": 0}
        scope["nazorg.toegang"] = info
        start = time.perf_counter()

        async def ontvang() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                info["in"] += len(message.get("body", b""))
            return message

        async def verstuur(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"api-version", API_VERSION.encode())]
            elif message["type"] == "http.response.body":
                info["uit"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, ontvang, verstuur)
        finally:
            toegang.info(
                "afzender=%s status=%d in=%d uit=%d duur_ms=%d",
                info["afzender"],
                info["status"],
                info["in"],
                info["uit"],
                round((time.perf_counter() - start) * 1000),
            )


# -- the gate ----------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json_type(content_type: str | None) -> bool:
    """``application/json``, with at most a UTF-8 charset parameter."""
    if not content_type:
        return False
    media, *params = [part.strip().lower() for part in content_type.split(";")]
    if media != "application/json":
        return False
    return all(p.replace(" ", "") in ("charset=utf-8", 'charset="utf-8"') for p in params if p)


async def _lees_begrensd(request: Request, cap: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``cap``: never reads past cap + one chunk."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > cap:
        return None
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > cap:
            return None
    return bytes(buf)


def _authenticeer(request: Request, afzenders: Afzenders) -> Afzender | Antwoord:
    token = _bearer(request)
    if token is None:
        return probleem(
            401,
            "niet_geauthenticeerd",
            "Authenticatie vereist",
            "Stuur Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    afzender = afzenders.authenticeer(token)
    if afzender is None:
        return probleem(
            401,
            "token_ongeldig",
            "Token ongeldig",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
        )
    request.scope["nazorg.toegang"]["afzender"] = afzender.afzender_id
    return afzender


# -- eerstedagsmelding ---------------------------------------------------------------------------


def eerstedagsmelding(
    store: Store,
    gemeenten: Callable[[], Gemeenten],
    triggers: TriggerWachtrij | None,
    trigger_wacht_s: float,
    vandaag: Callable[[], date] = date.today,
) -> Verwerk:
    """Decode and validate with :mod:`nazorg.intake`, store with :func:`nazorg.inbox.dien_in`, trigger."""
    from nazorg.inbox import dien_in, run_key_voor
    from nazorg.intake import beoordeel_alle, decode_record, herkomst_voor, nieuwe_inzending

    def verwerk(body: bytes, afzender: Afzender) -> Antwoord:
        inzending = nieuwe_inzending()
        records = [(herkomst_voor(inzending, 1), decode_record(body))]
        beoordeling = next(beoordeel_alle(records, gemeenten(), vandaag()))
        melding = beoordeling.melding
        if melding is not None and not afzender.mag_gemeente(melding.gemeente_code):
            # not stored: this sender has no business sending it, and the inbox holds BSNs
            return probleem(403, "gemeente_niet_toegestaan", "Afzender mag niet melden voor deze gemeente")
        result = dien_in(store, [beoordeling], inzending=inzending)
        if melding is None:
            return _ongeldig(inzending, [(a.veld, a.reden_code) for a in beoordeling.afwijzingen])
        if result.aantallen["conflict"]:
            return probleem(
                409,
                "melding_id_conflict",
                "Melding-id al gebruikt voor een andere melding",
                "De eerste melding met dit id blijft staan; deze is in quarantaine gezet.",
                inzending=inzending,
            )
        ontvangst = "opgeslagen" if result.aantallen["opgeslagen"] else "al_aanwezig"
        trigger = TriggerStatus.UITGESTELD
        run_key = run_key_voor(store, melding.melding_id)
        if triggers is not None and run_key is not None:
            trigger = triggers.dien_in(run_key, trigger_wacht_s)
        locatie = f"{BASE}/eerstedagsmeldingen/{melding.melding_id}"
        return Antwoord(
            202,
            {
                "melding_id": melding.melding_id,
                "soort": Soort.EERSTEDAGSMELDING.value,
                "ontvangst": ontvangst,
                "trigger": trigger.value,
                "status_url": locatie,
            },
            headers={"Location": locatie},
        )

    return verwerk


def _ongeldig(inzending: str, afwijzingen: Collection[tuple[str | None, str]]) -> Antwoord:
    """400: every refused field by name and code (a fixed text each), never a value."""
    invalid = [
        {"name": veld or BODY_FIELD, "code": code, "reason": REDENEN.get(code, REDENEN["ongeldig"])}
        for veld, code in afwijzingen
    ]
    return probleem(
        400,
        "melding_ongeldig",
        "Melding ongeldig",
        "De melding is in quarantaine gezet; zie invalidParams.",
        inzending=inzending,
        invalidParams=invalid,
    )


# -- laatstedagsmelding --------------------------------------------------------------------------


def laatstedagsmelding(
    store: Store,
    gemeenten: Callable[[], Collection[str]],
    vandaag: Callable[[], date] = date.today,
) -> Verwerk:
    """Decode with :mod:`nazorg.intake`, judge and store with :mod:`nazorg.laatstedag`; no trigger.

    The laatstedagsmelding DAG runs on its schedule and takes up every stored one:
    nothing is started here, and the 202 says so (``verwerking: gepland``).

    A sender bound to gemeenten may report the end of detention only for a melding
    of one of them. For a melding of another gemeente the answer is that of an
    unknown melding (400 ``melding_onbekend``, quarantined as such): whether another
    gemeente's melding id exists is not this sender's to learn, and its BSN is never
    compared (``bsn_ongelijk`` would tell whether it belongs to that melding).
    ``gemeenten`` are the codes with a besluit (for ``gemeente_hervestiging``).
    """
    from nazorg import laatstedag
    from nazorg.intake import Afwijzing, decode_record, herkomst_voor, nieuwe_inzending

    def verwerk(body: bytes, afzender: Afzender) -> Antwoord:
        inzending = nieuwe_inzending()
        records = [(herkomst_voor(inzending, 1), decode_record(body))]
        beoordeling = next(laatstedag.beoordeel_alle(records, gemeenten(), vandaag()))
        melding = beoordeling.melding
        if melding is not None and afzender.gemeenten is not None:
            rows = store.query("intake_api/melding_status", {"melding_id": melding.melding_id})
            if rows and not afzender.mag_gemeente(str(rows[0]["gemeente_code"])):
                beoordeling = laatstedag.Beoordeling(
                    beoordeling.herkomst,
                    None,
                    (Afwijzing("melding_onbekend", "melding_id"),),
                    beoordeling.melding_id,
                )
        result = laatstedag.dien_in(store, [beoordeling], inzending=inzending)
        if result.aantallen["conflict"]:
            return probleem(
                409,
                "laatstedag_conflict",
                "Andere laatstedagsmelding voor deze melding",
                "De eerste laatstedagsmelding blijft staan; deze is in quarantaine gezet.",
                inzending=inzending,
            )
        if result.aantallen["quarantaine"] or melding is None:
            return _ongeldig(inzending, list(result.afwijzingen))
        return Antwoord(
            202,
            {
                "melding_id": melding.melding_id,
                "soort": Soort.LAATSTEDAGSMELDING.value,
                "ontvangst": "opgeslagen" if result.aantallen["opgeslagen"] else "al_aanwezig",
                "verwerking": "gepland",
            },
        )

    return verwerk


def melding_status(store: Store) -> Callable[[str, Afzender], Antwoord]:
    """The status resource: the inbox status of a melding the sender may see, else 404."""
    from nazorg.intake import DIGIT_RUN, MELDING_ID

    niet_gevonden = probleem(404, "niet_gevonden", "Niet gevonden")

    def status(melding_id: str, afzender: Afzender) -> Antwoord:
        if not MELDING_ID.match(melding_id) or DIGIT_RUN.search(melding_id):
            return niet_gevonden
        rows = store.query("intake_api/melding_status", {"melding_id": melding_id})
        if not rows or not afzender.mag_gemeente(str(rows[0]["gemeente_code"])):
            return niet_gevonden  # out of scope looks the same as absent
        return Antwoord(200, {"melding_id": melding_id, "status": str(rows[0]["status"])})

    return status


# -- the app -----------------------------------------------------------------------------------


def openapi_document(project_dir: Path) -> dict[str, Any]:
    """The committed OpenAPI document (``api/intake-openapi.yaml`` of the project), served as is."""
    import yaml

    document: dict[str, Any] = yaml.safe_load((project_dir / OPENAPI_FILE).read_text(encoding="utf-8"))
    return document


def create_app(
    *,
    afzenders: Afzenders,
    emmers: Emmers,
    routes: Collection[SoortRoute],
    max_body_bytes: int,
    openapi: Mapping[str, Any],
    status: Callable[[str, Afzender], Antwoord] | None = None,
    triggers: TriggerWachtrij | None = None,
) -> FastAPI:
    """The FastAPI app; every collaborator is passed in.

    Tests give fakes; :func:`app_from_settings` gives the deployment's own.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if triggers is not None:
            triggers.start()
        try:
            yield
        finally:
            if triggers is not None:
                triggers.stop()

    app = FastAPI(
        title="nazorg intake API",
        version=API_VERSION,
        openapi_url=None,  # the committed document is served instead (API-51)
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # API-48: a trailing slash is another (absent) resource
        lifespan=lifespan,
    )
    app.add_middleware(Toegang)  # type: ignore[arg-type]
    document = dict(openapi)

    @app.exception_handler(HTTPException)
    async def http_problem(_request: Request, exc: HTTPException) -> Response:
        code = {404: "niet_gevonden", 405: "methode_niet_toegestaan"}.get(exc.status_code, "fout")
        headers = dict(exc.headers or {})
        return _render(probleem(exc.status_code, code, str(exc.detail), headers=headers))

    @app.exception_handler(RequestValidationError)
    async def ongeldig_verzoek(_request: Request, _exc: RequestValidationError) -> Response:
        # FastAPI's own answer repeats the input; no route here declares parameters it validates
        return _render(probleem(400, "verzoek_ongeldig", "Verzoek ongeldig"))

    @app.exception_handler(Exception)
    async def intern(_request: Request, exc: Exception) -> Response:
        # the type only: a driver's message carries statement parameters (BSNs)
        log.error("interne fout (%s)", type(exc).__name__)
        return _render(probleem(500, "intern_fout", "Interne fout"))

    def gate(route: SoortRoute) -> Callable[[Request], Awaitable[Response]]:
        async def post(request: Request) -> Response:
            afzender = _authenticeer(request, afzenders)
            if isinstance(afzender, Antwoord):
                return _render(afzender)
            wacht = emmers.neem(afzender.afzender_id)
            if wacht:
                return _render(
                    probleem(
                        429, "te_veel_verzoeken", "Te veel verzoeken", headers={"Retry-After": str(wacht)}
                    )
                )
            if not afzender.mag_soort(route.soort):
                return _render(probleem(403, "soort_niet_toegestaan", "Afzender mag deze soort niet melden"))
            if not _json_type(request.headers.get("content-type")):
                return _render(
                    probleem(
                        415,
                        "content_type_ongeldig",
                        "Content-Type niet ondersteund",
                        "Verwacht application/json (UTF-8).",
                        headers={"Accept-Post": "application/json"},
                    )
                )
            body = await _lees_begrensd(request, max_body_bytes)
            if body is None:
                return _render(
                    probleem(
                        413,
                        "body_te_groot",
                        "Body te groot",
                        f"Hoogstens {max_body_bytes} bytes per melding.",
                        headers={"Connection": "close"},
                    )
                )
            try:
                antwoord = await run_in_threadpool(route.verwerk, body, afzender)
            except Exception as exc:
                log.error("interne fout bij %s (%s)", route.soort.value, type(exc).__name__)
                antwoord = probleem(500, "intern_fout", "Interne fout")
            return _render(antwoord)

        post.__name__ = f"post_{route.soort.value}"
        return post

    for route in routes:
        app.add_api_route(BASE + route.pad, gate(route), methods=["POST"], include_in_schema=False)

    if status is not None:
        check = status

        async def get_status(request: Request) -> Response:
            afzender = _authenticeer(request, afzenders)
            if isinstance(afzender, Antwoord):
                return _render(afzender)
            wacht = emmers.neem(afzender.afzender_id)
            if wacht:
                return _render(
                    probleem(
                        429, "te_veel_verzoeken", "Te veel verzoeken", headers={"Retry-After": str(wacht)}
                    )
                )
            melding_id = str(request.path_params["melding_id"])
            return _render(await run_in_threadpool(check, melding_id, afzender))

        app.add_api_route(
            BASE + "/eerstedagsmeldingen/{melding_id}", get_status, methods=["GET"], include_in_schema=False
        )

    async def serve_openapi(_request: Request) -> Response:
        return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app.add_api_route(BASE + "/openapi.json", serve_openapi, methods=["GET"], include_in_schema=False)
    app.add_api_route(BASE + "/health", health, methods=["GET"], include_in_schema=False)
    return app


def app_from_settings(config: Settings | None = None) -> FastAPI:
    """The app of the configured deployment: senders, pipeline DB, register and Airflow from settings."""
    from nazorg.intake_api.triggers import airflow_trigger, inbox_nog_nodig
    from nazorg.settings import settings
    from nazorg.wiring import runtime

    config = config or settings()
    afzenders = Afzenders.uit_settings(config)
    rt = runtime()
    triggers = TriggerWachtrij(
        airflow_trigger(timeout_s=max(config.intake_trigger_wait_s, 5.0)),
        inbox_nog_nodig(rt.store),
        backoff_s=config.intake_trigger_backoff_s,
        backoff_max_s=config.intake_trigger_backoff_max_s,
        pogingen=config.intake_trigger_attempts,
    )
    # per gemeente the melding fields its besluit reads: the intake stores no other (minimisation)
    gemeenten = rt.policy.melding_velden()
    app = create_app(
        afzenders=afzenders,
        emmers=Emmers(config.intake_rate_per_s, config.intake_burst),
        routes=[
            SoortRoute(
                Soort.EERSTEDAGSMELDING,
                "/eerstedagsmeldingen",
                eerstedagsmelding(rt.store, lambda: gemeenten, triggers, config.intake_trigger_wait_s),
            ),
            # no trigger: the laatstedagsmelding DAG is scheduled and takes up what is stored
            SoortRoute(
                Soort.LAATSTEDAGSMELDING,
                "/laatstedagsmeldingen",
                laatstedagsmelding(rt.store, lambda: rt.policy.besluiten.keys()),
            ),
        ],
        max_body_bytes=config.intake_max_body_bytes,
        openapi=openapi_document(config.project_dir),
        status=melding_status(rt.store),
        triggers=triggers,
    )
    # the coördinator's werklijst (HTML, its own login) when accounts are configured: nazorg.werklijst.web
    from nazorg.werklijst.web import koppel

    koppel(app, config, rt.store, rt.policy)
    return app
