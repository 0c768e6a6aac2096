"""The pieces of accountability on their own: W3C trace context, the foreign operation per BSN,
the BRP protocollering headers, the new settings and the besluit's OIN."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from nazorg.register import RegisterError, load_besluiten, load_policy
from nazorg.settings import (
    DEFAULT_BRP_GEBRUIKER,
    DEFAULT_REGISTER_URI,
    SOURCE_ROOT,
    Settings,
    SettingsError,
)
from nazorg.sources.builtin import doelbinding, protocollering
from nazorg.sources.haal_centraal import protocollering_headers
from nazorg.sources.kinds import Vraag
from nazorg.sources.trace_context import (
    ForeignOperation,
    Spoor,
    entity_uri,
    lees_traceparent,
    nieuwe_span_id,
    traceparent,
)

pytestmark = pytest.mark.unit
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_traceparent_is_version_00_with_the_trace_a_span_and_the_sampled_flag() -> None:
    span = nieuwe_span_id()
    header = traceparent(TRACE, span)
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", header)
    assert lees_traceparent(header) == (TRACE, span)
    assert len({nieuwe_span_id() for _ in range(1000)}) == 1000
    for fout in ("0" * 32, TRACE.upper(), TRACE[:-1]):
        with pytest.raises(ValueError):
            traceparent(fout, span)
    with pytest.raises(ValueError):
        traceparent(TRACE, "0" * 16)
    nul_trace, nul_span = "0" * 32, "0" * 16
    ongeldige = ("", f"01-{TRACE}-{span}-01", f"00-{nul_trace}-{span}-01", f"00-{TRACE}-{nul_span}-01")
    for ongeldig in (None, *ongeldige):
        assert lees_traceparent(ongeldig) is None


def test_a_spoor_keeps_per_bsn_the_first_processor_and_its_last_attempt() -> None:
    spoor = Spoor(TRACE)
    reis = "https://hc.example/api/reisdocumenten"
    brp = "https://hc.example/api/brp"
    eerste = ForeignOperation(TRACE, "1" * 16, reis)
    tweede = ForeignOperation(TRACE, "2" * 16, reis, span_id="a" * 16)  # a retry that got an answer
    spoor.vastleggen(("999990019",), eerste)
    spoor.vastleggen(("999990019",), tweede)
    spoor.vastleggen(("999990019", "999990020"), ForeignOperation(TRACE, "3" * 16, brp))  # a confirmation
    assert spoor.voor("999990019") == tweede
    assert spoor.voor("999990020") == ForeignOperation(TRACE, "3" * 16, brp)
    assert spoor.voor("999990032") is None
    with pytest.raises(ValueError):
        Spoor("not-a-trace")


def test_the_entity_is_the_base_url_without_credentials_or_query() -> None:
    assert entity_uri("https://key:geheim@brp.example.nl:8443/haalcentraal/api/brp/?x=1#f") == (
        "https://brp.example.nl:8443/haalcentraal/api/brp"
    )


def test_protocollering_headers_carry_names_and_codes_never_personal_data() -> None:
    goed = protocollering_headers(
        doelbinding="BRPACT-AlgemeneTaken",
        verwerking=f"{DEFAULT_REGISTER_URI}kinderen/v1",
        oin="00000001999901000000",
        gebruiker=DEFAULT_BRP_GEBRUIKER,
    )
    assert set(goed) == {"x-doelbinding", "x-verwerking", "x-origin-oin", "x-gebruiker"}
    basis = {
        "doelbinding": "kinderen",
        "verwerking": "urn:x:kinderen/v1",
        "oin": "00000001999901000000",
        "gebruiker": "nazorg-intake",
    }
    for veld, fout in (
        ("gebruiker", "persoon 999990019"),  # a BSN-like run of nine digits
        ("doelbinding", "zorg-999990019"),
        ("verwerking", "x" * 243),  # the gateway's protocol columns hold 242 characters
        ("doelbinding", "dóél"),  # not ASCII
        ("doelbinding", "twee\nregels"),
        ("oin", "9901"),
        ("oin", "0000000199990100000X"),
    ):
        with pytest.raises(ValueError):
            protocollering_headers(**{**basis, veld: fout})


def test_the_headers_come_from_the_register_entry_the_besluit_and_the_setting() -> None:
    policy = load_policy(SOURCE_ROOT / "register", SOURCE_ROOT / "sql", "https://avg.example/r/")
    entry = policy.register.entry("onderdak")
    besluit = policy.besluit("9901")
    vraag = Vraag(entry, besluit.checks["onderdak"], date(2026, 1, 1), besluit.oin)
    assert protocollering(vraag, "systeem-x") == {
        "x-doelbinding": "onderdak",
        "x-verwerking": f"https://avg.example/r/onderdak/v{entry.versie}",
        "x-origin-oin": "00000001999901000000",
        "x-gebruiker": "systeem-x",
    }
    assert doelbinding(entry.model_copy(update={"doelbinding": "BRPACT-Nazorg"})) == "BRPACT-Nazorg"
    # without a gemeente (a probe, a client used on its own) no protocollering headers are invented
    assert protocollering(Vraag(entry, besluit.checks["onderdak"], vraag.peildatum), "systeem-x") == {}


def test_new_settings_are_read_and_checked() -> None:
    standaard = Settings.from_env({})
    assert standaard.register_uri == DEFAULT_REGISTER_URI
    assert standaard.brp_gebruiker == DEFAULT_BRP_GEBRUIKER
    assert standaard.otel_endpoint is None
    gezet = Settings.from_env(
        {
            "NAZORG_REGISTER_URI": "urn:gemeente:ruimhaven:avg:",
            "NAZORG_BRP_GEBRUIKER": "nazorg@ruimhaven",
            "NAZORG_OTEL_ENDPOINT": "http://collector:4318/v1/traces",
        }
    )
    assert (gezet.register_uri, gezet.brp_gebruiker, gezet.otel_endpoint) == (
        "urn:gemeente:ruimhaven:avg:",
        "nazorg@ruimhaven",
        "http://collector:4318/v1/traces",
    )
    assert Settings.from_env({"NAZORG_OTEL_ENDPOINT": " "}).otel_endpoint is None
    for naam, fout in (
        ("NAZORG_REGISTER_URI", "https://register.example/zonder-slash"),
        ("NAZORG_REGISTER_URI", "ftp://register.example/"),
        ("NAZORG_REGISTER_URI", "https://register.example/met spatie/"),
        ("NAZORG_BRP_GEBRUIKER", "medewerker 12345678"),
        ("NAZORG_BRP_GEBRUIKER", "1systeem"),
        ("NAZORG_OTEL_ENDPOINT", "collector:4318"),
    ):
        with pytest.raises(SettingsError) as exc:
            Settings.from_env({naam: fout})
        assert exc.value.setting == naam
        assert fout not in str(exc.value)


def test_a_besluit_needs_a_twenty_digit_oin(tmp_path: Path) -> None:
    import shutil

    register = tmp_path / "register"
    shutil.copytree(SOURCE_ROOT / "register", register)
    assert {b.oin for b in load_besluiten(register).values()} == {
        "00000001999901000000",
        "00000001999902000000",
    }
    pad = register / "besluiten" / "9902-strikdorp.yaml"
    tekst = pad.read_text(encoding="utf-8")
    pad.write_text(tekst.replace('oin: "00000001999902000000"', 'oin: "1999902000000"'), encoding="utf-8")
    with pytest.raises(RegisterError, match="oin"):
        load_besluiten(register)
    pad.write_text(tekst.replace('oin: "00000001999902000000"\n', ""), encoding="utf-8")
    with pytest.raises(RegisterError, match="oin"):
        load_besluiten(register)
