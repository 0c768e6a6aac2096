"""Store judged meldingen: valid ones in the inbox, the rest in quarantine. Nothing is dropped."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nazorg.intake import Beoordeling, Resultaat
from nazorg.models import Fase, MeldingStatus
from nazorg.store import Store, now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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
        {
            "quarantaine_id": uuid.uuid4().hex,
            "melding_id": melding_id,
            "herkomst": herkomst,
            "fase": fase.value,
            "reden_code": reden_code,
            "veld": veld,
            "expectation": expectation,
            "nu": now(),
        },
        conn=conn,
    )


def sla_op(store: Store, beoordeling: Beoordeling) -> Resultaat:
    melding = beoordeling.melding
    if melding is None:
        for afwijzing in beoordeling.afwijzingen:
            quarantaine(
                store,
                melding_id=beoordeling.melding_id,
                herkomst=beoordeling.herkomst,
                fase=Fase.INTAKE,
                reden_code=afwijzing.reden_code,
                veld=afwijzing.veld,
            )
        return "quarantaine"
    digest = melding.inhoud_hash()
    with store.transaction() as conn:
        existing = store.query("inbox_hash", {"melding_id": melding.melding_id}, conn=conn)
        if not existing:
            store.execute(
                "inbox_insert",
                {
                    **melding.model_dump(mode="json"),
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
    quarantaine(
        store,
        melding_id=melding.melding_id,
        herkomst=beoordeling.herkomst,
        fase=Fase.INTAKE,
        reden_code="melding_id_conflict",
        veld="melding_id",
    )
    return "conflict"


def dien_in(store: Store, beoordelingen: Iterable[Beoordeling]) -> Counter[Resultaat]:
    return Counter(sla_op(store, b) for b in beoordelingen)
