"""The guard suite is derived from register, enums and intake, and a new SQL check needs no hand edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nazorg.cli import main
from nazorg.guard_suite import (
    BASISDOCUMENT_COLUMNS,
    GX_VERSION,
    basisdocument_suite,
    suite_differences,
    suite_path,
    suite_text,
)
from nazorg.intake import DIGIT_RUN, MELDING_ID
from nazorg.models import Aandachtsgebied, Reden, Uitkomst
from nazorg.register import (
    CONTACT,
    CONTACT_MAX_LENGTH,
    CONTACT_MIN_LENGTH,
    Besluit,
    Register,
    RegisterError,
    load_besluiten,
    load_register,
    team_namen,
)

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "expectations" / "basisdocument.json"

NEW_CHECK = "bewindvoering"
NEW_ENTRY = f"""  - id: {NEW_CHECK}
    versie: 1
    aandachtsgebied: schulden
    vraag: Staat de persoon onder beschermingsbewind?
    doel: Afstemming met de bewindvoerder over vaste lasten tijdens detentie.
    grondslag:
      status: niet_aanwezig
      omschrijving: Tabel 1 - niet aanwezig.
    wanneer: standaard
    uitvoerder: gemeente
    bijzondere_categorie: geen
    bron: gemeentelijk_sql
    bewaartermijn: P1Y
    vertrouwelijkheid: vertrouwelijk
    gegevenscategorieen: [bewindindicatie, contactpersoon]
    bewaartermijn_start: laatstedagsmelding
    ontvangers: [coordinator, pi_casemanager]
    dpia: DPIA nazorg-intake 2026, paragraaf {NEW_CHECK}
    actie: {{uitkomst: ja, tekst: "onder bewind: met de bewindvoerder vaste lasten afstemmen"}}
"""
NEW_BESLUIT_LINE = f"""  {NEW_CHECK}:
    grondslag: Beleidsregels re-integratie Ruimhaven 2026, art. 8 (schulden)
    lookup: {{verbinding: nazorg_bronnen, query: lookups/{NEW_CHECK}.sql}}
    dossierverantwoordelijke: schuldhulpverlening
"""
NEW_SQL = """-- Staat de persoon onder beschermingsbewind? No bewindvoerder, no amounts.
SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke
FROM schulden_bewind
WHERE bsn IN :bsns
"""


def _register() -> Register:
    return load_register(REPO / "register")


def _besluiten() -> dict[str, Besluit]:
    return load_besluiten(REPO / "register")


def _suite(register: Register | None = None) -> dict[str, Any]:
    return basisdocument_suite(register or _register(), _besluiten())


def _position(suite: dict[str, Any], kind: str, column: str) -> int:
    (index,) = [
        i
        for i, e in enumerate(suite["expectations"])
        if (e["type"], e["kwargs"].get("column")) == (kind, column)
    ]
    return index


IN_SET = "expect_column_values_to_be_in_set"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project's policy, queries and suite."""
    root = tmp_path / "project"
    for part in ("register", "sql", "expectations"):
        shutil.copytree(REPO / part, root / part)
    return root


def test_committed_suite_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == suite_text(_suite())


