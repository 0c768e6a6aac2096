"""What a batch reports: counts per chunk and for the whole batch, never a person.

Why a module of its own: the batch runner, the DAG's tasks, the ``nazorg batch``
CLI (progress and summary table) and the benchmarks all read these, and none of
them may see more than counts. Outcome counts per check (``uitkomsten``) are
shown on the operator's terminal by the CLI; they never go to XCom or a task
log, because in a chunk of one they would be that person's outcomes
(:meth:`ChunkResultaat.voor_xcom` keeps only the melding counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: the outcome values a summary counts, in the order the summary table shows them
UITKOMST_KOLOMMEN = ("ja", "nee", "onbekend", "niet_uitgevoerd")


@dataclass(frozen=True, slots=True)
class ChunkResultaat:
    """One processed chunk: how many meldingen ended where, and how long it took."""

    chunk_id: str
    meldingen: int
    gepubliceerd: int
    gequarantaineerd: int
    mislukt: int
    #: check_id -> uitkomst value -> count, for the outcomes decided in this chunk
    uitkomsten: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    seconden: float = 0.0

    def voor_xcom(self) -> dict[str, int]:
        """Melding counts only: what a mapped task may return (no outcome counts)."""
        return {
            "meldingen": self.meldingen,
            "gepubliceerd": self.gepubliceerd,
            "gequarantaineerd": self.gequarantaineerd,
            "mislukt": self.mislukt,
        }


@dataclass(slots=True)
class BatchSamenvatting:
    """The sum of a batch's chunks, as the CLI's final table and the benchmarks report it."""

    batch_id: str
    chunks: int = 0
    meldingen: int = 0
    gepubliceerd: int = 0
    gequarantaineerd: int = 0
    mislukt: int = 0
    uitkomsten: dict[str, dict[str, int]] = field(default_factory=dict)
    seconden: float = 0.0

    def voeg_toe(self, chunk: ChunkResultaat) -> None:
        self.chunks += 1
        self.meldingen += chunk.meldingen
        self.gepubliceerd += chunk.gepubliceerd
        self.gequarantaineerd += chunk.gequarantaineerd
        self.mislukt += chunk.mislukt
        for check_id, tellingen in chunk.uitkomsten.items():
            rij = self.uitkomsten.setdefault(check_id, dict.fromkeys(UITKOMST_KOLOMMEN, 0))
            for uitkomst, aantal in tellingen.items():
                rij[uitkomst] = rij.get(uitkomst, 0) + aantal

    @property
    def per_seconde(self) -> float:
        return self.meldingen / self.seconden if self.seconden > 0 else 0.0
