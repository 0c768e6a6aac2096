"""Small-cell suppression of the aggregate report: what may be published, and what not.

The report publishes, per gemeente and month, one table: the number of published
meldingen ``N`` and, per check, how often each outcome occurred (a *row*: four
cells ``ja / nee / onbekend / niet_uitgevoerd`` that add up to the row's total,
which is ``N`` when every melding has an outcome for the check). Nothing else
is published about a table: no column totals (a sum of ``ja`` over different
checks counts no people), no totals over months, no totals over gemeenten, so
the only linear relation between published numbers is "the cells of a row add
up to its total". That keeps the tables independent of each other and the
suppression of one table a function of that table's counts alone: the same
month looks the same in every report that shows it (a ``--gemeente`` report,
a trend window), so two reports cannot be played off against each other as long
as the underlying counts did not change.

Rules (the attacker knows the rules and reads every published number):

1. **Primary suppression.** A count below :data:`DREMPEL` (10), zero included,
   is shown as ``<10`` (:data:`KLEIN`).
2. **Secondary suppression.** In a row whose total is published, the suppressed
   cells are only safe if the total minus the published cells does not pin them
   down. For every suppressed cell the *exact* feasible set is computed: the
   integers it can take given the published cells, the row total, and what the
   symbols say (``<10`` means 0..9; a secondary suppression, shown as ``x``
   (:data:`GEHEIM`), means at least 10 and at most the total and at most the
   smallest number still shown in its row, see below). With one linear
   equation and box bounds that set is an interval, and every integer in it is
   attainable (:func:`interval`). Until every suppressed cell of the row has at
   least ``min_waarden`` possible values (default 3), the smallest published
   cell of the row is suppressed as well (least information lost). Adding a cell
   never narrows an interval, so this ends.
3. **Fallbacks.** A row whose total is below 10 (possible only when it is not
   ``N``: a check some meldingen have no outcome for) shows every count as
   ``<10``; nothing links its total to another number. A row that cannot be
   protected even with all four cells suppressed (a small total, e.g. ten in
   one cell and three empty ones): if its total is not ``N``, the total is
   suppressed too (``x``) and the row carries no equation; if it is ``N``, the
   whole table is withheld, ``N`` included, because every other row would give
   ``N`` away. A table with ``N < 10`` shows ``N`` as ``<10`` and nothing else;
   a table withheld for the other reason shows ``N`` as ``x`` and nothing else.
4. **Rates.** A rate is published only when its numerator and denominator are
   both *determined* by published numbers (a published cell, a published total,
   or a sum of cells whose suppressed part is all the suppressed cells of the
   row: the total minus the published rest), and both are at least 10.
   A rate then adds no information beyond the published counts, so it can never
   be used to recover a suppressed count; in particular a rate with a suppressed
   numerator or a denominator below 10 is suppressed.

What is guaranteed (and property-tested in ``tests/rapportage``): for every
table, every suppressed cell has at least ``min_waarden`` values consistent
with everything published in the table; no published rate is a function of
anything but published counts. What is *not* guaranteed: protection against
differencing two reports made at different times over *changed* data (a
melding of an old month published late (a re-run after ``mislukt``), an onbekend filled in by a retry, a
melding purged at the end of its bewaartermijn): the report defines the month
by ``inbox.ontvangen_op`` and is run for closed months to keep the data of a
month stable, see :mod:`nazorg.rapportage.tellingen`. The interval bound is about the
exact value; an attacker still learns e.g. "between 0 and 4" when the interval
is that narrow (``min_waarden`` sets how narrow it may get). The reader modelled
knows the rule's choice of secondary cell (the smallest published one, so an
``x`` is at most every number still shown in its row) but not every inference
from the rule's stopping point ("one secondary cell was not enough, so ..."),
nor what a withheld table says (that some row of it could not be protected).
Nor does it know of relations between rows beyond their shared total: two checks
whose outcomes are equal by construction (one source answer behind both) would
let a reader carry a number from one row to the other. Protection is per table:
there is no guarantee for a table built from other counts than these (e.g. a
total over gemeenten or months, which this report deliberately does not publish).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: counts below this are never published
DREMPEL: Final = 10
#: each suppressed cell keeps at least this many possible values (see the module docstring)
MIN_WAARDEN: Final = 3
#: what a primary suppressed count shows
KLEIN: Final = "<10"
#: what a secondary suppressed count (or a suppressed total of a table with N >= 10) shows
GEHEIM: Final = "x"


class Status(StrEnum):
    """Why a number is or is not shown."""

    GEPUBLICEERD = "gepubliceerd"
    PRIMAIR = "primair"  # below DREMPEL: shown as KLEIN, known to lie in 0..9
    SECUNDAIR = "secundair"  # suppressed to protect a primary cell: shown as GEHEIM, known to be >= 10


@dataclass(frozen=True, slots=True)
class Cel:
    """One published-or-not count. ``waarde`` is None unless published: the suppressed value never
    leaves :func:`onderdruk_tabel`, so a template or a chart cannot show it by mistake."""

    waarde: int | None
    status: Status

    @property
    def tekst(self) -> str:
        if self.status is Status.PRIMAIR:
            return KLEIN
        if self.status is Status.SECUNDAIR:
            return GEHEIM
        return str(self.waarde)


@dataclass(frozen=True, slots=True)
class Rij:
    """One check's row: its cells in the order of the input and the row total."""

    cellen: dict[str, Cel]
    totaal: Cel

    def som(self, sleutels: Sequence[str]) -> int | None:
        """The sum of these cells if the published numbers determine it, else None.

        Determined when none of them is suppressed, or when they include every
        suppressed cell of the row and the total is published (total minus the
        published others). Any other combination is unknown to a reader.
        """
        gekozen = set(sleutels)
        verborgen = {k for k, c in self.cellen.items() if c.waarde is None}
        if not verborgen & gekozen:
            return sum(self.cellen[k].waarde or 0 for k in gekozen)
        if verborgen <= gekozen and self.totaal.waarde is not None:
            rest = sum(c.waarde or 0 for k, c in self.cellen.items() if k not in gekozen)
            return self.totaal.waarde - rest
        return None


