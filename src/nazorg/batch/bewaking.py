"""The guard over a whole chunk: one Great Expectations validation, bisection only when it fails.

Why one validation: the suite (``expectations/basisdocument.json``) is about
rows and columns, not about one document, so the frame of a chunk's documents
(one row per check per melding, exactly :func:`nazorg.basisdocument.rows` of
each) is validated at once; a validation of 26,000 rows costs about as much as
one of 13.

When it fails, which meldingen caused it must be found without asking GX for
the offending values (``result_format`` stays ``BOOLEAN_ONLY``: a value may be
a BSN or health data). So:

- a **table-level** failure blocks the whole chunk: an expectation without a
  column (the column set, the column count, the row count), one on
  ``check_id`` or ``aandachtsgebied`` (an unknown check or topic is a broken
  document builder or register, not one person's data), or ``guard_error``
  (GX itself could not decide: fail closed);
- a **row-level** failure is narrowed down by bisection over the meldingen:
  each half is validated again, a half that passes is approved, a half that
  fails is split until single meldingen remain, which are held back with the
  failures of their own validation. k bad meldingen cost about
  ``2 k log2(n)`` extra validations; a validation that turns table-level while
  bisecting holds back that whole part, and so does a part whose halves both
  pass (the failure lies between meldingen): fail closed.

Verdicts carry expectation names and column names only (:class:`nazorg.guard.Failure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nazorg import basisdocument as bd
from nazorg.guard import BASISDOCUMENT_COLUMNS, GUARD_ERROR, Failure, GuardVerdict

if TYPE_CHECKING:
    import pandas as pd

#: columns whose failure is never one melding's: an unknown check or aandachtsgebied
TABEL_KOLOMMEN = frozenset({"check_id", "aandachtsgebied"})


@dataclass(frozen=True)
class Bewaking:
    """Which meldingen the guard lets through and which it holds back, with names only."""

    goedgekeurd: tuple[str, ...]
    #: melding_id -> the failures that held it back (expectation and column names)
    tegengehouden: Mapping[str, tuple[Failure, ...]]
    #: the whole chunk was held back by a table-level failure
    tabelniveau: bool = False
    #: validations run (1 on the happy path)
    validaties: int = 0
    redenen: tuple[Failure, ...] = field(default_factory=tuple)


def is_tabelniveau(failure: Failure) -> bool:
    """A failure that no single melding can be blamed for (see the module docstring)."""
    return failure.expectation == GUARD_ERROR or failure.column is None or failure.column in TABEL_KOLOMMEN


def frame(delen: Sequence[Sequence[Mapping[str, Any]]]) -> pd.DataFrame:
    """The guard's frame of many documents: their :func:`nazorg.basisdocument.rows`, one after the other.

    Built the way the per-melding guard builds it (``DataFrame`` of the row
    dicts), so a key a document should not have becomes a column here too.
    """
    import pandas as pd

    rijen: list[Mapping[str, Any]] = []
    for deel in delen:
        rijen.extend(deel)
    if not rijen:
        return pd.DataFrame(columns=list(BASISDOCUMENT_COLUMNS))
    return pd.DataFrame(rijen)


def _valideer(delen: Sequence[Sequence[Mapping[str, Any]]]) -> GuardVerdict:
    from nazorg import guard

    return guard.validate_frame(frame(delen))


def bewaak(
    documenten: Mapping[str, Mapping[str, Any]],
    rijen: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Bewaking:
    """Validate the chunk's documents (melding_id -> document) and decide per melding.

    ``rijen``: each document's :func:`nazorg.basisdocument.rows`, when the
    caller has them already (the chunk reuses them for Parquet); derived here otherwise.
    """
    if rijen is None:
        rijen = {m: bd.rows(d) for m, d in documenten.items()}
    elif set(rijen) != set(documenten):
        raise ValueError("rijen en documenten horen bij dezelfde meldingen")
    ids = list(documenten)
    if not ids:
        return Bewaking((), {}, validaties=0)
    verdict = _valideer([rijen[m] for m in ids])
    if verdict.passed:
        return Bewaking(tuple(ids), {}, validaties=1)
    if any(is_tabelniveau(f) for f in verdict.failures):
        return Bewaking(
            (),
            dict.fromkeys(ids, verdict.failures),
            tabelniveau=True,
            validaties=1,
            redenen=verdict.failures,
        )
    goed: list[str] = []
    fout: dict[str, tuple[Failure, ...]] = {}
    teller = [1]
    if len(ids) == 1:
        return Bewaking((), {ids[0]: verdict.failures}, validaties=1, redenen=verdict.failures)
    _halveer(ids, verdict.failures, rijen, goed, fout, teller)
    return Bewaking(tuple(goed), fout, validaties=teller[0], redenen=verdict.failures)


def _halveer(
    ids: list[str],
    failures: tuple[Failure, ...],
    rijen: Mapping[str, Sequence[Mapping[str, Any]]],
    goed: list[str],
    fout: dict[str, tuple[Failure, ...]],
    teller: list[int],
) -> None:
    """Split a failing part in two and validate each half again; single meldingen are judged alone.

    If both halves pass although the part failed, the failure lies between
    meldingen (rows of one melding's document repeating another's): the whole
    part is held back with the part's failures, never approved by accident.
    """
    midden = len(ids) // 2
    delen = [d for d in (ids[:midden], ids[midden:]) if d]
    uitslagen = []
    for deel in delen:
        verdict = _valideer([rijen[m] for m in deel])
        teller[0] += 1
        uitslagen.append((deel, verdict))
    if all(verdict.passed for _, verdict in uitslagen):
        for melding_id in ids:
            fout[melding_id] = failures
        return
    for deel, verdict in uitslagen:
        if verdict.passed:
            goed.extend(deel)
        elif len(deel) == 1 or any(is_tabelniveau(f) for f in verdict.failures):
            for melding_id in deel:
                fout[melding_id] = verdict.failures
        else:
            _halveer(deel, verdict.failures, rijen, goed, fout, teller)
