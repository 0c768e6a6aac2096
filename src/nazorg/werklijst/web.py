"""The werklijst pages: login, the list, one document, logout; a router under ``/werklijst``.

Why in the intake service's process: both read the same pipeline DB and
register, and one process is one thing to deploy, monitor and put behind TLS.
The router is separate code (this package) and is mounted only when accounts
are configured; a reverse proxy exposes ``/v1`` to the PI's network and
``/werklijst`` to the gemeente's, so neither audience reaches the other's part.

Every page: Dutch, Jinja2 autoescape, no scripts, no external assets, a strict
CSP (the one inline stylesheet by its hash), ``no-store``, no framing, no
referrer. A document of another gemeente is answered exactly like an absent one
(404). No BSN is read: the list reads the published documents (which have none)
and the outcome table's check ids.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from nazorg.sjablonen import omgeving, stijl
from nazorg.werklijst.accounts import Account, Accounts
from nazorg.werklijst.lijst import STATUS_NL, FilterFout, Status, filter_uit, gefilterd, items
from nazorg.werklijst.sessie import Ondertekenaar, Pogingen, Sessie

if TYPE_CHECKING:
    from fastapi import FastAPI

    from nazorg.register import Policy
    from nazorg.settings import Settings
    from nazorg.store import Store

PREFIX = "/werklijst"
SESSIE_COOKIE = "nzw_sessie"
LOGIN_COOKIE = "nzw_login"
MAX_FORM_BYTES = 2048
_META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


@dataclass
class Werklijst:
    """Everything the pages need; tests pass their own (a clock, a store, accounts)."""

    accounts: Accounts
    ondertekenaar: Ondertekenaar
    store: Store
    policy: Policy
    secure: bool = True
    nieuw_uren: int = 72
    pogingen: Pogingen = field(default_factory=Pogingen)
    nu: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _css() -> tuple[str, str]:
    return stijl("nazorg.werklijst", "werklijst.css")


def _csp(style_hash: str, form_action: str = "'self'") -> str:
    return (
        f"default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'none'; script-src 'none'; "
        f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


def _headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def _pagina(template: str, status: int = 200, **view: Any) -> HTMLResponse:
    css, digest = _css()
    html = omgeving("nazorg.werklijst").get_template(template).render(css=css, prefix=PREFIX, **view)
    return HTMLResponse(html, status_code=status, headers=_headers(_csp(digest)))


def _niet_gevonden() -> HTMLResponse:
    return _pagina(
        "fout.html.j2",
        404,
        titel="Niet gevonden",
        tekst="Dit basisdocument bestaat niet of is niet van uw gemeente.",
    )


def _naar(pad: str) -> RedirectResponse:
    return RedirectResponse(PREFIX + pad, status_code=303, headers={"Cache-Control": "no-store"})


async def _formulier(request: Request) -> dict[str, str] | None:
    """The url-encoded form, bounded; None when too long or not url-encoded."""
    if (request.headers.get("content-type") or "").split(";")[0].strip().lower() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > MAX_FORM_BYTES:
            return None
    try:
        velden = parse_qs(buf.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in velden.items()}


def router(w: Werklijst) -> APIRouter:
    r = APIRouter(prefix=PREFIX, include_in_schema=False)

    def ingelogd(request: Request) -> tuple[Sessie, Account] | None:
        sessie = w.ondertekenaar.sessie(request.cookies.get(SESSIE_COOKIE))
        if sessie is None:
            return None
        account = w.accounts.get(sessie.naam)  # an account removed from the configuration is logged out
        return None if account is None else (sessie, account)

    def login_pagina(
        status: int = 200, melding: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        token = w.ondertekenaar.login_csrf()
        antwoord = _pagina("login.html.j2", status, csrf=token, melding=melding)
        antwoord.set_cookie(
            LOGIN_COOKIE, token, max_age=1800, path=PREFIX, secure=w.secure, httponly=True, samesite="strict"
        )
        for k, v in (headers or {}).items():
            antwoord.headers[k] = v
        return antwoord

    @r.get("")
    async def wortel() -> Response:
        return _naar("/")

    @r.get("/login")
    async def login_get(request: Request) -> Response:
        if ingelogd(request) is not None:
            return _naar("/")
        return login_pagina()

    @r.post("/login")
    async def login_post(request: Request) -> Response:
        velden = await _formulier(request)
        if velden is None or not w.ondertekenaar.login_csrf_geldig(
            velden.get("csrf"), request.cookies.get(LOGIN_COOKIE)
        ):
            return login_pagina(
                403, "Het formulier is verlopen of niet via deze pagina verstuurd. Probeer het opnieuw."
            )
        naam = velden.get("naam", "").strip().lower()[:64]
        wacht = w.pogingen.geblokkeerd(naam)
        if wacht:
            return login_pagina(
                429, "Te veel mislukte pogingen. Probeer het later opnieuw.", {"Retry-After": str(wacht)}
            )
        account = await run_in_threadpool(w.accounts.controleer, naam, velden.get("wachtwoord", ""))
        if account is None:
            w.pogingen.mislukt(naam)
            return login_pagina(401, "Naam of wachtwoord onjuist.")
        w.pogingen.gelukt(naam)
        _sessie, cookie = w.ondertekenaar.nieuwe_sessie(account.naam)
        antwoord = _naar("/")
        antwoord.set_cookie(
            SESSIE_COOKIE,
            cookie,
            max_age=w.ondertekenaar.duur_s,
            path=PREFIX,
            secure=w.secure,
            httponly=True,
            samesite="strict",
        )
        antwoord.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return antwoord

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        sessie = w.ondertekenaar.sessie(request.cookies.get(SESSIE_COOKIE))
        velden = await _formulier(request)
        if sessie is None:
            return _naar("/login")
        if velden is None or velden.get("csrf") != sessie.csrf:
            return _pagina(
                "fout.html.j2",
                403,
                titel="Niet toegestaan",
                tekst="Uitloggen kan alleen via de knop op de werklijst.",
            )
        w.ondertekenaar.uitloggen(sessie)
        antwoord = _naar("/login")
        antwoord.delete_cookie(SESSIE_COOKIE, path=PREFIX, secure=w.secure, httponly=True, samesite="strict")
        return antwoord

    @r.get("/")
    async def lijst(request: Request) -> Response:
        login = ingelogd(request)
        if login is None:
            return _naar("/login")
        sessie, account = login
        params = {k: request.query_params.get(k, "") for k in ("status", "van", "tot")}
        try:
            filter_ = filter_uit(params)
        except FilterFout as fout:
            return _pagina(
                "fout.html.j2",
                400,
                titel="Ongeldig filter",
                tekst=f"Het filter '{fout.veld}' heeft een ongeldige waarde.",
            )

        def lees() -> tuple[list[Any], list[Any]]:
            code = {"gemeente_code": account.gemeente}
            return w.store.query("werklijst/outbox_gemeente", code), w.store.query(
                "werklijst/wachtend_gemeente", code
            )

        outbox, wachtend = await run_in_threadpool(lees)
        alle = items(
            outbox, wachtend, rol=account.rol, register=w.policy.register, nu=w.nu(), nieuw_uren=w.nieuw_uren
        )
        try:
            gemeente_naam = w.policy.besluit(account.gemeente).gemeente_naam
        except KeyError:
            gemeente_naam = account.gemeente
        from nazorg.basisdocument_html import ROL_NL

        return _pagina(
            "werklijst.html.j2",
            account=account,
            rol_nl=ROL_NL[account.rol],
            gemeente_naam=gemeente_naam,
            csrf=sessie.csrf,
            items=gefilterd(alle, filter_),
            totaal=len(alle),
            filter=filter_,
            statussen=[(s.value, STATUS_NL[s]) for s in Status],
            nieuw_uren=w.nieuw_uren,
        )

    @r.get("/documenten/{melding_id}")
    async def document(request: Request, melding_id: str) -> Response:
        login = ingelogd(request)
        if login is None:
            return _naar("/login")
        _sessie, account = login
        from nazorg.intake import DIGIT_RUN, MELDING_ID

        if not MELDING_ID.match(melding_id) or DIGIT_RUN.search(melding_id):
            return _niet_gevonden()
        html = await run_in_threadpool(_document_html, w, melding_id, account)
        if html is None:
            return _niet_gevonden()
        match = _META_CSP.search(html)
        csp = (match.group(1) if match else _csp(_css()[1], "'none'")) + "; frame-ancestors 'none'"
        return HTMLResponse(html, headers=_headers(csp))

    return r


def _document_html(w: Werklijst, melding_id: str, account: Account) -> str | None:
    """The page :func:`nazorg.basisdocument_html.opslag.pagina` makes for the account's role, or None."""
    from nazorg.basisdocument_html.opslag import pagina

    rows = w.store.query("outbox_get", {"melding_id": melding_id})
    if not rows or str(rows[0]["gemeente_code"]) != account.gemeente:
        return None  # another gemeente's document looks like an absent one
    html = pagina(w.store, w.policy, melding_id, rol=account.rol)
    if html is None:
        return None
    # the way back; the page's own CSS and CSP apply (a plain link needs neither)
    return html.replace(
        "<body>", f'<body>\n<nav><a href="{PREFIX}/">&larr; Terug naar de werklijst</a></nav>', 1
    )


def koppel(app: FastAPI, config: Settings, store: Store, policy: Policy) -> bool:
    """Mount the werklijst on ``app`` when accounts are configured; refuses a missing or weak session key."""
    from nazorg.settings import WERKLIJST_SESSIE_SLEUTEL_ENV, SettingsError
    from nazorg.werklijst.sessie import MIN_SLEUTEL_CHARS

    accounts = Accounts.uit_settings(config)
    if accounts is None:
        return False
    sleutel = config.werklijst_sessie_sleutel or ""
    if len(sleutel) < MIN_SLEUTEL_CHARS:
        raise SettingsError(
            f"{WERKLIJST_SESSIE_SLEUTEL_ENV} ontbreekt of is korter dan {MIN_SLEUTEL_CHARS} tekens "
            "(de werklijst heeft accounts)",
            setting=WERKLIJST_SESSIE_SLEUTEL_ENV,
        )
    werklijst = Werklijst(
        accounts=accounts,
        ondertekenaar=Ondertekenaar(sleutel, config.werklijst_sessie_duur_s, time.time),
        store=store,
        policy=policy,
        secure=config.werklijst_cookie_secure,
        nieuw_uren=config.werklijst_nieuw_uren,
    )
    app.include_router(router(werklijst))
    return True
