"""The monthly aggregate report: one self-contained HTML file (Dutch), charts embedded as PNG.

Per gemeente: the report month's table (per check the count of every outcome,
the row total and the rates, see :func:`nazorg.rapportage.onderdrukking.aandelen`)
and the trend over the last ``NAZORG_RAPPORTAGE_MAANDEN`` months: the published
meldingen per month and, per check, the shares ja / nee / onbekend of the
checks that were run. Every number passes :func:`~nazorg.rapportage.onderdrukking.onderdruk_tabel`
first, per gemeente-month table; a suppressed number reaches neither the HTML
nor a chart, because the published table does not hold it.

Self-contained: no external asset, script or link; the charts are PNG ``data:``
URIs, and a Content-Security-Policy forbids loading anything else. There is
nothing about a person in it: no BSN, no melding id, no outcome of one melding.

matplotlib and Jinja2 are imported inside the functions that use them: the
DAG file and the CLI import this package without paying for them.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg.basisdocument import TITELS, UITKOMST_NL
from nazorg.bestanden import schrijf_atomair as schrijf
from nazorg.models import Aandachtsgebied
from nazorg.rapportage.onderdrukking import (
    DREMPEL,
    GEHEIM,
    KLEIN,
    MIN_WAARDEN,
    UITGEVOERD,
    Tabel,
    aandelen,
    onderdruk_tabel,
)
from nazorg.rapportage.tellingen import UITKOMSTEN, Maand, tel

if TYPE_CHECKING:
    from nazorg.register import Policy
    from nazorg.store import Store


@dataclass(frozen=True, slots=True)
class GemeenteRapport:
    gemeente_code: str
    gemeente_naam: str
    #: the trend window, oldest first; the last is the report's month
    maanden: list[Maand]
    #: the published form of every month's table, by month label
    tabellen: dict[str, Tabel]

    @property
    def maand(self) -> Maand:
        return self.maanden[-1]


@dataclass(frozen=True, slots=True)
class Rapport:
    maand: Maand
    gemaakt_op: datetime
    gemeenten: list[GemeenteRapport]
    #: check id -> (aandachtsgebied, vraag) from the register, in register order
    checks: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resultaat:
    """What was written, as counts (what the DAG task may pass on), plus the file's path."""

    pad: Path
    gemeenten: int
    maanden: int
    tabellen: int
    tabellen_achtergehouden: int
    grafieken: int

    def voor_xcom(self) -> dict[str, int]:
        return {
            "gemeenten": self.gemeenten,
            "maanden": self.maanden,
            "tabellen": self.tabellen,
            "tabellen_achtergehouden": self.tabellen_achtergehouden,
            "grafieken": self.grafieken,
        }


def stel_op(
    store: Store,
    policy: Policy,
    maand: Maand,
    aantal_maanden: int,
    gemeenten: Sequence[str] | None = None,
    *,
    min_waarden: int = MIN_WAARDEN,
    gemaakt_op: datetime | None = None,
) -> Rapport:
    """Count (in SQL) and suppress every gemeente-month table of the window.

    ``gemeenten``: the codes to report on (default: every gemeente with a
    besluit); a code without a besluit is refused by the policy.
    """
    codes = sorted(gemeenten) if gemeenten else sorted(policy.besluiten)
    namen = {code: policy.besluit(code).gemeente_naam for code in codes}
    check_ids = policy.register.ids
    maanden = maand.venster(aantal_maanden)
    tabellen: dict[str, dict[str, Tabel]] = {code: {} for code in codes}
    for m in maanden:
        for code, telling in tel(store, m, codes, check_ids).items():
            tabellen[code][m.label] = onderdruk_tabel(telling.meldingen, telling.rijen, min_waarden)
    checks = {e.id: (e.aandachtsgebied.value, e.vraag) for e in policy.register.checks}
    return Rapport(
        maand=maand,
        gemaakt_op=gemaakt_op or datetime.now(UTC),
        gemeenten=[GemeenteRapport(code, namen[code], maanden, tabellen[code]) for code in codes],
        checks=checks,
    )


# -- what the charts show: published values only -------------------------------------------------


def meldingen_reeks(g: GemeenteRapport) -> list[int | None]:
    """Published meldingen per month of the window (None where the count is suppressed)."""
    return [g.tabellen[m.label].meldingen.waarde for m in g.maanden]


def aandelen_reeksen(g: GemeenteRapport, check_id: str) -> dict[str, list[float | None]]:
    """Per outcome (ja / nee / onbekend), its published share of the checks run, month by month."""
    reeksen: dict[str, list[float | None]] = {k: [] for k in UITGEVOERD}
    for m in g.maanden:
        rij = g.tabellen[m.label].rijen.get(check_id)
        waarden = aandelen(rij) if rij is not None else {}
        for k in UITGEVOERD:
            reeksen[k].append(waarden.get(k))
    return reeksen


_KLEUREN = {"ja": "#1b7837", "nee": "#b2182b", "onbekend": "#7f7f7f", "meldingen": "#2166ac"}


