"""The per-melding steps behind the DAG's tasks.

Each step takes the :class:`~nazorg.wiring.Runtime` (store, policy, sources,
settings) and a melding id, does its work against the pipeline DB and
returns counts only: outcomes and BSNs never leave the pipeline DB through
Airflow (no XCom, no logs). Steps are idempotent, so a retried or repeated
run converges on one basisdocument.

Blocking is final. The six check tasks of a run write in parallel, so one of
them can block the melding while another is still storing its outcome. Every
write for a melding therefore runs in a transaction that first claims the
melding's inbox row (``inbox_vergrendel``: a row lock on PostgreSQL, the write
lock on SQLite) and finds nothing to claim once the melding is blocked; a block
claims the same row first and purges in the same transaction. Whichever comes
second waits for the first, so an outcome either lands before the block (and is
purged by it) or is refused with :class:`Geblokkeerd`. No step leads out of
``geblokkeerd``: not a re-run of ``ontvang`` nor of ``plan``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg import basisdocument as bd
from nazorg.checks import Geval, evalueer
from nazorg.inbox import quarantaine
from nazorg.models import (
    Aandachtsgebied,
    CheckResult,
    DocumentStatus,
    Fase,
    MeldingStatus,
    Reden,
    Uitkomst,
    Uitvoeren,
)
from nazorg.plan import beslis
from nazorg.processing_log import Verwerking, schrijf
from nazorg.sources.errors import SourceShapeError
from nazorg.sources.kinds import Sources
from nazorg.store import Store, now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.wiring import Runtime


class MeldingOnbekend(LookupError):
    """The inbox has no melding with this id (it may have been quarantined)."""


class Geblokkeerd(RuntimeError):
    """The melding is blocked, or publication was refused.

    The quarantine says why (codes and names); the message never carries a value.
    """


def _melding(store: Store, melding_id: str) -> dict[str, Any]:
    rows = store.query("inbox_get", {"melding_id": melding_id})
    if not rows:
        raise MeldingOnbekend(f"melding {melding_id} staat niet in de inbox")
    return rows[0]


@contextmanager
def _schrijf(store: Store, melding_id: str) -> Iterator[Connection]:
    """A transaction for writes about one melding that is not blocked (see the module docstring)."""
    with store.transaction() as conn:
        claimed = store.execute(
            "inbox_vergrendel",
            {"melding_id": melding_id, "geblokkeerd": MeldingStatus.GEBLOKKEERD.value, "nu": now()},
            conn=conn,
        )
        if not claimed:
            if not store.query("inbox_get", {"melding_id": melding_id}, conn=conn):
                raise MeldingOnbekend(f"melding {melding_id} staat niet in de inbox")
            raise Geblokkeerd(f"melding {melding_id} is geblokkeerd; zie quarantaine")
        yield conn


def _block(
    store: Store,
    melding_id: str,
    fase: Fase,
    reden_code: str,
    velden: list[tuple[str | None, str | None]],
) -> None:
    """Mark the melding blocked, quarantine names only and purge what was staged, in one transaction.

    The status is set first: that takes the melding's row lock, so a concurrent
    write waits for the purge to commit and is then refused.
    """
    with store.transaction() as conn:
        store.execute(
            "inbox_blokkeer",
            {"melding_id": melding_id, "geblokkeerd": MeldingStatus.GEBLOKKEERD.value, "nu": now()},
            conn=conn,
        )
        for veld, expectation in velden:
            quarantaine(
                store,
                melding_id=melding_id,
                herkomst="pipeline",
                fase=fase,
                reden_code=reden_code,
                veld=veld,
                expectation=expectation,
                conn=conn,
            )
        store.execute("uitkomst_delete", {"melding_id": melding_id}, conn=conn)
        store.execute("basisdocument_delete", {"melding_id": melding_id}, conn=conn)


def _bewaar_uitkomst(
    store: Store,
    melding_id: str,
    aandachtsgebied: Aandachtsgebied,
    processing_activity_id: str,
    result: CheckResult,
) -> None:
    """Stage one check's outcome; refused with :class:`Geblokkeerd` once the melding is blocked.

    A contact the check refused (not a team of the besluit) is quarantined in the
    same transaction: the check and the reason, never the text.
    """
    with _schrijf(store, melding_id) as conn:
        if result.contact_geweigerd:
            quarantaine(
                store,
                melding_id=melding_id,
                herkomst="pipeline",
                fase=Fase.CHECK,
                reden_code=Reden.CONTACT_NIET_IN_BESLUIT.value,
                veld=f"{result.check_id}.dossierverantwoordelijke",
                conn=conn,
            )
        store.execute(
            "uitkomst_upsert",
            {
                "melding_id": melding_id,
                "check_id": result.check_id,
                "aandachtsgebied": aandachtsgebied.value,
                "uitkomst": result.uitkomst.value,
                "dossierverantwoordelijke": result.dossierverantwoordelijke,
                "reden": result.reden.value if result.reden else None,
                "processing_activity_id": processing_activity_id,
                "nu": now(),
            },
            conn=conn,
        )


def ontvang(rt: Runtime, melding_id: str) -> dict[str, int]:
    store = rt.store
    with _schrijf(store, melding_id) as conn:
        store.execute(
            "inbox_set_status",
            {
                "melding_id": melding_id,
                "status": MeldingStatus.IN_BEHANDELING.value,
                "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                "nu": now(),
            },
            conn=conn,
        )
    return {"meldingen": 1}


def plan(rt: Runtime, melding_id: str, peildatum: date | None = None) -> dict[str, int]:
    """Decide every register check; refused ones are recorded as niet_uitgevoerd right away."""
    store, pol = rt.store, rt.policy
    melding = _melding(store, melding_id)
    besluit = pol.besluit(melding["gemeente_code"])
    dag = (peildatum or date.today()).isoformat()
    toestemmingen = {
        r["check_id"] for r in store.query("toestemming_for", {"bsn": melding["bsn"], "peildatum": dag})
    }
    regels = beslis(pol.register, besluit, toestemmingen)
    nu = now()
    with _schrijf(store, melding_id) as conn:  # a re-run must not un-block (or refill) a blocked melding
        store.execute("plan_delete", {"melding_id": melding_id}, conn=conn)
        store.execute("uitkomst_delete", {"melding_id": melding_id}, conn=conn)
        store.execute(
            "plan_upsert",
            [
                {
                    "melding_id": melding_id,
                    "check_id": r.check_id,
                    "aandachtsgebied": r.aandachtsgebied.value,
                    "uitvoeren": (Uitvoeren.JA if r.uitvoeren else Uitvoeren.NEE).value,
                    "reden": r.reden.value if r.reden else None,
                }
                for r in regels
            ],
            conn=conn,
        )
        niet = [r for r in regels if not r.uitvoeren]
        if niet:
            store.execute(
                "uitkomst_upsert",
                [
                    {
                        "melding_id": melding_id,
                        "check_id": r.check_id,
                        "aandachtsgebied": r.aandachtsgebied.value,
                        "uitkomst": Uitkomst.NIET_UITGEVOERD.value,
                        "dossierverantwoordelijke": None,
                        "reden": r.reden.value if r.reden else None,
                        "processing_activity_id": pol.register.entry(r.check_id).processing_activity_id,
                        "nu": nu,
                    }
                    for r in niet
                ],
                conn=conn,
            )
    return {"uit_te_voeren": len(regels) - len(niet), "niet_uitgevoerd": len(niet)}


def voer_checks_uit(
    rt: Runtime,
    melding_id: str,
    aandachtsgebied: Aandachtsgebied,
    trace_id: str,
    peildatum: date | None = None,
) -> dict[str, int]:
    """Run the planned checks of one aandachtsgebied for one melding."""
    with rt.open_sources() as bronnen:
        return _voer_checks_uit(rt, bronnen, melding_id, aandachtsgebied, trace_id, peildatum)


def _voer_checks_uit(
    rt: Runtime,
    bronnen: Sources,
    melding_id: str,
    aandachtsgebied: Aandachtsgebied,
    trace_id: str,
    peildatum: date | None,
) -> dict[str, int]:
    store, pol = rt.store, rt.policy
    melding = _melding(store, melding_id)
    besluit = pol.besluit(melding["gemeente_code"])
    planned = [
        r["check_id"]
        for r in store.query("plan_for", {"melding_id": melding_id})
        if r["aandachtsgebied"] == aandachtsgebied.value and r["uitvoeren"] == Uitvoeren.JA
    ]
    geval = Geval(melding_id, melding["bsn"], melding["reclassering_betrokken"])
    dag = peildatum or date.today()
    verwerkingen = []
    for check_id in planned:
        entry = pol.register.entry(check_id)
        chosen = besluit.checks.get(check_id)
        if chosen is None:  # the besluit changed between plan and run: refuse, do not guess
            raise Geblokkeerd(f"check {check_id} niet (meer) toegestaan door besluit {besluit.besluit.id}")
        start = now()
        try:
            result = evalueer(entry, besluit, [geval], bronnen, dag)[melding_id]
        except SourceShapeError as exc:
            _block(
                store,
                melding_id,
                Fase.CHECK,
                exc.reden_code,
                [(kolom, None) for kolom in exc.kolommen],
            )
            raise Geblokkeerd(
                f"check {check_id}: {exc.reden_code}; melding {melding_id} geblokkeerd"
            ) from None
        verwerkingen.append(
            Verwerking(
                trace_id=trace_id,
                check_id=check_id,
                processing_activity_id=entry.processing_activity_id,
                bsn=melding["bsn"],
                start_time=start,
                end_time=now(),
                geslaagd=result.uitkomst in (Uitkomst.JA, Uitkomst.NEE),
            )
        )
        try:
            _bewaar_uitkomst(store, melding_id, entry.aandachtsgebied, entry.processing_activity_id, result)
        except Geblokkeerd:
            # another check blocked the melding meanwhile; the sources were asked all the same
            schrijf(store, verwerkingen, rt.settings.pseudonym_key())
            raise
    schrijf(store, verwerkingen, rt.settings.pseudonym_key())
    return {"checks": len(planned)}


def stel_basisdocument_op(rt: Runtime, melding_id: str) -> dict[str, int]:
    store, pol = rt.store, rt.policy
    melding = _melding(store, melding_id)
    besluit = pol.besluit(melding["gemeente_code"])
    uitkomsten = store.query("uitkomst_for", {"melding_id": melding_id})
    document = bd.stel_op(
        melding_id,
        melding["gemeente_code"],
        besluit.besluit.id,
        pol.register.register_versie,
        uitkomsten,
    )
    with _schrijf(store, melding_id) as conn:
        store.execute(
            "basisdocument_upsert",
            {
                "melding_id": melding_id,
                "gemeente_code": melding["gemeente_code"],
                "status": DocumentStatus.CONCEPT.value,
                "inhoud": json.dumps(document, ensure_ascii=False),
                "register_versie": pol.register.register_versie,
                "nu": now(),
            },
            conn=conn,
        )
    return {"checks": len(uitkomsten)}


def bewaak(rt: Runtime, melding_id: str) -> dict[str, int]:
    """Great Expectations decides; a failure quarantines names only and purges the concept."""
    import pandas as pd

    store = rt.store
    from nazorg.guard import validate_frame

    rows = store.query("basisdocument_get", {"melding_id": melding_id})
    if not rows or rows[0]["status"] not in (DocumentStatus.CONCEPT, DocumentStatus.GOEDGEKEURD):
        raise Geblokkeerd(f"geen concept-basisdocument voor melding {melding_id}")
    document = json.loads(rows[0]["inhoud"])
    frame = pd.DataFrame(bd.rows(document))
    verdict = validate_frame(frame)
    if not verdict.passed:
        _block(
            store,
            melding_id,
            Fase.BEWAAK,
            "overcollectie",
            [(f.column, f.expectation) for f in verdict.failures],
        )
        raise Geblokkeerd(
            f"melding {melding_id} geblokkeerd door {len(verdict.failures)} expectation(s); zie quarantaine"
        )
    with _schrijf(store, melding_id) as conn:
        store.execute(
            "basisdocument_set_status",
            {"melding_id": melding_id, "status": DocumentStatus.GOEDGEKEURD.value, "nu": now()},
            conn=conn,
        )
    return {"rijen": verdict.evaluated}


def publiceer(rt: Runtime, melding_id: str, directory: Path | None = None) -> dict[str, int]:
    """Write the approved document to the outbox table and as JSON; only approved documents go out.

    All under the melding's claim: a block cannot slip in between reading the
    approved document and recording it as published.
    """
    store = rt.store
    with _schrijf(store, melding_id) as conn:
        rows = store.query("basisdocument_get", {"melding_id": melding_id}, conn=conn)
        if not rows or rows[0]["status"] not in (DocumentStatus.GOEDGEKEURD, DocumentStatus.GEPUBLICEERD):
            raise Geblokkeerd(f"basisdocument {melding_id} is niet goedgekeurd door de bewaking")
        row = rows[0]
        target_dir = (directory or rt.settings.outbox_dir) / row["gemeente_code"]
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{melding_id}.json"
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(row["inhoud"], encoding="utf-8")
        tmp.replace(target)  # atomic: a reader never sees half a document
        store.execute(
            "outbox_upsert",
            {
                "melding_id": melding_id,
                "gemeente_code": row["gemeente_code"],
                "inhoud": row["inhoud"],
                "bestand": str(target),
                "nu": now(),
            },
            conn=conn,
        )
        store.execute(
            "basisdocument_set_status",
            {"melding_id": melding_id, "status": DocumentStatus.GEPUBLICEERD.value, "nu": now()},
            conn=conn,
        )
        store.execute(
            "inbox_set_status",
            {
                "melding_id": melding_id,
                "status": MeldingStatus.GEPUBLICEERD.value,
                "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                "nu": now(),
            },
            conn=conn,
        )
    return {"gepubliceerd": 1}