@dataclass(frozen=True, slots=True)
class Tabel:
    """The publishable form of one gemeente-month table."""

    meldingen: Cel
    rijen: dict[str, Rij]

    @property
    def geheel_onderdrukt(self) -> bool:
        return self.meldingen.waarde is None


def aandeel(teller: int | None, noemer: int | None) -> float | None:
    """A rate in percent, or None unless both are determined and at least :data:`DREMPEL`.

    Callers pass only determined numbers (:meth:`Rij.som`, a published cell);
    None means "not determined by what is published".
    """
    if teller is None or noemer is None or teller < DREMPEL or noemer < DREMPEL:
        return None
    return 100.0 * teller / noemer


def interval(
    waarden: Mapping[str, int], onderdrukt: Mapping[str, Status], totaal: int
) -> dict[str, tuple[int, int]]:
    """The feasible interval of every suppressed cell given the published cells and total.

    A reader knows: the published cells, the total, and per suppressed cell its
    symbol's bounds: primary 0..min(9, total); secondary 10..total, and no more
    than the smallest published cell of the row, since the rule suppresses the
    smallest published cell first (a reader who knows the rule knows that). One equation
    over integer boxes: every integer between the returned bounds is attained
    (move one unit at a time between cells), so the interval is exact.
    """
    verborgen = [k for k in waarden if k in onderdrukt]
    getoond = [v for k, v in waarden.items() if k not in onderdrukt]
    rest = totaal - sum(getoond)
    hoogste_secundair = min([totaal, *getoond])
    grenzen = {
        k: (0, min(DREMPEL - 1, totaal)) if onderdrukt[k] is Status.PRIMAIR else (DREMPEL, hoogste_secundair)
        for k in verborgen
    }
    som_laag = sum(lo for lo, _ in grenzen.values())
    som_hoog = sum(hi for _, hi in grenzen.values())
    uit: dict[str, tuple[int, int]] = {}
    for k in verborgen:
        lo, hi = grenzen[k]
        uit[k] = (max(lo, rest - (som_hoog - hi)), min(hi, rest - (som_laag - lo)))
    return uit


def _rij_status(waarden: Mapping[str, int], min_waarden: int) -> dict[str, Status] | None:
    """Primary plus as few secondary suppressions as the greedy rule needs; None: cannot protect."""
    totaal = sum(waarden.values())
    status = {k: Status.PRIMAIR for k, v in waarden.items() if v < DREMPEL}
    if not status:
        return {}
    kandidaten = sorted((v, k) for k, v in waarden.items() if k not in status)
    while True:
        grenzen = interval(waarden, status, totaal)
        if all(hi - lo + 1 >= min_waarden for lo, hi in grenzen.values()):
            return status
        if not kandidaten:
            return None
        _, k = kandidaten.pop(0)
        status[k] = Status.SECUNDAIR


