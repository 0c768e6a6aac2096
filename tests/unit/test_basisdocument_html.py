"""The basisdocument page (nazorg.basisdocument_html) and the published document's JSON Schema.

The page must lead with what the register says to do for each outcome, show a
role only what the register's ``ontvangers`` allow, carry the header that
identifies the detention without the BSN, and load nothing from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from markupsafe import escape

from nazorg import basisdocument as bd
from nazorg.basisdocument_html import (
    NIET_ZICHTBAAR,
    ROLLEN,
    Weergavecontext,
    actie_nodig,
    afgeleide_herkomst_zonder_vastlegging,
    contact_herkomst,
    render_html,
)
from nazorg.basisdocument_html.schema import laad_schema, schema_voor, valideer_voor_policy
from nazorg.models import Aandachtsgebied, ContactHerkomst, Reden, Uitkomst
from nazorg.register import Policy, RegisterEntry, default_policy
from nazorg_dev.sim.meldingen import meldingen

pytestmark = pytest.mark.unit

POLICY: Policy = default_policy()
BESLUIT = POLICY.besluit("9901")
ENTRIES = POLICY.register.checks
UITKOMSTEN = [u.value for u in Uitkomst]
KOP = bd.kop(
    {"inrichting": "PI Vught", "datum_binnenkomst": "2026-11-02", "verwachte_einddatum": "2027-03-01"},
    BESLUIT.gemeente_naam,
)


def _check(entry: RegisterEntry, uitkomst: str, contact: str | None = None) -> dict[str, Any]:
    reden = {"onbekend": "bron_timeout", "niet_uitgevoerd": "geen_toestemming"}.get(uitkomst)
    if contact is None and uitkomst != "niet_uitgevoerd":
        contact = BESLUIT.team_naam(BESLUIT.teams[0].id)
    return {
        "melding_id": "EDM-1",
        "aandachtsgebied": entry.aandachtsgebied.value,
        "check_id": entry.id,
        "uitkomst": uitkomst,
        "dossierverantwoordelijke": contact,
        "reden": reden,
    }


def _document(checks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return bd.stel_op(
        "EDM-1",
        "9901",
        BESLUIT.besluit.id,
        POLICY.register.register_versie,
        sorted(checks, key=lambda c: c["check_id"]),
        kop=KOP,
    )


def _page(document: dict[str, Any], rol: str = "coordinator", **kwargs: Any) -> str:
    return render_html(document, rol=rol, register=POLICY.register, besluit=BESLUIT, **kwargs)


def _section(page: str, section_id: str) -> str:
    start = page.index(f'<section id="{section_id}">')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("uitkomst", UITKOMSTEN)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_the_action_follows_the_register_for_every_check_and_outcome(
    entry: RegisterEntry, uitkomst: str
) -> None:
    page = _page(_document([_check(entry, uitkomst)]))
    te_doen = _section(page, "te-doen")
    tekst = str(escape(entry.actie.tekst))
    moet = uitkomst == entry.actie.uitkomst
    assert (tekst in te_doen) is moet
    assert ("Geen van de uitkomsten vraagt om een actie." in te_doen) is not moet
    assert (actie_nodig(entry.id, uitkomst, POLICY.register) == entry.actie.tekst) is moet
    # the row in its aandachtsgebied says the same, and the question is the register's
    rij = _section(page, "aandachtsgebieden")
    assert str(escape(entry.vraag)) in rij
    assert ('class="actie-nodig"' in rij) is moet
    # an open or skipped check is not read as "no action needed"
    assert ("Niet te zeggen" in rij) is (uitkomst in ("onbekend", "niet_uitgevoerd"))
    assert ("Nee (actie alleen bij" in rij) is (uitkomst in ("ja", "nee") and not moet)
    # the page leads with what to do: Te doen before the aandachtsgebieden
    assert page.index('id="te-doen"') < page.index('id="aandachtsgebieden"')
    # what was not done, and what is still open, is said with its reason in Dutch
    if uitkomst == "niet_uitgevoerd":
        assert bd.REDEN_NL["geen_toestemming"] in _section(page, "niet-uitgevoerd")
    if uitkomst == "onbekend":
        assert bd.REDEN_NL["bron_timeout"] in te_doen


def test_te_doen_lists_exactly_the_matching_actions_with_their_contact() -> None:
    checks = [_check(e, e.actie.uitkomst if i % 2 == 0 else "onbekend") for i, e in enumerate(ENTRIES)]
    page = _page(_document(checks))
    te_doen = _section(page, "te-doen")
    items = re.findall(r'<span class="actie">(.*?)</span>', te_doen)
    assert items == [str(escape(e.actie.tekst)) for i, e in enumerate(_in_document_order()) if _even(e)]
    assert te_doen.count("Contact: ") >= len(items)


def _in_document_order() -> list[RegisterEntry]:
    volgorde = {a.value: n for n, a in enumerate(Aandachtsgebied)}
    return sorted(ENTRIES, key=lambda e: (volgorde[e.aandachtsgebied.value], e.id))


def _even(entry: RegisterEntry) -> bool:
    return ENTRIES.index(entry) % 2 == 0


@pytest.mark.parametrize("rol", ROLLEN)
def test_a_role_sees_only_the_outcomes_the_register_gives_it(rol: str) -> None:
    # every check answers with its action outcome: each visible one is listed under Te doen
    document = _document([_check(e, e.actie.uitkomst) for e in ENTRIES])
    page = _page(document, rol)
    te_doen = _section(page, "te-doen")
    rijen = _section(page, "aandachtsgebieden")
    zichtbaar = [e for e in ENTRIES if rol in e.ontvangers]
    verborgen = [e for e in ENTRIES if rol not in e.ontvangers]
    assert rol != "coordinator" or not verborgen  # the coördinator sees everything (register check)
    for entry in zichtbaar:
        assert str(escape(entry.actie.tekst)) in te_doen, entry.id
    for entry in verborgen:
        tekst = str(escape(entry.actie.tekst))
        assert tekst not in page, entry.id
        rij = re.search(rf"<tr[^>]*><td>{re.escape(str(escape(entry.vraag)))}</td>(.*?)</tr>", rijen, re.S)
        assert rij is not None, entry.id
        assert NIET_ZICHTBAAR in rij.group(1)
        assert "Ja" not in rij.group(1) and "Nee" not in rij.group(1)  # no outcome
        assert BESLUIT.teams[0].naam not in rij.group(1)  # no contact
    assert page.count(f'<td colspan="4">{NIET_ZICHTBAAR}</td>') == len(verborgen)
    if verborgen:
        assert f"{len(verborgen)} check(s) zijn {NIET_ZICHTBAAR}" in page


def test_a_hidden_check_shows_neither_its_reason_nor_that_it_was_not_done() -> None:
    regievoerder_ziet_niet = next(e for e in ENTRIES if "regievoerder" not in e.ontvangers)
    document = _document([_check(regievoerder_ziet_niet, "niet_uitgevoerd")])
    page = _page(document, "regievoerder")
    assert bd.REDEN_NL["geen_toestemming"] not in page  # consent is personal too
    assert "Alle checks zijn uitgevoerd." in _section(page, "niet-uitgevoerd")


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="onbekende rol"):
        _page(_document([]), "buurman")


def test_the_header_identifies_the_detention_without_the_bsn() -> None:
    entry = ENTRIES[0]
    context = Weergavecontext(
        bepaald_op={entry.id: "2026-11-02T09:15:00.000+00:00"},
        volgende_poging={},
        gepubliceerd_op="2026-11-02T09:16:30.000+00:00",
    )
    page = _page(_document([_check(entry, "ja")]), context=context)
    kop = page[page.index("<header>") : page.index("</header>")]
    for verwacht in (
        "Ruimhaven (9901)",
        "PI Vught",
        "2 november 2026",  # datum binnenkomst
        "1 maart 2027",  # verwachte einddatum
        "EDM-1",
        BESLUIT.besluit.id,
        f"versie {POLICY.register.register_versie}",
        "2 november 2026, 09:15 UTC",  # when the checks were asked
        "2 november 2026, 09:16 UTC",  # published
        "gemeentelijk coördinator",
    ):
        assert verwacht in kop, verwacht


def test_without_an_expected_end_date_or_times_the_page_says_so() -> None:
    kop = bd.kop({"inrichting": "PI Vught", "datum_binnenkomst": "2026-11-02"}, "Ruimhaven")
    document = bd.stel_op("EDM-1", "9901", "RH-2026-017", "v", [], kop=kop)
    page = _page(document)
    assert "niet opgegeven" in page and "niet bekend" in page


def test_an_onbekend_says_when_it_is_asked_again() -> None:
    entry = ENTRIES[0]
    context = Weergavecontext(volgende_poging={entry.id: "2026-11-03T04:00:00.000+00:00"})
    te_doen = _section(_page(_document([_check(entry, "onbekend")]), context=context), "te-doen")
    assert "Wordt opnieuw gevraagd vanaf 3 november 2026, 04:00 UTC" in te_doen
    zonder = _section(_page(_document([_check(entry, "onbekend")])), "te-doen")
    assert "Wordt niet automatisch opnieuw gevraagd" in zonder


def test_the_contact_says_whether_a_source_named_it_or_it_is_the_default_team() -> None:
    entry = next(e for e in ENTRIES if e.id in BESLUIT.checks)
    standaard = BESLUIT.standaard_contact(entry.id)
    ander = next(t.naam for t in BESLUIT.teams if t.naam != standaard)
    assert contact_herkomst(_check(entry, "ja", standaard), BESLUIT) == "standaard"
    assert contact_herkomst(_check(entry, "ja", ander), BESLUIT) == "bron"
    geweigerd = {**_check(entry, "ja", standaard), "reden": Reden.CONTACT_NIET_IN_BESLUIT.value}
    assert contact_herkomst(geweigerd, BESLUIT) == "standaard_bron_geweigerd"
    assert contact_herkomst(_check(entry, "niet_uitgevoerd"), BESLUIT) is None
    page = _page(_document([_check(entry, entry.actie.uitkomst, ander)]))
    assert "genoemd door de bron" in _section(page, "te-doen")
    page = _page(_document([_check(entry, entry.actie.uitkomst, standaard)]))
    assert "standaardteam van de gemeente voor deze check" in _section(page, "te-doen")


def test_the_page_shows_the_recorded_herkomst_not_the_derivation() -> None:
    """A source that named the default team itself: derivation says standaard, the record says bron."""
    entry = next(e for e in ENTRIES if e.id in BESLUIT.checks)
    standaard = BESLUIT.standaard_contact(entry.id)
    ander = next(t.naam for t in BESLUIT.teams if t.naam != standaard)
    zelf_genoemd = {**_check(entry, "ja", standaard), "contact_herkomst": "bron"}
    assert afgeleide_herkomst_zonder_vastlegging(zelf_genoemd, BESLUIT) == "standaard"
    assert contact_herkomst(zelf_genoemd, BESLUIT) == "bron"
    page = _page(_document([{**_check(entry, entry.actie.uitkomst, standaard), "contact_herkomst": "bron"}]))
    assert "genoemd door de bron" in _section(page, "te-doen")
    assert "standaardteam" not in _section(page, "te-doen")
    # recorded standaard wins over a contact the derivation would call bron
    assert contact_herkomst({**_check(entry, "ja", ander), "contact_herkomst": "standaard"}, BESLUIT) == (
        "standaard"
    )
    geweigerd = {
        **_check(entry, "ja", standaard),
        "contact_herkomst": "standaard",
        "reden": Reden.CONTACT_NIET_IN_BESLUIT.value,
    }
    assert contact_herkomst(geweigerd, BESLUIT) == "standaard_bron_geweigerd"
    # a document from before the field (no key, or None for a row stored before 0012): derived
    assert contact_herkomst(_check(entry, "ja", ander), BESLUIT) == "bron"
    assert contact_herkomst({**_check(entry, "ja", ander), "contact_herkomst": None}, BESLUIT) == "bron"


def test_an_old_document_without_herkomst_still_passes_guard_rows_and_schema() -> None:
    """Republished after a consent change, a document from before contact_herkomst is not blocked."""
    document = _document([_check(e, u) for e, u in zip(ENTRIES, UITKOMSTEN * 5)])
    for groep in document["aandachtsgebieden"]:
        for check in groep["checks"]:
            del check["contact_herkomst"]
    assert valideer_voor_policy(document, POLICY) == []
    assert all(r["contact_herkomst"] is None for r in bd.rows(document))


def test_the_schema_refuses_an_unknown_herkomst_and_one_without_contact() -> None:
    entry = ENTRIES[0]
    goed = _document([{**_check(entry, "ja"), "contact_herkomst": "bron"}])
    assert valideer_voor_policy(goed, POLICY) == []
    onbekend = _document([{**_check(entry, "ja"), "contact_herkomst": "gemeente"}])
    assert valideer_voor_policy(onbekend, POLICY) != []
    zonder = _document([{**_check(entry, "niet_uitgevoerd"), "contact_herkomst": "standaard"}])
    assert valideer_voor_policy(zonder, POLICY) != []


def test_every_value_is_escaped() -> None:
    entry = ENTRIES[0]
    document = _document([_check(entry, "ja", "<script>alert(1)</script>")])
    document["inrichting"] = "<img src=x>"
    page = _page(document)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x&gt;" in page


def test_the_page_loads_nothing_and_allows_only_its_own_style() -> None:
    page = _page(_document([_check(e, "ja") for e in ENTRIES]))
    assert not re.search(r"https?:|//[A-Za-z0-9]|\b(src|href|action)\s*=|url\(|@import", page, re.I)
    assert "<script" not in page.lower()
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1) and "script-src 'none'" in csp.group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None and "@media print" in style.group(1)
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp.group(1)  # the hash is of exactly this style


def test_no_bsn_of_the_fixture_people_reaches_the_page() -> None:
    records = list(meldingen(40, offset=500))
    for record in records:
        besluit = POLICY.besluit(str(record["gemeente_code"]))
        document = bd.stel_op(
            str(record["melding_id"]),
            str(record["gemeente_code"]),
            besluit.besluit.id,
            POLICY.register.register_versie,
            [],
            kop=bd.kop(record, besluit.gemeente_naam),
        )
        assert str(record["bsn"]) not in json.dumps(document)
        for rol in ROLLEN:
            page = render_html(document, rol=rol, register=POLICY.register, besluit=besluit)
            assert str(record["bsn"]) not in page
            assert not re.search(r"(?:\d[ .-]?){7}\d", page)  # no BSN-like run at all


def test_rendering_is_pure() -> None:
    document = _document([_check(e, "onbekend") for e in ENTRIES])
    assert _page(document) == _page(json.loads(json.dumps(document)))


# -- the JSON Schema -----------------------------------------------------------------------------


def test_the_packaged_schema_is_draft_2020_12_and_closed() -> None:
    from jsonschema import Draft202012Validator

    schema = laad_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)

    def objecten(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            eigen = [node] if node.get("type") == "object" else []
            return eigen + [o for v in node.values() for o in objecten(v)]
        if isinstance(node, list):
            return [o for v in node for o in objecten(v)]
        return []

    gevonden = objecten(schema)
    assert len(gevonden) == 3 and all(o["additionalProperties"] is False for o in gevonden)
    assert set(schema["required"]) == set(schema["properties"])
    check = schema["$defs"]["check"]
    assert set(check["properties"]) == set(bd.CHECK_KEYS)
    # contact_herkomst is optional: a document published before it was recorded is republished
    # (consent change) with the schema of today
    assert set(check["required"]) == set(bd.CHECK_KEYS) - {"contact_herkomst"}


def test_the_schema_enums_are_the_models_and_the_register() -> None:
    schema = laad_schema()
    check = schema["$defs"]["check"]["properties"]
    assert set(check["uitkomst"]["enum"]) == {u.value for u in Uitkomst}
    assert set(check["reden"]["enum"]) == {r.value for r in Reden} | {None}
    assert set(check["contact_herkomst"]["enum"]) == {h.value for h in ContactHerkomst} | {None}
    gebied = schema["$defs"]["aandachtsgebied"]["properties"]["aandachtsgebied"]
    assert set(gebied["enum"]) == {a.value for a in Aandachtsgebied}
    assert set(schema["properties"]) == {
        "melding_id",
        "gemeente_code",
        *bd.KOP_VELDEN,
        "besluit",
        "register_versie",
        "aandachtsgebieden",
    }
    smal = schema_voor(["a_b"], ["Team A"], ["Ruimhaven"])
    assert smal["$defs"]["check"]["properties"]["check_id"]["enum"] == ["a_b"]
    assert smal["$defs"]["check"]["properties"]["dossierverantwoordelijke"]["enum"] == ["Team A", None]


def test_a_built_document_passes_the_schema() -> None:
    assert (
        valideer_voor_policy(_document([_check(e, u) for e, u in zip(ENTRIES, UITKOMSTEN * 5)]), POLICY) == []
    )


def _fouten(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.veld, f.keyword) for f in valideer_voor_policy(document, POLICY)}


def test_the_schema_refuses_over_collection_and_names_no_value() -> None:
    goed = _document([_check(ENTRIES[0], "ja")])
    gebied = next(n for n, g in enumerate(goed["aandachtsgebieden"]) if g["checks"])

    extra = {**goed, "bsn": "999990019"}
    assert _fouten(extra) == {("$", "additionalProperties")}

    in_check = json.loads(json.dumps(goed))
    in_check["aandachtsgebieden"][gebied]["checks"][0]["bedrag"] = 1234
    assert _fouten(in_check) == {("aandachtsgebieden[].checks[]", "additionalProperties")}

    in_kop = {**goed, "inrichting": "PI Vught 999990019"}
    assert _fouten(in_kop) == {("inrichting", "not")}

    onbekend_team = json.loads(json.dumps(goed))
    onbekend_team["aandachtsgebieden"][gebied]["checks"][0]["dossierverantwoordelijke"] = "Dokter Jansen"
    assert ("aandachtsgebieden[].checks[].dossierverantwoordelijke", "enum") in _fouten(onbekend_team)

    onbekende_check = json.loads(json.dumps(goed))
    onbekende_check["aandachtsgebieden"][gebied]["checks"][0]["check_id"] = "creditscore"
    assert _fouten(onbekende_check) == {("aandachtsgebieden[].checks[].check_id", "enum")}

    zonder_reden = json.loads(json.dumps(goed))
    zonder_reden["aandachtsgebieden"][gebied]["checks"][0]["uitkomst"] = "onbekend"
    assert _fouten(zonder_reden) == {("aandachtsgebieden[].checks[].reden", "type")}

    zonder_kop = {k: v for k, v in goed.items() if k != "inrichting"}
    assert _fouten(zonder_kop) == {("$", "required")}
    for fout in _fouten(extra) | _fouten(in_kop) | _fouten(onbekend_team):
        assert "9999" not in fout[0] and "Jansen" not in fout[0]


def test_met_kop_gives_an_old_document_the_header_in_order() -> None:
    nieuw = _document([_check(ENTRIES[0], "ja")])
    oud = {k: v for k, v in nieuw.items() if k not in bd.KOP_VELDEN}
    assert valideer_voor_policy(oud, POLICY)
    hersteld = bd.met_kop(oud, KOP)
    assert json.dumps(hersteld) == json.dumps(nieuw)
