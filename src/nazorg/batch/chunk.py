"""One chunk of the batch: plan, checks, documents, guard and publication for many meldingen at once.

Why a second path next to :mod:`nazorg.pipeline`: a per-melding run pays
Airflow's task overhead (seconds) and asks every source once per person. A
chunk asks each source once per check for all its meldingen (an SQL lookup is
one join against the chunk's BSNs, BRP Personen 20 BSNs per request,
Reisdocumenten through its bounded pool), validates all its documents with one
Great Expectations run, and writes everything in one transaction with bulk
statements. What it decides is the same: the same planner
(:func:`nazorg.plan.beslis`), the same checks (:func:`nazorg.checks.evalueer`,
which the per-melding path calls with a list of one), the same documents
(:func:`nazorg.basisdocument.stel_op`, serialised the same way, so
``outbox.inhoud`` is byte-identical for the same inputs) and the same guard
suite; the same reasons and quarantine codes.

The steps of :func:`verwerk`:

1. *configuration*: the pseudonym key is checked once (and reused for every
   record); per gemeente the besluit, and every source the besluit enables is
   tried for nobody (:func:`nazorg.sources.probe.toets_besluit`), as the
   per-melding ``plan`` does. A failure closes that gemeente's meldingen
   ``mislukt`` with the per-melding path's reason code.
2. *plan*: consent for all the chunk's meldingen in one query, then
   :func:`~nazorg.plan.beslis` per melding (pure).
3. *checks*: per gemeente (the besluit decides the source), per register check,
   one :func:`~nazorg.checks.evalueer` over every melding that plans it. A
   :class:`~nazorg.sources.errors.SourceShapeError` (over-collection) blocks the
   meldingen of that group only, quarantined with column names; any other error
   closes them ``mislukt``. A blocked or failed melding is asked nothing more.
   Every executed check of every melding gets its processing-log record, also
   when its outcome is not stored.
4. *documents and guard*: :mod:`nazorg.batch.bewaking`, then each document
   left against the closed JSON Schema (:mod:`nazorg.basisdocument_html.schema`,
   as the per-melding ``bewaak`` and ``publiceer`` check it) (one validation; a
   table-level failure holds back the chunk, a row-level one only the meldingen
   found by bisection).
5. *writes*: one transaction (:func:`_schrijf`) that first locks the meldingen
   the chunk still holds (``inbox.claim = 'chunk:<chunk_id>'``) and writes only
   for those: plan, outcomes (with the retry bookkeeping of
   :mod:`nazorg.batch.herhaling`), processing log, basisdocument, outbox,
   quarantine, inbox status, claim released. Large tables go through
   :meth:`nazorg.store.Store.bulk` (COPY on PostgreSQL). A re-run finds nothing
   claimed and writes nothing; a document equal to the published one is not
   published again; a changed one (a herhaling filled in an onbekend) is
   published as ``versie`` + 1.
6. *file output*: the published documents of the chunk as Parquet
   (:mod:`nazorg.batch.parquet`), moved into place after the commit; temporary
   files an earlier run of the chunk left (its worker killed before its commit)
   are removed then. The batch
   writes **no per-melding JSON files** in the outbox directory: the Parquet
   file is its file output, and ``outbox.bestand`` names it. Nor per-melding
   HTML pages: a backfill publishes tens of thousands of documents, and a page
   is rendered from the published document when someone looks at it
   (:func:`nazorg.basisdocument_html.render_html`: ``nazorg basisdocument toon
   --format html``, the werklijst), byte for byte what the per-melding path
   writes for the same document and times.

Herhalingen (``herhalingen``: melding_id -> checks to ask again) are already
published meldingen with ``onbekend`` outcomes due for retry: only those checks
are asked again (if the plan, with today's consent and besluit, still allows
them; otherwise they become ``niet_uitgevoerd`` with the plan's reason), the
other outcomes stay as stored.

Nothing here logs or returns a BSN or an outcome of a person: the result holds
counts (:class:`~nazorg.batch.resultaat.ChunkResultaat`), exceptions carry codes.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg import basisdocument as bd
from nazorg.batch import bewaking
from nazorg.batch import parquet as pq_uitvoer
from nazorg.batch.resultaat import UITKOMST_KOLOMMEN, ChunkResultaat
from nazorg.batch.verzamel import TRANSIENT, volgende_poging
from nazorg.checks import Geval, evalueer
from nazorg.models import (
    CheckResult,
    ContactHerkomst,
    DocumentStatus,
    Fase,
    MeldingStatus,
    Reden,
    Uitkomst,
    Uitvoeren,
)
from nazorg.plan import PlanRegel, beslis
from nazorg.processing_log import Verwerking, exporteer, records, trace_id_for
from nazorg.sources.errors import SourceShapeError
from nazorg.sources.trace_context import Spoor
from nazorg.store import now, purge_checkpoint

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.register import Besluit, RegisterEntry
    from nazorg.sources.kinds import Sources
    from nazorg.store import Store
    from nazorg.wiring import Runtime

#: ids per statement in an ``IN`` list (SQLite allows 32766 bound parameters)
IN_DEEL = 5000
_GEBLOKKEERD = "geblokkeerd"
_MISLUKT = "mislukt"


@dataclass(eq=False)
class _Melding:
    """One melding's state inside the chunk; in memory only."""

    melding_id: str
    bsn: str
    gemeente_code: str
    reclassering_betrokken: str | None
    #: the checks to ask again for a published melding; None: a new melding (everything)
    herhaling: frozenset[str] | None
    trace_id: str
    afloop: str | None = None  # None: still open; else _GEBLOKKEERD or _MISLUKT
    uit_te_voeren: set[str] = field(default_factory=set)
    uitkomsten: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the checks decided in this chunk (all for a new melding; the re-asked ones for a herhaling)
    besloten: set[str] = field(default_factory=set)
    plan: list[dict[str, Any]] = field(default_factory=list)
    quarantaine: list[dict[str, Any]] = field(default_factory=list)
    document: dict[str, Any] | None = None
    rijen: list[dict[str, Any]] = field(default_factory=list)  # bd.rows(document): guard and Parquet
    inhoud: str | None = None

    @property
    def open(self) -> bool:
        return self.afloop is None

    def geval(self) -> Geval:
        return Geval(self.melding_id, self.bsn, self.reclassering_betrokken)