def test_suite_is_built_from_register_enums_and_intake() -> None:
    suite = _suite()
    by_key = {(e["type"], e["kwargs"].get("column")): e["kwargs"] for e in suite["expectations"]}
    in_set = IN_SET

    assert by_key[(in_set, "check_id")]["value_set"] == sorted(_register().ids)
    assert by_key[(in_set, "uitkomst")]["value_set"] == sorted(u.value for u in Uitkomst)
    assert by_key[(in_set, "aandachtsgebied")]["value_set"] == sorted(a.value for a in Aandachtsgebied)
    assert by_key[(in_set, "reden")]["value_set"] == sorted(r.value for r in Reden)
    assert by_key[("expect_column_values_to_match_regex", "melding_id")]["regex"] == MELDING_ID.pattern
    assert by_key[(in_set, "dossierverantwoordelijke")]["value_set"] == team_namen(_besluiten())
    assert "Jeugdteam Strikdorp" in by_key[(in_set, "dossierverantwoordelijke")]["value_set"]
    contact = by_key[("expect_column_values_to_match_regex", "dossierverantwoordelijke")]
    assert contact["regex"] == CONTACT.pattern
    lengths = by_key[("expect_column_value_lengths_to_be_between", "dossierverantwoordelijke")]
    assert (lengths["min_value"], lengths["max_value"]) == (CONTACT_MIN_LENGTH, CONTACT_MAX_LENGTH)
    for column in BASISDOCUMENT_COLUMNS:
        assert by_key[("expect_column_values_to_not_match_regex", column)]["regex"] == DIGIT_RUN.pattern
    assert all(isinstance(e.get("notes"), str) for e in suite["expectations"] if e["kwargs"].get("value_set"))


def test_suite_names_the_pinned_gx_version() -> None:
    pins = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"great-expectations=={GX_VERSION}" in pins


def test_contact_lengths_agree_with_the_contact_pattern() -> None:
    assert CONTACT.match("T" * CONTACT_MIN_LENGTH)
    assert not CONTACT.match("T" * (CONTACT_MIN_LENGTH - 1))
    assert CONTACT.match("T" * CONTACT_MAX_LENGTH)
    assert not CONTACT.match("T" * (CONTACT_MAX_LENGTH + 1))


def test_output_does_not_depend_on_register_order() -> None:
    register = _register()
    shuffled = register.model_copy(update={"checks": list(reversed(register.checks))})

    assert suite_text(_suite(shuffled)) == suite_text(_suite(register))


def test_check_id_with_a_bsn_like_run_is_refused() -> None:
    register = _register()
    bad = register.checks[0].model_copy(update={"id": "check_12345678"})
    with pytest.raises(RegisterError, match="cijferreeks"):
        _suite(register.model_copy(update={"checks": [*register.checks, bad]}))


def test_differences_name_expectations_not_values() -> None:
    generated = _suite()
    text = suite_text(generated)
    edited = json.loads(text)
    edited["expectations"][_position(edited, IN_SET, "check_id")]["kwargs"]["value_set"].append("creditscore")
    del edited["expectations"][-1]

    assert suite_differences(generated, text) == []
    assert suite_differences(generated, None) == ["bestand ontbreekt"]
    assert suite_differences(generated, json.dumps(generated)) == ["alleen de opmaak wijkt af"]
    problems = suite_differences(generated, suite_text(edited))
    assert problems == [
        "ontbreekt: expect_compound_columns_to_be_unique[melding_id,check_id]",
        "gewijzigd: expect_column_values_to_be_in_set[check_id]",
    ]
    assert "creditscore" not in " ".join(problems)


def test_register_suite_prints_what_write_writes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_path(project / "expectations")
    path.unlink()

    assert main(["register", "suite", str(project)]) == 0
    printed = capsys.readouterr().out
    assert main(["register", "suite", str(project / "register"), "--write"]) == 0
    assert "geschreven" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == printed
    assert main(["register", "suite", str(project), "--write"]) == 0
    assert "ongewijzigd" in capsys.readouterr().out