def grafiek(
    titel: str, labels: Sequence[str], reeksen: Mapping[str, Sequence[float | int | None]], y_label: str
) -> bytes:
    """A small line chart as PNG bytes; None is a gap (a suppressed value is never drawn).

    The Agg backend through matplotlib's object API (no pyplot, no global
    state), so it runs in a worker without a display and in threads.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 2.6), dpi=96)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(labels)))
    for naam, waarden in reeksen.items():
        y = [math.nan if v is None else float(v) for v in waarden]
        ax.plot(x, y, marker="o", markersize=3, linewidth=1.5, label=naam, color=_KLEUREN.get(naam))
    ax.set_title(titel, fontsize=9)
    ax.set_ylabel(y_label, fontsize=8)
    ax.set_xticks(x, list(labels), rotation=45, ha="right", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlim(-0.5, len(labels) - 0.5)
    if y_label == "%":
        ax.set_ylim(0, 100)
    else:
        ax.set_ylim(bottom=0, top=max([10.0, *(float(v) * 1.1 for w in reeksen.values() for v in w if v)]))
    if all(v is None for w in reeksen.values() for v in w):
        ax.text(
            0.5,
            0.5,
            "geen getoonde waarden (kleine aantallen)",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color="#555555",
        )
    ax.grid(True, linewidth=0.3)
    if len(reeksen) > 1:
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _procent(waarde: float | None) -> str:
    if waarde is None:
        return "–"
    return f"{waarde:.1f}".replace(".", ",") + " %"


# -- HTML ----------------------------------------------------------------------------------------


def _gebied_titel(gebied: str) -> str:
    """The aandachtsgebied's Dutch title; a check no longer in the register goes under "Overig"."""
    try:
        return TITELS.get(Aandachtsgebied(gebied), gebied)
    except ValueError:
        return "Overig"


def _gebied_volgorde(gebied: str) -> int:
    """The basisdocument's order of the aandachtsgebieden; anything else last."""
    volgorde = [a.value for a in Aandachtsgebied]
    return volgorde.index(gebied) if gebied in volgorde else len(volgorde)


def _view(rapport: Rapport) -> tuple[dict[str, Any], int]:
    """The template's data (texts only, numbers already suppressed) and the number of charts."""
    grafieken = 0
    gemeenten = []
    for g in rapport.gemeenten:
        labels = [m.label for m in g.maanden]
        tabel = g.tabellen[g.maand.label]
        groepen: dict[str, list[dict[str, Any]]] = {}
        for check_id, rij in tabel.rijen.items():
            gebied, vraag = rapport.checks.get(check_id, ("", check_id))
            rates = aandelen(rij)
            groepen.setdefault(gebied, []).append(
                {
                    "check_id": check_id,
                    "vraag": vraag,
                    "cellen": [rij.cellen[k].tekst for k in UITKOMSTEN if k in rij.cellen],
                    "totaal": rij.totaal.tekst,
                    "aandelen": [_procent(rates.get(k)) for k in (*UITGEVOERD, "uitgevoerd")],
                }
            )
        trend_grafieken = []
        titel = "Gepubliceerde meldingen per maand"
        png = grafiek(titel, labels, {"meldingen": meldingen_reeks(g)}, "aantal")
        trend_grafieken.append({"titel": titel, "src": _data_uri(png)})
        for check_id, (_, vraag) in rapport.checks.items():
            reeksen = aandelen_reeksen(g, check_id)
            titel = f"{check_id}: aandeel van de uitgevoerde checks"
            png = grafiek(titel, labels, reeksen, "%")
            trend_grafieken.append({"titel": f"{check_id} — {vraag}", "src": _data_uri(png)})
        grafieken += len(trend_grafieken)
        gemeenten.append(
            {
                "code": g.gemeente_code,
                "naam": g.gemeente_naam,
                "meldingen": tabel.meldingen.tekst,
                "achtergehouden": tabel.geheel_onderdrukt,
                "groepen": [
                    {"titel": _gebied_titel(gebied), "rijen": groepen[gebied]}
                    for gebied in sorted(groepen, key=_gebied_volgorde)
                ],
                "trend": [
                    {"maand": m.label, "meldingen": g.tabellen[m.label].meldingen.tekst} for m in g.maanden
                ],
                "grafieken": trend_grafieken,
            }
        )
    view = {
        "maand": rapport.maand.label,
        "eerste_maand": rapport.gemeenten[0].maanden[0].label if rapport.gemeenten else rapport.maand.label,
        "gemaakt_op": rapport.gemaakt_op.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uitkomsten": [UITKOMST_NL.get(u, u) for u in UITKOMSTEN],
        "drempel": DREMPEL,
        "klein": KLEIN,
        "geheim": GEHEIM,
        "gemeenten": gemeenten,
    }
    return view, grafieken


def als_html(rapport: Rapport) -> tuple[str, int]:
    """The report as one HTML document (autoescaped Jinja2 template) and its number of charts."""
    from nazorg.sjablonen import omgeving

    view, grafieken = _view(rapport)
    return omgeving("nazorg.rapportage").get_template("rapport.html.j2").render(**view), grafieken


def bestandsnaam(maand: Maand, gemeente: str | None = None) -> str:
    return f"nazorg-rapportage-{maand.label}{'-' + gemeente if gemeente else ''}.html"


def schrijf_rapport(rapport: Rapport, uit: Path, gemeente: str | None = None) -> Resultaat:
    """Render and write the report (0600, in 0700 directories); counts of what it holds."""
    html, grafieken = als_html(rapport)
    pad = schrijf(uit / bestandsnaam(rapport.maand, gemeente), html.encode("utf-8"))
    tabellen = [t for g in rapport.gemeenten for t in g.tabellen.values()]
    return Resultaat(
        pad=pad,
        gemeenten=len(rapport.gemeenten),
        maanden=len(rapport.gemeenten[0].maanden) if rapport.gemeenten else 0,
        tabellen=len(tabellen),
        tabellen_achtergehouden=sum(t.geheel_onderdrukt for t in tabellen),
        grafieken=grafieken,
    )


def maak_rapport(
    store: Store,
    policy: Policy,
    maand: Maand,
    aantal_maanden: int,
    uit: Path,
    gemeente: str | None = None,
) -> Resultaat:
    """Count, suppress, render and write: what the CLI and the DAG task call."""
    rapport = stel_op(store, policy, maand, aantal_maanden, [gemeente] if gemeente else None)
    return schrijf_rapport(rapport, uit, gemeente)
