"""Source kinds: one adapter class per register ``bron``, found in a small registry.

Why: the checks used to be chosen by check id (a ``SPECIFIEK`` table), so every
new check touched code even when it asked a source the pipeline already knew.
Now the register entry's ``bron`` names a *source kind*, the kind's adapter
class knows how to ask that source about a list of meldingen, and what to ask
it is register data (``bronvraag``) plus the besluit's settings (connection,
query file). So:

- a new check on an existing kind is register data (and, for SQL, a query file);
- a new kind of source is one :class:`SourceAdapter` subclass decorated with
  :func:`register_adapter`; nothing in :mod:`nazorg.checks` changes.

An adapter also says what it needs from the register and a besluit
(:meth:`SourceAdapter.register_problems`, :meth:`SourceAdapter.besluit_problems`),
so ``nazorg register check`` refuses an entry its source cannot serve before it
ever runs.

The shipped kinds live in :mod:`nazorg.sources.builtin` and are registered the
first time the registry is consulted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from nazorg.sources.answer import Antwoord
from nazorg.sources.deadline import Deadline

if TYPE_CHECKING:
    from nazorg.checks import Geval
    from nazorg.register import BesluitCheck, RegisterEntry
    from nazorg.settings import Settings
    from nazorg.sources.trace_context import Spoor


@dataclass(frozen=True, slots=True)
class Vraag:
    """What one check asks: the register entry (which bronvraag), the besluit (where), the day.

    ``gemeente_oin``: the besluit's gemeente (its OIN), for sources that protocol
    who asked (the BRP API gateway); ``spoor``: the trace the question's requests
    carry and where they record which request served which BSN (None: a trace of
    their own, nothing recorded).
    """

    entry: RegisterEntry
    besluit: BesluitCheck
    peildatum: date
    gemeente_oin: str | None = None
    spoor: Spoor | None = None


class SourceAdapter(ABC):
    """Asks one kind of source about a list of meldingen; one answer per melding.

    An adapter instance lives for one task (see :class:`nazorg.sources.live.LiveSources`):
    it may keep clients or prepared queries and releases them in :meth:`close`.
    It raises :class:`~nazorg.sources.errors.SourceError` when its source cannot
    answer at all, and :class:`~nazorg.sources.errors.SourceShapeError` when the
    source answers outside its agreed shape.
    """

    #: the register's ``bron`` value this adapter serves
    kind: ClassVar[str]
    #: the ``bronvraag`` values this kind can answer; empty: the kind takes no bronvraag
    bronvragen: ClassVar[frozenset[str]] = frozenset()
    #: may serve as ``aanvullende_bron``, which supplies only the contact
    levert_contact: ClassVar[bool] = False
    #: the source marks fields "in onderzoek"; the register entry must say what that means
    leest_onderzoek: ClassVar[bool] = False
    #: confirms its nee in BRP Personen: its besluit names a ``brp_verbinding`` (others may not)
    bevestigt_in_brp: ClassVar[bool] = False
    #: what is left of the task's time for source questions; set by whoever opens the
    #: adapter for a task (:class:`nazorg.sources.live.LiveSources`), None: no task limit
    task_deadline: Deadline | None = None

    def __init__(self, config: Settings) -> None:
        self.config = config

    def deadline(self) -> Deadline:
        """The deadline of one question to this source, taken when the question starts.

        ``source_deadline_s`` from now, or the task's deadline if that comes
        first; an adapter that asks a real source passes it on to every query
        and request, and answers :class:`~nazorg.sources.errors.SourceTimeout`
        when it has passed.
        """
        return Deadline.after(self.config.source_deadline_s).earliest(self.task_deadline)

    @abstractmethod
    def answer(self, vraag: Vraag, gevallen: Sequence[Geval]) -> dict[str, Antwoord]:
        """One :class:`Antwoord` per melding id in ``gevallen``, none left out."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract one
        """Release what the adapter opened; the default holds nothing."""

    def toets(self, vraag: Vraag) -> None:  # noqa: B027 - an optional hook, not an abstract one
        """Try the source as the besluit configures it, without asking about anyone.

        Raises what :meth:`answer` would raise for a configuration problem (a
        :class:`~nazorg.sources.errors.SourceShapeError`, a missing connection or
        query), the same for every melding; see :mod:`nazorg.sources.probe`. The
        default has nothing to try.
        """

    @classmethod
    def register_problems(cls, entry: RegisterEntry) -> list[str]:
        """Why ``entry`` cannot be served by this kind (its bronvraag, in_onderzoek), as readable lines."""
        where = f"register: {entry.id}"
        if cls.leest_onderzoek and entry.in_onderzoek is None:
            return [f"{where}: bron {cls.kind} vraagt in_onderzoek (onbekend | negeren)"]
        if not cls.leest_onderzoek and entry.in_onderzoek is not None:
            return [f"{where}: bron {cls.kind} kent geen in_onderzoek"]
        return cls._bronvraag_problems(entry, where)

    @classmethod
    def _bronvraag_problems(cls, entry: RegisterEntry, where: str) -> list[str]:
        if not cls.bronvragen:
            if entry.bronvraag is not None:
                return [f"{where}: bron {cls.kind} kent geen bronvraag"]
            return []
        if entry.bronvraag not in cls.bronvragen:
            keuze = ", ".join(sorted(cls.bronvragen))
            return [f"{where}: bron {cls.kind} vraagt een bronvraag ({keuze})"]
        return []

    @classmethod
    def besluit_problems(cls, where: str, check_id: str, chosen: BesluitCheck, sql_root: Path) -> list[str]:
        """Why a besluit's settings for ``check_id`` cannot serve this kind (connection, query)."""
        return []