def test_check_refuses_a_hand_edited_suite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_path(project / "expectations")
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["expectations"][_position(suite, IN_SET, "check_id")]["kwargs"]["value_set"].remove("kinderen")
    path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    assert main(["register", "check", str(project)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err
    assert "`nazorg register suite --write`" in err
    assert "expect_column_values_to_be_in_set[check_id]" in err

    assert main(["register", "suite", str(project), "--write"]) == 0
    assert main(["register", "check", str(project)]) == 0


def test_new_sql_check_needs_no_python_and_no_hand_edited_json(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    from nazorg import basisdocument as bd
    from nazorg.guard import Failure, validate_frame
    from nazorg.settings import reload_settings

    register_file = project / "register" / "verwerkingsregister.yaml"
    register_file.write_text(register_file.read_text(encoding="utf-8") + NEW_ENTRY, encoding="utf-8")
    besluit = project / "register" / "besluiten" / "9901-ruimhaven.yaml"
    besluit.write_text(besluit.read_text(encoding="utf-8") + NEW_BESLUIT_LINE, encoding="utf-8")
    (project / "sql" / "lookups" / f"{NEW_CHECK}.sql").write_text(NEW_SQL, encoding="utf-8")
    assert main(["register", "vastleggen", str(project)]) == 0

    assert main(["register", "check", str(project)]) == 1  # the committed suite does not know it yet
    assert "nazorg register suite --write" in capsys.readouterr().err
    assert main(["register", "suite", str(project), "--write"]) == 0
    assert main(["register", "check", str(project)]) == 0
    assert f"{len(_register().checks) + 1} checks" in capsys.readouterr().out

    document = bd.stel_op(
        "M-2026-abc",
        "9901",
        "RH-2026-017",
        "2026.11.0",
        [
            {
                "aandachtsgebied": "schulden",
                "check_id": NEW_CHECK,
                "uitkomst": "ja",
                "dossierverantwoordelijke": "Team Schuldhulpverlening Ruimhaven",
                "reden": None,
            },
            {
                "aandachtsgebied": "zorg",
                "check_id": "kinderen",
                "uitkomst": "nee",
                "dossierverantwoordelijke": "Team Jeugd Ruimhaven",
                "reden": None,
            },
        ],
        kop=bd.kop({"inrichting": "PI Vught", "datum_binnenkomst": "2026-11-02"}, "Ruimhaven"),
    )
    frame = pd.DataFrame(bd.rows(document))

    monkeypatch.setenv("NAZORG_EXPECTATIONS_DIR", str(project / "expectations"))
    reload_settings()
    scratch = validate_frame(frame)
    monkeypatch.delenv("NAZORG_EXPECTATIONS_DIR")
    reload_settings()
    shipped = validate_frame(frame)  # same process, same suite name: must not reuse the scratch suite

    assert scratch.passed, scratch.failures
    scratch_suite = basisdocument_suite(
        load_register(project / "register"), load_besluiten(project / "register")
    )
    assert scratch.evaluated == len(scratch_suite["expectations"])
    assert not shipped.passed
    assert Failure("expect_column_values_to_be_in_set", "check_id") in shipped.failures


def test_the_contact_set_follows_the_besluiten_teams(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A team added to a besluit is a contact the guard lets through only after the suite is regenerated."""
    besluit = project / "register" / "besluiten" / "9902-strikdorp.yaml"
    nieuw = "teams:\n  - {id: wijkteam-noord, naam: Wijkteam Noord}\n"
    besluit.write_text(besluit.read_text(encoding="utf-8").replace("teams:\n", nieuw, 1), encoding="utf-8")
    assert main(["register", "check", str(project)]) == 1
    assert "gewijzigd: expect_column_values_to_be_in_set[dossierverantwoordelijke]" in capsys.readouterr().err
    assert main(["register", "suite", str(project), "--write"]) == 0
    assert main(["register", "check", str(project)]) == 0
    suite = json.loads(suite_path(project / "expectations").read_text(encoding="utf-8"))
    contact = suite["expectations"][_position(suite, IN_SET, "dossierverantwoordelijke")]
    assert "Wijkteam Noord" in contact["kwargs"]["value_set"]


def test_no_suite_without_teams() -> None:
    besluiten = {code: besluit.model_copy(update={"teams": []}) for code, besluit in _besluiten().items()}
    with pytest.raises(RegisterError, match="geen teams"):
        basisdocument_suite(_register(), besluiten)
