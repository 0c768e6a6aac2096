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
        # huurschuld's basis is the Participatiewet with the gemeente's beleidsregels bijzondere bijstand
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["checks"].update(
                {
                    "huurschuld": {
                        "lookup": {"verbinding": "nazorg_bronnen", "query": "lookups/huurschuld.sql"},
                        "dossierverantwoordelijke": "sociaal-team",
                    }
                }
            ),
            "huurschuld vereist in het besluit beleidsregels",
        ),
        # Tabel 1: basis for the general check niet aanwezig
        (
            "besluiten/9902-strikdorp.yaml",
            lambda d: d["checks"].update(
                {
                    "uitkering_reintegratie": {
                        "lookup": {
                            "verbinding": "nazorg_bronnen",
                            "query": "lookups/uitkering_reintegratie.sql",
                        },
                        "dossierverantwoordelijke": "sociaal-team",
                    }
                }
            ),
            "uitkering_reintegratie heeft in Tabel 1 geen wettelijke basis",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["uitkering_reintegratie"].pop("grondslag"),
            "uitkering_reintegratie heeft in Tabel 1 geen wettelijke basis",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["doelgroep_topx"].pop("dpia"),
            "doelgroep_topx vereist in het besluit dpia",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["doelgroep_topx"].pop("criteria"),
            "doelgroep_topx vereist in het besluit criteria",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["wmo_zorg"].pop("dpia"),
            "wmo_zorg vereist in het besluit dpia",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["ggz_risicoprofiel"].update({"criteria": " "}),
            "ggz_risicoprofiel vereist in het besluit criteria",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["ggz_risicoprofiel"].pop("grondslag"),
            "ggz_risicoprofiel heeft in Tabel 1 geen wettelijke basis",
        ),
        (
            "besluiten/9901-ruimhaven.yaml",
            lambda d: d["checks"]["huurschuld"].update({"diagnose": "x"}),
            "checks.huurschuld.diagnose",
        ),
        # the new register fields are closed shapes
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"ontvangers": ["coordinator", "buurman"]}),
            "ontvangers",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"ontvangers": ["coordinator", "coordinator"]}),
            "meer dan eens",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"ontvangers": ["regievoerder"]}),
            "ontvangers zonder coordinator",
        ),
        ("verwerkingsregister.yaml", lambda d: d["checks"][0].pop("ontvangers"), "ontvangers"),
        ("verwerkingsregister.yaml", lambda d: d["checks"][0].pop("dpia"), "dpia"),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"bewaartermijn_start": "insluiting"}),
            "bewaartermijn_start",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0]["actie"].update({"uitkomst": "onbekend"}),
            "actie.uitkomst",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0]["actie"].update({"team": "veiligheidshuis"}),
            "actie.team",
        ),
        ("verwerkingsregister.yaml", lambda d: d["checks"][0].pop("actie"), "actie"),
        (
            "verwerkingsregister.yaml",
            lambda d: d["checks"][0].update({"besluit_vereist": ["handtekening"]}),
            "besluit_vereist",
        ),
        (
            "verwerkingsregister.yaml",
            lambda d: d["niet_gebouwd"].append({**d["niet_gebouwd"][0], "id": "kinderen"}),
            "kinderen staat zowel bij checks als bij niet_gebouwd",
        ),
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
    assert strikdorp["uitkering_voorschot"].reden == Reden.GEEN_TOESTEMMING
    # no beleidsregels bijzondere bijstand, no own basis for the general uitkering check
    alle = {"huurschuld", "uitkering_voorschot"}
    strikdorp = {r.check_id: r for r in beslis(policy.register, policy.besluit("9902"), toestemmingen=alle)}
    assert strikdorp["huurschuld"].reden == Reden.NIET_IN_BESLUIT
    assert strikdorp["uitkering_reintegratie"].reden == Reden.NIET_IN_BESLUIT
    assert strikdorp["uitkering_voorschot"].uitvoeren
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


@pytest.mark.parametrize(
    ("check_id", "veld"),
    [
        ("huurschuld", "beleidsregels"),
        ("doelgroep_topx", "dpia"),
        ("doelgroep_topx", "criteria"),
        ("wmo_zorg", "dpia"),
        ("ggz_risicoprofiel", "dpia"),
        ("ggz_risicoprofiel", "criteria"),
    ],
)
def test_plan_refuses_check_whose_besluit_lacks_what_the_register_requires(check_id: str, veld: str) -> None:
    """Defence in depth: without its beleidsregels, DPIA or criteria the besluit has not enabled the check."""
    policy = default_policy()
    besluit = policy.besluit("9901")
    regels = {r.check_id: r for r in beslis(policy.register, besluit, toestemmingen={check_id})}
    assert regels[check_id].uitvoeren  # the shipped besluit names it: it runs
    for leeg in (None, "  "):
        chosen = besluit.checks[check_id].model_copy(update={veld: leeg})
        stripped = besluit.model_copy(update={"checks": {**besluit.checks, check_id: chosen}})
        regels = {r.check_id: r for r in beslis(policy.register, stripped, toestemmingen={check_id})}
        assert regels[check_id].reden == Reden.NIET_IN_BESLUIT


