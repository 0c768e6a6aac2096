"""When an ``onbekend`` outcome is asked again: the retry bookkeeping of one check.

A STAND-IN. The batch runner (``nazorg.batch.verzamel``, helper "core") owns the
rule and its settings; this module keeps the chunk processing
(:mod:`nazorg.batch.chunk`) independent of when that lands. It uses core's
function when it is there and otherwise a local rule with the same signature,
so the chunk code calls one name either way. Remove the fallback once
``verzamel.volgende_poging`` is on main.

Why only transient reasons: a source that was unreachable, failed or timed out
may answer next time; an ambiguous record, a person not found or a field in
onderzoek will not change by asking again soon, and asking again is processing
without a new reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from nazorg.models import Reden, Uitkomst

if TYPE_CHECKING:
    from nazorg.settings import Settings

#: reasons an onbekend may be asked again: the source itself failed, not the person's record
TRANSIENTE_REDENEN = frozenset(
    {Reden.BRON_ONBEREIKBAAR.value, Reden.BRON_FOUT.value, Reden.BRON_TIMEOUT.value}
)
#: stand-in: attempts in all (the first included) before an onbekend stays as it is
MAX_POGINGEN = 5
#: stand-in: the wait after the first attempt, doubled after every further one
EERSTE_WACHTTIJD = timedelta(minutes=15)


def _lokaal(
    pogingen: int, uitkomst: str, reden: str | None, settings: Settings | None, nu: datetime | str
) -> str | None:
    """The ISO time the check is due again, or None (answered, a lasting reason, or out of attempts).

    ``pogingen`` is the number of attempts including the one just made.
    """
    del settings  # the stand-in has no settings of its own
    if uitkomst != Uitkomst.ONBEKEND.value or reden not in TRANSIENTE_REDENEN:
        return None
    if pogingen >= MAX_POGINGEN:
        return None
    moment = datetime.fromisoformat(nu) if isinstance(nu, str) else nu
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    wacht = EERSTE_WACHTTIJD * (2 ** max(0, pogingen - 1))
    return str((moment + wacht).astimezone(UTC).isoformat(timespec="milliseconds"))


@cache
def _regel() -> Callable[..., Any]:
    """Core's ``volgende_poging`` once it exists, else the stand-in; looked up once per process."""
    try:
        from nazorg.batch.verzamel import volgende_poging as regel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _lokaal
    return cast("Callable[..., Any]", regel)


def volgende_poging(
    pogingen: int, uitkomst: str, reden: str | None, settings: Settings | None, nu: datetime | str
) -> str | None:
    """Core's rule when it is installed (``nazorg.batch.verzamel``), else the stand-in above."""
    result = _regel()(pogingen, uitkomst, reden, settings, nu)
    return None if result is None else str(result)
