"""One answer type for every source: a definite yes/no (plus a contact), or onbekend with a reason.

Why one type: the checks used to read three conventions (a dict where a missing
key meant "nee" for SQL but "not found" for the BRP, ``None`` for ambiguous, an
exception object as a value). Each convention was a place where an error could
quietly become ``nee``. Now every source method returns one :class:`Antwoord`
per requested BSN, and *the adapter* decides what a missing BSN means (an SQL
lookup without a row: nee; a BRP person that is not there: onbekend,
persoon_niet_gevonden). The caller infers nothing.

An answer holds no source data: only the yes/no and the contact team a source
names for the person, which is exactly what a check result may carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from nazorg.models import Reden


@dataclass(frozen=True, slots=True)
class Antwoord:
    """What one source says about one BSN.

    ``bekend`` is True (ja) or False (nee) when the source answers definitely,
    and None when it does not; then ``reden`` says why (source error, ambiguous,
    not found...). ``contact`` is the source's own dossierverantwoordelijke, if
    it names one; it exists only for a definite answer.
    """

    bekend: bool | None
    contact: str | None = None
    reden: Reden | None = None

    def __post_init__(self) -> None:
        if (self.bekend is None) != (self.reden is not None):
            raise ValueError("an Antwoord is either definite (bekend) or onbekend with a reden")
        if self.bekend is None and self.contact is not None:
            raise ValueError("an onbekend Antwoord carries no contact")

    @classmethod
    def ja(cls, contact: str | None = None) -> Antwoord:
        return cls(True, contact)

    @classmethod
    def nee(cls, contact: str | None = None) -> Antwoord:
        return cls(False, contact)

    @classmethod
    def onbekend(cls, reden: Reden) -> Antwoord:
        return cls(None, None, reden)

    @classmethod
    def uit(cls, waarde: bool | Reden | None, contact: str | None = None) -> Antwoord:
        """From a mapping's ``True``/``False``, or why it is open: a Reden, or None for bron_ambigu."""
        if waarde is None:
            return cls.onbekend(Reden.BRON_AMBIGU)
        if isinstance(waarde, Reden):
            return cls.onbekend(waarde)
        return cls(waarde, contact)

    @property
    def definitief(self) -> bool:
        return self.bekend is not None
