"""Task bodies for the intake_batch DAG: ids in, counts in the log, nothing personal out.

The tasks carry only ids we generate (the batch id, chunk ids): which melding
is in which chunk, and all about it, stays in the pipeline DB
(:mod:`nazorg.batch`). A task log gets melding counts at most (never outcome
counts: in a chunk of one they would be that person's outcomes), and error
messages carry codes and our ids (:class:`nazorg.batch.BatchMislukt`).
Imported inside the tasks, never at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nazorg.wiring import Runtime

log = logging.getLogger(__name__)


def _runtime() -> Runtime:
    from nazorg.wiring import runtime

    return runtime()


def verzamel() -> list[str]:
    """Claim what is due and cut it into chunks; the chunk ids, to map the chunk task over.

    The batch id is the chunk ids' prefix (:func:`nazorg.batch.runner.batch_id_van`):
    Airflow maps only over a task's whole return value, so one list carries both.
    """
    from nazorg import batch

    verzameling = batch.verzamel(_runtime())
    log.info(
        "batch %s: %d meldingen (%d herhalingen) in %d chunks",
        verzameling.batch_id,
        verzameling.meldingen,
        verzameling.herhalingen,
        len(verzameling.chunk_ids),
    )
    return list(verzameling.chunk_ids)


def verwerk_chunk(chunk_id: str) -> None:
    """Process one chunk; returns nothing (its counts go to the log, melding counts only)."""
    from nazorg import batch

    resultaat = batch.verwerk_chunk(_runtime(), chunk_id)
    tellingen = resultaat.voor_xcom()
    log.info(
        "chunk %s: %d meldingen, %d gepubliceerd, %d gequarantaineerd, %d mislukt",
        chunk_id,
        tellingen["meldingen"],
        tellingen["gepubliceerd"],
        tellingen["gequarantaineerd"],
        tellingen["mislukt"],
    )


def sluit_batch(chunk_ids: Sequence[str] | None) -> None:
    """Report the batch's melding counts; fail when a chunk did not finish, so the DAG run shows it.

    Runs whatever became of the chunks (trigger rule ``all_done``): the counts
    are reported either way, and the run is still marked failed. No chunks:
    nothing was due, nothing to close.
    """
    from nazorg import batch

    if not chunk_ids:
        log.info("batch: niets te doen")
        return
    batch_id = batch.batch_id_van(chunk_ids[0])
    rt = _runtime()
    samenvatting = batch.sluit_batch(rt, batch_id)
    log.info(
        "batch %s: %d chunks, %d meldingen, %d gepubliceerd, %d gequarantaineerd, %d mislukt",
        batch_id,
        samenvatting.chunks,
        samenvatting.meldingen,
        samenvatting.gepubliceerd,
        samenvatting.gequarantaineerd,
        samenvatting.mislukt,
    )
    onvoltooid = batch.onvoltooide_chunks(rt, batch_id)
    if onvoltooid:
        detail = ", ".join(f"{aantal} {status}" for status, aantal in sorted(onvoltooid.items()))
        raise batch.BatchMislukt(
            f"batch {batch_id}: chunks niet klaar ({detail}); zie quarantaine (fase batch). "
            "Meldingen van een open chunk neemt een volgende batch over na de lease van hun claim",
            reden_code="chunk_mislukt",
        )
