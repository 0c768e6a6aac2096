"""The checks: each turns source answers into ja/nee/onbekend plus a contact.

Every evaluator works on a list of meldingen at once, so the per-melding DAG
(a list of one) and the batch DAG share the same code. Evaluators see sources
only through the :class:`Bronnen` protocol; the real implementation lives in
:mod:`nazorg.sources.live` and tests may pass a fake.

Rules that hold for every check:
- a source error or an ambiguous answer is ``onbekend`` with a reason, never ``nee``;
- a lookup that returns anything but its three columns raises, which blocks the melding;
- the contact is the source's own contact when it has one, else the besluit's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from nazorg.models import CheckResult, Reden, Uitkomst
from nazorg.register import BesluitCheck, RegisterEntry
from nazorg.sources.sql_lookup import LookupAntwoord, LookupBronFout


class Bronnen(Protocol):
    def lookup(self, verbinding: str, query: str, bsns: Sequence[str]) -> dict[str, LookupAntwoord]: ...

    def woonadres(self, verbinding: str, bsns: Sequence[str]) -> dict[str, bool]: ...

    def minderjarige_kinderen(
        self, verbinding: str, bsns: Sequence[str], peildatum: date
    ) -> dict[str, bool | None]: ...

    def geldig_id(
        self, verbinding: str, bsns: Sequence[str], peildatum: date
    ) -> dict[str, bool | Exception | None]: ...


@dataclass(frozen=True, slots=True)
class Geval:
    """One melding as the checks see it; lives in memory only."""

    melding_id: str
    bsn: str
    reclassering_betrokken: str | None


@dataclass(frozen=True, slots=True)
class Opdracht:
    """Everything a check needs besides the meldingen: what it is, how the gemeente runs it, where."""

    entry: RegisterEntry
    besluit: BesluitCheck
    bronnen: Bronnen
    peildatum: date

    def result(self, uitkomst: Uitkomst, contact: str | None, reden: Reden | None = None) -> CheckResult:
        return CheckResult(self.entry.id, uitkomst, contact, reden)

    @property
    def contact(self) -> str:
        return self.besluit.dossierverantwoordelijke

    def all_onbekend(self, gevallen: Sequence[Geval], reden: Reden) -> dict[str, CheckResult]:
        return {g.melding_id: self.result(Uitkomst.ONBEKEND, self.contact, reden) for g in gevallen}


Evaluator = Callable[[Opdracht, Sequence[Geval]], dict[str, CheckResult]]
_MISSING = object()


def _bron_fouten() -> tuple[type[Exception], ...]:
    from nazorg.sources.haal_centraal import BronFout

    return (BronFout, LookupBronFout)


def _ja_nee(value: bool) -> Uitkomst:
    return Uitkomst.JA if value else Uitkomst.NEE


def sql_check(opdracht: Opdracht, gevallen: Sequence[Geval]) -> dict[str, CheckResult]:
    """A gemeentelijk system answers 'bekend' plus its own contact; no row means nee."""
    lookup = opdracht.besluit.lookup
    assert lookup is not None  # guaranteed by the register check
    try:
        answers = opdracht.bronnen.lookup(lookup.verbinding, lookup.query, [g.bsn for g in gevallen])
    except _bron_fouten() as exc:
        return opdracht.all_onbekend(gevallen, exc.reden)  # type: ignore[attr-defined]
    results = {}
    for g in gevallen:
        answer = answers.get(g.bsn)
        if answer is None:
            results[g.melding_id] = opdracht.result(Uitkomst.NEE, opdracht.contact)
        elif answer.ambigu:
            results[g.melding_id] = opdracht.result(Uitkomst.ONBEKEND, opdracht.contact, Reden.BRON_AMBIGU)
        else:
            contact = answer.dossierverantwoordelijke or opdracht.contact
            results[g.melding_id] = opdracht.result(_ja_nee(answer.bekend), contact)
    return results


def reclassering(opdracht: Opdracht, gevallen: Sequence[Geval]) -> dict[str, CheckResult]:
    """DJI/PI's ja/nee-bericht travels in the melding itself."""
    results = {}
    for g in gevallen:
        if g.reclassering_betrokken in ("ja", "nee"):
            results[g.melding_id] = opdracht.result(
                _ja_nee(g.reclassering_betrokken == "ja"), opdracht.contact
            )
        else:
            results[g.melding_id] = opdracht.result(
                Uitkomst.ONBEKEND, opdracht.contact, Reden.NIET_IN_MELDING
            )
    return results


