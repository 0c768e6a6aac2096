"""Assemble the DPAN basisdocument: the checks' answers grouped by aandachtsgebied.

The document holds, per check, only check_id, uitkomst, dossierverantwoordelijke,
contact_herkomst (where the contact comes from, recorded by the check: see
:class:`nazorg.models.ContactHerkomst`) and reden. Questions and titles are
register texts added when it is shown, so what the guard validates is exactly the
personal part that is published.

Besides the checks it carries a header (:data:`KOP_VELDEN`) that says which
detention it is about without the BSN: the gemeente's name (from its besluit)
and the melding's inrichting, datum_binnenkomst and verwachte_einddatum, which
the coördinator already has from the eerstedagsmelding. The guard's frame
(:func:`rows`) is about the checks only; the header is guarded by the closed JSON
Schema (:mod:`nazorg.basisdocument_html.schema`), which every publication passes.
Times (when a check was asked, when it is retried) are deliberately not in the
document: they differ between the per-melding and the batch path for the same
inputs, and a retry that changes nothing would otherwise republish a new versie;
they are shown from the outcome table (:func:`nazorg.basisdocument_html.context_uit_uitkomsten`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from nazorg.models import Aandachtsgebied

TITELS = {
    Aandachtsgebied.VEILIGHEIDSHUIS_RECLASSERING: "Veiligheidshuis / reclassering",
    Aandachtsgebied.ID_BEWIJS: "ID-bewijs",
    Aandachtsgebied.INKOMEN_WERK_DAGBESTEDING: "Inkomen, werk en dagbesteding",
    Aandachtsgebied.SCHULDEN: "Schulden",
    Aandachtsgebied.HUISVESTING_ONDERDAK: "Huisvesting / onderdak",
    Aandachtsgebied.ZORG: "Zorg",
}
CHECK_KEYS = ("check_id", "uitkomst", "dossierverantwoordelijke", "contact_herkomst", "reden")
#: the header: what identifies the detention without the BSN (module docstring)
KOP_VELDEN = ("gemeente_naam", "inrichting", "datum_binnenkomst", "verwachte_einddatum")


def _datum(waarde: object) -> str | None:
    """An inbox date as ISO text: SQLite gives text, PostgreSQL may give a ``date``."""
    if waarde is None:
        return None
    if isinstance(waarde, date):
        return waarde.isoformat()
    return str(waarde)


def kop(melding: Mapping[str, Any], gemeente_naam: str) -> dict[str, str | None]:
    """The header of a melding's document from its inbox row and its gemeente's besluit.

    Both paths (and a consent change) build it here, so the published bytes are
    the same whichever path publishes.
    """
    inrichting = melding.get("inrichting")
    return {
        "gemeente_naam": gemeente_naam,
        "inrichting": None if inrichting is None else str(inrichting),
        "datum_binnenkomst": _datum(melding.get("datum_binnenkomst")),
        "verwachte_einddatum": _datum(melding.get("verwachte_einddatum")),
    }


def stel_op(
    melding_id: str,
    gemeente_code: str,
    besluit_id: str,
    register_versie: str,
    uitkomsten: Iterable[Mapping[str, Any]],
    *,
    kop: Mapping[str, str | None],
) -> dict[str, Any]:
    """Group stored outcome rows; unknown aandachtsgebieden are kept, so the guard sees them.

    ``kop``: :func:`kop` of the melding; only its :data:`KOP_VELDEN` are taken.
    """
    groepen: dict[str, list[dict[str, Any]]] = {a.value: [] for a in Aandachtsgebied}
    for row in uitkomsten:
        # contact_herkomst may be absent from a row that does not come from uitkomst (it is then
        # not recorded: None, and the page derives it); every other key is required
        groepen.setdefault(str(row["aandachtsgebied"]), []).append(
            {k: row.get(k) if k == "contact_herkomst" else row[k] for k in CHECK_KEYS}
        )
    return {
        "melding_id": melding_id,
        "gemeente_code": gemeente_code,
        **{veld: kop.get(veld) for veld in KOP_VELDEN},
        "besluit": besluit_id,
        "register_versie": register_versie,
        "aandachtsgebieden": [
            {"aandachtsgebied": naam, "checks": sorted(checks, key=lambda c: str(c["check_id"]))}
            for naam, checks in groepen.items()
        ],
    }


def met_kop(document: Mapping[str, Any], kop: Mapping[str, str | None]) -> dict[str, Any]:
    """``document`` with its header in the order :func:`stel_op` writes it; fields it has stay.

    For a document published before the header existed and republished now (a
    consent change): it gets the melding's header, nothing else changes.
    """
    uit: dict[str, Any] = {"melding_id": document["melding_id"], "gemeente_code": document["gemeente_code"]}
    for veld in KOP_VELDEN:
        uit[veld] = document[veld] if veld in document else kop.get(veld)
    for sleutel, waarde in document.items():
        uit.setdefault(sleutel, waarde)
    return uit


def rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten for the guard: one row per check, every key the document carries.

    A document published before ``contact_herkomst`` existed (and republished
    after a consent change) has no such key; its rows get it empty, so the guard
    judges what it carries and does not block it for a field nobody recorded.
    """
    out = []
    for groep in document["aandachtsgebieden"]:
        for check in groep["checks"]:
            out.append(
                {
                    "melding_id": document["melding_id"],
                    "aandachtsgebied": groep["aandachtsgebied"],
                    "contact_herkomst": None,
                    **check,
                }
            )
    return out


REDEN_NL = {
    "niet_in_besluit": "niet opgenomen in het gemeentelijk besluit",
    "geen_grondslag": "geen grondslag vastgelegd",
    "geen_toestemming": "geen toestemming of overeenkomst",
    "bron_onbereikbaar": "bron niet bereikbaar",
    "bron_fout": "bron gaf een fout",
    "bron_ambigu": "antwoord van de bron niet eenduidig",
    "bron_timeout": "bron antwoordde niet op tijd",
    "niet_in_melding": "niet vermeld in de melding",
    "persoon_niet_gevonden": "persoon niet gevonden in de bron",
    "persoon_overleden": "volgens de BRP overleden",
    "bijhouding_opgeschort": "bijhouding in de BRP opgeschort",
    "bron_in_onderzoek": "gegeven in onderzoek bij de bron",
    "houder_onjuist": "document van een andere houder",
    "bron_vorm": "antwoord van de bron niet toe te wijzen",
    "contact_niet_in_besluit": "de bron noemde geen team uit het besluit; standaardcontact",
}
UITKOMST_NL = {
    "ja": "Ja",
    "nee": "Nee",
    "onbekend": "Onbekend",
    "niet_uitgevoerd": "Niet uitgevoerd",
}
