"""What the werklijst shows: the published documents of one gemeente, for one role, filtered.

Pure: rows in (``outbox`` of the gemeente, the ``uitkomst`` rows that wait for a
retry), items out; no I/O, the clock is an argument.

- **actie nodig**: a check of the published document whose outcome is its register
  entry's ``actie.uitkomst`` (the same rule as the page's "Te doen",
  :func:`nazorg.basisdocument_html.actie_nodig`);
- **wacht**: a check whose outcome row has ``volgende_poging`` set (the batch path
  asks it again);
- **nieuw**: published less than ``nieuw_uren`` hours ago. Why a window and not
  "not yet opened": recording who opened which detention's document is itself
  a processing of personal data (a table keyed by melding id that retention
  would have to delete too); the window answers "what came in since my last
  working day" without it. A "gezien" table is the documented next step.

Only checks whose register ``ontvangers`` include the role count: a list must
not tell a role more than the page it opens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from nazorg.basisdocument_html import actie_nodig

if TYPE_CHECKING:
    from nazorg.register import Register


class Status(StrEnum):
    """The status filter (a closed list; the select on the page offers exactly these)."""

    ALLE = "alle"
    NIEUW = "nieuw"
    ACTIE = "actie"
    WACHT = "wacht"
    ZONDER_ACTIE = "zonder_actie"


STATUS_NL = {
    Status.ALLE: "alle",
    Status.NIEUW: "nieuw",
    Status.ACTIE: "actie nodig",
    Status.WACHT: "wacht op nieuwe check",
    Status.ZONDER_ACTIE: "geen actie nodig",
}


@dataclass(frozen=True)
class Filter:
    status: Status = Status.ALLE
    van: date | None = None
    tot: date | None = None  # inclusive


class FilterFout(ValueError):
    """A filter value outside its vocabulary or format; ``veld`` names the query parameter."""

    def __init__(self, veld: str) -> None:
        super().__init__(veld)
        self.veld = veld


def filter_uit(params: Mapping[str, str]) -> Filter:
    """The filter from query parameters; an unknown status or a bad date is refused (FilterFout)."""
    try:
        status = Status(params.get("status") or Status.ALLE.value)
    except ValueError:
        raise FilterFout("status") from None
    datums: dict[str, date | None] = {}
    for veld in ("van", "tot"):
        waarde = params.get(veld) or ""
        try:
            datums[veld] = date.fromisoformat(waarde) if waarde else None
        except ValueError:
            raise FilterFout(veld) from None
    return Filter(status, datums["van"], datums["tot"])


@dataclass(frozen=True)
class Item:
    melding_id: str
    gepubliceerd_op: datetime | None
    inrichting: str
    datum_binnenkomst: str
    acties: tuple[str, ...]  # the register's vraag of each check that needs action
    wachtend: int
    nieuw: bool


def _moment(waarde: object) -> datetime | None:
    if waarde is None:
        return None
    if isinstance(waarde, datetime):
        moment = waarde
    else:
        try:
            moment = datetime.fromisoformat(str(waarde))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def items(
    outbox: Iterable[Mapping[str, Any]],
    wachtend: Iterable[Mapping[str, Any]],
    *,
    rol: str,
    register: Register,
    nu: datetime,
    nieuw_uren: int,
) -> list[Item]:
    """One item per published document, newest first; counts only checks the role may see."""
    zichtbaar = {e.id for e in register.checks if rol in e.ontvangers}
    wacht: dict[str, int] = {}
    for row in wachtend:
        if str(row["check_id"]) in zichtbaar:
            wacht[str(row["melding_id"])] = wacht.get(str(row["melding_id"]), 0) + 1
    grens = nu - timedelta(hours=nieuw_uren)
    result = []
    for row in outbox:
        document = json.loads(row["inhoud"])
        acties = []
        for groep in document.get("aandachtsgebieden", []):
            for check in groep.get("checks", []):
                check_id = str(check.get("check_id"))
                if check_id in zichtbaar and actie_nodig(check_id, str(check.get("uitkomst")), register):
                    acties.append(register.entry(check_id).vraag)
        moment = _moment(row.get("gepubliceerd_op"))
        melding_id = str(row["melding_id"])
        result.append(
            Item(
                melding_id=melding_id,
                gepubliceerd_op=moment,
                inrichting=str(document.get("inrichting") or ""),
                datum_binnenkomst=str(document.get("datum_binnenkomst") or ""),
                acties=tuple(acties),
                wachtend=wacht.get(melding_id, 0),
                nieuw=moment is not None and moment > grens,
            )
        )
    oud = datetime.min.replace(tzinfo=UTC)
    result.sort(key=lambda i: (i.gepubliceerd_op or oud, i.melding_id), reverse=True)
    return result


def past(item: Item, filter_: Filter) -> bool:
    if filter_.status is Status.NIEUW and not item.nieuw:
        return False
    if filter_.status is Status.ACTIE and not item.acties:
        return False
    if filter_.status is Status.WACHT and not item.wachtend:
        return False
    if filter_.status is Status.ZONDER_ACTIE and item.acties:
        return False
    dag = item.gepubliceerd_op.date() if item.gepubliceerd_op is not None else None
    if filter_.van is not None and (dag is None or dag < filter_.van):
        return False
    return not (filter_.tot is not None and (dag is None or dag > filter_.tot))


def gefilterd(alle: Iterable[Item], filter_: Filter) -> list[Item]:
    return [i for i in alle if past(i, filter_)]
