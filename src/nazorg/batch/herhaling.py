"""When an ``onbekend`` outcome is asked again: bounded retries with exponential backoff.

Why here, pure: the chunk that stores an outcome (``nazorg.batch.chunk``) and the
runner that gives up on a failed chunk (:mod:`nazorg.batch.runner`) must agree on
the rule, and :func:`nazorg.batch.verzamel.verzamel` selects on what it wrote
(``uitkomst.volgende_poging <= now`` and ``pogingen < max``).

Only a source that was down (unreachable, an error, a timeout) is asked again:
those answers may change within the hour. An ambiguous answer, a record in
onderzoek or a deceased person says something about the record itself and
would only be asked again for nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from nazorg.models import Reden, Uitkomst

if TYPE_CHECKING:
    from nazorg.settings import Settings

#: the reasons of an onbekend that a later attempt may fill in
TRANSIENT: Final = frozenset({Reden.BRON_ONBEREIKBAAR, Reden.BRON_FOUT, Reden.BRON_TIMEOUT})


def tijdstip(moment: datetime) -> str:
    """``moment`` as the pipeline DB stores timestamps (:func:`nazorg.store.now`): UTC, ms, ISO 8601.

    One form everywhere, so that timestamps compare correctly as text in SQL.
    A naive datetime is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def volgende_poging(
    pogingen: int,
    uitkomst: str | None,
    reden: str | None,
    settings: Settings,
    nu: datetime,
) -> str | None:
    """When to ask the check again, or None (not needed, or no attempts left).

    ``pogingen`` counts the attempts made so far, this one included (the first
    evaluation is 1); store it with the outcome. The wait after attempt ``n``
    is ``batch_backoff_s * 2**(n-1)``; after ``batch_max_pogingen`` attempts the
    outcome stays onbekend for good.
    """
    if uitkomst != Uitkomst.ONBEKEND or reden not in TRANSIENT:
        return None
    if pogingen >= settings.batch_max_pogingen:
        return None
    wacht = settings.batch_backoff_s * 2 ** (max(pogingen, 1) - 1)
    return tijdstip(nu + timedelta(seconds=wacht))
