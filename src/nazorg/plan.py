"""Which checks may run for one melding: the register and the gemeente's besluit decide.

The pipeline refuses what policy does not allow; a refused check is not
silently skipped but shows up as ``niet_uitgevoerd`` with its reason. A besluit
that lacks what the register requires of it for a check (``besluit_vereist``:
beleidsregels, DPIA, criteria) has not really enabled it: ``niet_in_besluit``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from nazorg.models import Aandachtsgebied, Reden
from nazorg.register import Besluit, Register, ontbrekende_vereisten


@dataclass(frozen=True, slots=True)
class PlanRegel:
    check_id: str
    aandachtsgebied: Aandachtsgebied
    uitvoeren: bool
    reden: Reden | None


def beslis(register: Register, besluit: Besluit, toestemmingen: Collection[str]) -> list[PlanRegel]:
    """One decision per register entry, in register order."""
    regels = []
    for entry in register.checks:
        chosen = besluit.checks.get(entry.id)
        reden: Reden | None = None
        if chosen is None:
            reden = Reden.NIET_IN_BESLUIT
        elif entry.grondslag.status == "niet_aanwezig" and not chosen.grondslag:
            reden = Reden.GEEN_GRONDSLAG
        elif ontbrekende_vereisten(entry, chosen):
            # the besluit lacks what the register says enabling this check takes (its
            # beleidsregels, DPIA or criteria): it has not really chosen the check
            reden = Reden.NIET_IN_BESLUIT
        elif entry.wanneer == "toestemming" and entry.id not in toestemmingen:
            reden = Reden.GEEN_TOESTEMMING
        regels.append(PlanRegel(entry.id, entry.aandachtsgebied, reden is None, reden))
    return regels
