"""The batch path's steps: collect, process each chunk, close the batch; and all of it in-process.

The same functions serve the ``intake_batch`` DAG (one task per step, the chunk
step mapped over the chunk ids: :mod:`nazorg.airflow.batch_tasks`) and
``nazorg batch`` (:func:`run_batch`, no scheduler). What travels between steps
are ids we generate (batch and chunk ids): which melding is in which chunk, and
everything about it, stays in the pipeline DB.

Rules a chunk keeps (:func:`verwerk_chunk`):

- it processes only the meldingen it still holds under its claim
  (``chunk:<chunk_id>``). Processing ends the claim in the same transaction
  that sets the final state (``nazorg.batch.chunk.verwerk``), so a chunk run
  again (an Airflow retry after its worker was killed) does nothing twice: what
  was finished is no longer held, what was not is processed now;
- a chunk marked ``klaar`` returns its counts without touching anything;
- on any error, its meldingen still in processing end ``mislukt`` exactly as a
  failed per-melding run does (:func:`nazorg.pipeline._sluit_af`: quarantine
  row with fase ``batch`` and a reason code, never a value; plan, outcomes and
  document purged), a retry that failed counts as an attempt, every claim it
  held ends, the chunk is ``mislukt`` and the step raises :class:`BatchMislukt`
  with codes and our ids only. A retried task of a failed chunk fails again at
  once, so the DAG run shows it. Airflow's own timeout and termination are not
  errors of the chunk (``BaseException``): the claims stay and the retry takes
  the chunk up again;
- a chunk that holds nothing any more but is not ``klaar`` was cut off after
  its commit (a worker killed between the commit and the end of the task):
  what it published is in the outbox, but its Parquet files may not have been
  moved into place. The retry writes every missing file of the chunk from the
  outbox rows that name it (:func:`_herstel_parquet`), so the file output is
  never short of what the outbox says was published.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from nazorg.batch.resultaat import UITKOMST_KOLOMMEN, BatchSamenvatting, ChunkResultaat
from nazorg.batch.verzamel import (
    Verzameling,
    chunk_claim,
    execute,
    query,
    tijdstip,
    verzamel,
    volgende_poging,
)
from nazorg.models import ChunkStatus, Fase, MeldingStatus, Reden, Soort, Uitkomst

if TYPE_CHECKING:
    from nazorg.settings import Settings
    from nazorg.sources.kinds import Sources
    from nazorg.wiring import Runtime

__all__ = [
    "BatchMislukt",
    "ChunkOnbekend",
    "Verzameling",
    "batch_id_van",
    "onvoltooide_chunks",
    "run_batch",
    "sluit_batch",
    "verwerk_chunk",
    "verzamel",
]

#: the ids :mod:`nazorg.batch.verzamel` generates: only these are ever repeated in a message
BATCH_ID: Final = re.compile(r"^b\d{14}-[a-z]{6}$")
CHUNK_ID: Final = re.compile(r"^b\d{14}-[a-z]{6}-\d{4}$")


class ChunkOnbekend(LookupError):
    """No such chunk (or batch) in the pipeline DB; the message names the id only if it is one of ours."""


class BatchMislukt(RuntimeError):
    """A chunk failed: its unfinished meldingen are closed ``mislukt``. Codes and our ids only."""

    def __init__(self, message: str, *, reden_code: str) -> None:
        super().__init__(message)
        self.reden_code = reden_code


def batch_id_van(chunk_id: str) -> str:
    """The batch a chunk belongs to (its id's prefix); :class:`ChunkOnbekend` for an id not ours."""
    if not isinstance(chunk_id, str) or not CHUNK_ID.fullmatch(chunk_id):
        raise ChunkOnbekend("chunk id heeft een ongeldig formaat")
    return chunk_id.rsplit("-", 1)[0]


def _chunk(rt: Runtime, chunk_id: str) -> dict[str, Any]:
    if not isinstance(chunk_id, str) or not CHUNK_ID.fullmatch(chunk_id):
        raise ChunkOnbekend("chunk id heeft een ongeldig formaat")
    rows = query(rt.store, "chunk_get", {"chunk_id": chunk_id})
    if not rows:
        raise ChunkOnbekend(f"chunk {chunk_id}: niet in de pipeline-DB")
    return rows[0]


def _telling(rt: Runtime, chunk_id: str, seconden: float = 0.0) -> ChunkResultaat:
    """A chunk's counts as the pipeline DB has them now (a chunk that was already done, or failed)."""
    per_status = {
        r["status"]: int(r["aantal"]) for r in query(rt.store, "chunk_telling", {"chunk_id": chunk_id})
    }
    return ChunkResultaat(
        chunk_id=chunk_id,
        meldingen=sum(per_status.values()),
        gepubliceerd=per_status.get(MeldingStatus.GEPUBLICEERD, 0),
        gequarantaineerd=per_status.get(MeldingStatus.GEBLOKKEERD, 0),
        mislukt=per_status.get(MeldingStatus.MISLUKT, 0),
        seconden=seconden,
    )


def _markeer(rt: Runtime, chunk_id: str, status: ChunkStatus) -> None:
    with rt.store.transaction() as conn:
        execute(
            rt.store,
            "chunk_status",
            {
                "chunk_id": chunk_id,
                "status": status.value,
                "open": ChunkStatus.OPEN.value,
                "nu": tijdstip(_nu()),
            },
            conn,
        )


def _nu() -> datetime:
    return datetime.now(UTC)


def _herhalingen_param(
    chunk_id: str, claim: str, chunk: Mapping[str, Any], config: Settings
) -> dict[str, Any]:
    """The parameters of ``chunk_herhalingen``: the chunk's retries still due and still allowed."""
    return {
        "chunk_id": chunk_id,
        "claim": claim,
        "herhaling": Soort.HERHALING.value,
        "onbekend": Uitkomst.ONBEKEND.value,
        "niet_uitgevoerd": Uitkomst.NIET_UITGEVOERD.value,
        "geen_toestemming": Reden.GEEN_TOESTEMMING.value,
        "peil": chunk["aangemaakt_op"],
        "max_pogingen": config.batch_max_pogingen,
    }


def verwerk_chunk(rt: Runtime, chunk_id: str, *, peildatum: date | None = None) -> ChunkResultaat:
    """Process the meldingen the chunk still holds, via ``nazorg.batch.chunk.verwerk`` (module docstring)."""
    start = time.perf_counter()
    chunk = _chunk(rt, chunk_id)
    if chunk["status"] == ChunkStatus.KLAAR:
        return _telling(rt, chunk_id, time.perf_counter() - start)
    if chunk["status"] == ChunkStatus.MISLUKT:
        raise BatchMislukt(
            f"chunk {chunk_id}: eerder mislukt; zie quarantaine (fase batch)", reden_code="chunk_mislukt"
        )
    store, config = rt.store, rt.settings
    claim = chunk_claim(chunk_id)
    try:
        with store.transaction() as conn:
            lease = tijdstip(_nu() + timedelta(seconds=config.batch_claim_s))
            execute(store, "chunk_verleng", {"claim": claim, "claim_tot": lease}, conn)
            rows = query(store, "chunk_meldingen", {"chunk_id": chunk_id, "claim": claim}, conn)
            due = query(store, "chunk_herhalingen", _herhalingen_param(chunk_id, claim, chunk, config), conn)
            herhalingen: dict[str, set[str]] = {}
            for r in due:
                herhalingen.setdefault(r["melding_id"], set()).add(r["check_id"])
            meldingen = []
            for row in rows:
                if row["soort"] == Soort.HERHALING and row["melding_id"] not in herhalingen:
                    # filled in meanwhile (another run): nothing left to retry
                    execute(store, "chunk_vrijgeven", {"claim": claim, "melding_id": row["melding_id"]}, conn)
                else:
                    meldingen.append(row)
        if meldingen:
            chunk_module = importlib.import_module("nazorg.batch.chunk")
            resultaat: ChunkResultaat = chunk_module.verwerk(
                rt, chunk_id, meldingen, herhalingen, peildatum=peildatum
            )
        else:
            _herstel_parquet(rt, chunk_id)
            resultaat = _telling(rt, chunk_id)
    except Exception as exc:
        raise _faal(rt, chunk, exc) from None
    _markeer(rt, chunk_id, ChunkStatus.KLAAR)
    if not resultaat.seconden:
        resultaat = ChunkResultaat(
            chunk_id=resultaat.chunk_id,
            meldingen=resultaat.meldingen,
            gepubliceerd=resultaat.gepubliceerd,
            gequarantaineerd=resultaat.gequarantaineerd,
            mislukt=resultaat.mislukt,
            uitkomsten=resultaat.uitkomsten,
            seconden=time.perf_counter() - start,
        )
    return resultaat


def _herstel_parquet(rt: Runtime, chunk_id: str) -> int:
    """Write the chunk's Parquet files that its outbox rows name but that do not exist; how many.

    Each file is rebuilt from exactly the outbox rows that name it (one chunk, one
    gemeente, one peildatum: :func:`nazorg.batch.parquet.pad`), with the rows of their
    published documents, as the chunk wrote them. Temporary files the dead writer left
    next to a missing file are removed. A file that exists is left alone.
    """
    import json
    from pathlib import Path

    from nazorg import basisdocument as bd
    from nazorg.batch import parquet

    per_bestand: dict[str, list[dict[str, Any]]] = {}
    for r in query(rt.store, "chunk_outbox", {"chunk_id": chunk_id}):
        per_bestand.setdefault(str(r["bestand"]), []).append(r)
    register_versie = rt.policy.register.register_versie
    hersteld = 0
    for bestand, outbox in sorted(per_bestand.items()):
        doel = Path(bestand)
        if doel.name != f"{chunk_id}.parquet" or doel.exists():
            continue
        rijen = []
        for r in outbox:
            document = json.loads(r["inhoud"])
            for rij in bd.rows(document):
                rijen.append(
                    {
                        **rij,
                        "gemeente_code": r["gemeente_code"],
                        "besluit": document["besluit"],
                        "register_versie": document.get("register_versie", register_versie),
                        "versie": int(r["versie"] or 1),
                        "gepubliceerd_op": r["gepubliceerd_op"],
                    }
                )
        datum = date.fromisoformat(doel.parent.name.removeprefix("datum="))
        klaar = parquet.schrijf_tijdelijk(doel.parent.parent.parent, chunk_id, datum, rijen)
        if set(klaar) != {doel}:  # the outbox names a path this chunk would not write
            parquet.ruim_op(klaar)
            raise RuntimeError(f"chunk {chunk_id}: outbox.bestand wijkt af van de Parquet-indeling")
        wees = [t for t in parquet.wezen(doel) if t not in klaar.values()]
        parquet.plaats(klaar)
        for tijdelijk in wees:
            tijdelijk.unlink(missing_ok=True)
        hersteld += 1
    return hersteld


def _faal(rt: Runtime, chunk: dict[str, Any], exc: Exception) -> BatchMislukt:
    """Close what the failed chunk still holds, and the error its task fails with (no value, no chain)."""
    from nazorg.pipeline import _reden, _sluit_af

    store, config = rt.store, rt.settings
    chunk_id = chunk["chunk_id"]
    claim = chunk_claim(chunk_id)
    reden_code, veld, _ = _reden(exc)
    gesloten = 0
    try:
        for row in query(
            store,
            "chunk_open_meldingen",
            {
                "chunk_id": chunk_id,
                "claim": claim,
                "ontvangen": MeldingStatus.ONTVANGEN.value,
                "in_behandeling": MeldingStatus.IN_BEHANDELING.value,
            },
        ):
            if _sluit_af(store, row["melding_id"], Fase.BATCH, reden_code, veld, claim=claim):
                gesloten += 1
        nu = _nu()
        with store.transaction() as conn:
            due = query(store, "chunk_herhalingen", _herhalingen_param(chunk_id, claim, chunk, config), conn)
            if due:
                execute(
                    store,
                    "uitkomst_poging",
                    [
                        {
                            "melding_id": r["melding_id"],
                            "check_id": r["check_id"],
                            "pogingen": int(r["pogingen"]) + 1,
                            "volgende_poging": volgende_poging(
                                int(r["pogingen"]) + 1,
                                r["uitkomst"],
                                r["reden"],
                                config,
                                nu,
                                toestemming_later=True,  # only marked consent checks are due as such
                            ),
                        }
                        for r in due
                    ],
                    conn,
                )
            execute(store, "chunk_alles_vrijgeven", {"claim": claim}, conn)
        _markeer(rt, chunk_id, ChunkStatus.MISLUKT)
        gevolg = f"{gesloten} meldingen afgesloten als mislukt; zie quarantaine (fase batch)"
    except Exception as sluit_exc:  # the pipeline DB itself failed: its type only
        gevolg = f"afsluiten mislukt ({type(sluit_exc).__name__}); claims verlopen na hun lease"
    return BatchMislukt(
        f"verwerk_chunk {chunk_id}: {reden_code} ({type(exc).__name__}); {gevolg}", reden_code=reden_code
    )


def sluit_batch(rt: Runtime, batch_id: str) -> BatchSamenvatting:
    """The batch's counts as the pipeline DB has them (chunks, meldingen by state, outcomes per check).

    ``uitkomsten`` is for the operator's terminal (the CLI); a task logs only
    the melding counts. ``seconden`` spans the first chunk's creation to the
    last one's end.
    """
    if not isinstance(batch_id, str) or not BATCH_ID.fullmatch(batch_id):
        raise ChunkOnbekend("batch id heeft een ongeldig formaat")
    store = rt.store
    chunks = query(store, "batch_chunks", {"batch_id": batch_id})
    per_status = {
        r["status"]: int(r["aantal"]) for r in query(store, "batch_telling", {"batch_id": batch_id})
    }
    samenvatting = BatchSamenvatting(
        batch_id=batch_id,
        chunks=len(chunks),
        meldingen=sum(int(c["meldingen"]) for c in chunks),
        gepubliceerd=per_status.get(MeldingStatus.GEPUBLICEERD, 0),
        gequarantaineerd=per_status.get(MeldingStatus.GEBLOKKEERD, 0),
        mislukt=per_status.get(MeldingStatus.MISLUKT, 0),
    )
    for r in query(store, "batch_uitkomsten", {"batch_id": batch_id}):
        rij = samenvatting.uitkomsten.setdefault(r["check_id"], dict.fromkeys(UITKOMST_KOLOMMEN, 0))
        rij[r["uitkomst"]] = rij.get(r["uitkomst"], 0) + int(r["aantal"])
    klaar = [c["klaar_op"] for c in chunks if c["klaar_op"]]
    if chunks and klaar:
        begin = datetime.fromisoformat(min(c["aangemaakt_op"] for c in chunks))
        samenvatting.seconden = max(0.0, (datetime.fromisoformat(max(klaar)) - begin).total_seconds())
    return samenvatting


def onvoltooide_chunks(rt: Runtime, batch_id: str) -> dict[str, int]:
    """How many of the batch's chunks are not ``klaar``, per status (``open``: its task died)."""
    tellingen: dict[str, int] = {}
    for c in query(rt.store, "batch_chunks", {"batch_id": batch_id}):
        if c["status"] != ChunkStatus.KLAAR:
            tellingen[c["status"]] = tellingen.get(c["status"], 0) + 1
    return tellingen


@contextlib.contextmanager
def _gedeelde_bronnen(rt: Runtime) -> Iterator[Runtime]:
    """The runtime the chunks of one in-process batch share: live sources opened once for all of them.

    A mapped task opens its sources per chunk, and so did ``nazorg batch``: every
    chunk paid new HTTP connections, new SQL connections and the lint of every
    lookup again. Here they stay open across the chunks; each chunk still gets
    its own ``check_task_deadline_s`` (:meth:`~nazorg.sources.live.LiveSources.nieuwe_taak`).
    Sources that are not the live ones (tests pass their own) are opened per chunk as before.
    """
    from nazorg.wiring import LiveSourcesFactory

    if not isinstance(rt.open_sources, LiveSourcesFactory):
        yield rt
        return
    with rt.open_sources() as bronnen:

        @contextlib.contextmanager
        def per_chunk() -> Iterator[Sources]:
            bronnen.nieuwe_taak()
            yield bronnen

        yield dataclasses.replace(rt, open_sources=per_chunk)


def _warm_bewaking() -> None:
    """Import Great Expectations in the background while the first chunk asks its sources.

    The import costs seconds of CPU and is needed only at the first chunk's
    guard; in a thread it runs while this one waits on the sources. The guard
    takes the same lock (:func:`nazorg.guard.warm`), so a chunk that gets there
    first waits for it; a failure here shows up there, as a blocked chunk.
    """
    import threading

    def warm() -> None:
        from nazorg import guard

        with contextlib.suppress(Exception):
            guard.warm()

    threading.Thread(target=warm, name="gx-warm", daemon=True).start()


def run_batch(
    rt: Runtime,
    *,
    chunk_grootte: int | None = None,
    peildatum: date | None = None,
    bij_start: Callable[[int, int], None] | None = None,
    bij_chunk: Callable[[ChunkResultaat], None] | None = None,
) -> BatchSamenvatting:
    """The whole batch in this process: verzamel, verwerk_chunk for each chunk, sluit_batch.

    A failing chunk does not stop the others (as mapped tasks would not): its
    meldingen are counted ``mislukt`` in the summary and ``bij_chunk`` gets its
    counts. ``bij_start`` gets (chunks, meldingen). ``seconden`` is the wall time.
    """
    start = time.perf_counter()
    _warm_bewaking()
    verzameling = verzamel(rt, chunk_grootte=chunk_grootte)
    if bij_start is not None:
        bij_start(len(verzameling.chunk_ids), verzameling.meldingen)
    with _gedeelde_bronnen(rt) as chunk_rt:
        for chunk_id in verzameling.chunk_ids:
            try:
                resultaat = verwerk_chunk(chunk_rt, chunk_id, peildatum=peildatum)
            except BatchMislukt:
                resultaat = _telling(rt, chunk_id)
            if bij_chunk is not None:
                bij_chunk(resultaat)
    samenvatting = sluit_batch(rt, verzameling.batch_id)
    samenvatting.seconden = time.perf_counter() - start
    return samenvatting
