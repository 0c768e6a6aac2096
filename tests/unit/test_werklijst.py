"""The werklijst: login (CSRF, wrong password, unknown name, tampered/expired cookie, limit), gemeente
scoping, the role view and the filters; in-process over ASGI, on a migrated SQLite pipeline DB.

The documents here are built from the register (every check, chosen outcomes), not by the pipeline:
the real pipeline's documents are used by tests/integration/test_werklijst_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from nazorg import migrations
from nazorg.register import Policy, default_policy
from nazorg.settings import SOURCE_ROOT, Settings, SettingsError
from nazorg.store import Store, dispose_engines, make_engine
from nazorg.werklijst import sessie as sessie_mod
from nazorg.werklijst.accounts import Accounts, configuratie_regel
from nazorg.werklijst.lijst import Filter, FilterFout, Status, filter_uit, gefilterd, items
from nazorg.werklijst.sessie import Ondertekenaar, Pogingen
from nazorg.werklijst.web import LOGIN_COOKIE, SESSIE_COOKIE, Werklijst, koppel, router

pytestmark = pytest.mark.unit

SLEUTEL = "test-only-session-key-0123456789abcdef"
WACHTWOORD = "correct-horse-battery-staple"
NU = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Klok:
    def __init__(self) -> None:
        self.t = NU.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def policy() -> Policy:
    return default_policy()


@pytest.fixture(scope="module")
def accounts() -> Accounts:
    regels = [
        configuratie_regel("coord.ruimhaven", WACHTWOORD, "9901", "coordinator"),
        configuratie_regel("pi.ruimhaven", WACHTWOORD, "9901", "pi_casemanager"),
        configuratie_regel("coord.strikdorp", WACHTWOORD, "9902", "coordinator"),
    ]
    return Accounts.parse("{" + ", ".join(regels) + "}")


def document(policy: Policy, melding_id: str, gemeente: str, uitkomsten: dict[str, str]) -> dict[str, Any]:
    """A published document with every register check; the outcome that needs no action unless named."""
    besluit = policy.besluit(gemeente)
    groepen: dict[str, list[dict[str, Any]]] = {}
    for entry in policy.register.checks:
        uitkomst = uitkomsten.get(entry.id, "ja" if entry.actie.uitkomst == "nee" else "nee")
        groepen.setdefault(entry.aandachtsgebied.value, []).append(
            {
                "check_id": entry.id,
                "uitkomst": uitkomst,
                "dossierverantwoordelijke": besluit.standaard_contact(entry.id)
                if entry.id in besluit.checks
                else None,
                "reden": "bron_timeout" if uitkomst == "onbekend" else None,
            }
        )
    return {
        "melding_id": melding_id,
        "gemeente_code": gemeente,
        "gemeente_naam": besluit.gemeente_naam,
        "inrichting": "PI Teststad",
        "datum_binnenkomst": "2026-11-20",
        "verwachte_einddatum": None,
        "besluit": "test",
        "register_versie": policy.register.register_versie,
        "aandachtsgebieden": [{"aandachtsgebied": g, "checks": c} for g, c in groepen.items()],
    }


@dataclass
class World:
    app: FastAPI
    store: Store
    klok: Klok
    werklijst: Werklijst


@pytest.fixture
def world(tmp_path: Path, policy: Policy, accounts: Accounts) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    store = Store(engine, SOURCE_ROOT / "sql")
    docs = [
        # 9901: one needing action (huurschuld ja, visible to coordinator only), published yesterday
        ("RH-ACTIE-1", "9901", {"huurschuld": "ja"}, NU - timedelta(hours=20)),
        # 9901: one needing action visible to the PI too (schuld_cjib ja), with a retried check; old
        ("RH-WACHT-2", "9901", {"schuld_cjib": "ja", "wmo_zorg": "onbekend"}, NU - timedelta(days=10)),
        # 9901: nothing to do, old
        ("RH-RUST-3", "9901", {}, NU - timedelta(days=30)),
        # 9902: another gemeente's document
        ("SD-ANDER-4", "9902", {"huurschuld": "ja"}, NU - timedelta(hours=1)),
    ]
    with engine.begin() as conn:
        for melding_id, gemeente, uitkomsten, moment in docs:
            conn.execute(
                text(
                    "INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op) "
                    "VALUES (:m, :g, :i, NULL, :t)"
                ),
                {
                    "m": melding_id,
                    "g": gemeente,
                    "i": json.dumps(document(policy, melding_id, gemeente, uitkomsten)),
                    "t": moment.isoformat(),
                },
            )
        conn.execute(
            text(
                "INSERT INTO uitkomst (melding_id, aandachtsgebied, check_id, uitkomst,"
                " dossierverantwoordelijke, reden, processing_activity_id, bepaald_op, volgende_poging)"
                " VALUES ('RH-WACHT-2', 'zorg', 'wmo_zorg', 'onbekend', NULL, 'bron_timeout', 'test', :t, :v)"
            ),
            {"t": NU.isoformat(), "v": (NU + timedelta(hours=1)).isoformat()},
        )
    klok = Klok()
    w = Werklijst(
        accounts=accounts,
        ondertekenaar=Ondertekenaar(SLEUTEL, 3600, klok),
        store=store,
        policy=policy,
        secure=False,
        nieuw_uren=72,
        pogingen=Pogingen(klok),
        nu=lambda: datetime.fromtimestamp(klok.t, UTC),
    )
    app = FastAPI()
    app.include_router(router(w))
    yield World(app, store, klok, w)
    engine.dispose()
    dispose_engines()


@dataclass
class Browser:
    """A cookie-keeping client over ASGI (one request per event loop, cookies carried by hand)."""

    app: FastAPI
    cookies: dict[str, str] = field(default_factory=dict)

    def vraag(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://werk.test", cookies=self.cookies
            ) as c:
                return await c.request(method, url, **kwargs)

        response = asyncio.run(go())
        for naam in (SESSIE_COOKIE, LOGIN_COOKIE):
            for header in response.headers.get_list("set-cookie"):
                if header.startswith(naam + "="):
                    waarde = header.split(";")[0].split("=", 1)[1].strip('"')
                    if waarde and "Max-Age=0" not in header:
                        self.cookies[naam] = waarde
                    else:
                        self.cookies.pop(naam, None)
        return response

    def csrf(self, pad: str) -> str:
        page = self.vraag("GET", pad)
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def login(self, naam: str, wachtwoord: str = WACHTWOORD, csrf: str | None = "") -> httpx.Response:
        token = self.csrf("/werklijst/login") if csrf == "" else csrf
        velden = {"naam": naam, "wachtwoord": wachtwoord}
        if token is not None:
            velden["csrf"] = token
        return self.vraag("POST", "/werklijst/login", data=velden)


def ingelogd(world: World, naam: str = "coord.ruimhaven") -> Browser:
    b = Browser(world.app)
    r = b.login(naam)
    assert r.status_code == 303 and r.headers["location"] == "/werklijst/"
    return b


# -- login


def test_without_a_session_the_list_and_a_document_redirect_to_the_login(world: World) -> None:
    b = Browser(world.app)
    for pad in ("/werklijst/", "/werklijst/documenten/RH-ACTIE-1"):
        r = b.vraag("GET", pad)
        assert r.status_code == 303 and r.headers["location"] == "/werklijst/login"


def test_the_right_password_logs_in_with_a_strict_httponly_cookie(world: World) -> None:
    b = Browser(world.app)
    r = b.login("coord.ruimhaven")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSIE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/werklijst" in cookie
    assert "Secure" not in cookie  # this world is configured for plain HTTP
    lijst = b.vraag("GET", "/werklijst/")
    assert lijst.status_code == 200 and "RH-ACTIE-1" in lijst.text


def test_the_cookie_is_secure_when_configured(world: World) -> None:
    world.werklijst.secure = True
    r = Browser(world.app).login("coord.ruimhaven")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSIE_COOKIE))
    assert "Secure" in cookie


@pytest.mark.parametrize(
    ("naam", "wachtwoord"), [("coord.ruimhaven", "fout-wachtwoord"), ("onbekend", WACHTWOORD)]
)
def test_a_wrong_password_and_an_unknown_name_are_refused_alike(
    world: World, naam: str, wachtwoord: str
) -> None:
    b = Browser(world.app)
    r = b.login(naam, wachtwoord)
    assert r.status_code == 401 and "Naam of wachtwoord onjuist." in r.text
    assert SESSIE_COOKIE not in b.cookies
    assert b.vraag("GET", "/werklijst/").status_code == 303


@pytest.mark.parametrize("csrf", [None, "bogus", "x.y"])
def test_a_login_without_the_forms_csrf_token_is_refused_even_with_the_right_password(
    world: World, csrf: str | None
) -> None:
    b = Browser(world.app)
    b.csrf("/werklijst/login")  # the login cookie is set; the form value is missing or wrong
    r = b.login("coord.ruimhaven", csrf=csrf)
    assert r.status_code == 403 and SESSIE_COOKIE not in b.cookies


def test_a_csrf_token_from_the_form_without_its_cookie_is_refused(world: World) -> None:
    token = Browser(world.app).csrf("/werklijst/login")
    r = Browser(world.app).login("coord.ruimhaven", csrf=token)  # another browser: no login cookie
    assert r.status_code == 403


def test_a_tampered_session_cookie_is_no_session(world: World) -> None:
    b = ingelogd(world)
    payload, mac = b.cookies[SESSIE_COOKIE].split(".")
    data = json.loads(sessie_mod._unb64(payload))
    data["n"] = "coord.strikdorp"  # another account, same signature
    b.cookies[SESSIE_COOKIE] = sessie_mod._b64(json.dumps(data).encode()) + "." + mac
    assert b.vraag("GET", "/werklijst/").status_code == 303
    b.cookies[SESSIE_COOKIE] = payload + "." + mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")
    assert b.vraag("GET", "/werklijst/").status_code == 303


def test_an_expired_session_is_no_session(world: World) -> None:
    b = ingelogd(world)
    assert b.vraag("GET", "/werklijst/").status_code == 200
    world.klok.t += 3601
    assert b.vraag("GET", "/werklijst/").status_code == 303


def test_logout_needs_the_sessions_csrf_token_and_ends_the_session_even_for_a_kept_cookie(
    world: World,
) -> None:
    b = ingelogd(world)
    bewaard = b.cookies[SESSIE_COOKIE]
    assert b.vraag("POST", "/werklijst/logout", data={}).status_code == 403
    assert b.vraag("GET", "/werklijst/").status_code == 200
    token = b.csrf("/werklijst/")
    r = b.vraag("POST", "/werklijst/logout", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/werklijst/login"
    b.cookies[SESSIE_COOKIE] = bewaard  # a copy of the cookie kept after logout
    assert b.vraag("GET", "/werklijst/").status_code == 303


def test_failed_logins_are_limited_per_name_and_the_window_passes(world: World) -> None:
    b = Browser(world.app)
    for _ in range(sessie_mod.MAX_MISLUKT):
        assert b.login("coord.ruimhaven", "fout").status_code == 401
    r = b.login("coord.ruimhaven")  # the right password, but too late
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert Browser(world.app).login("coord.strikdorp").status_code == 303  # another name is not limited
    world.klok.t += sessie_mod.VENSTER_S + 1
    assert b.login("coord.ruimhaven").status_code == 303


def test_pages_have_a_strict_csp_and_no_external_assets(world: World) -> None:
    b = ingelogd(world)
    for pad in ("/werklijst/", "/werklijst/documenten/RH-ACTIE-1", "/werklijst/login"):
        r = (b if pad != "/werklijst/login" else Browser(world.app)).vraag("GET", pad)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["cache-control"] == "no-store"
        assert not re.search(r"https?://|<script|\bsrc\s*=", r.text)


def test_configured_accounts_are_checked_at_startup(policy: Policy, tmp_path: Path) -> None:
    config = Settings.for_project(SOURCE_ROOT, werklijst_accounts_raw='{"xy": {"scrypt": "00"}}')
    with pytest.raises(SettingsError, match="account xy"):
        koppel(FastAPI(), config, None, policy)  # type: ignore[arg-type]
    regel = configuratie_regel("a.b", WACHTWOORD, "9901", "coordinator")
    zonder_sleutel = Settings.for_project(SOURCE_ROOT, werklijst_accounts_raw="{" + regel + "}")
    with pytest.raises(SettingsError, match="SESSIE_SLEUTEL"):
        koppel(FastAPI(), zonder_sleutel, None, policy)  # type: ignore[arg-type]
    assert koppel(FastAPI(), Settings.for_project(SOURCE_ROOT), None, policy) is False  # type: ignore[arg-type]


def test_a_configuration_line_checks_out_only_with_its_password() -> None:
    regel = configuratie_regel("a.b", WACHTWOORD, "9901", "regievoerder")
    accounts = Accounts.parse("{" + regel + "}")
    assert WACHTWOORD not in regel
    account = accounts.controleer("a.b", WACHTWOORD)
    assert account is not None and account.gemeente == "9901" and account.rol == "regievoerder"
    assert accounts.controleer("a.b", WACHTWOORD + "x") is None
    with pytest.raises(SettingsError):
        configuratie_regel("a.b", WACHTWOORD, "99", "coordinator")
    with pytest.raises(SettingsError):
        configuratie_regel("a.b", WACHTWOORD, "9901", "beheerder")


# -- scoping and the role view


def test_a_coordinator_sees_only_the_own_gemeente_and_another_gemeentes_document_is_404(world: World) -> None:
    b = ingelogd(world)
    lijst = b.vraag("GET", "/werklijst/").text
    assert "RH-ACTIE-1" in lijst and "SD-ANDER-4" not in lijst
    r = b.vraag("GET", "/werklijst/documenten/SD-ANDER-4")
    assert r.status_code == 404 and "SD-ANDER-4" not in r.text
    assert b.vraag("GET", "/werklijst/documenten/BESTAAT-NIET").status_code == 404
    assert b.vraag("GET", "/werklijst/documenten/RH-ACTIE-1").status_code == 200
    andere = ingelogd(world, "coord.strikdorp")
    assert andere.vraag("GET", "/werklijst/documenten/SD-ANDER-4").status_code == 200
    assert andere.vraag("GET", "/werklijst/documenten/RH-ACTIE-1").status_code == 404


def test_the_document_is_the_html_helpers_page_for_the_accounts_role(world: World, policy: Policy) -> None:
    vraag_huurschuld = policy.register.entry("huurschuld").vraag
    coord = ingelogd(world).vraag("GET", "/werklijst/documenten/RH-ACTIE-1").text
    pi = ingelogd(world, "pi.ruimhaven").vraag("GET", "/werklijst/documenten/RH-ACTIE-1").text
    assert "gemeentelijk coördinator" in coord and "casemanager van de PI" in pi
    te_doen = coord.split('<section id="te-doen">')[1].split("</section>")[0]
    assert policy.register.entry("huurschuld").actie.tekst in te_doen
    # huurschuld is for the coördinator only: the PI's page does not tell its outcome or action
    assert policy.register.entry("huurschuld").actie.tekst not in pi
    assert "niet zichtbaar voor deze rol" in pi and vraag_huurschuld in pi
    assert 'href="/werklijst/"' in coord


def test_the_list_counts_only_actions_the_role_may_see(world: World) -> None:
    coord = ingelogd(world).vraag("GET", "/werklijst/?status=actie").text
    pi = ingelogd(world, "pi.ruimhaven").vraag("GET", "/werklijst/?status=actie").text
    assert "RH-ACTIE-1" in coord and "RH-WACHT-2" in coord
    assert "RH-ACTIE-1" not in pi and "RH-WACHT-2" in pi  # schuld_cjib is shown to the PI, huurschuld not


# -- filters


@pytest.mark.parametrize(
    ("query", "zichtbaar"),
    [
        ("", {"RH-ACTIE-1", "RH-WACHT-2", "RH-RUST-3"}),
        ("?status=nieuw", {"RH-ACTIE-1"}),
        ("?status=actie", {"RH-ACTIE-1", "RH-WACHT-2"}),
        ("?status=wacht", {"RH-WACHT-2"}),
        ("?status=zonder_actie", {"RH-RUST-3"}),
        ("?van=2026-11-15", {"RH-ACTIE-1", "RH-WACHT-2"}),
        ("?tot=2026-11-20", {"RH-WACHT-2", "RH-RUST-3"}),
        ("?van=2026-11-20&tot=2026-11-20", {"RH-WACHT-2"}),
        ("?status=actie&van=2026-11-25", {"RH-ACTIE-1"}),
    ],
)
def test_the_filters(world: World, query: str, zichtbaar: set[str]) -> None:
    pagina = ingelogd(world).vraag("GET", "/werklijst/" + query).text
    getoond = set(re.findall(r"/werklijst/documenten/([A-Z0-9-]+)", pagina))
    assert getoond == zichtbaar


@pytest.mark.parametrize("query", ["?status=alles", "?van=gisteren", "?tot=2026-13-01"])
def test_a_filter_outside_its_vocabulary_is_400(world: World, query: str) -> None:
    r = ingelogd(world).vraag("GET", "/werklijst/" + query)
    assert r.status_code == 400 and "Ongeldig filter" in r.text


def test_filter_parsing_and_the_nieuw_window(policy: Policy) -> None:
    assert filter_uit({}) == Filter()
    with pytest.raises(FilterFout):
        filter_uit({"status": "ALLE"})
    outbox = [
        {
            "melding_id": "A-1",
            "inhoud": json.dumps(document(policy, "A-1", "9901", {})),
            "gepubliceerd_op": (NU - timedelta(hours=71)).isoformat(),
        },
        {
            "melding_id": "B-2",
            "inhoud": json.dumps(document(policy, "B-2", "9901", {})),
            "gepubliceerd_op": (NU - timedelta(hours=73)).isoformat(),
        },
    ]
    alle = items(outbox, [], rol="coordinator", register=policy.register, nu=NU, nieuw_uren=72)
    assert [i.melding_id for i in gefilterd(alle, Filter(Status.NIEUW))] == ["A-1"]


def test_the_cli_prints_a_password_once_and_an_entry_that_accepts_only_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nazorg.cli import main

    assert (
        main(["werklijst", "account", "genereer", "a.jansen", "--gemeente", "9902", "--rol", "regievoerder"])
        == 0
    )
    uit = capsys.readouterr().out.splitlines()
    wachtwoord = uit[0].rsplit(" ", 1)[1]
    accounts = Accounts.parse("{" + uit[2].strip() + "}")
    assert wachtwoord not in uit[2]
    account = accounts.controleer("a.jansen", wachtwoord)
    assert account is not None and (account.gemeente, account.rol) == ("9902", "regievoerder")
    assert (
        main(["werklijst", "account", "genereer", "a.jansen", "--gemeente", "99", "--rol", "coordinator"])
        == 2
    )


def test_make_up_configures_one_account_once_owner_only(tmp_path: Path) -> None:
    from nazorg_dev.demo import WERKLIJST_ACCOUNT, werklijst_secrets

    env = werklijst_secrets(tmp_path)
    assert werklijst_secrets(tmp_path) == env  # made once, kept
    wachtwoord = (tmp_path / "secrets" / f"werklijst-wachtwoord-{WERKLIJST_ACCOUNT}").read_text().strip()
    accounts_file = Path(env["NAZORG_WERKLIJST_ACCOUNTS_FILE"])
    assert accounts_file.stat().st_mode & 0o077 == 0 and wachtwoord not in accounts_file.read_text()
    config = Settings.for_project(
        SOURCE_ROOT,
        werklijst_accounts_file=accounts_file,
        werklijst_sessie_sleutel=env["NAZORG_WERKLIJST_SESSIE_SLEUTEL"],
    )
    accounts = Accounts.uit_settings(config)
    assert accounts is not None and accounts.controleer(WERKLIJST_ACCOUNT, wachtwoord) is not None
    assert koppel(FastAPI(), config, None, default_policy()) is True  # type: ignore[arg-type]


def test_the_browser_test_skips_without_chromium_only_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration import test_werklijst_browser as browsertest

    monkeypatch.setattr(browsertest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        browsertest._chromium_of_skip()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        browsertest._chromium_of_skip()
