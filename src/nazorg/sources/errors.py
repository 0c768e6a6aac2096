"""The errors every source adapter raises: one hierarchy, two consequences.

- :class:`SourceError` (and its subclasses): the source could not answer. Every
  check that asked it answers ``onbekend`` with the error's :class:`Reden`;
  an error is never ``nee``.
- :class:`SourceShapeError`: the source answered with something other than the
  agreed shape (extra columns, a value of the wrong kind, rows about people we
  did not ask for). That is over-collection, so it is not an "onbekend": it
  blocks the melding and is quarantined with its column names.

:class:`SourceShapeError` deliberately does **not** derive from
:class:`SourceError`: every ``except SourceError`` turns the failure into
onbekend, and an over-collection must never be able to take that road.

Messages are built from fixed parts only (a source label of our own, the reason
code, an HTTP status, a vetted problem ``code``, a short cause written in this
code base, column names), never from request or response content, so a BSN or
a source value cannot travel on in an exception, a log or a task failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, Final

from nazorg.models import Reden

_PROBLEM_CODE_RE: Final = re.compile(r"[a-zA-Z0-9]{1,25}")  # Haal Centraal Foutbericht.code
_DIGIT_RUN_RE: Final = re.compile(r"[0-9]{4}")

#: The reasons a source can give for not answering; other Reden values belong to the plan.
BRON_REDENEN: Final = frozenset(
    {
        Reden.BRON_ONBEREIKBAAR,
        Reden.BRON_FOUT,
        Reden.BRON_AMBIGU,
        Reden.BRON_TIMEOUT,
        Reden.PERSOON_NIET_GEVONDEN,
        Reden.NIET_IN_MELDING,
        Reden.PERSOON_OVERLEDEN,
        Reden.BIJHOUDING_OPGESCHORT,
        Reden.BRON_IN_ONDERZOEK,
        Reden.HOUDER_ONJUIST,
        Reden.BRON_VORM,
    }
)


def veilige_code(code: object) -> str | None:
    """A problem ``code`` fit for messages and logs, else None.

    Real codes are words (``notAvailable``); a run of digits is refused so that a
    BSN echoed by a faulty server can never travel on in an exception message.
    """
    if not isinstance(code, str) or not _PROBLEM_CODE_RE.fullmatch(code):
        return None
    return None if _DIGIT_RUN_RE.search(code) else code


class SourceError(Exception):
    """A source could not answer; the checks that asked it answer onbekend with ``reden``."""

    default_reden: ClassVar[Reden] = Reden.BRON_FOUT

    def __init__(
        self,
        reden: Reden | None = None,
        *,
        bron: str = "bron",
        status: int | None = None,
        code: object = None,
        oorzaak: str | None = None,
    ) -> None:
        reden = reden or self.default_reden
        if reden not in BRON_REDENEN:
            raise ValueError(f"{reden.value} is not a source reason")
        self.reden = reden
        self.bron = bron
        self.status = status
        self.code = veilige_code(code)
        self.oorzaak = oorzaak
        super().__init__(self._bericht())

    def _bericht(self) -> str:
        parts = [f"{self.bron}: {self.reden.value}"]
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.oorzaak:
            parts.append(self.oorzaak)
        return ", ".join(parts)


class SourceUnavailable(SourceError):
    """The source could not be reached (connection refused or reset, database down)."""

    default_reden = Reden.BRON_ONBEREIKBAAR


class SourceTimeout(SourceError):
    """The source did not answer in time."""

    default_reden = Reden.BRON_TIMEOUT


class SourceShapeError(Exception):
    """The source answered outside its agreed shape: over-collection, which blocks the melding.

    Carries a reason code (``lookup_kolommen_onjuist``...) and column names,
    never values; the pipeline quarantines exactly these.
    """

    def __init__(self, reden_code: str, kolommen: Sequence[str]) -> None:
        self.reden_code = reden_code
        self.kolommen = tuple(str(k) for k in kolommen)
        super().__init__(f"{reden_code}: kolommen {', '.join(self.kolommen)}")