def _from_answer(opdracht: Opdracht, answer: object, contact: str | None) -> CheckResult:
    """One mapping for every Haal Centraal answer: only a real bool becomes ja or nee."""
    if isinstance(answer, bool):
        return opdracht.result(_ja_nee(answer), contact)
    if answer is _MISSING:
        return opdracht.result(Uitkomst.ONBEKEND, contact, Reden.PERSOON_NIET_GEVONDEN)
    if isinstance(answer, Exception):
        return opdracht.result(Uitkomst.ONBEKEND, contact, getattr(answer, "reden", Reden.BRON_FOUT))
    return opdracht.result(Uitkomst.ONBEKEND, contact, Reden.BRON_AMBIGU)  # None: ambiguous


def _ask(
    opdracht: Opdracht, gevallen: Sequence[Geval], fetch: Callable[[list[str]], Mapping[str, object]]
) -> dict[str, CheckResult]:
    try:
        answers = fetch([g.bsn for g in gevallen])
    except _bron_fouten() as exc:
        return opdracht.all_onbekend(gevallen, exc.reden)  # type: ignore[attr-defined]
    return {
        g.melding_id: _from_answer(opdracht, answers.get(g.bsn, _MISSING), opdracht.contact) for g in gevallen
    }


def _verbinding(opdracht: Opdracht) -> str:
    assert opdracht.besluit.verbinding is not None  # guaranteed by the register check
    return opdracht.besluit.verbinding


def id_bewijs(opdracht: Opdracht, gevallen: Sequence[Geval]) -> dict[str, CheckResult]:
    """A document still held whose datumEindeGeldigheid is not past (Reisdocumenten bevragen)."""
    verbinding = _verbinding(opdracht)
    return _ask(
        opdracht, gevallen, lambda bsns: opdracht.bronnen.geldig_id(verbinding, bsns, opdracht.peildatum)
    )


def kinderen(opdracht: Opdracht, gevallen: Sequence[Geval]) -> dict[str, CheckResult]:
    """Ingeschreven minderjarige kinderen (BRP Personen bevragen)."""
    verbinding = _verbinding(opdracht)
    return _ask(
        opdracht,
        gevallen,
        lambda bsns: opdracht.bronnen.minderjarige_kinderen(verbinding, bsns, opdracht.peildatum),
    )


def onderdak(opdracht: Opdracht, gevallen: Sequence[Geval]) -> dict[str, CheckResult]:
    """Woonadres (functieAdres W) in the BRP; the opvang's contact when the person is known there."""
    lookup = opdracht.besluit.lookup
    assert lookup is not None
    bsns = [g.bsn for g in gevallen]
    try:
        woon = opdracht.bronnen.woonadres(_verbinding(opdracht), bsns)
        opvang = opdracht.bronnen.lookup(lookup.verbinding, lookup.query, bsns)
    except _bron_fouten() as exc:
        return opdracht.all_onbekend(gevallen, exc.reden)  # type: ignore[attr-defined]
    results = {}
    for g in gevallen:
        mo = opvang.get(g.bsn)
        if mo is not None and mo.ambigu:
            results[g.melding_id] = _from_answer(opdracht, None, opdracht.contact)
            continue
        contact = (mo.dossierverantwoordelijke if mo and mo.bekend else None) or opdracht.contact
        results[g.melding_id] = _from_answer(opdracht, woon.get(g.bsn, _MISSING), contact)
    return results


# Checks whose logic is specific; every other check with bron gemeentelijk_sql uses sql_check.
SPECIFIEK: Mapping[str, Evaluator] = {
    "reclassering": reclassering,
    "id_bewijs": id_bewijs,
    "onderdak": onderdak,
    "kinderen": kinderen,
}


def evaluator_for(entry: RegisterEntry) -> Evaluator:
    if entry.id in SPECIFIEK:
        return SPECIFIEK[entry.id]
    if entry.bron == "gemeentelijk_sql":
        return sql_check
    raise LookupError(f"geen implementatie voor check {entry.id} met bron {entry.bron}")


def evalueer(
    entry: RegisterEntry, besluit: BesluitCheck, gevallen: Sequence[Geval], bronnen: Bronnen, peildatum: date
) -> dict[str, CheckResult]:
    """Run one check for many meldingen; every melding gets exactly one result."""
    results = evaluator_for(entry)(Opdracht(entry, besluit, bronnen, peildatum), gevallen)
    missing = {g.melding_id for g in gevallen} - results.keys()
    if missing:
        raise RuntimeError(f"check {entry.id} gaf geen uitkomst voor {len(missing)} melding(en)")
    return results
