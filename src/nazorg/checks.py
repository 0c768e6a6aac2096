"""The checks: each turns a source's answers into ja/nee/onbekend plus a contact.

One evaluation for every check. The register entry's ``bron`` names a source
kind; that kind's adapter (:mod:`nazorg.sources.kinds`) asks its source about
all meldingen at once and returns one :class:`~nazorg.sources.answer.Antwoord`
per melding, so one melding (the per-melding DAG asks about a list of one) and a
whole chunk of meldingen go through the same code, and nothing here depends on
which check it is. Sources are reached only through
:class:`~nazorg.sources.kinds.Sources`; the real implementation is
:class:`nazorg.sources.live.LiveSources` and tests may pass a fake.

Rules that hold for every check:
- a source error or an ambiguous answer is ``onbekend`` with a reason, never ``nee``;
- a source answer outside its agreed shape (:class:`SourceShapeError`) is not
  caught here: it blocks the melding;
- the contact is the ``aanvullende_bron``'s when it knows the person, else the
  source's own when it gives a definite answer with one, else the besluit's;
- a contact a source names is published only when it is one of the gemeente's
  teams (:attr:`nazorg.register.Besluit.teams`, by id or exact name), and then
  as the team's name. Anything else (a person's name, a diagnosis, a near miss
  of a team name) is dropped here: the outcome stands, the check's default team
  is the contact, the reason is ``contact_niet_in_besluit`` (unless the outcome
  already carries one) and :attr:`CheckResult.contact_geweigerd` tells the
  pipeline to quarantine the fact. The text itself goes nowhere;
- where the contact comes from is recorded with it (:class:`~nazorg.models.ContactHerkomst`):
  ``bron`` for a listed team a source named, ``standaard`` for the besluit's default team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from nazorg.models import CheckResult, ContactHerkomst, Reden, Uitkomst
from nazorg.register import Besluit, RegisterEntry
from nazorg.sources.answer import Antwoord
from nazorg.sources.errors import SourceError
from nazorg.sources.kinds import Sources, Vraag
from nazorg.sources.trace_context import Spoor


@dataclass(frozen=True, slots=True)
class Geval:
    """One melding as the checks see it; lives in memory only."""

    melding_id: str
    bsn: str
    reclassering_betrokken: str | None


def _ask(sources: Sources, kind: str, vraag: Vraag, gevallen: Sequence[Geval]) -> dict[str, Antwoord]:
    antwoorden = sources.adapter(kind).answer(vraag, gevallen)
    missing = sum(1 for g in gevallen if g.melding_id not in antwoorden)
    if missing:  # the adapter decides every answer; the caller never fills one in
        raise RuntimeError(f"bron {kind} gaf geen antwoord voor {missing} melding(en)")
    return antwoorden


def _result(check_id: str, hoofd: Antwoord, extra: Antwoord | None, besluit: Besluit) -> CheckResult:
    """One melding's result from the bron's answer and the aanvullende_bron's (contact only).

    Where the contact comes from is recorded here, the one place that knows it:
    a listed team a source named is ``bron`` (also when it is the default team),
    the besluit's default team standing in is ``standaard``.
    """
    standaard = besluit.standaard_contact(check_id)
    if extra is not None and extra.reden is not None:  # which team is responsible is unclear
        return CheckResult(
            check_id, Uitkomst.ONBEKEND, standaard, extra.reden, contact_herkomst=ContactHerkomst.STANDAARD
        )
    genoemd = (extra.contact if extra is not None and extra.bekend else None) or hoofd.contact
    team = besluit.team_naam(genoemd) if genoemd else None
    geweigerd = bool(genoemd) and team is None  # a source named something that is not a listed team
    contact = team or standaard
    herkomst = ContactHerkomst.BRON if team is not None else ContactHerkomst.STANDAARD
    if hoofd.bekend is None:
        assert hoofd.reden is not None  # guaranteed by Antwoord
        return CheckResult(
            check_id,
            Uitkomst.ONBEKEND,
            contact,
            hoofd.reden,
            contact_geweigerd=geweigerd,
            contact_herkomst=herkomst,
        )
    return CheckResult(
        check_id,
        Uitkomst.JA if hoofd.bekend else Uitkomst.NEE,
        contact,
        Reden.CONTACT_NIET_IN_BESLUIT if geweigerd else None,
        contact_geweigerd=geweigerd,
        contact_herkomst=herkomst,
    )


def evalueer(
    entry: RegisterEntry,
    besluit: Besluit,
    gevallen: Sequence[Geval],
    sources: Sources,
    peildatum: date,
    spoor: Spoor | None = None,
) -> dict[str, CheckResult]:
    """Run one check for many meldingen of one gemeente; every melding gets exactly one result.

    ``besluit`` is the gemeente's whole besluit, not just its line for the check:
    its teams are the only contacts a source may name. ``spoor``: the trace the
    source requests carry and where they record which request served which BSN
    (see :mod:`nazorg.sources.trace_context`), for the processing-log records.
    """
    chosen = besluit.checks.get(entry.id)
    if chosen is None:  # the planner never runs a check the besluit does not name
        raise LookupError(f"besluit {besluit.besluit.id} noemt check {entry.id} niet")
    vraag = Vraag(entry, chosen, peildatum, besluit.oin, spoor)
    standaard = besluit.standaard_contact(entry.id)
    try:
        hoofd = _ask(sources, entry.bron, vraag, gevallen)
        extra = _ask(sources, entry.aanvullende_bron, vraag, gevallen) if entry.aanvullende_bron else None
    except SourceError as exc:  # the source as a whole could not answer: onbekend, never nee
        onbekend = CheckResult(
            entry.id, Uitkomst.ONBEKEND, standaard, exc.reden, contact_herkomst=ContactHerkomst.STANDAARD
        )
        return {g.melding_id: onbekend for g in gevallen}
    return {
        g.melding_id: _result(
            entry.id, hoofd[g.melding_id], extra[g.melding_id] if extra is not None else None, besluit
        )
        for g in gevallen
    }
