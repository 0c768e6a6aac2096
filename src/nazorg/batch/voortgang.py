"""Progress of a batch on stderr: a redrawn bar on a terminal, plain lines otherwise.

Why two forms: an operator watching a backfill wants one line that moves; a log
file or a CI job wants a few whole lines, not thousands of carriage returns.
Both show counts only (chunks, meldingen, rate, time left): the callbacks get a
:class:`~nazorg.batch.resultaat.ChunkResultaat`, and neither its chunk id nor
its outcome counts are shown, so no line can point at a person.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from nazorg.batch.resultaat import ChunkResultaat

BALK_BREEDTE = 24
REGEL_INTERVAL_S = 5.0
"""Without a terminal: at most one line per this many seconds (plus the first and the last chunk)."""


def _duur(seconden: float) -> str:
    seconden = max(0, round(seconden))
    uren, rest = divmod(seconden, 3600)
    minuten, sec = divmod(rest, 60)
    return f"{uren}:{minuten:02d}:{sec:02d}" if uren else f"{minuten}:{sec:02d}"


class Voortgang:
    """``bij_start`` and ``bij_chunk`` for :func:`nazorg.batch.run_batch`; ``klaar`` ends the bar's line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        terminal: bool | None = None,
        klok: Callable[[], float] = time.monotonic,
        interval: float = REGEL_INTERVAL_S,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if terminal is None:
            isatty = getattr(self.stream, "isatty", None)
            terminal = bool(isatty()) if callable(isatty) else False
        self.terminal = terminal
        self.klok = klok
        self.interval = interval
        self.chunks = 0
        self.meldingen = 0
        self.chunks_klaar = 0
        self.meldingen_klaar = 0
        self.mislukt = 0
        self._start = klok()
        self._laatste_regel: float | None = None
        self._breedte = 0  # length of the bar drawn last, to overwrite it completely

    def bij_start(self, chunks: int, meldingen: int) -> None:
        self.chunks, self.meldingen = chunks, meldingen
        self._start = self.klok()
        if chunks == 0:
            self._schrijf_regel("batch: niets te verwerken")
        elif self.terminal:
            self._teken()
        else:
            self._schrijf_regel(f"batch: {meldingen} meldingen in {chunks} chunks")

    def bij_chunk(self, chunk: ChunkResultaat) -> None:
        self.chunks_klaar += 1
        self.meldingen_klaar += chunk.meldingen
        self.mislukt += chunk.mislukt
        if self.terminal:
            self._teken()
            return
        nu = self.klok()
        laatste = self.chunks_klaar >= self.chunks
        if laatste or self._laatste_regel is None or nu - self._laatste_regel >= self.interval:
            self._laatste_regel = nu
            self._schrijf_regel(f"batch: {self.regel()}")

    def klaar(self) -> None:
        """End the bar's line so what follows starts on a fresh one (no-op without a terminal)."""
        if self.terminal and self._breedte:
            self.stream.write("\n")
            self.stream.flush()
            self._breedte = 0

    def regel(self) -> str:
        """chunks done/total, meldingen done/total, rate and time left."""
        verstreken = self.klok() - self._start
        tempo = self.meldingen_klaar / verstreken if verstreken > 0 else 0.0
        over = self.meldingen - self.meldingen_klaar
        eta = _duur(over / tempo) if tempo > 0 else "?"
        tekst = (
            f"{self.chunks_klaar}/{self.chunks} chunks, {self.meldingen_klaar}/{self.meldingen} meldingen, "
            f"{tempo:.1f} meldingen/s, nog {eta}"
        )
        return tekst + (f", {self.mislukt} mislukt" if self.mislukt else "")

    def _teken(self) -> None:
        deel = self.chunks_klaar / self.chunks if self.chunks else 1.0
        gevuld = min(BALK_BREEDTE, int(deel * BALK_BREEDTE))
        tekst = f"[{'#' * gevuld}{'.' * (BALK_BREEDTE - gevuld)}] {self.regel()}"
        opvulling = " " * max(0, self._breedte - len(tekst))
        self.stream.write(f"\r{tekst}{opvulling}")
        self.stream.flush()
        self._breedte = len(tekst)

    def _schrijf_regel(self, tekst: str) -> None:
        self.klaar()
        self.stream.write(tekst + "\n")
        self.stream.flush()
