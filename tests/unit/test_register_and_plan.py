from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from nazorg.cli import main
from nazorg.models import Reden
from nazorg.plan import beslis
from nazorg.register import RegisterError, default_policy, load_policy
from nazorg.settings import DEFAULT_REGISTER_URI, settings

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    target = tmp_path / "register"
    shutil.copytree(REPO / "register", target)
    return target


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_shipped_register_is_consistent() -> None:
    policy = default_policy()
    entries = yaml.safe_load((REPO / "register" / "verwerkingsregister.yaml").read_text())["checks"]
    assert len(policy.register.checks) == len(entries) > 0
    assert set(policy.besluiten) == {"9901", "9902"}
    assert main(["register", "check"]) == 0


@pytest.mark.parametrize(
    ("target", "change", "message"),
    [
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["checks"].update(
                {
                    "schuld_cjib": {
                        "lookup": {"verbinding": "nazorg_bronnen", "query": "lookups/schuld_cjib.sql"},
                        "dossierverantwoordelijke": "sociaal-team",
                    }
                }
            ),
            "eigen grondslag",
        ),
        ("verwerkingsregister.yaml", lambda d: d["checks"][9].pop("uitzondering"), "uitzondering"),
        ("verwerkingsregister.yaml", lambda d: d["checks"][0].update({"bron": "telefoonboek"}), "bron"),
        # what a check asks its source is register data, and the source must be able to answer it
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][-1].update({"bronvraag": "schoenmaat"}),
            "kinderen: bron haal_centraal_brp_personen vraagt een bronvraag",
        ),
        ("verwerkingsregister.yaml", lambda d: d["checks"][-1].pop("bronvraag"), "vraagt een bronvraag"),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"bronvraag": "woonadres"}),
            "bron gemeentelijk_sql kent geen bronvraag",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][3].update({"aanvullende_bron": "haal_centraal_reisdocumenten"}),
            "kan geen contact leveren",
        ),
        ("verwerkingsregister.yaml", lambda d: d["checks"].append(dict(d["checks"][0])), "dubbele check-id"),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"bewaartermijn": "1 jaar"}),
            "ISO 8601",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"].update({"creditscore": d["checks"]["huurschuld"]}),
            "onbekende check creditscore",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["huurschuld"]["lookup"].update({"query": "lookups/bestaat_niet.sql"}),
            "onbekende query",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["kinderen"].pop("verbinding"),
            "mist verbinding",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["huurschuld"].update({"dossierverantwoordelijke": "Jan 999000007"}),
            "dossierverantwoordelijke",
        ),
        # the contact list is closed: a check's default is a team id of its own besluit
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["huurschuld"].update({"dossierverantwoordelijke": "schuldbank"}),
            "checks.huurschuld.dossierverantwoordelijke: schuldbank is geen team-id uit teams",
        ),
        (  # a team of another gemeente is not a team of this besluit
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["checks"]["kinderen"].update({"dossierverantwoordelijke": "jeugd"}),
            "checks.kinderen.dossierverantwoordelijke: jeugd is geen team-id uit teams",
        ),
        (  # the name, not the id: defaults refer by id only
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["checks"]["kinderen"].update({"dossierverantwoordelijke": "Jeugdteam Strikdorp"}),
            "kinderen.dossierverantwoordelijke",
        ),
        ("besluiten/9902-strikdorp.yaml", lambda d: d.pop("teams"), "teams: Field required"),
        ("besluiten/9902-strikdorp.yaml", lambda d: d.update({"teams": []}), "teams"),
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "ggd", "naam": "GGD Noord"}),
            "teams: id ggd komt meer dan eens voor",
        ),
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "ggd-noord", "naam": "GGD Strikdorp"}),
            "teams: naam GGD Strikdorp komt meer dan eens voor",
        ),
        (  # one string would point at two teams
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "werkplein-oost", "naam": "ggd"}),
            "teams: id ggd is de naam van een ander team",
        ),
        (  # team names obey the contact format: no digits
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "wijkteam", "naam": "Wijkteam 3"}),
            "teams.6.naam",
        ),
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "Wijkteam Noord", "naam": "Wijkteam Noord"}),
            "teams.6.id",
        ),
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["teams"].append({"id": "wijkteam", "naam": "Wijkteam", "telefoon": "x"}),
            "teams.6.telefoon",
        ),
        (  # Reisdocumenten' nee must be confirmed in BRP Personen
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["id_bewijs"].pop("brp_verbinding"),
            "id_bewijs mist brp_verbinding",
        ),
        (  # a setting no adapter reads is refused, not silently ignored
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["onderdak"].update({"brp_verbinding": "haal_centraal_brp"}),
            "onderdak: bron haal_centraal_brp_personen kent geen brp_verbinding",
        ),
    ],
)
def test_inconsistent_register_is_refused(
    register_copy: Path, target: str, change, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(register_copy / target, change)
    with pytest.raises(RegisterError, match=message):
        load_policy(register_copy, settings().sql_dir)
    assert main(["register", "check", str(register_copy)]) == 1
    assert "ONGELDIG" in capsys.readouterr().err


def test_plan_follows_besluit_and_consent() -> None:
    policy = default_policy()
    strikdorp = {r.check_id: r for r in beslis(policy.register, policy.besluit("9902"), toestemmingen=set())}
    assert strikdorp["doelgroep_topx"].reden == Reden.NIET_IN_BESLUIT
    assert strikdorp["kinderen"].uitvoeren
    assert strikdorp["huurschuld"].reden == Reden.GEEN_TOESTEMMING
    ruimhaven = {
        r.check_id: r for r in beslis(policy.register, policy.besluit("9901"), toestemmingen={"huurschuld"})
    }
    assert ruimhaven["doelgroep_topx"].uitvoeren
    assert ruimhaven["huurschuld"].uitvoeren
    assert ruimhaven["uitkering_voorschot"].reden == Reden.GEEN_TOESTEMMING
    assert len(ruimhaven) == len(policy.register.checks)  # one rule per register check


def test_plan_refuses_check_without_basis_even_if_besluit_loaded_unchecked() -> None:
    """Defence in depth: a besluit that bypassed the register check still cannot run a baseless check."""
    policy = default_policy()
    besluit = policy.besluit("9901")
    stripped = besluit.model_copy(
        update={
            "checks": {
                **besluit.checks,
                "schuld_cjib": besluit.checks["schuld_cjib"].model_copy(update={"grondslag": None}),
            }
        }
    )
    regels = {r.check_id: r for r in beslis(policy.register, stripped, toestemmingen=set())}
    assert regels["schuld_cjib"].reden == Reden.GEEN_GRONDSLAG


def test_changed_entry_needs_a_new_recorded_version(
    register_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_file = register_copy / "verwerkingsregister.yaml"
    versie = default_policy().register.entry("id_bewijs").versie
    edit(
        register_file,
        lambda d: d["checks"][2].update({"vraag": "Heeft de persoon een paspoort of ID-kaart?"}),
    )
    with pytest.raises(RegisterError, match="id_bewijs is gewijzigd zonder nieuwe versie"):
        load_policy(register_copy, settings().sql_dir)
    assert main(["register", "vastleggen", str(register_copy)]) == 1  # recording does not launder it

    edit(register_file, lambda d: d["checks"][2].update({"versie": versie + 1}))
    with pytest.raises(RegisterError, match=f"id_bewijs v{versie + 1} is niet vastgelegd"):
        load_policy(register_copy, settings().sql_dir)
    assert main(["register", "vastleggen", str(register_copy)]) == 0
    policy = load_policy(register_copy, settings().sql_dir)
    nieuw = f"{DEFAULT_REGISTER_URI}id_bewijs/v{versie + 1}"
    assert policy.register.entry("id_bewijs").processing_activity_id == nieuw

    edit(register_file, lambda d: d["checks"][2].update({"versie": versie}))
    with pytest.raises(RegisterError, match="lager dan vastgelegd"):
        load_policy(register_copy, settings().sql_dir)
