"""Consent, the pure parts: which checks a consent may cover, the BSN's canonical form, the CLI's options."""

from __future__ import annotations

import argparse

import pytest

from nazorg.bsn import canonieke_bsn
from nazorg.cli import build_parser
from nazorg.register import default_policy
from nazorg.toestemming import ToestemmingFout, gedekte_checks, toestemming_checks

pytestmark = pytest.mark.unit

BSN = "999990019"  # synthetic, passes the elfproef


def test_only_checks_the_register_runs_with_consent_can_be_covered() -> None:
    register = default_policy().register
    gated = {e.id for e in register.checks if e.wanneer == "toestemming"}
    assert toestemming_checks(register) == gated == {"huurschuld", "uitkering_voorschot"}
    assert gedekte_checks(register, ["uitkering_voorschot", "huurschuld"]) == tuple(
        i for i in register.ids if i in gated
    )
    for check_id, code in [("schuld_cjib", "check_zonder_toestemming"), ("geen_check", "check_onbekend")]:
        with pytest.raises(ToestemmingFout) as info:
            gedekte_checks(register, ["huurschuld", check_id])
        assert info.value.reden_code == code
    with pytest.raises(ToestemmingFout) as info:
        gedekte_checks(register)
    assert info.value.reden_code == "geen_checks"


def test_a_basisvoorwaarde_covers_the_consent_checks_of_its_aandachtsgebied() -> None:
    register = default_policy().register
    assert gedekte_checks(register, basisvoorwaarden=["huisvesting_onderdak"]) == ("huurschuld",)
    assert gedekte_checks(register, basisvoorwaarden=["inkomen_werk_dagbesteding"]) == (
        "uitkering_voorschot",
    )
    for naam, code in [("zorg", "basisvoorwaarde_zonder_toestemming"), ("wonen", "basisvoorwaarde_onbekend")]:
        with pytest.raises(ToestemmingFout) as info:
            gedekte_checks(register, basisvoorwaarden=[naam])
        assert info.value.reden_code == code


@pytest.mark.parametrize(
    ("invoer", "canoniek"),
    [
        (BSN, BSN),
        (f" {BSN}\n", BSN),
        ("9999.90.019", BSN),
        ("999 990 019", BSN),
        ("111222333", "111222333"),
        ("11222333", None),  # eight digits get a leading zero: 011222333 fails the elfproef
        ("999990018", None),  # elfproef
        ("99999001", None),
        ("", None),
        ("abcdefghi", None),
        ("٩٩٩٩٩٠٠١٩", None),  # other digits than ASCII
    ],
)
def test_the_bsn_is_matched_in_its_canonical_form(invoer: str, canoniek: str | None) -> None:
    assert canonieke_bsn(invoer) == canoniek


def _toestemming_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    groep = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = groep.choices["toestemming"]
    cmds = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
    return dict(cmds.choices)


def test_no_toestemming_command_takes_a_bsn_on_the_command_line() -> None:
    parsers = _toestemming_parsers()
    assert set(parsers) == {"vastleggen", "intrekken", "toon"}
    for naam, parser in parsers.items():
        opties = {o for a in parser._actions for o in a.option_strings}
        positioneel = [a.dest for a in parser._actions if not a.option_strings]
        assert {o for o in opties if "bsn" in o.lower()} == {"--bsn-bestand"}, naam
        assert positioneel == [], naam  # nothing positional where a BSN could go
    for argv in (
        ["toestemming", "toon", "--bsn", BSN],
        ["toestemming", "toon", BSN],
        ["toestemming", "intrekken", "--toestemming", "t-x", "--door", "casemanager", BSN],
    ):
        with pytest.raises(SystemExit) as info:
            build_parser().parse_args(argv)
        assert info.value.code == 2
