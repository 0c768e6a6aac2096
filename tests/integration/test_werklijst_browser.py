"""The werklijst in a real browser: headless Chromium against `nazorg intake serve` on a free port.

What runs for real: the in-process pipeline publishes documents into a SQLite
pipeline DB (simulated sources over HTTP, the GX guard: tests/pipeline), the
service is started as its own process from settings (accounts from
NAZORG_WERKLIJST_ACCOUNTS), and Chromium logs in through the form, opens the
list and a document. Checked: nothing overflows horizontally at a desktop and a
phone width, the "Te doen" actions are displayed within the viewport after
scrolling, no fixture BSN is in any page, and the screenshots the README's
Rondleiding shows are written (synthetic data only).

Skips only when /usr/bin/chromium is absent outside CI; with CI=true it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nazorg.intake_api.afzenders import Soort, configuratie_regel, genereer_token
from nazorg.settings import SOURCE_ROOT
from nazorg.werklijst.accounts import configuratie_regel as account_regel
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.pipeline.test_pipeline_steps import World, _world

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The README's screenshots (docs/screenshots/) are written only when asked for with
# NAZORG_SCREENSHOTS_DIR=docs/screenshots, so that running the tests leaves the tree clean.
WACHTWOORD = "synthetisch-wachtwoord-voor-de-test"
GEMEENTE = "9901"


def _chromium_of_skip() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = f"{CHROMIUM} of {CHROMEDRIVER} ontbreekt"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " en CI=true: de browsertest moet in CI draaien")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gepubliceerd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[tuple[World, list[dict[str, object]]]]:
    _chromium_of_skip()
    world = _world(tmp_path, monkeypatch, hc_server, sqlite_bronnen, SOURCE_ROOT)
    records = list(meldingen(8, offset=120))
    for melding_id in world.submit(records):
        world.run(melding_id)
    yield world, records


@pytest.fixture
def service(gepubliceerd: tuple[World, list[dict[str, object]]], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SOURCE_ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "AIRFLOW_CONN_NAZORG_DB": f"sqlite:///{tmp_path / 'nazorg.db'}",
        "NAZORG_INTAKE_TOKENS": "{"
        + configuratie_regel("pi", genereer_token(), None, [Soort.EERSTEDAGSMELDING])
        + "}",
        "NAZORG_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}",
        "NAZORG_AIRFLOW_USER": "intake",
        "NAZORG_AIRFLOW_PASSWORD": "test-only",
        "NAZORG_WERKLIJST_ACCOUNTS": "{"
        + account_regel("coord.ruimhaven", WACHTWOORD, GEMEENTE, "coordinator")
        + "}",
        "NAZORG_WERKLIJST_SESSIE_SLEUTEL": "test-only-browser-session-key-0123456789",
        "NAZORG_WERKLIJST_COOKIE_SECURE": "false",  # plain HTTP on 127.0.0.1
    }
    for naam in ("NAZORG_INTAKE_TOKENS_FILE", "NAZORG_WERKLIJST_ACCOUNTS_FILE"):
        env.pop(naam, None)
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nazorg.cli", "intake", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/werklijst/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("service kwam niet op:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def browser() -> Iterator[object]:
    _chromium_of_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=nl"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _geen_horizontale_overloop(driver: object, breedte: int) -> None:
    driver.set_window_size(breedte, 900)  # type: ignore[attr-defined]
    scroll, client = driver.execute_script(  # type: ignore[attr-defined]
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if scroll > client:
        te_breed = driver.execute_script(  # type: ignore[attr-defined]
            "const w = document.documentElement.clientWidth;"
            " return Array.from(document.querySelectorAll('*'))"
            ".filter(e => e.getBoundingClientRect().right > w).slice(0, 8)"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        pytest.fail(f"horizontale overloop bij {breedte}px: {scroll} > {client}: {te_breed}")


def _in_beeld(driver: object, element: object) -> bool:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)  # type: ignore[attr-defined]
    return bool(
        driver.execute_script(  # type: ignore[attr-defined]
            "const r = arguments[0].getBoundingClientRect();"
            "return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0"
            " && r.bottom <= window.innerHeight && r.right <= window.innerWidth;",
            element,
        )
    )


def test_login_list_and_document_in_chromium(
    gepubliceerd: tuple[World, list[dict[str, object]]], service: str, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    SCREENSHOTS = Path(os.environ.get("NAZORG_SCREENSHOTS_DIR") or tmp_path / "screenshots")

    world, records = gepubliceerd
    driver = browser
    bsns = [str(r["bsn"]) for r in records]
    eigen = [str(r["melding_id"]) for r in records if r["gemeente_code"] == GEMEENTE]
    ander = [str(r["melding_id"]) for r in records if r["gemeente_code"] != GEMEENTE]
    assert eigen and ander, "the fixture needs documents of both gemeenten"

    driver.set_window_size(1280, 900)  # type: ignore[attr-defined]
    driver.get(service + "/werklijst/")  # type: ignore[attr-defined]
    assert driver.current_url.endswith("/werklijst/login")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "naam").send_keys("coord.ruimhaven")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "wachtwoord").send_keys(WACHTWOORD)  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()  # type: ignore[attr-defined]
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.filters, p.melding"))
    assert driver.current_url.endswith("/werklijst/"), driver.page_source  # type: ignore[attr-defined]

    lijst = driver.page_source  # type: ignore[attr-defined]
    assert "Werklijst" in lijst
    for melding_id in eigen:
        assert melding_id in lijst
    for melding_id in ander:
        assert melding_id not in lijst
    for bsn in bsns:
        assert bsn not in lijst
    for breedte in (1280, 360):
        _geen_horizontale_overloop(driver, breedte)
    driver.set_window_size(1280, 900)  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / "werklijst.png"))  # type: ignore[attr-defined]

    # open a document that needs action, through its link on the list
    actie = driver.find_elements(By.CSS_SELECTOR, "li.item.actie-nodig .kop a")  # type: ignore[attr-defined]
    assert actie, "no published document of the fixture needs action"
    actie[0].click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "te-doen"))
    assert "/werklijst/documenten/" in driver.current_url  # type: ignore[attr-defined]
    pagina = driver.page_source  # type: ignore[attr-defined]
    for bsn in bsns:
        assert bsn not in pagina
    for breedte in (1280, 360):
        _geen_horizontale_overloop(driver, breedte)
        taken = driver.find_elements(By.CSS_SELECTOR, "#te-doen ol.te-doen li")  # type: ignore[attr-defined]
        assert taken, "Te doen lists no action"
        for taak in taken:
            assert taak.is_displayed() and _in_beeld(driver, taak)
    driver.set_window_size(1280, 1400)  # type: ignore[attr-defined]
    driver.execute_script("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    assert driver.save_screenshot(str(SCREENSHOTS / "basisdocument.png"))  # type: ignore[attr-defined]

    # the filter: only documents that need action, through the form
    driver.find_element(By.LINK_TEXT, "\u2190 Terug naar de werklijst").click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.filters"))
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "status")).select_by_value("zonder_actie")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 15).until(lambda d: "status=zonder_actie" in d.current_url)
    assert not driver.find_elements(By.CSS_SELECTOR, "li.item.actie-nodig")  # type: ignore[attr-defined]

    # another gemeente's document is not there, even by its address
    driver.get(f"{service}/werklijst/documenten/{ander[0]}")  # type: ignore[attr-defined]
    assert "Niet gevonden" in driver.page_source  # type: ignore[attr-defined]
    assert world.store.query("outbox_get", {"melding_id": ander[0]})  # it is published, just not here

    # logout ends the session: the list asks for a login again
    driver.get(service + "/werklijst/")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "form.uitloggen button").click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/werklijst/login"))
    driver.get(service + "/werklijst/")  # type: ignore[attr-defined]
    assert driver.current_url.endswith("/werklijst/login")  # type: ignore[attr-defined]
