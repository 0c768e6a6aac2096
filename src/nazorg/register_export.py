"""The verwerkingsregister as something others read: JSON for tooling, Markdown for the jurist.

Why: the register is the one place that says what each check is for and on
which basis it runs; a DPO's tooling and a jurist should see exactly that, not a
hand-kept copy that drifts. Both forms are pure functions of a loaded
:class:`~nazorg.register.Policy`, sorted, without timestamps, so the same register
always exports to the same bytes (diffable, reviewable in a pull request).

JSON follows the ``ProcessingActivityVersion`` of the Processing Activities
Register API v0.1 that the Logboek Dataverwerkingen standard publishes
(Logius-standaarden/logboek-dataverwerkingen, ``media/rvva-openapi.json``; the
standard's register chapter itself still says "nog uitwerken"). Mapping:

===================================  ==================================================
standard field                       register field
===================================  ==================================================
id                                   ``<register_uri><id>/v<versie>`` (what log records point at)
version                              ``versie``
name                                 ``vraag``
purpose                              ``doel`` (free text, not a DPV purpose term)
personalData.categories              ``gegevenscategorieen``
personalData.retentionPeriod         ``bewaartermijn`` (ISO 8601 duration, as required)
legalBasis                           null: the standard wants DPV terms (PublicInterest,
                                     Consent, ...); the register holds Tabel 1's status
                                     and text, and choosing a DPV term is a legal
                                     judgement the register has not made
dataSubjects                         null: not in the register
recipients                           ``ontvangers`` (roles that may see the outcome)
validFrom                            null: the register records no date per version
===================================  ==================================================

A null field is listed in the top-level ``ontbreekt``, computed from the
entries, so a field the register starts holding drops out of it by itself.
What the register does hold on the basis (Tabel 1 status and text, each
besluit's own grondslag, beleidsregels, DPIA and criteria), the retention
clock's start event, the DPIA reference and the action an outcome asks for go
under ``nazorg``, next to the standard's fields. The UAVG exception for
special-category data is exported as ``voorwaardeBijzondereGegevens``: a
precondition for such data, not a legal basis. The processings of Tabel 1 the
register deliberately does not perform (``niet_gebouwd``) are listed with their
reason under ``nietGebouwd``.
"""

from __future__ import annotations

import json
from typing import Any

from nazorg.basisdocument import TITELS
from nazorg.models import Aandachtsgebied
from nazorg.register import Policy, RegisterEntry

STANDAARD = "Logboek Dataverwerkingen - Processing Activities Register API v0.1 (ProcessingActivityVersion)"
#: the standard's fields this export fills or reports as missing, in output order
STANDAARD_VELDEN = (
    "id",
    "version",
    "name",
    "purpose",
    "legalBasis",
    "personalData",
    "dataSubjects",
    "recipients",
    "validFrom",
)
MARKDOWN_KOLOMMEN = ("categorie", "omschrijving", "wanneer", "wie", "juridische basis")

_WANNEER = {"standaard": "Standaard", "toestemming": "Alleen met toestemming"}
_WIE = {"gemeente": "Gemeente", "dji_pi": "DJI/PI"}
_GRONDSLAG = {"aanwezig": "Aanwezig", "niet_aanwezig": "Niet aanwezig"}
_BIJZONDER = {"gezondheid": "gezondheidsgegevens", "strafrechtelijk": "strafrechtelijke gegevens"}
_VOLGORDE = {gebied: i for i, gebied in enumerate(Aandachtsgebied)}


def _besluiten(policy: Policy, check_id: str) -> list[dict[str, Any]]:
    """Which gemeenten perform the check, under which besluit, on which own basis (None: Tabel 1's)."""
    return [
        {
            "gemeente": code,
            "besluit": besluit.besluit.id,
            "vastgesteldOp": besluit.besluit.vastgesteld_op.isoformat(),
            "grondslag": besluit.checks[check_id].grondslag,
            "beleidsregels": besluit.checks[check_id].beleidsregels,
            "dpia": besluit.checks[check_id].dpia,
            "criteria": besluit.checks[check_id].criteria,
        }
        for code, besluit in sorted(policy.besluiten.items())
        if check_id in besluit.checks
    ]


def _activiteit(policy: Policy, entry: RegisterEntry) -> dict[str, Any]:
    return {
        "id": entry.processing_activity_id,
        "version": entry.versie,
        "name": entry.vraag,
        "purpose": entry.doel,
        "legalBasis": None,
        "personalData": {
            "categories": list(entry.gegevenscategorieen),
            "retentionPeriod": entry.bewaartermijn,
        },
        "dataSubjects": None,
        "recipients": list(entry.ontvangers),
        "validFrom": None,
        "nazorg": {
            "checkId": entry.id,
            "aandachtsgebied": entry.aandachtsgebied.value,
            "grondslag": {"status": entry.grondslag.status, "omschrijving": entry.grondslag.omschrijving},
            "wanneer": entry.wanneer,
            "uitvoerder": entry.uitvoerder,
            "bijzondereCategorie": entry.bijzondere_categorie,
            "voorwaardeBijzondereGegevens": entry.uitzondering,
            "besluitVereist": list(entry.besluit_vereist),
            "bewaartermijnStart": entry.bewaartermijn_start,
            "dpia": entry.dpia,
            "actie": {"uitkomst": entry.actie.uitkomst, "tekst": entry.actie.tekst},
            "vertrouwelijkheid": entry.vertrouwelijkheid,
            "besluiten": _besluiten(policy, entry.id),
        },
    }


