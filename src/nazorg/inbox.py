"""Store judged meldingen: valid ones in the inbox, the rest in quarantine. Nothing is dropped.

One submission writes at most MAX_QUARANTAINE_RIJEN quarantine rows: a hostile
file of 100,000 tiny records would otherwise bury the rows operators read. The
refused records beyond that are still counted, in one ``quarantaine_limiet``
row for the submission.

Each melding stored gets a random run key (:mod:`nazorg.run_key`): the only
identifier of it that Airflow, its logs and the outbox file names ever see.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from nazorg.intake import Beoordeling, Resultaat, herkomst_voor
from nazorg.models import Fase, MeldingStatus
from nazorg.run_key import nieuwe_run_key
from nazorg.store import Store, now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_QUARANTAINE_RIJEN = 1000
"""Quarantine rows one `dien_in` call writes for its records (the summary row comes on top)."""
BATCH = 500
"""Records per transaction: few commits, yet a short lock on an embedded SQLite database."""


def _rij(
    *,
    melding_id: str | None,
    herkomst: str,
    fase: Fase,
    reden_code: str,
    veld: str | None = None,
    expectation: str | None = None,
) -> dict[str, str | None]:
    return {
        "quarantaine_id": uuid.uuid4().hex,
        "melding_id": melding_id,
        "herkomst": herkomst,
        "fase": fase.value,
        "reden_code": reden_code,
        "veld": veld,
        "expectation": expectation,
        "nu": now(),
    }


def quarantaine(
    store: Store,
    *,
    melding_id: str | None,
    herkomst: str,
    fase: Fase,
    reden_code: str,
    veld: str | None = None,
    expectation: str | None = None,
    conn: Connection | None = None,
) -> None:
    """One quarantine row; ``conn`` puts it in the caller's transaction (a block)."""
    store.execute(
        "quarantaine_insert",
        _rij(
            melding_id=melding_id,
            herkomst=herkomst,
            fase=fase,
            reden_code=reden_code,
            veld=veld,
            expectation=expectation,
        ),
        conn=conn,
    )


class _Limiet:
    """Rows left for one submission; once a record does not fit, later refusals are only counted."""

    def __init__(self, rijen: int) -> None:
        self.over = rijen
        self.vol = False
        self.boven = 0

    def past(self, rijen: int) -> bool:
        if not self.vol and rijen <= self.over:
            self.over -= rijen
            return True
        self.vol = True
        self.boven += 1
        return False


def sla_op(
    store: Store,
    beoordeling: Beoordeling,
    limiet: _Limiet | None = None,
    conn: Connection | None = None,
) -> Resultaat:
    """Store one judged melding; within ``conn``'s transaction when given, else in its own."""
    if conn is None:
        with store.transaction() as own:
            return sla_op(store, beoordeling, limiet, own)
    melding = beoordeling.melding
    if melding is None:
        rows = [
            _rij(
                melding_id=beoordeling.melding_id,
                herkomst=beoordeling.herkomst,
                fase=Fase.INTAKE,
                reden_code=afwijzing.reden_code,
                veld=afwijzing.veld,
            )
            for afwijzing in beoordeling.afwijzingen
        ]
        if rows and (limiet is None or limiet.past(len(rows))):
            store.execute("quarantaine_insert", rows, conn=conn)
        return "quarantaine"
    digest = melding.inhoud_hash()
    existing = store.query("inbox_hash", {"melding_id": melding.melding_id}, conn=conn)
    if not existing:
        store.execute(
            "inbox_insert",
            {
                **melding.model_dump(mode="json"),
                "run_key": nieuwe_run_key(),
                "inhoud_hash": digest,
                "status": MeldingStatus.ONTVANGEN.value,
                "nu": now(),
            },
            conn=conn,
        )
        return "opgeslagen"
    if existing[0]["inhoud_hash"] == digest:
        return "al_aanwezig"
    # Same id, different content: keep the first, make the second visible.
    if limiet is None or limiet.past(1):
        store.execute(
            "quarantaine_insert",
            _rij(
                melding_id=melding.melding_id,
                herkomst=beoordeling.herkomst,
                fase=Fase.INTAKE,
                reden_code="melding_id_conflict",
                veld="melding_id",
            ),
            conn=conn,
        )
    return "conflict"


def run_key_voor(store: Store, melding_id: str) -> str | None:
    """The run key the inbox gave this melding (None: not in the inbox); it starts the melding's run."""
    rows = store.query("inbox_run_key", {"melding_id": melding_id})
    return str(rows[0]["run_key"]) if rows else None


@dataclass(frozen=True, slots=True)
class Inzendingsresultaat:
    """What one submission did; counts records, never values."""

    inzending: str
    aantallen: Counter[Resultaat] = field(default_factory=Counter)
    melding_ids: tuple[str, ...] = ()  # valid meldingen (stored, present or conflicting), input order
    boven_limiet: int = 0  # refused records counted only in the quarantaine_limiet row

    @property
    def totaal(self) -> int:
        return sum(self.aantallen.values())


def dien_in(
    store: Store,
    beoordelingen: Iterable[Beoordeling],
    *,
    inzending: str,
    max_rijen: int = MAX_QUARANTAINE_RIJEN,
) -> Inzendingsresultaat:
    """Store every judged record of one submission, read lazily and committed BATCH at a time.

    Beyond ``max_rijen`` quarantine rows, one ``quarantaine_limiet`` row with
    herkomst ``inzending:<id>`` and veld ``<aantal:N>`` accounts for the N
    refused records that got no row of their own.
    """
    summary_herkomst = herkomst_voor(inzending)
    limiet = _Limiet(max_rijen)
    aantallen: Counter[Resultaat] = Counter()
    ids: list[str] = []
    pending = iter(beoordelingen)
    while batch := list(islice(pending, BATCH)):
        with store.transaction() as conn:
            for beoordeling in batch:
                resultaat = sla_op(store, beoordeling, limiet, conn)
                aantallen[resultaat] += 1
                if beoordeling.melding is not None:
                    ids.append(beoordeling.melding.melding_id)
    if limiet.boven:
        quarantaine(
            store,
            melding_id=None,
            herkomst=summary_herkomst,
            fase=Fase.INTAKE,
            reden_code="quarantaine_limiet",
            veld=f"<aantal:{limiet.boven}>",
        )
    return Inzendingsresultaat(inzending, aantallen, tuple(ids), limiet.boven)