@dataclass
class _Context:
    rt: Runtime
    chunk_id: str
    dag: date
    key: bytes
    metingen: dict[str, float]
    verwerkingen: list[Verwerking] = field(default_factory=list)
    log_geschreven: bool = False  # the records of ``verwerkingen`` are committed

    @property
    def herkomst(self) -> str:
        return f"batch:{self.chunk_id}"

    def quarantaine(
        self,
        m: _Melding,
        fase: Fase,
        reden_code: str,
        veld: str | None = None,
        expectation: str | None = None,
    ) -> None:
        m.quarantaine.append(
            {
                "quarantaine_id": uuid.uuid4().hex,
                "melding_id": m.melding_id,
                "herkomst": self.herkomst,
                "fase": fase.value,
                "reden_code": reden_code,
                "veld": veld,
                "expectation": expectation,
                "nu": now(),
            }
        )

    @contextmanager
    def meet(self, naam: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.metingen[naam] = self.metingen.get(naam, 0.0) + time.perf_counter() - start


def verwerk(
    rt: Runtime,
    chunk_id: str,
    meldingen: Sequence[Mapping[str, Any]],
    herhalingen: Mapping[str, Collection[str]],
    *,
    peildatum: date | None = None,
    parquet_dir: Path | None = None,
    metingen: dict[str, float] | None = None,
) -> ChunkResultaat:
    """Process one chunk (module docstring) and return its counts.

    ``meldingen``: inbox rows (melding_id, bsn, gemeente_code,
    reclassering_betrokken, run_key, status) claimed ``chunk:<chunk_id>``;
    ``herhalingen``: melding_id -> check ids to ask again for published ones.
    ``parquet_dir`` overrides the configured Parquet root (tests); ``metingen``,
    when given, receives seconds per phase (``plan``, ``checks:<bron>``,
    ``documenten``, ``bewaking``, ``schrijven``, ``parquet``) for benchmarks.

    The result counts, among the meldingen the chunk still held when it wrote:
    ``gepubliceerd`` (published now or, for a herhaling, still published),
    ``gequarantaineerd`` (blocked), ``mislukt``; ``meldingen`` is the number
    handed in. ``uitkomsten`` counts the outcomes decided here of published
    meldingen. Configuration errors close the meldingen ``mislukt`` (as a
    per-melding run would) and are counted, not raised; a pipeline-DB error
    during the write is raised and nothing of the chunk is written but the
    processing-log records of the questions already asked.

    No per-melding JSON file is written (unlike :func:`nazorg.pipeline.publiceer`):
    the chunk's Parquet file is the batch's file output, ``outbox.bestand`` names it.
    """
    start = time.perf_counter()
    ctx_metingen: dict[str, float] = metingen if metingen is not None else {}
    dag = peildatum or date.today()
    lijst = _nog_geclaimd(rt, chunk_id, _lees(chunk_id, meldingen, herhalingen))
    try:
        key = rt.settings.pseudonym_key()  # before any source is asked: no processing without its record
    except Exception as exc:
        ctx = _Context(rt, chunk_id, dag, b"", ctx_metingen)
        for m in lijst:
            _sluit_af(ctx, m, Fase.ONTVANG, exc)
        return _resultaat(ctx, lijst, _schrijf(ctx, lijst, parquet_dir), start, len(meldingen))
    ctx = _Context(rt, chunk_id, dag, key, ctx_metingen)
    try:
        with rt.open_sources() as bronnen:
            besluiten = _configuratie(ctx, lijst, bronnen)
            with ctx.meet("plan"):
                _plan(ctx, lijst, besluiten)
            with ctx.meet("checks"):
                _checks(ctx, lijst, besluiten, bronnen)
        with ctx.meet("documenten"):
            _documenten(ctx, lijst, besluiten)
        with ctx.meet("bewaking"):
            _bewaak(ctx, lijst)
        geschreven = _schrijf(ctx, lijst, parquet_dir)
    except BaseException:
        _log_zo_mogelijk(ctx)  # the sources were asked: their records outlive the failed chunk
        raise
    return _resultaat(ctx, lijst, geschreven, start, len(meldingen))


def _log_zo_mogelijk(ctx: _Context) -> None:
    """After a failure before the chunk's commit: the processing-log records on their own, best effort.

    As the per-melding path does when an outcome could not be stored: the
    chunk's own error (re-raised by the caller) matters more than this one.
    """
    if ctx.log_geschreven or not ctx.verwerkingen:
        return
    with contextlib.suppress(Exception):
        regels = records(ctx.verwerkingen, ctx.key)
        with ctx.rt.store.transaction() as conn:
            ctx.rt.store.bulk("verwerkingslog_insert", regels, conn=conn)
        ctx.log_geschreven = True
        exporteer(regels)


def _lees(
    chunk_id: str, meldingen: Sequence[Mapping[str, Any]], herhalingen: Mapping[str, Collection[str]]
) -> list[_Melding]:
    """The chunk's meldingen as working state; a blocked one is left alone (blocking is final)."""
    lijst = []
    gezien: set[str] = set()
    for row in meldingen:
        melding_id = str(row["melding_id"])
        if melding_id in gezien or row.get("status") == MeldingStatus.GEBLOKKEERD:
            continue
        gezien.add(melding_id)
        opnieuw = herhalingen.get(melding_id)
        is_herhaling = opnieuw is not None and row.get("status") == MeldingStatus.GEPUBLICEERD
        lijst.append(
            _Melding(
                melding_id=melding_id,
                bsn=str(row["bsn"]),
                gemeente_code=str(row["gemeente_code"]),
                reclassering_betrokken=row.get("reclassering_betrokken"),
                herhaling=frozenset(opnieuw) if is_herhaling and opnieuw is not None else None,
                trace_id=trace_id_for(f"batch:{chunk_id}:{melding_id}"),
            )
        )
    return lijst


def _nog_geclaimd(rt: Runtime, chunk_id: str, lijst: list[_Melding]) -> list[_Melding]:
    """Only the meldingen the chunk still holds; a finished chunk run again asks nobody anything.

    The write transaction checks the claim once more (:func:`_schrijf`): a claim
    that expires while the chunk runs loses its meldingen to whoever took them over.
    """
    geclaimd = {
        str(r["melding_id"])
        for r in rt.store.query(
            "batch/inbox_geclaimd_chunk",
            {"claim": f"chunk:{chunk_id}", "geblokkeerd": MeldingStatus.GEBLOKKEERD.value},
        )
    }
    return [m for m in lijst if m.melding_id in geclaimd]


def _sluit_af(ctx: _Context, m: _Melding, fase: Fase, exc: BaseException) -> None:
    """The melding ends ``mislukt`` with the per-melding path's reason code (a name at most, no value)."""
    from nazorg.pipeline import _reden  # the one mapping from an error to its reason code

    reden_code, veld, _ = _reden(exc)
    m.afloop = _MISLUKT
    ctx.quarantaine(m, fase, reden_code, veld)


def _blokkeer(
    ctx: _Context, m: _Melding, fase: Fase, reden_code: str, velden: Sequence[tuple[str | None, str | None]]
) -> None:
    m.afloop = _GEBLOKKEERD
    for veld, expectation in velden:
        ctx.quarantaine(m, fase, reden_code, veld, expectation)


def _configuratie(ctx: _Context, lijst: list[_Melding], bronnen: Sources) -> dict[str, Besluit]:
    """Per gemeente its besluit, after trying its sources for nobody; failures close its meldingen."""
    from nazorg.sources.probe import toets_besluit

    policy = ctx.rt.policy
    besluiten: dict[str, Besluit] = {}
    per_gemeente: dict[str, list[_Melding]] = defaultdict(list)
    for m in lijst:
        per_gemeente[m.gemeente_code].append(m)
    for gemeente_code, groep in per_gemeente.items():
        fase = Fase.ONTVANG
        try:
            besluit = policy.besluit(gemeente_code)
            fase = Fase.PLAN
            with ctx.meet("plan"):
                toets_besluit(policy.register, besluit, bronnen, ctx.dag)
        except Exception as exc:
            for m in groep:
                _sluit_af(ctx, m, fase, exc)
            continue
        besluiten[gemeente_code] = besluit
    return besluiten


def _in_delen(ids: Sequence[str]) -> Iterator[list[str]]:
    for begin in range(0, len(ids), IN_DEEL):
        yield list(ids[begin : begin + IN_DEEL])


def _plan(ctx: _Context, lijst: list[_Melding], besluiten: Mapping[str, Besluit]) -> None:
    """Consent in one query, then the planner per melding; a herhaling re-decides only its checks."""
    store, register = ctx.rt.store, ctx.rt.policy.register
    open_ = [m for m in lijst if m.open]
    toestemmingen: dict[str, set[str]] = defaultdict(set)
    for deel in _in_delen([m.melding_id for m in open_]):
        for row in store.query(
            "batch/toestemming_voor_meldingen", {"melding_ids": deel, "peildatum": ctx.dag.isoformat()}
        ):
            toestemmingen[str(row["melding_id"])].add(str(row["check_id"]))
    bestaand = _bestaande_uitkomsten(ctx, [m.melding_id for m in open_ if m.herhaling is not None])
    nu = now()
    besluit_cache: dict[tuple[str, frozenset[str]], list[PlanRegel]] = {}
    for m in open_:
        besluit = besluiten[m.gemeente_code]
        eigen = frozenset(toestemmingen.get(m.melding_id, ()))
        regels = besluit_cache.get((m.gemeente_code, eigen))
        if regels is None:
            regels = besluit_cache[(m.gemeente_code, eigen)] = beslis(register, besluit, eigen)
        if m.herhaling is not None and m.melding_id in bestaand:
            m.uitkomsten = bestaand[m.melding_id]
            regels = [r for r in regels if r.check_id in m.herhaling and r.check_id in m.uitkomsten]
        else:
            m.herhaling = None  # nothing stored to build on: the whole melding is decided anew
        for r in regels:
            m.plan.append(
                {
                    "melding_id": m.melding_id,
                    "check_id": r.check_id,
                    "aandachtsgebied": r.aandachtsgebied.value,
                    "uitvoeren": (Uitvoeren.JA if r.uitvoeren else Uitvoeren.NEE).value,
                    "reden": r.reden.value if r.reden else None,
                }
            )
            m.besloten.add(r.check_id)
            if r.uitvoeren:
                m.uit_te_voeren.add(r.check_id)
            else:
                entry = register.entry(r.check_id)
                m.uitkomsten[r.check_id] = _rij(
                    ctx, m, entry, Uitkomst.NIET_UITGEVOERD.value, None, None, r.reden, nu, uitgevoerd=False
                )


def _bestaande_uitkomsten(ctx: _Context, ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    bestaand: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for deel in _in_delen(ids):
        for row in ctx.rt.store.query("batch/uitkomst_voor_meldingen", {"melding_ids": deel}):
            bestaand[str(row["melding_id"])][str(row["check_id"])] = {
                **row,
                "pogingen": int(row.get("pogingen") or 0),
            }
    return bestaand


def _rij(
    ctx: _Context,
    m: _Melding,
    entry: RegisterEntry,
    uitkomst: str,
    contact: str | None,
    herkomst: ContactHerkomst | None,
    reden: Reden | None,
    nu: str,
    *,
    uitgevoerd: bool,
) -> dict[str, Any]:
    """One outcome row; an executed check counts an attempt and, if it may be asked again, when."""
    vorige = m.uitkomsten.get(entry.id)
    pogingen = (int(vorige["pogingen"]) if vorige is not None else 0) + (1 if uitgevoerd else 0)
    reden_waarde = reden.value if reden else None
    volgende = None
    if uitgevoerd and uitkomst == Uitkomst.ONBEKEND.value and reden_waarde in TRANSIENT:
        volgende = volgende_poging(pogingen, uitkomst, reden_waarde, ctx.rt.settings, nu)
    return {
        "melding_id": m.melding_id,
        "check_id": entry.id,
        "aandachtsgebied": entry.aandachtsgebied.value,
        "uitkomst": uitkomst,
        "dossierverantwoordelijke": contact,
        "contact_herkomst": herkomst.value if herkomst else None,
        "reden": reden_waarde,
        "processing_activity_id": entry.processing_activity_id,
        "bepaald_op": nu,
        "pogingen": pogingen,
        "volgende_poging": volgende,
    }


def _checks(ctx: _Context, lijst: list[_Melding], besluiten: Mapping[str, Besluit], bronnen: Sources) -> None:
    """Per gemeente, per register check: one evaluation over every melding that plans it."""
    register = ctx.rt.policy.register
    per_gemeente: dict[str, list[_Melding]] = defaultdict(list)
    for m in lijst:
        if m.open:
            per_gemeente[m.gemeente_code].append(m)
    for gemeente_code, groep in per_gemeente.items():
        besluit = besluiten[gemeente_code]
        for entry in register.checks:
            gevallen = [m for m in groep if m.open and entry.id in m.uit_te_voeren]
            if gevallen:
                with ctx.meet(f"checks:{entry.bron}"):
                    _check(ctx, entry, besluit, gevallen, bronnen)


def _check(
    ctx: _Context, entry: RegisterEntry, besluit: Besluit, gevallen: list[_Melding], bronnen: Sources
) -> None:
    begin = now()
    # One question for many people: its requests (a BRP Personen request serves up to 20) carry a
    # trace of this question; each person's record names the request that served them.
    spoor = Spoor(trace_id_for(f"batch:{ctx.chunk_id}:{besluit.gemeente_code}:{entry.id}"))

    def verwerking(m: _Melding, geslaagd: bool, eind: str) -> Verwerking:
        return Verwerking(
            trace_id=m.trace_id,
            check_id=entry.id,
            processing_activity_id=entry.processing_activity_id,
            bsn=m.bsn,
            start_time=begin,
            end_time=eind,
            geslaagd=geslaagd,
            foreign=spoor.voor(m.bsn),
        )

    try:
        uitslag = evalueer(entry, besluit, [m.geval() for m in gevallen], bronnen, ctx.dag, spoor)
    except SourceShapeError as exc:  # over-collection: everyone this question was about is blocked
        eind = now()
        for m in gevallen:
            ctx.verwerkingen.append(verwerking(m, False, eind))
            _blokkeer(ctx, m, Fase.CHECK, exc.reden_code, [(kolom, None) for kolom in exc.kolommen])
        return
    except Exception as exc:  # a source may have been asked; the meldingen end mislukt
        eind = now()
        for m in gevallen:
            ctx.verwerkingen.append(verwerking(m, False, eind))
            _sluit_af(ctx, m, Fase.CHECK, exc)
        return
    eind = now()
    for m in gevallen:
        result: CheckResult = uitslag[m.melding_id]
        ctx.verwerkingen.append(verwerking(m, result.uitkomst in (Uitkomst.JA, Uitkomst.NEE), eind))
        if result.contact_geweigerd:
            ctx.quarantaine(
                m,
                Fase.CHECK,
                Reden.CONTACT_NIET_IN_BESLUIT.value,
                f"{result.check_id}.dossierverantwoordelijke",
            )
        m.uitkomsten[entry.id] = _rij(
            ctx,
            m,
            entry,
            result.uitkomst.value,
            result.dossierverantwoordelijke,
            result.contact_herkomst,
            result.reden,
            eind,
            uitgevoerd=True,
        )


def _documenten(ctx: _Context, lijst: list[_Melding], besluiten: Mapping[str, Besluit]) -> None:
    """Each open melding's basisdocument, exactly as the per-melding ``stel_basisdocument_op`` makes it."""
    register_versie = ctx.rt.policy.register.register_versie
    koppen: dict[str, dict[str, Any]] = {}
    for deel in _in_delen([m.melding_id for m in lijst if m.open]):
        for row in ctx.rt.store.query("batch/inbox_kop_meldingen", {"melding_ids": deel}):
            koppen[str(row["melding_id"])] = row
    for m in lijst:
        if not m.open:
            continue
        rijen = [m.uitkomsten[c] for c in sorted(m.uitkomsten)]  # uitkomst_for: ORDER BY check_id
        besluit = besluiten[m.gemeente_code]
        m.document = bd.stel_op(
            m.melding_id,
            m.gemeente_code,
            besluit.besluit.id,
            register_versie,
            rijen,
            kop=bd.kop(koppen.get(m.melding_id, {}), besluit.gemeente_naam),
        )
        m.rijen = bd.rows(m.document)
        m.inhoud = json.dumps(m.document, ensure_ascii=False)


def _bewaak(ctx: _Context, lijst: list[_Melding]) -> None:
    """The guard over all the documents' rows, then the closed JSON Schema per document left.

    As the per-melding ``bewaak``: a document the guard passes but the schema does
    not (its header, its structure) is held back with ``schema_ongeldig`` (paths
    and keywords in quarantine) and never reaches publication.
    """
    from nazorg.basisdocument_html.schema import REDEN_CODE, valideer_voor_policy

    klaar = [m for m in lijst if m.open and m.document is not None]
    uitslag = bewaking.bewaak(
        {m.melding_id: m.document for m in klaar if m.document is not None},
        {m.melding_id: m.rijen for m in klaar},
    )
    per_id = {m.melding_id: m for m in lijst}
    for melding_id, failures in uitslag.tegengehouden.items():
        _blokkeer(
            ctx,
            per_id[melding_id],
            Fase.BEWAAK,
            "overcollectie",
            [(f.column, f.expectation) for f in failures],
        )
    for m in klaar:
        if m.open and m.document is not None:
            fouten = valideer_voor_policy(m.document, ctx.rt.policy)
            if fouten:
                _blokkeer(ctx, m, Fase.BEWAAK, REDEN_CODE, [(f.veld, f.keyword) for f in fouten])


@dataclass
class _Geschreven:
    ids: frozenset[str]  # the meldingen the chunk still held when it wrote
    gepubliceerd: frozenset[str]  # outbox rows written now (new or changed documents)


def _schrijf(ctx: _Context, lijst: list[_Melding], parquet_dir: Path | None) -> _Geschreven:
    """Everything of the chunk in one transaction, for the meldingen it still holds (module docstring)."""
    store = ctx.rt.store
    nu = now()
    geklaard: dict[Path, Path] = {}
    with ctx.meet("schrijven"):
        with ctx.meet("schrijven.pseudoniemen"):
            logregels = records(ctx.verwerkingen, ctx.key) if ctx.verwerkingen else []
        try:
            with store.transaction() as conn:
                ons = {
                    str(r["melding_id"])
                    for r in store.query(
                        "batch/inbox_vergrendel_chunk",
                        {
                            "claim": f"chunk:{ctx.chunk_id}",
                            "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                            "nu": nu,
                        },
                        conn=conn,
                    )
                }
                mijn = [m for m in lijst if m.melding_id in ons]
                publiceer = _te_publiceren(ctx, conn, mijn)
                if publiceer:
                    with ctx.meet("parquet"):
                        geklaard = _parquet(ctx, publiceer, nu, parquet_dir)
                bestand = {_gemeente_van(pad): str(pad) for pad in geklaard}
                _schrijf_rijen(ctx, conn, mijn, publiceer, bestand, logregels, nu)
            ctx.log_geschreven = True
            exporteer(logregels)  # committed: now spans too, when configured
        except BaseException:
            pq_uitvoer.ruim_op(geklaard)
            raise
        pq_uitvoer.plaats(geklaard)
        for doel in geklaard:  # what an earlier run of this chunk, killed before its commit, left
            for wees in pq_uitvoer.wezen(doel):
                wees.unlink(missing_ok=True)
    if any(m.afloop is not None for m in lijst):
        purge_checkpoint(store.engine)  # committed: purged values now out of SQLite's write-ahead log too
    return _Geschreven(frozenset(ons), frozenset(m.melding_id for m, _ in publiceer))


def _gemeente_van(pad: Path) -> str:
    return pad.parent.parent.name.removeprefix("gemeente_code=")


def _te_publiceren(ctx: _Context, conn: Connection, mijn: list[_Melding]) -> list[tuple[_Melding, int]]:
    """The approved meldingen whose document differs from what is published, with their new versie."""
    goed = [m for m in mijn if m.open and m.inhoud is not None]
    gepubliceerd: dict[str, tuple[str, int]] = {}
    for deel in _in_delen([m.melding_id for m in goed]):
        for row in ctx.rt.store.query("batch/outbox_voor_meldingen", {"melding_ids": deel}, conn=conn):
            gepubliceerd[str(row["melding_id"])] = (str(row["inhoud"]), int(row["versie"] or 1))
    uit: list[tuple[_Melding, int]] = []
    for m in goed:
        vorig = gepubliceerd.get(m.melding_id)
        if vorig is None:
            uit.append((m, 1))
        elif vorig[0] != m.inhoud:
            uit.append((m, vorig[1] + 1))
    return uit


def _parquet(
    ctx: _Context, publiceer: list[tuple[_Melding, int]], nu: str, parquet_dir: Path | None
) -> dict[Path, Path]:
    register_versie = ctx.rt.policy.register.register_versie
    rijen = []
    for m, versie in publiceer:
        assert m.document is not None
        for rij in m.rijen:
            rijen.append(
                {
                    **rij,
                    "gemeente_code": m.gemeente_code,
                    "besluit": m.document["besluit"],
                    "register_versie": register_versie,
                    "versie": versie,
                    "gepubliceerd_op": nu,
                }
            )
    return pq_uitvoer.schrijf_tijdelijk(parquet_root(ctx.rt, parquet_dir), ctx.chunk_id, ctx.dag, rijen)


def parquet_root(rt: Runtime, parquet_dir: Path | None = None) -> Path:
    """Where Parquet goes: the argument, else ``Settings.parquet_dir`` once it exists, else var/parquet.

    ``NAZORG_PARQUET_DIR`` is read by :mod:`nazorg.settings` (the one module
    that reads the environment) as ``parquet_dir``.
    """
    if parquet_dir is not None:
        return parquet_dir
    configured = getattr(rt.settings, "parquet_dir", None)
    return Path(configured) if configured else rt.settings.project_dir / "var" / "parquet"


def _schrijf_rijen(
    ctx: _Context,
    conn: Connection,
    mijn: list[_Melding],
    publiceer: list[tuple[_Melding, int]],
    bestand: Mapping[str, str],
    logregels: list[dict[str, str | None]],
    nu: str,
) -> None:
    store = ctx.rt.store

    def delete(naam: str, ids: Sequence[str]) -> None:
        for deel in _in_delen(ids):
            store.execute(naam, {"melding_ids": deel}, conn=conn)

    nieuw_open = [m for m in mijn if m.open and m.herhaling is None]
    herhaling_open = [m for m in mijn if m.open and m.herhaling is not None]
    weg = [m for m in mijn if not m.open]
    meet = ctx.meet
    with meet("schrijven.plan"):
        _plan_rijen(delete, store, conn, nieuw_open, herhaling_open, weg)
    purge = [m.melding_id for m in weg if m.herhaling is None or m.afloop == _GEBLOKKEERD]
    with meet("schrijven.uitkomst"):
        delete("batch/uitkomst_delete_meldingen", [m.melding_id for m in nieuw_open + herhaling_open] + purge)
        uitkomsten = [m.uitkomsten[c] for m in nieuw_open + herhaling_open for c in sorted(m.uitkomsten)]
        store.bulk("batch/uitkomst_insert", uitkomsten, conn=conn)
    with meet("schrijven.verwerkingslog"):
        store.bulk("verwerkingslog_insert", logregels, conn=conn)
    with meet("schrijven.documenten"):
        _document_rijen(ctx, conn, delete, publiceer, purge, bestand, nu)
    with meet("schrijven.inbox"):
        store.bulk("quarantaine_insert", [q for m in mijn for q in m.quarantaine], conn=conn)
        per_status: dict[MeldingStatus, list[str]] = defaultdict(list)
        for m in mijn:
            per_status[_eindstatus(m)].append(m.melding_id)
        for eindstatus, ids in per_status.items():
            for deel in _in_delen(ids):
                store.execute(
                    "batch/inbox_status_chunk",
                    {
                        "melding_ids": deel,
                        "status": eindstatus.value,
                        "claim": f"chunk:{ctx.chunk_id}",
                        "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                        "nu": nu,
                    },
                    conn=conn,
                )
        store.execute("batch/inbox_claim_vrij_chunk", {"claim": f"chunk:{ctx.chunk_id}"}, conn=conn)


def _document_rijen(
    ctx: _Context,
    conn: Connection,
    delete: Callable[[str, Sequence[str]], None],
    publiceer: list[tuple[_Melding, int]],
    purge: list[str],
    bestand: Mapping[str, str],
    nu: str,
) -> None:
    """Published documents replaced, with their outbox rows; a blocked or failed melding's purged.

    An outbox row already published stays when its melding is blocked later (a
    herhaling that over-collected): it went out, and the inbox says geblokkeerd.
    """
    store = ctx.rt.store
    register_versie = ctx.rt.policy.register.register_versie
    delete("batch/basisdocument_delete_meldingen", [m.melding_id for m, _ in publiceer] + purge)
    store.bulk(
        "batch/basisdocument_insert",
        [
            {
                "melding_id": m.melding_id,
                "gemeente_code": m.gemeente_code,
                "status": DocumentStatus.GEPUBLICEERD.value,
                "inhoud": m.inhoud,
                "register_versie": register_versie,
                "nu": nu,
            }
            for m, _ in publiceer
        ],
        conn=conn,
    )
    delete("batch/outbox_delete_meldingen", [m.melding_id for m, _ in publiceer])
    store.bulk(
        "batch/outbox_insert",
        [
            {
                "melding_id": m.melding_id,
                "gemeente_code": m.gemeente_code,
                "inhoud": m.inhoud,
                "bestand": bestand.get(m.gemeente_code),
                "nu": nu,
                "versie": versie,
            }
            for m, versie in publiceer
        ],
        conn=conn,
    )


def _plan_rijen(
    delete: Callable[[str, Sequence[str]], None],
    store: Store,
    conn: Connection,
    nieuw_open: list[_Melding],
    herhaling_open: list[_Melding],
    weg: list[_Melding],
) -> None:
    """A new melding's plan replaced (a failed one's purged); a herhaling's re-decided checks updated."""
    delete(
        "batch/plan_delete_meldingen",
        [m.melding_id for m in nieuw_open]
        + [m.melding_id for m in weg if m.afloop == _MISLUKT and m.herhaling is None],
    )
    store.bulk("batch/plan_insert", [r for m in nieuw_open for r in m.plan], conn=conn)
    store.bulk("batch/plan_upsert", [r for m in herhaling_open for r in m.plan], conn=conn)


def _eindstatus(m: _Melding) -> MeldingStatus:
    """A failed herhaling stays published (its document went out); a failed new melding is mislukt."""
    if m.afloop == _GEBLOKKEERD:
        return MeldingStatus.GEBLOKKEERD
    if m.afloop == _MISLUKT and m.herhaling is None:
        return MeldingStatus.MISLUKT
    return MeldingStatus.GEPUBLICEERD


def _resultaat(
    ctx: _Context, lijst: list[_Melding], geschreven: _Geschreven, start: float, aantal: int
) -> ChunkResultaat:
    tellingen: dict[str, dict[str, int]] = {}
    gepubliceerd = gequarantaineerd = mislukt = 0
    for m in lijst:
        if m.melding_id not in geschreven.ids:
            continue
        if m.afloop == _GEBLOKKEERD:
            gequarantaineerd += 1
        elif m.afloop == _MISLUKT:
            mislukt += 1
        else:
            gepubliceerd += 1
            for check_id in m.besloten:
                rij = tellingen.setdefault(check_id, dict.fromkeys(UITKOMST_KOLOMMEN, 0))
                uitkomst = str(m.uitkomsten[check_id]["uitkomst"])
                rij[uitkomst] = rij.get(uitkomst, 0) + 1
    return ChunkResultaat(
        chunk_id=ctx.chunk_id,
        meldingen=aantal,
        gepubliceerd=gepubliceerd,
        gequarantaineerd=gequarantaineerd,
        mislukt=mislukt,
        uitkomsten=tellingen,
        seconden=time.perf_counter() - start,
    )


__all__ = ["IN_DEEL", "parquet_root", "verwerk"]
