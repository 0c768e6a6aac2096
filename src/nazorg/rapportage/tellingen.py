"""The report's counts: aggregated in SQL (``sql/rapportage``), per gemeente and month.

Which date makes the month: ``inbox.ontvangen_op``, the moment the pipeline
received the melding, as a month of Europe/Amsterdam. Not ``datum_binnenkomst``
(the start of detention, as the sender states it): a melding may arrive after
its month ended, so a report of a closed month would change afterwards, and
two versions of the same month's table could be subtracted to recover a small
count (:mod:`nazorg.rapportage.onderdrukking` protects one table, not the
difference of two). ``ontvangen_op`` is set once by the inbox and never in the
future, so once a month is over no melding joins it. Only published meldingen
count (``inbox.status = gepubliceerd``), with the outcomes as they stand when
the report is made.

No row per person is read into Python: the statements return one count per
gemeente, check and outcome, and one melding count per gemeente.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nazorg.models import MeldingStatus, Uitkomst

if TYPE_CHECKING:
    from nazorg.store import Store

#: the months of the report are Dutch calendar months
TIJDZONE = ZoneInfo("Europe/Amsterdam")
_MAAND = re.compile(r"^(?P<jaar>[0-9]{4})-(?P<maand>0[1-9]|1[0-2])$")
UITKOMSTEN: tuple[str, ...] = tuple(u.value for u in Uitkomst)


class OngeldigeMaand(ValueError):
    """A month that is not ``YYYY-MM``."""


@dataclass(frozen=True, order=True, slots=True)
class Maand:
    jaar: int
    maand: int

    @classmethod
    def parse(cls, tekst: str) -> Maand:
        match = _MAAND.match(tekst)
        if match is None:
            raise OngeldigeMaand("maand: verwacht JJJJ-MM, bijvoorbeeld 2026-10")
        return cls(int(match["jaar"]), int(match["maand"]))

    @classmethod
    def laatst_afgesloten(cls, moment: datetime) -> Maand:
        """The last month that is over at ``moment`` (an aware datetime), in Dutch time."""
        lokaal = moment.astimezone(TIJDZONE)
        return cls(lokaal.year, lokaal.month).vorige()

    def vorige(self) -> Maand:
        return Maand(self.jaar - 1, 12) if self.maand == 1 else Maand(self.jaar, self.maand - 1)

    def volgende(self) -> Maand:
        return Maand(self.jaar + 1, 1) if self.maand == 12 else Maand(self.jaar, self.maand + 1)

    def begin(self) -> datetime:
        """Midnight of the 1st in Dutch time, as an aware UTC datetime."""
        return datetime(self.jaar, self.maand, 1, tzinfo=TIJDZONE).astimezone(UTC)

    @property
    def label(self) -> str:
        return f"{self.jaar:04d}-{self.maand:02d}"

    def venster(self, aantal: int) -> list[Maand]:
        """The ``aantal`` months ending with this one, oldest first."""
        if aantal < 1:
            raise ValueError("aantal maanden: minstens 1")
        maanden = [self]
        while len(maanden) < aantal:
            maanden.append(maanden[-1].vorige())
        return maanden[::-1]


def _tijdstip(moment: datetime) -> str:
    """The text form ``nazorg.store.now`` writes, so bounds compare with ``ontvangen_op`` as strings."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Telling:
    """One gemeente-month: published meldingen and, per check, the count of every outcome."""

    meldingen: int
    rijen: dict[str, dict[str, int]]


def tel(store: Store, maand: Maand, gemeenten: Sequence[str], check_ids: Sequence[str]) -> dict[str, Telling]:
    """The counts of one month for each of ``gemeenten`` (zeros where nothing was published).

    Every check of ``check_ids`` gets a row with all four outcomes (zeros
    included), in that order; a check id found in the data but not in the list
    (a check since removed from the register) is added after them.
    """
    if not gemeenten:
        return {}
    params = {
        "gepubliceerd": MeldingStatus.GEPUBLICEERD.value,
        "van": _tijdstip(maand.begin()),
        "tot": _tijdstip(maand.volgende().begin()),
        "gemeenten": list(gemeenten),
    }
    with store.transaction() as conn:  # both counts from one snapshot
        meldingen = store.query("rapportage/meldingen_tellingen", params, conn=conn)
        uitkomsten = store.query("rapportage/uitkomst_tellingen", params, conn=conn)
    uit = {g: Telling(0, {c: dict.fromkeys(UITKOMSTEN, 0) for c in check_ids}) for g in gemeenten}
    for rij in meldingen:
        uit[rij["gemeente_code"]] = Telling(int(rij["meldingen"]), uit[rij["gemeente_code"]].rijen)
    for rij in uitkomsten:
        rijen = uit[rij["gemeente_code"]].rijen
        tellingen = rijen.setdefault(rij["check_id"], dict.fromkeys(UITKOMSTEN, 0))
        tellingen[rij["uitkomst"]] = int(rij["aantal"])
    return uit