# Bijlage 2, Tabel 1 of the report, row by row, as the report states it (not read from the
# register): in welk geval (Standaard, or "bij doelgroep vrijw": only with consent), wie voert
# uit, juridische basis (aanwezig / niet aanwezig), gevoelige of bijzondere persoonsgegevens,
# and what a gemeente's besluit must name to enable it (Bijlage 1 stap 2 en 3, §3.3.1.1, §4.2).
TABEL_1 = {
    # Veiligheidshuis/Reclassering: controleren op doelgroep gerichte aanpak; let op: gevoelig
    "doelgroep_topx": ("standaard", "gemeente", "niet_aanwezig", "strafrechtelijk", {"dpia", "criteria"}),
    # betrokkenheid reclassering: ja/nee-bericht van DJI/PI
    "reclassering": ("standaard", "dji_pi", "niet_aanwezig", "strafrechtelijk", set()),
    # ID-bewijs: BRP-check op geldig ID-bewijs
    "id_bewijs": ("standaard", "gemeente", "niet_aanwezig", "geen", set()),
    # Faciliteren onderdak: screenen op onderdak
    "onderdak": ("standaard", "gemeente", "niet_aanwezig", "geen", set()),
    # controle op huurschuld: bij doelgroep vrijw; Participatiewet + gemeentelijke beleidsregels
    "huurschuld": ("toestemming", "gemeente", "aanwezig", "geen", {"beleidsregels"}),
    # arbeidssituatie en lopende re-integratietrajecten: basis voor algemene check niet aanwezig
    "uitkering_reintegratie": ("standaard", "gemeente", "niet_aanwezig", "geen", set()),
    # toekenning uitkering / voorschot: bij doelgroep vrijw; Participatiewet
    "uitkering_voorschot": ("toestemming", "gemeente", "aanwezig", "geen", set()),
    # schuld bij CJIB, bekend bij schuldhulpverlening: niet aanwezig
    "schuld_cjib": ("standaard", "gemeente", "niet_aanwezig", "geen", set()),
    "schuldhulpverlening": ("standaard", "gemeente", "niet_aanwezig", "geen", set()),
    # screenen op zorgvragen; risicoprofiel GGZ: niet aanwezig, bijzondere persoonsgegevens
    "wmo_zorg": ("standaard", "gemeente", "niet_aanwezig", "gezondheid", {"dpia"}),
    "ggz_risicoprofiel": ("standaard", "gemeente", "niet_aanwezig", "gezondheid", {"dpia", "criteria"}),
    # besmettingen bij GGD: op grond van de Wet publieke gezondheid
    "tbc_besmetting": ("standaard", "gemeente", "aanwezig", "gezondheid", set()),
    # ingeschreven kinderen: op grond van de Jeugdwet
    "kinderen": ("standaard", "gemeente", "aanwezig", "geen", set()),
}


def test_register_has_exactly_the_checks_of_tabel_1() -> None:
    assert set(default_policy().register.ids) == set(TABEL_1)


@pytest.mark.parametrize("check_id", sorted(TABEL_1))
def test_register_entry_follows_tabel_1(check_id: str) -> None:
    wanneer, uitvoerder, basis, bijzonder, vereist = TABEL_1[check_id]
    entry = default_policy().register.entry(check_id)
    assert entry.wanneer == wanneer
    assert entry.uitvoerder == uitvoerder
    assert entry.grondslag.status == basis
    assert entry.bijzondere_categorie == bijzonder
    assert set(entry.besluit_vereist) == vereist
    # special-category data needs its UAVG exception, recorded apart from the grondslag
    assert bool(entry.uitzondering) == (bijzonder != "geen")
    assert "coordinator" in entry.ontvangers
    assert entry.dpia and entry.bewaartermijn_start in {"melding_ontvangen", "laatstedagsmelding"}


def test_wijze_van_inkomstenvergaring_is_recorded_as_not_built() -> None:
    """Tabel 1's row has no check: the register says why (minimisation) instead of over-collecting."""
    register = default_policy().register
    niet = {n.id: n for n in register.niet_gebouwd}
    assert "wijze_inkomstenvergaring" not in register.ids
    rij = niet["wijze_inkomstenvergaring"]
    assert (rij.wanneer, rij.uitvoerder, rij.grondslag.status) == ("standaard", "gemeente", "niet_aanwezig")
    assert "uitkering_reintegratie" in rij.reden


def test_strikdorp_without_beleidsregels_runs_only_what_tabel_1_bases_in_law() -> None:
    policy = default_policy()
    strikdorp = policy.besluit("9902")
    for check_id in strikdorp.checks:
        entry = policy.register.entry(check_id)
        assert entry.grondslag.status == "aanwezig" and not entry.besluit_vereist, check_id
    assert "huurschuld" not in strikdorp.checks
    assert "uitkering_reintegratie" not in strikdorp.checks


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


# Tabel 2's "wie": where DJI/PI acts on the outcome (the casemanager requests an ID-bewijs,
# discusses housing, facilitates an uitkering aanvraag or work, and debts), the PI's
# casemanager may see it; the top-x-regievoerder sees only the top-x outcome.
PI_CASEMANAGER = {"id_bewijs", "onderdak", "uitkering_reintegratie", "schuld_cjib", "schuldhulpverlening"}
REGIEVOERDER = {"doelgroep_topx"}


@pytest.mark.parametrize("check_id", sorted(TABEL_1))
def test_ontvangers_follow_tabel_2(check_id: str) -> None:
    ontvangers = set(default_policy().register.entry(check_id).ontvangers)
    assert ("pi_casemanager" in ontvangers) == (check_id in PI_CASEMANAGER)
    assert ("regievoerder" in ontvangers) == (check_id in REGIEVOERDER)


def test_every_entry_says_which_outcome_asks_for_action() -> None:
    register = default_policy().register
    assert register.entry("id_bewijs").actie.uitkomst == "nee"  # no valid ID: request one
    assert register.entry("onderdak").actie.uitkomst == "nee"  # no woonadres: arrange housing
    assert register.entry("uitkering_reintegratie").actie.uitkomst == "ja"  # stop or suspend it
    assert "Burgerzaken" in register.entry("id_bewijs").actie.tekst
