"""The checks: each turns source answers into ja/nee/onbekend plus a contact.

Every evaluator works on a list of meldingen at once, so the per-melding DAG
(a list of one) and the batch DAG share the same code. Evaluators see sources
only through the :class:`Bronnen` protocol; the real implementation lives in
:mod:`nazorg.bronnen.live` and tests may pass a fake.

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

from nazorg.bronnen.sql_lookup import LookupAntwoord, LookupBronFout
from nazorg.models import CheckResult, Reden, Uitkomst
from nazorg.register import BesluitCheck, RegisterEntry


class BronFoutLike(Protocol):
    reden: Reden


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


Evaluator = Callable[[RegisterEntry, BesluitCheck, Sequence[Geval], "Bronnen", date], dict[str, CheckResult]]


def _bron_fouten() -> tuple[type[Exception], ...]:
    from nazorg.bronnen.haal_centraal import BronFout

    return (BronFout, LookupBronFout)


def _result(
    entry: RegisterEntry, uitkomst: Uitkomst, contact: str | None, reden: Reden | None = None
) -> CheckResult:
    return CheckResult(entry.id, uitkomst, contact, reden)


def _ja_nee(value: bool) -> Uitkomst:
    return Uitkomst.JA if value else Uitkomst.NEE


def _all_onbekend(
    entry: RegisterEntry, besluit: BesluitCheck, gevallen: Sequence[Geval], reden: Reden
) -> dict[str, CheckResult]:
    return {
        g.melding_id: _result(entry, Uitkomst.ONBEKEND, besluit.dossierverantwoordelijke, reden)
        for g in gevallen
    }


def sql_check(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """A gemeentelijk system answers 'bekend' plus its own contact."""
    assert besluit.lookup is not None  # guaranteed by the register check
    try:
        answers = bronnen.lookup(besluit.lookup.verbinding, besluit.lookup.query, [g.bsn for g in gevallen])
    except _bron_fouten() as exc:
        return _all_onbekend(entry, besluit, gevallen, exc.reden)  # type: ignore[attr-defined]
    results = {}
    for g in gevallen:
        answer = answers.get(g.bsn)
        if answer is None:
            results[g.melding_id] = _result(entry, Uitkomst.NEE, besluit.dossierverantwoordelijke)
        elif answer.ambigu:
            results[g.melding_id] = _result(
                entry, Uitkomst.ONBEKEND, besluit.dossierverantwoordelijke, Reden.BRON_AMBIGU
            )
        else:
            contact = answer.dossierverantwoordelijke or besluit.dossierverantwoordelijke
            results[g.melding_id] = _result(entry, _ja_nee(answer.bekend), contact)
    return results


def reclassering(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """DJI/PI's ja/nee-bericht travels in the melding itself."""
    results = {}
    for g in gevallen:
        if g.reclassering_betrokken in ("ja", "nee"):
            uitkomst = Uitkomst.JA if g.reclassering_betrokken == "ja" else Uitkomst.NEE
            results[g.melding_id] = _result(entry, uitkomst, besluit.dossierverantwoordelijke)
        else:
            results[g.melding_id] = _result(
                entry, Uitkomst.ONBEKEND, besluit.dossierverantwoordelijke, Reden.NIET_IN_MELDING
            )
    return results


_MISSING = object()


def _from_answer(entry: RegisterEntry, answer: object, contact: str | None) -> CheckResult:
    """One mapping for every Haal Centraal answer: only a real bool becomes ja or nee."""
    if isinstance(answer, bool):
        return _result(entry, _ja_nee(answer), contact)
    if answer is _MISSING:
        return _result(entry, Uitkomst.ONBEKEND, contact, Reden.PERSOON_NIET_GEVONDEN)
    if isinstance(answer, Exception):
        return _result(entry, Uitkomst.ONBEKEND, contact, getattr(answer, "reden", Reden.BRON_FOUT))
    return _result(entry, Uitkomst.ONBEKEND, contact, Reden.BRON_AMBIGU)  # None: ambiguous


def _ask(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    fetch: Callable[[list[str]], Mapping[str, object]],
) -> dict[str, CheckResult]:
    try:
        answers = fetch([g.bsn for g in gevallen])
    except _bron_fouten() as exc:
        return _all_onbekend(entry, besluit, gevallen, exc.reden)  # type: ignore[attr-defined]
    contact = besluit.dossierverantwoordelijke
    return {g.melding_id: _from_answer(entry, answers.get(g.bsn, _MISSING), contact) for g in gevallen}


def id_bewijs(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """A document still held whose datumEindeGeldigheid is not past (Reisdocumenten bevragen)."""
    verbinding = besluit.verbinding
    assert verbinding is not None
    return _ask(entry, besluit, gevallen, lambda bsns: bronnen.geldig_id(verbinding, bsns, peildatum))


def kinderen(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """Ingeschreven minderjarige kinderen (BRP Personen bevragen)."""
    verbinding = besluit.verbinding
    assert verbinding is not None
    return _ask(
        entry, besluit, gevallen, lambda bsns: bronnen.minderjarige_kinderen(verbinding, bsns, peildatum)
    )


def onderdak(
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """Woonadres (functieAdres W) in the BRP; the opvang's contact when the person is known there."""
    assert besluit.verbinding is not None and besluit.lookup is not None
    bsns = [g.bsn for g in gevallen]
    try:
        woon = bronnen.woonadres(besluit.verbinding, bsns)
        opvang = bronnen.lookup(besluit.lookup.verbinding, besluit.lookup.query, bsns)
    except _bron_fouten() as exc:
        return _all_onbekend(entry, besluit, gevallen, exc.reden)  # type: ignore[attr-defined]
    results = {}
    for g in gevallen:
        mo = opvang.get(g.bsn)
        if mo is not None and mo.ambigu:
            results[g.melding_id] = _from_answer(entry, None, besluit.dossierverantwoordelijke)
            continue
        contact = (
            mo.dossierverantwoordelijke if mo and mo.bekend else None
        ) or besluit.dossierverantwoordelijke
        results[g.melding_id] = _from_answer(entry, woon.get(g.bsn, _MISSING), contact)
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
    entry: RegisterEntry,
    besluit: BesluitCheck,
    gevallen: Sequence[Geval],
    bronnen: Bronnen,
    peildatum: date,
) -> dict[str, CheckResult]:
    """Run one check for many meldingen; every melding gets exactly one result."""
    results = evaluator_for(entry)(entry, besluit, gevallen, bronnen, peildatum)
    missing = {g.melding_id for g in gevallen} - results.keys()
    if missing:
        raise RuntimeError(f"check {entry.id} gaf geen uitkomst voor {len(missing)} melding(en)")
    return results
