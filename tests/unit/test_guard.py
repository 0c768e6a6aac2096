"""The guard blocks over-collection and never repeats the values it blocked."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from nazorg.models import Aandachtsgebied, Reden, Uitkomst

pytestmark = pytest.mark.unit

Rows = dict[str, list[Any]]


def _rows() -> Rows:
    return {
        "melding_id": ["M-2026-abc", "M-2026-abc"],
        "aandachtsgebied": ["id_bewijs", "zorg"],
        "check_id": ["id_bewijs", "kinderen"],
        "uitkomst": ["ja", "niet_uitgevoerd"],
        "dossierverantwoordelijke": ["Team Burgerzaken Ruimhaven", None],
        "contact_herkomst": ["bron", None],
        "reden": [None, "geen_grondslag"],
    }


@pytest.fixture(scope="module")
def guard() -> ModuleType:
    """nazorg.guard with GX imported and the context built once for this file."""
    import pandas as pd

    from nazorg import guard as module

    assert module.validate_frame(pd.DataFrame(_rows())).passed
    return module


def _frame(rows: Rows) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def _set(column: str, value: Any, row: int = 0) -> Callable[[Rows], Rows]:
    def change(rows: Rows) -> Rows:
        rows[column][row] = value
        return rows

    return change


def _add_bedrag(rows: Rows) -> Rows:
    rows["bedrag"] = [1234.56, 10.0]
    return rows


def _duplicate(rows: Rows) -> Rows:
    rows["check_id"][1] = rows["check_id"][0]
    rows["aandachtsgebied"][1] = rows["aandachtsgebied"][0]
    return rows


FREE_TEXT = (
    "Client gebruikt medicatie voor psychische klachten en heeft een behandelplan bij de GGZ, zie dossier"
)

# (case id, change to the valid rows, expected failure, the offending value as text)
BLOCKED = [
    ("extra_kolom", _add_bedrag, ("expect_table_columns_to_match_set", None), "1234.56"),
    (
        "bsn_in_contact",
        _set("dossierverantwoordelijke", "Team 999000007"),
        ("expect_column_values_to_not_match_regex", "dossierverantwoordelijke"),
        "999000007",
    ),
    (
        "bsn_met_spaties_in_contact",
        _set("dossierverantwoordelijke", "Team 999 000 007"),
        ("expect_column_values_to_not_match_regex", "dossierverantwoordelijke"),
        "999 000 007",
    ),
    (
        "vrije_tekst_in_contact",
        _set("dossierverantwoordelijke", FREE_TEXT),
        ("expect_column_value_lengths_to_be_between", "dossierverantwoordelijke"),
        "medicatie",
    ),
    (
        "onbekende_uitkomst",
        _set("uitkomst", "misschien"),
        ("expect_column_values_to_be_in_set", "uitkomst"),
        "misschien",
    ),
    (
        "onbekende_check",
        _set("check_id", "creditscore"),
        ("expect_column_values_to_be_in_set", "check_id"),
        "creditscore",
    ),
    (
        "onbekende_reden",
        _set("reden", "heeft_schulden_bij_bank"),
        ("expect_column_values_to_be_in_set", "reden"),
        "heeft_schulden_bij_bank",
    ),
    (
        "bsn_in_melding_id",
        _set("melding_id", "M-999000007"),
        ("expect_column_values_to_not_match_regex", "melding_id"),
        "999000007",
    ),
    (
        "dubbele_check_per_melding",
        _duplicate,
        ("expect_compound_columns_to_be_unique", "melding_id,check_id"),
        "M-2026-abc",
    ),
]


def test_valid_frame_passes(guard: ModuleType) -> None:
    verdict = guard.validate_frame(_frame(_rows()))

    assert verdict.passed
    assert verdict.failures == ()
    assert verdict.evaluated == len(guard.load_suite_dict()["expectations"])


def test_columns_constant_matches_suite(guard: ModuleType) -> None:
    suite = guard.load_suite_dict()
    (columns,) = [
        e["kwargs"] for e in suite["expectations"] if e["type"] == "expect_table_columns_to_match_set"
    ]
    assert columns["column_set"] == list(guard.BASISDOCUMENT_COLUMNS)
    assert columns["exact_match"] is True
    assert tuple(_rows()) == guard.BASISDOCUMENT_COLUMNS


@pytest.mark.parametrize(
    ("change", "expected", "value"),
    [case[1:] for case in BLOCKED],
    ids=[case[0] for case in BLOCKED],
)
def test_over_collection_is_blocked_without_values(
    guard: ModuleType,
    caplog: pytest.LogCaptureFixture,
    change: Callable[[Rows], Rows],
    expected: tuple[str, str | None],
    value: str,
) -> None:
    with caplog.at_level(logging.DEBUG):
        verdict = guard.validate_frame(_frame(change(_rows())))

    assert not verdict.passed
    assert guard.Failure(*expected) in verdict.failures
    assert guard.Failure("guard_error", None) not in verdict.failures
    assert value not in repr(verdict)
    assert value not in caplog.text


def test_bsn_like_runs_are_caught_in_every_form(guard: ModuleType) -> None:
    for run in ("99900000", "999000007", "999.000.007", "999-000-007", "9 9 9 0 0 0 0 0 7"):
        verdict = guard.validate_frame(_frame(_set("melding_id", f"M-{run}")(_rows())))
        failure = guard.Failure("expect_column_values_to_not_match_regex", "melding_id")
        assert failure in verdict.failures, run


def test_short_digit_runs_in_melding_id_pass(guard: ModuleType) -> None:
    for melding_id in ("DJI-2026-K0042", "M-1234567", "pi-261129-x7"):
        verdict = guard.validate_frame(_frame(_set("melding_id", melding_id)(_rows())))
        assert verdict.passed, melding_id


def test_digit_groups_joined_by_dashes_count_as_one_run(guard: ModuleType) -> None:
    # "2026-0001234" is 11 digits with one dash: indistinguishable from a written BSN.
    verdict = guard.validate_frame(_frame(_set("melding_id", "M-2026-0001234")(_rows())))
    assert guard.Failure("expect_column_values_to_not_match_regex", "melding_id") in (verdict.failures)


def test_cached_guard_judges_each_frame_on_its_own(guard: ModuleType) -> None:
    bad = guard.validate_frame(_frame(_set("uitkomst", "misschien")(_rows())))
    good = guard.validate_frame(_frame(_rows()))

    assert not bad.passed
    assert good.passed


def test_missing_column_blocks(guard: ModuleType) -> None:
    rows = _rows()
    del rows["reden"]
    verdict = guard.validate_frame(_frame(rows))

    assert not verdict.passed
    assert guard.Failure("expect_table_columns_to_match_set", None) in verdict.failures


def test_empty_frame_blocks(guard: ModuleType) -> None:
    verdict = guard.validate_frame(_frame({column: [] for column in _rows()}))

    assert not verdict.passed
    assert guard.Failure("expect_table_row_count_to_be_between", None) in verdict.failures


def test_required_column_null_blocks(guard: ModuleType) -> None:
    verdict = guard.validate_frame(_frame(_set("uitkomst", None)(_rows())))

    assert guard.Failure("expect_column_values_to_not_be_null", "uitkomst") in verdict.failures


def test_guard_fails_closed_on_error(guard: ModuleType) -> None:
    not_a_frame = guard.validate_frame({"dossierverantwoordelijke": ["999000007"]})
    no_suite = guard.validate_frame(_frame(_rows()), suite_name="bestaat_niet")

    for verdict in (not_a_frame, no_suite):
        assert not verdict.passed
        assert verdict.failures == (guard.Failure("guard_error", None),)
        assert "999000007" not in repr(verdict)


def test_suite_value_sets_match_register_and_enums(guard: ModuleType) -> None:
    from nazorg.register import default_policy, team_namen

    sets = guard.suite_value_sets()

    assert sets["check_id"] == set(default_policy().register.ids)
    assert sets["uitkomst"] == {u.value for u in Uitkomst}
    assert sets["aandachtsgebied"] == {a.value for a in Aandachtsgebied}
    assert sets["reden"] == {r.value for r in Reden}
    assert sets["dossierverantwoordelijke"] == set(team_namen(default_policy().besluiten))


def test_contact_pattern_matches_register(guard: ModuleType) -> None:
    from nazorg.register import CONTACT

    patterns = {
        (e["kwargs"]["column"], e["type"]): e["kwargs"]["regex"]
        for e in guard.load_suite_dict()["expectations"]
        if "regex" in e["kwargs"]
    }
    contact = ("dossierverantwoordelijke", "expect_column_values_to_match_regex")
    assert patterns[contact] == CONTACT.pattern
    for column in guard.BASISDOCUMENT_COLUMNS:
        assert (column, "expect_column_values_to_not_match_regex") in patterns, column


def test_import_does_not_load_gx_or_pandas() -> None:
    code = "import nazorg.guard, sys; print('great_expectations' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
