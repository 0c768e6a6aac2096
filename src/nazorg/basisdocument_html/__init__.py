"""The basisdocument as a page a coördinator can act on (issue 9 §2).

:func:`render_html` is the one way the published document is shown as HTML:
``nazorg basisdocument toon --format html``, the file written next to the
published JSON (:func:`nazorg.pipeline.publiceer`, a consent change's
republication) and any web page that shows one document (the werklijst) call it.

What the page does, in this order:

1. a header that identifies the detention without the BSN (gemeente, inrichting,
   datum binnenkomst, verwachte einddatum, melding id, besluit, register version,
   when the checks were asked and when the document was published);
2. **Te doen**: the register's ``actie.tekst`` of every check whose outcome is the
   register's ``actie.uitkomst`` ("ja" is good for ID-bewijs and bad for schulden:
   the register, not the page, knows), with the contact; then the checks that
   are still open (onbekend), with the reason and when they are asked again;
3. per DPAN aandachtsgebied, each check's question as the register phrases it,
   the outcome, whether it needs action, the contact and where it comes from;
4. what was not done and why (reason codes as Dutch text).

Views per role: a role (:data:`nazorg.register.Ontvanger`) sees the outcome,
contact and reason only of checks whose register ``ontvangers`` include it; the
others are listed as "niet zichtbaar voor deze rol", without anything else.

Where the contact comes from is recorded by the check (``contact_herkomst`` in the
document, :class:`nazorg.models.ContactHerkomst`): ``bron`` a team of the besluit a
source named (the default team too), ``standaard`` the check's default team; with
reason ``contact_niet_in_besluit`` the default team stands in for a refused name.
A document published before the field existed (or a contact stored before
revision 0012) has none; only then is it derived from the besluit
(:func:`afgeleide_herkomst_zonder_vastlegging`), which cannot tell a source that
named the default team from one that named nobody.

The page is self-contained: inline CSS (allowed by its hash in a strict CSP
meta, nothing else may load), no scripts, no external URLs, print CSS. Jinja2
autoescapes every value. The function is pure: no I/O, no settings, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, get_args

from nazorg.basisdocument import REDEN_NL, TITELS, UITKOMST_NL
from nazorg.models import Aandachtsgebied, ContactHerkomst, Reden, Uitkomst
from nazorg.register import Ontvanger
from nazorg.sjablonen import omgeving, stijl

if TYPE_CHECKING:
    from nazorg.register import Besluit, Register

#: the roles a page can be shown for (the register's ``ontvangers``)
ROLLEN: tuple[str, ...] = get_args(Ontvanger)
ROL_NL = {
    "coordinator": "gemeentelijk coördinator",
    "pi_casemanager": "casemanager van de PI",
    "regievoerder": "top-x-regievoerder",
}
NIET_ZICHTBAAR = "niet zichtbaar voor deze rol"

#: where a published contact comes from (see the module docstring)
HERKOMST_BRON = "bron"
HERKOMST_STANDAARD = "standaard"
HERKOMST_GEWEIGERD = "standaard_bron_geweigerd"
HERKOMST_NL = {
    HERKOMST_BRON: "genoemd door de bron",
    HERKOMST_STANDAARD: "standaardteam van de gemeente voor deze check",
    HERKOMST_GEWEIGERD: "standaardteam van de gemeente (de bron noemde een contact buiten het besluit)",
}

_MAANDEN = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


@dataclass(frozen=True)
class Weergavecontext:
    """What the page shows besides the document: times from the outcome table and the outbox.

    Not in the published document on purpose (see :mod:`nazorg.basisdocument`).
    ``bepaald_op``/``volgende_poging``: check_id -> ISO timestamp (UTC) or None;
    ``gepubliceerd_op``: the outbox's timestamp, or None when not (yet) known.
    """

    bepaald_op: Mapping[str, str | None] = field(default_factory=dict)
    volgende_poging: Mapping[str, str | None] = field(default_factory=dict)
    gepubliceerd_op: str | None = None


def context_uit_uitkomsten(
    uitkomsten: Iterable[Mapping[str, Any]], gepubliceerd_op: str | None = None
) -> Weergavecontext:
    """The context from ``uitkomst`` rows (``check_id``, ``bepaald_op``, ``volgende_poging``)."""
    bepaald: dict[str, str | None] = {}
    volgende: dict[str, str | None] = {}
    for row in uitkomsten:
        check_id = str(row["check_id"])
        bepaald[check_id] = _tekst(row.get("bepaald_op"))
        volgende[check_id] = _tekst(row.get("volgende_poging"))
    return Weergavecontext(bepaald, volgende, gepubliceerd_op)


def _tekst(waarde: object) -> str | None:
    if waarde is None:
        return None
    if isinstance(waarde, datetime | date):
        return waarde.isoformat()
    return str(waarde)


def _datum_nl(waarde: str | None) -> str | None:
    """``2026-11-30`` as ``30 november 2026``; anything unparsable as it is (escaped by Jinja2)."""
    if not waarde:
        return None
    try:
        d = date.fromisoformat(waarde[:10])
    except ValueError:
        return waarde
    return f"{d.day} {_MAANDEN[d.month - 1]} {d.year}"


def _moment_nl(waarde: str | None) -> str | None:
    """An ISO timestamp as ``30 november 2026, 05:31 UTC`` (the pipeline stores UTC)."""
    if not waarde:
        return None
    try:
        moment = datetime.fromisoformat(waarde)
    except ValueError:
        return waarde
    return f"{_datum_nl(moment.date().isoformat())}, {moment.strftime('%H:%M')} UTC"


def contact_herkomst(check: Mapping[str, Any], besluit: Besluit) -> str | None:
    """Where a check's published contact comes from (module docstring); None without a contact.

    The recorded ``contact_herkomst`` when the document carries one; the
    derivation only for documents (or outcomes) from before it was recorded.
    """
    if not check.get("dossierverantwoordelijke"):
        return None
    vastgelegd = check.get("contact_herkomst")
    if vastgelegd is None:
        return afgeleide_herkomst_zonder_vastlegging(check, besluit)
    if vastgelegd == ContactHerkomst.BRON.value:
        return HERKOMST_BRON
    if check.get("reden") == Reden.CONTACT_NIET_IN_BESLUIT.value:
        return HERKOMST_GEWEIGERD
    return HERKOMST_STANDAARD


def afgeleide_herkomst_zonder_vastlegging(check: Mapping[str, Any], besluit: Besluit) -> str | None:
    """Fallback for documents published before ``contact_herkomst`` was recorded: derive it.

    A contact other than the check's default team was named by a source;
    ``contact_niet_in_besluit`` means the default team stands in for a refused
    name; otherwise it is taken for the default team, although a source may have
    named that same team (the case only the recorded value can tell).
    """
    contact = check.get("dossierverantwoordelijke")
    if not contact:
        return None
    if check.get("reden") == Reden.CONTACT_NIET_IN_BESLUIT.value:
        return HERKOMST_GEWEIGERD
    gekozen = besluit.checks.get(str(check.get("check_id")))
    standaard = besluit.team_naam(gekozen.dossierverantwoordelijke) if gekozen is not None else None
    return HERKOMST_STANDAARD if contact == standaard else HERKOMST_BRON


def actie_nodig(check_id: str, uitkomst: str, register: Register) -> str | None:
    """The register's action text when ``uitkomst`` is the one that asks for action, else None."""
    try:
        entry = register.entry(check_id)
    except KeyError:
        return None
    return entry.actie.tekst if uitkomst == entry.actie.uitkomst else None


