"""The basisdocument page in a real browser (Debian's chromium through chromedriver).

What only a browser can say: that the strict CSP lets the page's own inline
style apply (its hash matches) and reports no violation, and that the page
loads nothing else. Skipped where chromium or chromedriver is not installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nazorg import basisdocument as bd
from nazorg.basisdocument_html import render_html
from nazorg.register import default_policy

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium/chromedriver niet geïnstalleerd")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_page_styles_itself_under_its_csp_and_loads_nothing(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    policy = default_policy()
    besluit = policy.besluit("9901")
    entry = next(e for e in policy.register.checks if e.id in besluit.checks)
    document = bd.stel_op(
        "EDM-2026-0042",
        "9901",
        besluit.besluit.id,
        policy.register.register_versie,
        [
            {
                "aandachtsgebied": entry.aandachtsgebied.value,
                "check_id": entry.id,
                "uitkomst": entry.actie.uitkomst,
                "dossierverantwoordelijke": besluit.standaard_contact(entry.id),
                "reden": None,
            }
        ],
        kop=bd.kop({"inrichting": "PI Vught", "datum_binnenkomst": "2026-11-29"}, besluit.gemeente_naam),
    )
    pagina = tmp_path / "pagina.html"
    pagina.write_text(render_html(document, rol="coordinator", register=policy.register, besluit=besluit))
    browser.get(pagina.as_uri())
    # the inline style applied: the CSP's hash is of exactly that style
    th = browser.find_element(By.CSS_SELECTOR, "th")
    assert th.value_of_css_property("background-color") == "rgba(238, 238, 238, 1)"
    rij = browser.find_element(By.CSS_SELECTOR, "tr.actie-nodig td")
    assert rij.value_of_css_property("background-color") == "rgba(255, 243, 205, 1)"
    # Te doen comes first and names the register's action
    secties = [s.get_attribute("id") for s in browser.find_elements(By.CSS_SELECTOR, "section")]
    assert secties == ["te-doen", "aandachtsgebieden", "niet-uitgevoerd"]
    assert entry.actie.tekst in browser.find_element(By.ID, "te-doen").text
    # nothing blocked, nothing fetched
    log = browser.get_log("browser")
    assert not [r for r in log if "Content Security Policy" in r.get("message", "")], log
    bronnen = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert bronnen == 0