def als_dict(policy: Policy) -> dict[str, Any]:
    """The register as a Processing Activities Register document, entries sorted by id."""
    register = policy.register
    activiteiten = [_activiteit(policy, e) for e in sorted(register.checks, key=lambda e: e.id)]
    ontbreekt = sorted({veld for a in activiteiten for veld in STANDAARD_VELDEN if a[veld] is None})
    return {
        "standaard": STANDAARD,
        "registerVersie": register.register_versie,
        "verwerkingsverantwoordelijke": register.verwerkingsverantwoordelijke,
        "processingActivities": activiteiten,
        "ontbreekt": ontbreekt,
        "nietGebouwd": [
            {
                "id": n.id,
                "aandachtsgebied": n.aandachtsgebied.value,
                "omschrijving": n.omschrijving,
                "wanneer": n.wanneer,
                "uitvoerder": n.uitvoerder,
                "grondslag": {"status": n.grondslag.status, "omschrijving": n.grondslag.omschrijving},
                "reden": n.reden,
                "alternatief": n.alternatief,
            }
            for n in sorted(register.niet_gebouwd, key=lambda n: n.id)
        ],
    }


def als_json(policy: Policy) -> str:
    return json.dumps(als_dict(policy), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _cel(tekst: str) -> str:
    """A Markdown table cell: a pipe would split the cell, a newline the row."""
    return " ".join(tekst.split()).replace("|", "\\|")


def _juridische_basis(policy: Policy, entry: RegisterEntry) -> str:
    delen = [f"{_GRONDSLAG[entry.grondslag.status]}: {entry.grondslag.omschrijving}"]
    if entry.bijzondere_categorie != "geen":
        soort = _BIJZONDER[entry.bijzondere_categorie]
        delen.append(
            f"Let op: {soort}; voorwaarde (uitzondering op het verwerkingsverbod, geen grondslag): "
            f"{entry.uitzondering}"
        )
    for b in _besluiten(policy, entry.id):
        labels = (("grondslag", "grondslag"), ("beleidsregels", "beleidsregels"), ("dpia", "DPIA"))
        eigen = [f"{label}: {b[veld]}" for veld, label in labels if b[veld]]
        if eigen:
            delen.append(f"Gemeente {b['gemeente']} ({b['besluit']}): {'; '.join(eigen)}")
    return " <br> ".join(_cel(d) for d in delen)


def als_markdown(policy: Policy) -> str:
    """One row per register entry, in Tabel 1's columns, grouped by aandachtsgebied then id."""
    register = policy.register
    regels = [
        f"# Verwerkingsregister {_cel(register.register_versie)}",
        "",
        f"Verwerkingsverantwoordelijke: {_cel(register.verwerkingsverantwoordelijke)}.",
        "",
        "| " + " | ".join(MARKDOWN_KOLOMMEN) + " |",
        "|" + "---|" * len(MARKDOWN_KOLOMMEN),
    ]
    for entry in sorted(register.checks, key=lambda e: (_VOLGORDE[e.aandachtsgebied], e.id)):
        cellen = (
            _cel(TITELS.get(entry.aandachtsgebied, entry.aandachtsgebied.value)),
            f"{_cel(entry.vraag)} Doel: {_cel(entry.doel)} (`{entry.processing_activity_id}`)",
            _cel(_WANNEER[entry.wanneer]),
            _cel(_WIE[entry.uitvoerder]),
            _juridische_basis(policy, entry),
        )
        regels.append("| " + " | ".join(cellen) + " |")
    if register.niet_gebouwd:
        regels += ["", "## Niet gebouwd", ""]
        for n in sorted(register.niet_gebouwd, key=lambda n: n.id):
            regels.append(
                f"- **{_cel(n.omschrijving)}** (`{n.id}`; {_WANNEER[n.wanneer]}; {_WIE[n.uitvoerder]}; "
                f"{_GRONDSLAG[n.grondslag.status]}: {_cel(n.grondslag.omschrijving)}) "
                f"Reden: {_cel(n.reden)} Wel: {_cel(n.alternatief)}"
            )
    return "\n".join(regels) + "\n"


def exporteer(policy: Policy, formaat: str) -> str:
    if formaat == "json":
        return als_json(policy)
    if formaat == "markdown":
        return als_markdown(policy)
    raise ValueError(f"onbekend formaat {formaat!r} (json of markdown)")