def _check_view(
    check: Mapping[str, Any],
    gebied: str,
    rol: str,
    register: Register,
    besluit: Besluit,
    context: Weergavecontext,
) -> dict[str, Any]:
    check_id = str(check.get("check_id"))
    try:
        entry = register.entry(check_id)
    except KeyError:
        entry = None
    zichtbaar = entry is not None and rol in entry.ontvangers
    view: dict[str, Any] = {
        "check_id": check_id,
        "gebied": gebied,
        "vraag": entry.vraag if entry is not None else check_id,
        "zichtbaar": zichtbaar,
    }
    if not zichtbaar:
        return view
    assert entry is not None
    uitkomst = str(check.get("uitkomst"))
    reden = check.get("reden")
    herkomst = contact_herkomst(check, besluit)
    actie = actie_nodig(check_id, uitkomst, register)
    view.update(
        {
            "uitkomst": uitkomst,
            "uitkomst_nl": UITKOMST_NL.get(uitkomst, uitkomst),
            "actie": actie,
            "actie_bij": UITKOMST_NL[entry.actie.uitkomst].lower(),
            "actie_tekst": entry.actie.tekst,
            "contact": check.get("dossierverantwoordelijke"),
            "herkomst": herkomst,
            "herkomst_nl": HERKOMST_NL.get(herkomst or ""),
            "reden": reden,
            "reden_nl": REDEN_NL.get(str(reden), str(reden)) if reden else None,
            "bepaald_op": _moment_nl(context.bepaald_op.get(check_id)),
            "volgende_poging": _moment_nl(context.volgende_poging.get(check_id)),
        }
    )
    return view


