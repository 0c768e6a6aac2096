"""Assemble the DPAN basisdocument: the checks' answers grouped by aandachtsgebied.

The document holds, per check, only check_id, uitkomst, dossierverantwoordelijke
and reden. Questions and titles are register texts added when it is shown, so
what the guard validates is exactly the personal part that is published.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from nazorg.models import Aandachtsgebied
from nazorg.register import Register

TITELS = {
    Aandachtsgebied.VEILIGHEIDSHUIS_RECLASSERING: "Veiligheidshuis / reclassering",
    Aandachtsgebied.ID_BEWIJS: "ID-bewijs",
    Aandachtsgebied.INKOMEN_WERK_DAGBESTEDING: "Inkomen, werk en dagbesteding",
    Aandachtsgebied.SCHULDEN: "Schulden",
    Aandachtsgebied.HUISVESTING_ONDERDAK: "Huisvesting / onderdak",
    Aandachtsgebied.ZORG: "Zorg",
}
CHECK_KEYS = ("check_id", "uitkomst", "dossierverantwoordelijke", "reden")


def stel_op(
    melding_id: str,
    gemeente_code: str,
    besluit_id: str,
    register_versie: str,
    uitkomsten: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """Group stored outcome rows; unknown aandachtsgebieden are kept, so the guard sees them."""
    groepen: dict[str, list[dict[str, Any]]] = {a.value: [] for a in Aandachtsgebied}
    for row in uitkomsten:
        groepen.setdefault(str(row["aandachtsgebied"]), []).append({k: row[k] for k in CHECK_KEYS})
    return {
        "melding_id": melding_id,
        "gemeente_code": gemeente_code,
        "besluit": besluit_id,
        "register_versie": register_versie,
        "aandachtsgebieden": [
            {"aandachtsgebied": naam, "checks": sorted(checks, key=lambda c: str(c["check_id"]))}
            for naam, checks in groepen.items()
        ],
    }


def rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten for the guard: one row per check, every key the document carries."""
    out = []
    for groep in document["aandachtsgebieden"]:
        for check in groep["checks"]:
            out.append(
                {
                    "melding_id": document["melding_id"],
                    "aandachtsgebied": groep["aandachtsgebied"],
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


def als_html(document: Mapping[str, Any], register: Register) -> str:
    """A readable page for the coördinator, in Dutch."""
    vragen = {entry.id: entry.vraag for entry in register.checks}
    parts = [
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>",
        f"<title>Basisdocument {html.escape(document['melding_id'])}</title></head><body>",
        f"<h1>DPAN-basisdocument {html.escape(document['melding_id'])}</h1>",
        f"<p>Gemeente {html.escape(document['gemeente_code'])}, besluit "
        f"{html.escape(document['besluit'])}, register {html.escape(document['register_versie'])}.</p>",
    ]
    for groep in document["aandachtsgebieden"]:
        titel = TITELS.get(Aandachtsgebied(groep["aandachtsgebied"]), groep["aandachtsgebied"])
        parts.append(
            f"<h2>{html.escape(titel)}</h2><table><tr><th>Vraag</th><th>Uitkomst</th>"
            "<th>Dossierverantwoordelijke</th><th>Reden</th></tr>"
        )
        for check in groep["checks"]:
            parts.append(
                "<tr>"
                f"<td>{html.escape(vragen.get(check['check_id'], check['check_id']))}</td>"
                f"<td>{UITKOMST_NL.get(check['uitkomst'], html.escape(check['uitkomst']))}</td>"
                f"<td>{html.escape(check['dossierverantwoordelijke'] or '-')}</td>"
                f"<td>{html.escape(REDEN_NL.get(check['reden'] or '', check['reden'] or ''))}</td>"
                "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