class BsnAdapter(SourceAdapter):
    """An adapter whose source is asked by BSN; it answers every requested BSN.

    The mapping back to meldingen lives here once, and so does the rule that an
    incomplete answer is a programming error, never something the caller fills in.
    """

    @abstractmethod
    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        """One :class:`Antwoord` per BSN in ``bsns`` (deduplicated, in order)."""

    def answer(self, vraag: Vraag, gevallen: Sequence[Geval]) -> dict[str, Antwoord]:
        bsns = list(dict.fromkeys(g.bsn for g in gevallen))
        per_bsn = self.answer_bsns(vraag, bsns) if bsns else {}
        missing = sum(1 for bsn in bsns if bsn not in per_bsn)
        if missing:
            raise RuntimeError(f"bron {self.kind} gaf geen antwoord voor {missing} BSN('s)")
        return {g.melding_id: per_bsn[g.bsn] for g in gevallen}


class Sources(Protocol):
    """What a pipeline step gets from ``Runtime.open_sources()``: an adapter per kind."""

    def adapter(self, kind: str) -> SourceAdapter: ...


_A = TypeVar("_A", bound=type[SourceAdapter])
_REGISTRY: dict[str, type[SourceAdapter]] = {}


def register_adapter(cls: _A) -> _A:
    """Class decorator: make ``cls`` the adapter for ``cls.kind``; a kind has one adapter."""
    kind = cls.kind
    if cls.levert_contact and cls.bronvragen:
        # as aanvullende_bron it would not know which question to ask: the bronvraag is the main bron's
        raise TypeError(f"bron {kind}: een aanvullende bron kent geen bronvraag")
    existing = _REGISTRY.get(kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"bron {kind} heeft al een adapter ({existing.__name__})")
    _REGISTRY[kind] = cls
    return cls


def unregister_adapter(kind: str) -> None:
    """Forget a kind (tests that register a fake kind clean up with this)."""
    _REGISTRY.pop(kind, None)


def _registry() -> dict[str, type[SourceAdapter]]:
    import nazorg.sources.builtin  # noqa: F401 - the shipped kinds register themselves on import

    return _REGISTRY


def adapter_class(kind: str) -> type[SourceAdapter]:
    """The adapter class for a register ``bron``; LookupError names the known kinds."""
    registry = _registry()
    try:
        return registry[kind]
    except KeyError:
        raise LookupError(f"onbekende bron {kind} (bekend: {', '.join(sorted(registry))})") from None


def source_kinds() -> list[str]:
    return sorted(_registry())