def render_html(
    document: Mapping[str, Any],
    *,
    rol: str,
    register: Register,
    besluit: Besluit,
    context: Weergavecontext | None = None,
) -> str:
    """The published basisdocument as one self-contained HTML page in Dutch, for one role.

    ``document``: the published JSON document (``outbox.inhoud``, parsed);
    ``rol``: one of :data:`ROLLEN` (the register's ``ontvangers``); ``register``
    and ``besluit``: the policy the page explains the outcomes with (the
    besluit of the document's gemeente: its default teams tell where a contact
    comes from); ``context``: times that are not in the document (optional;
    without it the page says they are not known). Raises ``ValueError`` for an
    unknown role. Pure: the same arguments give the same bytes.
    """
    if rol not in ROLLEN:
        raise ValueError(f"onbekende rol; kies uit {', '.join(ROLLEN)}")
    context = context or Weergavecontext()
    groepen = []
    alle: list[dict[str, Any]] = []
    for groep in document.get("aandachtsgebieden", []):
        naam = str(groep.get("aandachtsgebied"))
        try:
            titel = TITELS[Aandachtsgebied(naam)]
        except ValueError:
            titel = naam
        checks = [_check_view(c, titel, rol, register, besluit, context) for c in groep.get("checks", [])]
        alle.extend(checks)
        groepen.append({"titel": titel, "checks": checks})
    zichtbaar = [c for c in alle if c["zichtbaar"]]
    momenten = sorted(v for v in (context.bepaald_op.get(c["check_id"]) for c in zichtbaar) if v)
    css, css_sha256 = stijl(__package__ or "nazorg.basisdocument_html", "basisdocument.css")
    view = {
        "css": css,
        "css_sha256": css_sha256,
        "rol": rol,
        "rol_nl": ROL_NL[rol],
        "melding_id": document.get("melding_id"),
        "gemeente_code": document.get("gemeente_code"),
        "gemeente_naam": document.get("gemeente_naam"),
        "inrichting": document.get("inrichting"),
        "datum_binnenkomst": _datum_nl(document.get("datum_binnenkomst")),
        "verwachte_einddatum": _datum_nl(document.get("verwachte_einddatum")),
        "besluit": document.get("besluit"),
        "register_versie": document.get("register_versie"),
        "checks_van": _moment_nl(momenten[0]) if momenten else None,
        "checks_tot": _moment_nl(momenten[-1]) if momenten else None,
        "gepubliceerd_op": _moment_nl(context.gepubliceerd_op),
        "te_doen": [c for c in zichtbaar if c["actie"]],
        "open": [c for c in zichtbaar if c["uitkomst"] == Uitkomst.ONBEKEND.value],
        "niet_uitgevoerd": [c for c in zichtbaar if c["uitkomst"] == Uitkomst.NIET_UITGEVOERD.value],
        "verborgen": len(alle) - len(zichtbaar),
        "groepen": groepen,
        "niet_zichtbaar": NIET_ZICHTBAAR,
    }
    return omgeving("nazorg.basisdocument_html").get_template("basisdocument.html.j2").render(**view)


__all__ = [
    "HERKOMST_NL",
    "NIET_ZICHTBAAR",
    "ROLLEN",
    "Weergavecontext",
    "actie_nodig",
    "afgeleide_herkomst_zonder_vastlegging",
    "contact_herkomst",
    "context_uit_uitkomsten",
    "render_html",
]
