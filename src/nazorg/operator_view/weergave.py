"""The operator's view as HTML: one autoescaped Jinja2 template, Dutch labels, no external assets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nazorg.models import LaatstedagStatus, MeldingStatus

if TYPE_CHECKING:
    from nazorg.operator_view.tellingen import Overzicht

STATUSSEN = {
    MeldingStatus.ONTVANGEN.value: "ontvangen (wacht op een run)",
    MeldingStatus.IN_BEHANDELING.value: "in behandeling",
    MeldingStatus.GEPUBLICEERD.value: "gepubliceerd",
    MeldingStatus.GEBLOKKEERD.value: "geblokkeerd (bewaker)",
    MeldingStatus.MISLUKT.value: "mislukt (zie quarantaine)",
}
LAATSTEDAG_STATUSSEN = (
    (LaatstedagStatus.ONTVANGEN.value, "ontvangen, notificaties nog niet verstuurd"),
    (LaatstedagStatus.VERWERKT.value, "verwerkt"),
    (LaatstedagStatus.MISLUKT.value, "mislukt (zie quarantaine)"),
)
#: what the page may load and where it may be shown: nothing from elsewhere, framed only by Airflow
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


def als_html(overzicht: Overzicht) -> str:
    from nazorg.sjablonen import omgeving

    return (
        omgeving("nazorg.operator_view")
        .get_template("overzicht.html.j2")
        .render(o=overzicht, statussen=STATUSSEN, laatstedag_statussen=LAATSTEDAG_STATUSSEN)
    )