def _verborgen_rij_beschermd(status: Mapping[str, Status], meldingen: int, min_waarden: int) -> bool:
    """Whether a row hidden whole (total too) still leaves every cell ``min_waarden`` values.

    The reader knows each symbol's bounds (``<10``: 0..9; ``x``: at least 10) and
    that the row cannot count more than the published N; nothing else links the cells.
    """
    grenzen = {
        k: (0, DREMPEL - 1) if s is Status.PRIMAIR else (DREMPEL, meldingen) for k, s in status.items()
    }
    som_laag = sum(lo for lo, _ in grenzen.values())
    for lo, hi in grenzen.values():
        hoogste = min(hi, meldingen - (som_laag - lo))
        if hoogste - lo + 1 < min_waarden:
            return False
    return True


def onderdruk_tabel(
    meldingen: int, rijen: Mapping[str, Mapping[str, int]], min_waarden: int = MIN_WAARDEN
) -> Tabel:
    """Apply the rules of the module docstring to one gemeente-month table.

    ``rijen`` maps a check id to its counts per outcome (all outcomes present,
    zeros included, in the order they should be shown). Pure: the same counts
    always give the same table. A table suppressed as a whole has no rows at
    all: not even the symbols of its cells are shown.
    """
    if min_waarden < 2:
        raise ValueError("min_waarden: minstens 2 (anders is een onderdrukte cel te bepalen)")
    if meldingen < 0 or any(v < 0 for rij in rijen.values() for v in rij.values()):
        raise ValueError("tellingen zijn niet negatief")
    if any(sum(rij.values()) > meldingen for rij in rijen.values()):
        raise ValueError("een rij telt meer uitkomsten dan er meldingen zijn")
    if meldingen < DREMPEL:
        return Tabel(Cel(None, Status.PRIMAIR), {})
    uit: dict[str, Rij] = {}
    for check_id, waarden in rijen.items():
        totaal = sum(waarden.values())
        if totaal < DREMPEL:  # only possible when the row is not N: nothing links it to N
            uit[check_id] = Rij({k: Cel(None, Status.PRIMAIR) for k in waarden}, Cel(None, Status.PRIMAIR))
            continue
        status = _rij_status(waarden, min_waarden)
        if status is None and totaal == meldingen:
            # the row total is N, published with every other row: no way to hide it alone
            return Tabel(Cel(None, Status.SECUNDAIR), {})
        if status is None:  # a total that is not N: hide it, and every small cell with it
            status = {k: Status.PRIMAIR if v < DREMPEL else Status.SECUNDAIR for k, v in waarden.items()}
            if not _verborgen_rij_beschermd(status, meldingen, min_waarden):
                # even with its total hidden the row is bounded by N (the cells cannot add up to
                # more): a cell it pins down gives the table away, so the table is withheld whole
                return Tabel(Cel(None, Status.SECUNDAIR), {})
            cellen = {k: Cel(None, s) for k, s in status.items()}
            uit[check_id] = Rij(cellen, Cel(None, Status.SECUNDAIR))
            continue
        cellen = {
            k: Cel(v, Status.GEPUBLICEERD) if k not in status else Cel(None, status[k])
            for k, v in waarden.items()
        }
        uit[check_id] = Rij(cellen, Cel(totaal, Status.GEPUBLICEERD))
    return Tabel(Cel(meldingen, Status.GEPUBLICEERD), uit)


#: the outcomes of a check that was run (its source was asked); niet_uitgevoerd is the rest
UITGEVOERD: Final = ("ja", "nee", "onbekend")


def aandelen(rij: Rij) -> dict[str, float | None]:
    """The rates the report shows for one row, each None unless rule 4 allows it.

    ``ja``, ``nee`` and ``onbekend`` as a share of the checks that were run
    (``uitgevoerd`` = ja + nee + onbekend: e.g. the share without a valid ID at
    intake is id_bewijs nee / id_bewijs uitgevoerd), and ``uitgevoerd`` as a
    share of the row total.
    """
    uitgevoerd = rij.som([k for k in UITGEVOERD if k in rij.cellen])
    uit: dict[str, float | None] = {
        k: aandeel(rij.som([k]), uitgevoerd) for k in UITGEVOERD if k in rij.cellen
    }
    uit["uitgevoerd"] = aandeel(uitgevoerd, rij.totaal.waarde)
    return uit
