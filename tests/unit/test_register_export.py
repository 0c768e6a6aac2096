from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from nazorg.cli import main
from nazorg.register import Policy, load_policy, vastleggen
from nazorg.register_export import MARKDOWN_KOLOMMEN, STANDAARD_VELDEN, als_dict, als_json, als_markdown
from nazorg.settings import DEFAULT_REGISTER_URI, Settings

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]

_NULL_OF = {"type": ["string", "null"]}
# Our reading of ProcessingActivityVersion (rvva-openapi.json of the Logboek Dataverwerkingen
# standard), restricted to the fields the export promises; a field the register lacks is null.
SCHEMA = {
    "type": "object",
    "required": [
        "standaard",
        "registerVersie",
        "verwerkingsverantwoordelijke",
        "processingActivities",
        "ontbreekt",
        "nietGebouwd",
    ],
    "additionalProperties": False,
    "properties": {
        "standaard": {"type": "string"},
        "registerVersie": {"type": "string", "minLength": 1},
        "verwerkingsverantwoordelijke": {"type": "string"},
        "ontbreekt": {"type": "array", "items": {"enum": list(STANDAARD_VELDEN)}, "uniqueItems": True},
        "nietGebouwd": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "omschrijving", "grondslag", "reden", "alternatief"],
            },
        },
        "processingActivities": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": [*STANDAARD_VELDEN, "nazorg"],
                "additionalProperties": False,
                "properties": {
                    "id": {
                        "type": "string",
                        "format": "uri",
                        "pattern": r"^https?://\S+/[a-z][a-z0-9_]+/v[1-9][0-9]*$",
                    },
                    "version": {"type": "integer", "minimum": 1},
                    "name": {"type": "string", "minLength": 1},
                    "purpose": {"type": "string", "minLength": 1},
                    "legalBasis": {"type": ["array", "null"], "items": {"type": "string"}},
                    "personalData": {
                        "type": "object",
                        "required": ["categories", "retentionPeriod"],
                        "additionalProperties": False,
                        "properties": {
                            "categories": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                            "retentionPeriod": {"type": "string", "pattern": r"^P(\d+[YMWD])+$"},
                        },
                    },
                    "dataSubjects": {"type": ["array", "null"], "items": {"type": "string"}},
                    "recipients": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": ["coordinator", "pi_casemanager", "regievoerder"]},
                    },
                    "validFrom": _NULL_OF,
                    "nazorg": {
                        "type": "object",
                        "required": [
                            "checkId",
                            "grondslag",
                            "besluiten",
                            "bewaartermijnStart",
                            "dpia",
                            "actie",
                            "voorwaardeBijzondereGegevens",
                        ],
                        "properties": {
                            "checkId": {"type": "string"},
                            "grondslag": {
                                "type": "object",
                                "required": ["status", "omschrijving"],
                                "properties": {"status": {"enum": ["aanwezig", "niet_aanwezig"]}},
                            },
                            "besluiten": {"type": "array"},
                            "bewaartermijnStart": {"enum": ["melding_ontvangen", "laatstedagsmelding"]},
                            "dpia": {"type": "string", "minLength": 5},
                            "actie": {
                                "type": "object",
                                "required": ["uitkomst", "tekst"],
                                "additionalProperties": False,
                                "properties": {
                                    "uitkomst": {"enum": ["ja", "nee"]},
                                    "tekst": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(REPO / "register", REPO / "sql")


def register_ids() -> list[str]:
    data = yaml.safe_load((REPO / "register" / "verwerkingsregister.yaml").read_text(encoding="utf-8"))
    return [f"{DEFAULT_REGISTER_URI}{c['id']}/v{c['versie']}" for c in data["checks"]]


def tabel_rijen(markdown: str) -> list[list[str]]:
    """The table's body rows as cells (split on pipes that are not escaped)."""
    rijen = [r for r in markdown.splitlines() if r.startswith("|")]
    assert rijen[0] == "| " + " | ".join(MARKDOWN_KOLOMMEN) + " |"
    assert set(rijen[1]) <= {"|", "-"}
    return [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rijen[2:]]


def test_json_has_every_entry_once_and_matches_the_schema(policy: Policy) -> None:
    data = json.loads(als_json(policy))
    jsonschema.validate(data, SCHEMA)
    ids = [a["id"] for a in data["processingActivities"]]
    assert sorted(ids) == sorted(register_ids())
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_json_carries_register_values_and_invents_nothing(policy: Policy) -> None:
    data = als_dict(policy)
    for activiteit in data["processingActivities"]:
        entry = policy.register.entry(activiteit["nazorg"]["checkId"])
        assert activiteit["purpose"] == entry.doel
        assert activiteit["personalData"]["retentionPeriod"] == entry.bewaartermijn
        assert activiteit["personalData"]["categories"] == entry.gegevenscategorieen
        assert activiteit["version"] == entry.versie
        assert activiteit["recipients"] == entry.ontvangers
        assert activiteit["nazorg"]["bewaartermijnStart"] == entry.bewaartermijn_start
        assert activiteit["nazorg"]["dpia"] == entry.dpia
        assert activiteit["nazorg"]["actie"] == entry.actie.model_dump()
        assert activiteit["nazorg"]["voorwaardeBijzondereGegevens"] == entry.uitzondering
        gemeenten = [b["gemeente"] for b in activiteit["nazorg"]["besluiten"]]
        assert gemeenten == sorted(c for c, b in policy.besluiten.items() if entry.id in b.checks)
    # every null standard field is declared missing, and only those
    nulls = {v for a in data["processingActivities"] for v in STANDAARD_VELDEN if a[v] is None}
    assert set(data["ontbreekt"]) == nulls
    assert {"dataSubjects", "validFrom", "legalBasis"} <= nulls
    assert "recipients" not in data["ontbreekt"]  # every entry names its ontvangers now


def test_markdown_has_one_row_per_entry_with_five_columns(policy: Policy) -> None:
    rijen = tabel_rijen(als_markdown(policy))
    assert len(rijen) == len(register_ids())
    assert all(len(r) == len(MARKDOWN_KOLOMMEN) for r in rijen)
    for pa_id in register_ids():
        assert sum(f"`{pa_id}`" in r[1] for r in rijen) == 1
    wie = {r[3] for r in rijen}
    assert wie <= {"Gemeente", "DJI/PI"}


def test_export_is_deterministic(policy: Policy) -> None:
    again = load_policy(REPO / "register", REPO / "sql")
    assert als_json(policy) == als_json(again)
    assert als_markdown(policy) == als_markdown(again)


def test_extra_entry_in_a_scratch_register_is_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a scratch project: the CLI takes sql/ from the register directory's parent
    register = tmp_path / "register"
    shutil.copytree(REPO / "register", register)
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    path = register / "verwerkingsregister.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    extra = dict(next(c for c in data["checks"] if c["id"] == "reclassering"))
    extra.update(id="reclassering_extra", versie=1, doel="Een extra verwerking alleen voor deze test.")
    data["checks"].append(extra)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    vastleggen(register)

    config = Settings.for_project(tmp_path)
    policy = load_policy(config.register_dir, config.sql_dir)
    ids = [a["id"] for a in als_dict(policy)["processingActivities"]]
    assert ids.count(f"{DEFAULT_REGISTER_URI}reclassering_extra/v1") == 1
    assert len(ids) == len(register_ids()) + 1
    extra_id = f"`{DEFAULT_REGISTER_URI}reclassering_extra/v1`"
    assert sum(extra_id in r[1] for r in tabel_rijen(als_markdown(policy))) == 1

    # the CLI reads the same directory and writes the file it is told to
    uit = tmp_path / "register.md"
    assert main(["register", "export", str(register), "--formaat", "markdown", "--uit", str(uit)]) == 0
    assert uit.read_text(encoding="utf-8") == als_markdown(policy)
    assert main(["register", "export", str(register)]) == 0
    assert json.loads(capsys.readouterr().out) == als_dict(policy)


def test_cli_refuses_an_inconsistent_register(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register = tmp_path / "register"
    shutil.copytree(REPO / "register", register)
    path = register / "verwerkingsregister.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["checks"][0]["doel"] = "Gewijzigd zonder nieuwe versie."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["register", "export", str(register)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "zonder nieuwe versie" in captured.err


def test_markdown_cell_text_cannot_break_the_table(policy: Policy) -> None:
    """A pipe or newline in register text must not add a column or a row."""
    eerste, *rest = policy.register.checks
    vreemd = eerste.model_copy(update={"doel": "Doel met | een pijp\nen een regelovergang."})
    register = policy.register.model_copy(update={"checks": [vreemd, *rest]})
    rijen = tabel_rijen(als_markdown(Policy(register=register, besluiten=policy.besluiten)))
    assert len(rijen) == len(policy.register.checks)
    assert all(len(r) == len(MARKDOWN_KOLOMMEN) for r in rijen)
    (rij,) = [r for r in rijen if f"`{eerste.processing_activity_id}`" in r[1]]
    assert "Doel met \\| een pijp en een regelovergang." in rij[1]


def test_the_export_uses_the_configured_register_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NAZORG_REGISTER_URI`` is the base of every id, in the export as in the processing log."""
    from nazorg.register import default_policy, lees_activiteit_id
    from nazorg.settings import reload_settings

    monkeypatch.setenv("NAZORG_REGISTER_URI", "urn:nazorg:ruimhaven:register:")
    reload_settings()
    try:
        policy = default_policy()
        ids = [a["id"] for a in als_dict(policy)["processingActivities"]]
        assert all(i.startswith("urn:nazorg:ruimhaven:register:") for i in ids)
        entry = policy.register.entry("kinderen")
        assert entry.processing_activity_id == f"urn:nazorg:ruimhaven:register:kinderen/v{entry.versie}"
        assert lees_activiteit_id(entry.processing_activity_id) == ("kinderen", entry.versie)
        assert lees_activiteit_id(f"kinderen@v{entry.versie}") == ("kinderen", entry.versie)
    finally:
        monkeypatch.delenv("NAZORG_REGISTER_URI")
        reload_settings()


def test_not_built_processings_are_exported_with_their_reason(policy: Policy) -> None:
    """Tabel 1's "wijze van inkomstenvergaring" is no check; both exports say so, and why."""
    data = als_dict(policy)
    niet = {n["id"]: n for n in data["nietGebouwd"]}
    assert niet["wijze_inkomstenvergaring"]["grondslag"]["status"] == "niet_aanwezig"
    assert niet["wijze_inkomstenvergaring"]["reden"] == policy.register.niet_gebouwd[0].reden
    markdown = als_markdown(policy)
    assert "## Niet gebouwd" in markdown
    assert "`wijze_inkomstenvergaring`" in markdown.split("## Niet gebouwd", 1)[1]
    # the table itself keeps Tabel 1's five columns and has no row for it
    assert not any("wijze_inkomstenvergaring" in c for r in tabel_rijen(markdown) for c in r)


def test_markdown_calls_the_uavg_exception_a_precondition_not_a_basis(policy: Policy) -> None:
    rijen = {r[1].rsplit("`", 2)[1]: r for r in tabel_rijen(als_markdown(policy))}
    ggz = rijen[policy.register.entry("ggz_risicoprofiel").processing_activity_id][4]
    assert "voorwaarde (uitzondering op het verwerkingsverbod, geen grondslag)" in ggz
    assert "DPIA: DPIA zorgscreening" in ggz
    huur = rijen[policy.register.entry("huurschuld").processing_activity_id][4]
    assert "beleidsregels: Beleidsregels bijzondere bijstand Ruimhaven" in huur


def test_json_names_what_each_besluit_adds_to_the_basis(policy: Policy) -> None:
    activiteiten = {a["nazorg"]["checkId"]: a for a in als_dict(policy)["processingActivities"]}
    ggz = {b["gemeente"]: b for b in activiteiten["ggz_risicoprofiel"]["nazorg"]["besluiten"]}
    ruimhaven = policy.besluit("9901").checks["ggz_risicoprofiel"]
    assert (ggz["9901"]["dpia"], ggz["9901"]["criteria"]) == (ruimhaven.dpia, ruimhaven.criteria)
    huur = activiteiten["huurschuld"]["nazorg"]
    assert huur["besluitVereist"] == ["beleidsregels"]
    assert [b["gemeente"] for b in huur["besluiten"]] == ["9901"]  # Strikdorp has no beleidsregels
    assert huur["besluiten"][0]["beleidsregels"] == policy.besluit("9901").checks["huurschuld"].beleidsregels
