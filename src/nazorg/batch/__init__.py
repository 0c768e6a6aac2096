"""The batch path: many meldingen per chunk through the same checks, guard and publication.

See :mod:`nazorg.batch.runner` for the steps, :mod:`nazorg.batch.verzamel` for
claims, chunks and the retry rule of ``onbekend``,
and :mod:`nazorg.batch.resultaat` for what a batch reports.
"""

from nazorg.batch.resultaat import BatchSamenvatting, ChunkResultaat
from nazorg.batch.runner import (
    BatchMislukt,
    ChunkOnbekend,
    batch_id_van,
    onvoltooide_chunks,
    run_batch,
    sluit_batch,
    verwerk_chunk,
)
from nazorg.batch.verzamel import Verzameling, verzamel, volgende_poging

__all__ = [
    "BatchMislukt",
    "BatchSamenvatting",
    "ChunkOnbekend",
    "ChunkResultaat",
    "Verzameling",
    "batch_id_van",
    "onvoltooide_chunks",
    "run_batch",
    "sluit_batch",
    "verwerk_chunk",
    "verzamel",
    "volgende_poging",
]
