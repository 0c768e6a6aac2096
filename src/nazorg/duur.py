"""ISO 8601 durations as the register writes them (``P1Y``, ``P6M``, ``P2W``, ``P30D``), added to dates.

Why a module of its own: the retention terms of the register and of the
settings (processing log, quarantine, the longest detention) are all such
durations, and the settings must be able to check one without importing the
register's pydantic models. Calendar arithmetic, not days: ``P1Y`` from
29 February is 28 February of the next year (the month's last day when the day
does not exist), so a term never ends before a full year has passed.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

#: the same form the register accepts (nazorg.register.ISO_DURATION): years, months, weeks, days
ISO_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


class DuurOngeldig(ValueError):
    """Not an ISO 8601 duration of the register's form."""


def is_duur(value: str) -> bool:
    return bool(ISO_DURATION.match(value))


def tel_op(start: date, duur: str) -> date:
    """``start`` plus the duration: years and months on the calendar (clamped), then weeks and days."""
    match = ISO_DURATION.match(duur)
    if match is None:
        raise DuurOngeldig(f"{duur!r} is geen ISO 8601-duur (bijv. P1Y)")
    jaren, maanden, weken, dagen = (int(g) if g else 0 for g in match.groups())
    maand_index = start.month - 1 + maanden + 12 * jaren
    jaar, maand = start.year + maand_index // 12, maand_index % 12 + 1
    dag = min(start.day, calendar.monthrange(jaar, maand)[1])
    return date(jaar, maand, dag) + timedelta(weeks=weken, days=dagen)
