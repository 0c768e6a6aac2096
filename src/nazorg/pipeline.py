"""The per-melding steps behind the DAG's tasks.

Each step takes the :class:`~nazorg.wiring.Runtime` (store, policy, sources,
settings) and the melding's run key (:mod:`nazorg.run_key`), finds the melding
through it, does its work against the pipeline DB and returns counts only:
outcomes and BSNs never leave the pipeline DB through Airflow (no XCom, no
logs). Steps are idempotent, so a retried or repeated run converges on one
basisdocument.

What reaches a task log is an exception message, so those name the run key at
most: never the sender's melding id (a BSN can hide in it) and never a check
together with a melding (which checks ran depends on consent). Whether a run
fails must not depend on consent either: :func:`plan` first tries every source
the gemeente's besluit enables, without asking about anyone
(:mod:`nazorg.sources.probe`), so a misconfigured consent-gated lookup fails
every run of that gemeente alike instead of only the runs of people who consented.

Blocking is final. The six check tasks of a run write in parallel, so one of
them can block the melding while another is still storing its outcome. Every
write for a melding therefore runs in a transaction that first claims the
melding's inbox row (``inbox_vergrendel``: a row lock on PostgreSQL, the write
lock on SQLite) and finds nothing to claim once the melding is blocked; a block
claims the same row first and purges in the same transaction. Whichever comes
second waits for the first, so an outcome either lands before the block (and is
purged by it) or is refused with :class:`Geblokkeerd`. No step leads out of
``geblokkeerd``: not a re-run of ``ontvang`` nor of ``plan``.

Failing is closed too. Every step is wrapped (:func:`_faalt_gesloten`): any
other exception ends the melding ``mislukt`` with a quarantine row (the step's
fase and a reason code, never a value) and purges what was staged (plan,
outcomes, document), in one transaction that claims the row like a block. The
task still fails, with :class:`StapMislukt` (codes only; the original error is
not chained, its message may hold a value). Unlike a block, a new run
(``ontvang``) may take a failed melding up again once the cause is fixed.
``ontvang`` checks the configuration (pseudonym key, schema revision, the
gemeente's besluit) before the run asks any source.

Every outcome of an executed check is stored in the same transaction as its
processing-log record, so no outcome exists without its record; when a source
was asked but no outcome is stored, the record is written on its own.

A melding is never in a per-melding run and a batch chunk at once
(:mod:`nazorg.batch.verzamel`): ``ontvang`` claims the inbox row for the run
(``run:<run_key>``, leased for the DAG run's timeout plus one task's) and is
refused with :class:`InBatch` while a batch chunk holds a live claim; that
refusal closes nothing. Publishing, blocking and closing a failed run end the
claim, and closing never touches a melding someone else holds under a live claim.
"""

from __future__ import annotations

import contextlib
import functools
import json
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, NoReturn, ParamSpec, TypeVar

from nazorg import basisdocument as bd
from nazorg.basisdocument_html.schema import REDEN_CODE as SCHEMA_REDEN
from nazorg.basisdocument_html.schema import SchemaFout, valideer_voor_policy
from nazorg.batch.verzamel import volgende_poging
from nazorg.checks import Geval, evalueer
from nazorg.inbox import quarantaine
from nazorg.models import (
    Aandachtsgebied,
    CheckResult,
    DocumentStatus,
    Fase,
    MeldingStatus,
    Reden,
    Uitkomst,
    Uitvoeren,
)
from nazorg.plan import beslis
from nazorg.processing_log import Verwerking, exporteer, record, schrijf
from nazorg.run_key import is_run_key
from nazorg.sources.errors import SourceShapeError
from nazorg.sources.kinds import Sources
from nazorg.sources.trace_context import Spoor
from nazorg.store import Store, now, purge_checkpoint, require_current_schema

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.register import RegisterEntry
    from nazorg.settings import Settings
    from nazorg.wiring import Runtime


class MeldingOnbekend(LookupError):
    """The inbox has no melding with this run key (it may have been quarantined)."""


class Geblokkeerd(RuntimeError):
    """The melding is blocked or its run failed, or publication was refused.

    The quarantine says why (codes and names); the message never carries a value.
    """


class InBatch(RuntimeError):
    """A batch chunk holds a live claim on the melding: the run may not take it now.

    Nothing is closed or changed; the batch publishes the melding (or a new run
    may take it once the chunk is done). The message names the run key only.
    """

    reden_code = "in_batch"


class Verwijderd(RuntimeError):
    """The melding is a tombstone: retention (nazorg.bewaartermijn) removed its BSN and content.

    Terminal: nothing is left to check or publish, so the run is refused before it
    claims anything and nothing is changed or quarantined (the tombstone keeps only
    ids, gemeente, status and times). The message names the run key only.
    """

    reden_code = "melding_verwijderd"


class StapMislukt(RuntimeError):
    """A step failed; the melding is closed as ``mislukt`` (see :func:`_faalt_gesloten`).

    The message carries the fase, the reason code, the run key and the error's
    type and place (or, for this code base's own value-free errors, their
    message), never a value nor the melding id: the original error is not chained.
    """

    def __init__(self, message: str, *, reden_code: str) -> None:
        super().__init__(message)
        self.reden_code = reden_code


def _melding(store: Store, run_key: str) -> dict[str, Any]:
    """The inbox row of the run's melding; the message names the key only if it is a well-formed one."""
    if not is_run_key(run_key):
        raise MeldingOnbekend("run key heeft een ongeldig formaat")
    rows = store.query("inbox_get_by_run_key", {"run_key": run_key})
    if not rows:
        raise MeldingOnbekend(f"run {run_key}: geen melding in de inbox")
    return rows[0]


@contextmanager
def _schrijf(store: Store, melding_id: str) -> Iterator[Connection]:
    """A transaction for writes about one melding that is not blocked (see the module docstring)."""
    with store.transaction() as conn:
        claimed = store.execute(
            "inbox_vergrendel",
            {
                "melding_id": melding_id,
                "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                "mislukt": MeldingStatus.MISLUKT.value,
                "nu": now(),
            },
            conn=conn,
        )
        if not claimed:
            rows = store.query("inbox_get", {"melding_id": melding_id}, conn=conn)
            if not rows:
                raise MeldingOnbekend("melding staat niet (meer) in de inbox")
            if rows[0]["status"] == MeldingStatus.MISLUKT:
                raise Geblokkeerd("melding is mislukt; zie quarantaine en start een nieuwe run")
            raise Geblokkeerd("melding is geblokkeerd; zie quarantaine")
        yield conn


def _block(
    store: Store,
    melding_id: str,
    fase: Fase,
    reden_code: str,
    velden: list[tuple[str | None, str | None]],
) -> None:
    """Mark the melding blocked, quarantine names only and purge what was staged, in one transaction.

    The status is set first: that takes the melding's row lock, so a concurrent
    write waits for the purge to commit and is then refused.
    """
    with store.transaction() as conn:
        store.execute(
            "inbox_blokkeer",
            {"melding_id": melding_id, "geblokkeerd": MeldingStatus.GEBLOKKEERD.value, "nu": now()},
            conn=conn,
        )
        for veld, expectation in velden:
            quarantaine(
                store,
                melding_id=melding_id,
                herkomst="pipeline",
                fase=fase,
                reden_code=reden_code,
                veld=veld,
                expectation=expectation,
                conn=conn,
            )
        store.execute("uitkomst_delete", {"melding_id": melding_id}, conn=conn)
        store.execute("basisdocument_delete", {"melding_id": melding_id}, conn=conn)
    purge_checkpoint(store.engine)  # committed: now out of SQLite's write-ahead log too


def _sluit_af(
    store: Store,
    melding_id: str,
    fase: Fase,
    reden_code: str,
    veld: str | None,
    *,
    claim: str | None = None,
) -> bool:
    """Close a melding still in a run as ``mislukt``: quarantine, purge, in one transaction.

    As in :func:`_block`, the status is set first to take the row lock. A melding
    that is blocked, published or already failed keeps its state, and so does one
    under another live claim than ``claim`` (the closer's own: ``run:<run_key>`` or
    ``chunk:<chunk_id>``); returns whether this call closed it.
    """
    with store.transaction() as conn:
        closed = store.execute(
            "inbox_mislukt",
            {
                "melding_id": melding_id,
                "mislukt": MeldingStatus.MISLUKT.value,
                "ontvangen": MeldingStatus.ONTVANGEN.value,
                "in_behandeling": MeldingStatus.IN_BEHANDELING.value,
                "claim": claim,
                "nu": now(),
            },
            conn=conn,
        )
        if not closed:
            return False
        quarantaine(
            store,
            melding_id=melding_id,
            herkomst="pipeline",
            fase=fase,
            reden_code=reden_code,
            veld=veld,
            expectation=None,
            conn=conn,
        )
        for purge in ("uitkomst_delete", "basisdocument_delete", "plan_delete"):
            store.execute(purge, {"melding_id": melding_id}, conn=conn)
    purge_checkpoint(store.engine)  # committed: now out of SQLite's write-ahead log too
    return True


def _reden(exc: BaseException) -> tuple[str, str | None, bool]:
    """The reason code, the field to quarantine (a name) and whether the message is value-free.

    Only this code base's own errors, whose messages are built from names and
    codes, may be repeated; any other message (a driver's, a library's) may
    quote a value and is reduced to its type and place.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from nazorg.connections import ConnectionInvalid, ConnectionMissing
    from nazorg.migrations import MigrationError
    from nazorg.register import RegisterError
    from nazorg.settings import SettingsError
    from nazorg.sources.lookup_lint import LookupOngeldig
    from nazorg.sources.probe import BronConfiguratieFout
    from nazorg.store import SchemaOutdated

    if isinstance(exc, LookupOngeldig):
        return "lookup_ongeldig", exc.regel, True
    if isinstance(exc, BronConfiguratieFout):  # the probe at the start of plan: the same for everyone
        return "bron_configuratie_ongeldig", None, True
    if isinstance(exc, SettingsError):
        return "configuratie_ongeldig", exc.setting, True
    if isinstance(exc, RegisterError):
        return "register_ongeldig", None, True
    if isinstance(exc, ConnectionMissing | ConnectionInvalid):
        return "verbinding_ongeldig", None, True
    if isinstance(exc, SchemaOutdated | MigrationError):
        return "schema_verouderd", None, True
    if isinstance(exc, Geblokkeerd):
        return "stap_geweigerd", None, True
    if isinstance(exc, InBatch):
        return InBatch.reden_code, None, True
    if isinstance(exc, Verwijderd):
        return Verwijderd.reden_code, None, True
    if isinstance(exc, SQLAlchemyError):
        return "db_fout", None, False
    return "intern_fout", None, False


def _melding_id_van(store: Store, run_key: str) -> str | None:
    """The melding behind a run key, or ``None`` when there is none (nothing to close)."""
    if not is_run_key(run_key):
        return None
    rows = store.query("inbox_get_by_run_key", {"run_key": run_key})
    return str(rows[0]["melding_id"]) if rows else None


def _mislukt(store: Store | None, run_key: str, fase: Fase, exc: Exception) -> Exception:
    """Close the run's melding after ``exc`` and return the error the task fails with.

    The melding is found through the run key; an unknown key has nothing to
    close. :class:`Geblokkeerd` and :class:`MeldingOnbekend` say all there is
    to say and are returned as they are; anything else becomes a
    :class:`StapMislukt`, which names the run key at most, never the melding id.
    """
    reden_code, veld, vrij_van_waarden = _reden(exc)
    closed: bool | None = None
    if store is not None and not isinstance(exc, MeldingOnbekend | InBatch | Verwijderd):
        try:
            melding_id = _melding_id_van(store, run_key)
            closed = (
                False
                if melding_id is None
                else _sluit_af(store, melding_id, fase, reden_code, veld, claim=run_claim(run_key))
            )
        except Exception as sluit_exc:  # the pipeline DB itself failed: say so, with its type only
            closed = None
            reden_code = f"{reden_code}; afsluiten mislukt ({type(sluit_exc).__name__})"
    if isinstance(exc, Geblokkeerd | MeldingOnbekend | InBatch | Verwijderd):
        return exc
    if vrij_van_waarden and fase is not Fase.CHECK:
        detail = str(exc)
    elif fase is Fase.CHECK:
        # which checks run depends on consent: a check task's message names no check (the
        # quarantine row holds the code and the rule); only the error's type
        detail = type(exc).__name__
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" in {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        detail = f"{type(exc).__name__}{where}"
    if closed:
        gevolg = "melding afgesloten als mislukt; zie quarantaine"
    elif closed is None:
        gevolg = "melding kon niet als mislukt worden vastgelegd"
    else:
        gevolg = "melding was al afgesloten of is onbekend"
    run = f"run {run_key}" if is_run_key(run_key) else "run met ongeldige sleutel"
    return StapMislukt(f"{fase.value}: {reden_code} ({detail}); {run}: {gevolg}", reden_code=reden_code)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _faalt_gesloten(
    fase: Fase,
) -> Callable[[Callable[Concatenate[Runtime, str, _P], _R]], Callable[Concatenate[Runtime, str, _P], _R]]:
    """Wrap a step so that every failure ends the run's melding in a terminal state (module docstring)."""

    def wrap(
        step: Callable[Concatenate[Runtime, str, _P], _R],
    ) -> Callable[Concatenate[Runtime, str, _P], _R]:
        @functools.wraps(step)
        def wrapped(rt: Runtime, run_key: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return step(rt, run_key, *args, **kwargs)
            except Exception as exc:
                raise _mislukt(rt.store, run_key, fase, exc) from None

        return wrapped

    return wrap


def mislukt_zonder_runtime(run_key: str, fase: Fase, exc: Exception) -> NoReturn:
    """The task could not even build its runtime: close the melding with a bare store if one can be had."""
    store: Store | None
    try:
        store = Store.from_connection()
    except Exception:  # the pipeline DB is what failed: nothing can be recorded
        store = None
    raise _mislukt(store, run_key, fase, exc) from None


def _controleer_configuratie(rt: Runtime, gemeente_code: str) -> None:
    """What a run needs before it asks any source: a strong key, the schema at head, a besluit."""
    rt.settings.pseudonym_key()
    require_current_schema(rt.store.engine)
    rt.policy.besluit(gemeente_code)


def _bewaar_uitkomst(
    store: Store,
    melding_id: str,
    aandachtsgebied: Aandachtsgebied,
    processing_activity_id: str,
    result: CheckResult,
    logregel: dict[str, str | None] | None = None,
    *,
    settings: Settings | None = None,
    uitgevoerd: bool = True,
) -> None:
    """Stage one check's outcome with its processing-log record, in one transaction.

    Refused with :class:`Geblokkeerd` once the melding is blocked or failed;
    if the record cannot be written, the outcome is not stored either. A contact
    the check refused (not a team of the besluit) is quarantined in the same
    transaction: the check and the reason, never the text.

    The retry bookkeeping is the batch's (:func:`nazorg.batch.verzamel.volgende_poging`),
    so the next batch retries a transient onbekend of this run too: an executed
    check (``uitgevoerd``) counts one attempt more than the outcome stored for it
    (``plan`` removed those of an earlier run); ``settings`` None: the process's.
    """
    with _schrijf(store, melding_id) as conn:
        if uitgevoerd:
            plan_nu = store.query(
                "plan_check", {"melding_id": melding_id, "check_id": result.check_id}, conn=conn
            )
            if plan_nu and plan_nu[0]["uitvoeren"] != Uitvoeren.JA:
                # consent was withdrawn while the source was asked (nazorg.toestemming corrected
                # the plan under this lock): the answer is not kept
                reden_plan = plan_nu[0]["reden"]
                result = CheckResult(
                    result.check_id,
                    Uitkomst.NIET_UITGEVOERD,
                    None,
                    Reden(reden_plan) if reden_plan else Reden.GEEN_TOESTEMMING,
                )
                uitgevoerd = False
        vorige = store.query(
            "uitkomst_pogingen", {"melding_id": melding_id, "check_id": result.check_id}, conn=conn
        )
        pogingen = (int(vorige[0]["pogingen"] or 0) if vorige else 0) + (1 if uitgevoerd else 0)
        reden = result.reden.value if result.reden else None
        nu = now()
        volgende = (
            volgende_poging(pogingen, result.uitkomst.value, reden, settings, nu) if uitgevoerd else None
        )
        if result.contact_geweigerd:
            quarantaine(
                store,
                melding_id=melding_id,
                herkomst="pipeline",
                fase=Fase.CHECK,
                reden_code=Reden.CONTACT_NIET_IN_BESLUIT.value,
                veld=f"{result.check_id}.dossierverantwoordelijke",
                conn=conn,
            )
        store.execute(
            "uitkomst_upsert",
            {
                "melding_id": melding_id,
                "check_id": result.check_id,
                "aandachtsgebied": aandachtsgebied.value,
                "uitkomst": result.uitkomst.value,
                "dossierverantwoordelijke": result.dossierverantwoordelijke,
                "contact_herkomst": result.contact_herkomst.value if result.contact_herkomst else None,
                "reden": reden,
                "processing_activity_id": processing_activity_id,
                "nu": nu,
                "pogingen": pogingen,
                "volgende_poging": volgende,
            },
            conn=conn,
        )
        if logregel is not None:
            store.execute("verwerkingslog_insert", logregel, conn=conn)
    if logregel is not None:
        exporteer([logregel])  # committed: now a span too, when configured


def run_claim(run_key: str) -> str:
    """The inbox claim of a per-melding run (a batch chunk's is ``chunk:<chunk_id>``)."""
    return f"run:{run_key}"


def _verwijderd(run_key: str) -> Verwijderd:
    return Verwijderd(
        f"run {run_key}: {Verwijderd.reden_code}: de bewaartermijn is verstreken; "
        "de melding is verwijderd (alleen een grafsteen); niets gewijzigd"
    )


@_faalt_gesloten(Fase.ONTVANG)
def ontvang(rt: Runtime, run_key: str) -> dict[str, int]:
    """Take the melding into a run and claim it, after checking the configuration.

    A failed melding may be retaken; a blocked one never, nor a tombstone (retention
    left no BSN: :class:`Verwijderd`, nothing changed). While a batch chunk
    holds a live claim on it the run is refused with :class:`InBatch`. The claim's
    lease is the DAG run's timeout plus one task's: by then Airflow has ended the
    run, and a batch may take over a melding whose run was lost.
    """
    from datetime import UTC, datetime

    from nazorg.airflow.timeouts import eerstedagsmelding_timeouts

    store = rt.store
    melding = _melding(store, run_key)
    melding_id = melding["melding_id"]
    if melding["bsn"] is None:  # a tombstone (the claim below refuses one made meanwhile too)
        raise _verwijderd(run_key)
    if melding["status"] == MeldingStatus.GEBLOKKEERD:
        raise Geblokkeerd(f"run {run_key}: melding is geblokkeerd; zie quarantaine")
    _controleer_configuratie(rt, melding["gemeente_code"])
    timeouts = eerstedagsmelding_timeouts(rt.settings)
    moment = datetime.now(UTC)
    lease = moment + timeouts.run + timeouts.task
    with store.transaction() as conn:
        taken = store.execute(
            "inbox_claim_run",
            {
                "melding_id": melding_id,
                "in_behandeling": MeldingStatus.IN_BEHANDELING.value,
                "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
                "claim": run_claim(run_key),
                "claim_tot": lease.isoformat(timespec="milliseconds"),
                "nu": moment.isoformat(timespec="milliseconds"),
            },
            conn=conn,
        )
        if not taken:
            rows = store.query("inbox_claim_get", {"melding_id": melding_id}, conn=conn)
            if rows and rows[0]["grafsteen"]:  # made a tombstone meanwhile
                raise _verwijderd(run_key)
            if not rows or rows[0]["status"] == MeldingStatus.GEBLOKKEERD:  # blocked meanwhile
                raise Geblokkeerd(f"run {run_key}: melding is geblokkeerd; zie quarantaine")
            raise InBatch(
                f"run {run_key}: {InBatch.reden_code}: de melding wordt nu in een batch verwerkt; "
                "niets gewijzigd"
            )
    return {"meldingen": 1}


@_faalt_gesloten(Fase.PLAN)
def plan(rt: Runtime, run_key: str, peildatum: date | None = None) -> dict[str, int]:
    """Decide every register check; refused ones are recorded as niet_uitgevoerd right away.

    First every source the besluit enables is tried without asking about anyone,
    before consent is even read: a misconfigured lookup fails this run whether or
    not the person consented to the check that uses it (and ends it ``mislukt``,
    ``bron_configuratie_ongeldig`` or ``lookup_ongeldig``, for everyone alike).
    """
    from nazorg.sources.probe import toets_besluit

    store, pol = rt.store, rt.policy
    melding = _melding(store, run_key)
    melding_id = melding["melding_id"]
    besluit = pol.besluit(melding["gemeente_code"])
    with rt.open_sources() as bronnen:
        toets_besluit(pol.register, besluit, bronnen, peildatum or date.today())
    dag = (peildatum or date.today()).isoformat()
    nu = now()
    with _schrijf(store, melding_id) as conn:  # a re-run must not un-block (or refill) a blocked melding
        # consent is read under the melding's lock: a consent recorded or withdrawn meanwhile
        # (nazorg.toestemming, same lock) is either seen here or finds this plan to correct
        toestemmingen = {
            r["check_id"]
            for r in store.query("toestemming_for", {"melding_id": melding_id, "peildatum": dag}, conn=conn)
        }
        regels = beslis(pol.register, besluit, toestemmingen)
        store.execute("plan_delete", {"melding_id": melding_id}, conn=conn)
        # the run decides every check anew (today's consent and besluit), so the attempts of
        # the outcomes it discards go with them: its retries count from 1 again
        store.execute("uitkomst_delete", {"melding_id": melding_id}, conn=conn)
        store.execute(
            "plan_upsert",
            [
                {
                    "melding_id": melding_id,
                    "check_id": r.check_id,
                    "aandachtsgebied": r.aandachtsgebied.value,
                    "uitvoeren": (Uitvoeren.JA if r.uitvoeren else Uitvoeren.NEE).value,
                    "reden": r.reden.value if r.reden else None,
                }
                for r in regels
            ],
            conn=conn,
        )
        niet = [r for r in regels if not r.uitvoeren]
        if niet:
            store.execute(
                "uitkomst_upsert",
                [
                    {
                        "melding_id": melding_id,
                        "check_id": r.check_id,
                        "aandachtsgebied": r.aandachtsgebied.value,
                        "uitkomst": Uitkomst.NIET_UITGEVOERD.value,
                        "dossierverantwoordelijke": None,
                        "contact_herkomst": None,
                        "reden": r.reden.value if r.reden else None,
                        "processing_activity_id": pol.register.entry(r.check_id).processing_activity_id,
                        "nu": nu,
                        "pogingen": 0,  # not asked: no attempt, nothing to retry
                        "volgende_poging": None,
                    }
                    for r in niet
                ],
                conn=conn,
            )
    return {"uit_te_voeren": len(regels) - len(niet), "niet_uitgevoerd": len(niet)}


@_faalt_gesloten(Fase.CHECK)
def voer_checks_uit(
    rt: Runtime,
    run_key: str,
    aandachtsgebied: Aandachtsgebied,
    trace_id: str,
    peildatum: date | None = None,
) -> dict[str, int]:
    """Run the planned checks of one aandachtsgebied for one melding."""
    melding = _melding(rt.store, run_key)
    with rt.open_sources() as bronnen:
        return _voer_checks_uit(rt, bronnen, melding, aandachtsgebied, trace_id, peildatum)


def _voer_checks_uit(
    rt: Runtime,
    bronnen: Sources,
    melding: dict[str, Any],
    aandachtsgebied: Aandachtsgebied,
    trace_id: str,
    peildatum: date | None,
) -> dict[str, int]:
    store, pol = rt.store, rt.policy
    key = rt.settings.pseudonym_key()  # before any source is asked: no processing without its record
    melding_id = melding["melding_id"]
    besluit = pol.besluit(melding["gemeente_code"])
    planned = [
        r["check_id"]
        for r in store.query("plan_for", {"melding_id": melding_id})
        if r["aandachtsgebied"] == aandachtsgebied.value and r["uitvoeren"] == Uitvoeren.JA
    ]
    geval = Geval(melding_id, melding["bsn"], melding["reclassering_betrokken"])
    dag = peildatum or date.today()
    for check_id in planned:
        entry = pol.register.entry(check_id)
        chosen = besluit.checks.get(check_id)
        if chosen is None:
            # The besluit changed between plan and run: refuse, do not guess. Not by failing
            # the task: which checks were planned depends on consent, so a failure (or a
            # message naming the check) would tell who consented.
            _bewaar_uitkomst(
                store,
                melding_id,
                entry.aandachtsgebied,
                entry.processing_activity_id,
                CheckResult(check_id, Uitkomst.NIET_UITGEVOERD, None, Reden.NIET_IN_BESLUIT),
                uitgevoerd=False,
            )
            continue
        start = now()
        spoor = Spoor(
            trace_id
        )  # outgoing requests carry the run's trace; the record names the one that served

        def verwerking(
            geslaagd: bool, entry: RegisterEntry = entry, start: str = start, spoor: Spoor = spoor
        ) -> Verwerking:
            return Verwerking(
                trace_id=trace_id,
                check_id=entry.id,
                processing_activity_id=entry.processing_activity_id,
                bsn=melding["bsn"],
                start_time=start,
                end_time=now(),
                geslaagd=geslaagd,
                foreign=spoor.voor(melding["bsn"]),
            )

        try:
            result = evalueer(entry, besluit, [geval], bronnen, dag, spoor)[melding_id]
        except SourceShapeError as exc:
            schrijf(store, [verwerking(False)], key)  # the source was asked, and answered too much
            _block(
                store,
                melding_id,
                Fase.CHECK,
                exc.reden_code,
                [(kolom, None) for kolom in exc.kolommen],
            )
            raise Geblokkeerd(f"melding geblokkeerd ({exc.reden_code}); zie quarantaine") from None
        except Exception:
            _schrijf_log_zo_mogelijk(store, verwerking(False), key)  # a source may have been asked
            raise
        gedaan = verwerking(result.uitkomst in (Uitkomst.JA, Uitkomst.NEE))
        try:
            _bewaar_uitkomst(
                store,
                melding_id,
                entry.aandachtsgebied,
                entry.processing_activity_id,
                result,
                record(gedaan, key),
                settings=rt.settings,
            )
        except Geblokkeerd:
            # blocked or failed meanwhile by another check; the sources were asked all the same
            schrijf(store, [gedaan], key)
            raise
        except Exception:
            _schrijf_log_zo_mogelijk(store, gedaan, key)
            raise
    return {"checks": len(planned)}


def _schrijf_log_zo_mogelijk(store: Store, verwerking: Verwerking, key: bytes) -> None:
    """Record a processing whose outcome could not be stored; the step's own error matters more."""
    with contextlib.suppress(Exception):
        schrijf(store, [verwerking], key)


@_faalt_gesloten(Fase.BASISDOCUMENT)
def stel_basisdocument_op(rt: Runtime, run_key: str) -> dict[str, int]:
    store, pol = rt.store, rt.policy
    melding = _melding(store, run_key)
    melding_id = melding["melding_id"]
    besluit = pol.besluit(melding["gemeente_code"])
    with _schrijf(store, melding_id) as conn:
        # read under the lock: a consent withdrawn meanwhile has already removed its outcomes
        uitkomsten = store.query("uitkomst_for", {"melding_id": melding_id}, conn=conn)
        document = bd.stel_op(
            melding_id,
            melding["gemeente_code"],
            besluit.besluit.id,
            pol.register.register_versie,
            uitkomsten,
            kop=bd.kop(melding, besluit.gemeente_naam),
        )
        store.execute(
            "basisdocument_upsert",
            {
                "melding_id": melding_id,
                "gemeente_code": melding["gemeente_code"],
                "status": DocumentStatus.CONCEPT.value,
                "inhoud": json.dumps(document, ensure_ascii=False),
                "register_versie": pol.register.register_versie,
                "nu": now(),
            },
            conn=conn,
        )
    return {"checks": len(uitkomsten)}


@_faalt_gesloten(Fase.BEWAAK)
def bewaak(rt: Runtime, run_key: str) -> dict[str, int]:
    """Great Expectations decides, then the closed JSON Schema; a failure quarantines names only and purges.

    The guard's frame holds the checks; the schema (:mod:`nazorg.basisdocument_html.schema`)
    also covers the header, so a document the guard passes can still be held back
    (``schema_ongeldig``). The guard goes first so its reason codes stay what they were.
    """
    import pandas as pd

    store = rt.store
    from nazorg.guard import validate_frame

    melding_id = _melding(store, run_key)["melding_id"]
    rows = store.query("basisdocument_get", {"melding_id": melding_id})
    if not rows or rows[0]["status"] not in (DocumentStatus.CONCEPT, DocumentStatus.GOEDGEKEURD):
        raise Geblokkeerd(f"run {run_key}: geen concept-basisdocument")
    document = json.loads(rows[0]["inhoud"])
    frame = pd.DataFrame(bd.rows(document))
    verdict = validate_frame(frame)
    if not verdict.passed:
        _block(
            store,
            melding_id,
            Fase.BEWAAK,
            "overcollectie",
            [(f.column, f.expectation) for f in verdict.failures],
        )
        raise Geblokkeerd(f"run {run_key}: melding geblokkeerd door de bewaking; zie quarantaine")
    fouten = valideer_voor_policy(document, rt.policy)
    if fouten:  # the whole document, header included, against the closed JSON Schema
        _block(store, melding_id, Fase.BEWAAK, SCHEMA_REDEN, [(f.veld, f.keyword) for f in fouten])
        raise Geblokkeerd(f"run {run_key}: basisdocument voldoet niet aan het schema; zie quarantaine")
    with _schrijf(store, melding_id) as conn:
        store.execute(
            "basisdocument_set_status",
            {"melding_id": melding_id, "status": DocumentStatus.GOEDGEKEURD.value, "nu": now()},
            conn=conn,
        )
    return {"rijen": verdict.evaluated}


class _SchemaGeweigerd(Exception):
    """Inside :func:`publiceer`'s transaction: the document fails the schema (rolled back, then blocked)."""

    def __init__(self, fouten: list[SchemaFout]) -> None:
        super().__init__(SCHEMA_REDEN)
        self.fouten = fouten


@_faalt_gesloten(Fase.PUBLICEER)
def publiceer(rt: Runtime, run_key: str, directory: Path | None = None) -> dict[str, int]:
    """Write the approved document to the outbox table, as JSON and as HTML; only approved documents go out.

    All under the melding's claim: a block cannot slip in between reading the
    approved document and recording it as published. The file is named after the
    run key, not the sender's melding id (which is inside the document); the page
    (:func:`nazorg.basisdocument_html.render_html`, the coördinator's view) is the
    same name with ``.html``, mode 0600. The document is validated against the
    closed JSON Schema once more right before it goes out: one that fails is
    not published, the melding is blocked (``schema_ongeldig``, paths and
    keywords in quarantine), as the guard blocks.
    """
    from nazorg.basisdocument_html import context_uit_uitkomsten, render_html
    from nazorg.basisdocument_html.bestand import schrijf_pagina

    store = rt.store
    melding_id = _melding(store, run_key)["melding_id"]
    try:
        with _schrijf(store, melding_id) as conn:
            rows = store.query("basisdocument_get", {"melding_id": melding_id}, conn=conn)
            if not rows or rows[0]["status"] not in (
                DocumentStatus.GOEDGEKEURD,
                DocumentStatus.GEPUBLICEERD,
            ):
                raise Geblokkeerd(f"run {run_key}: basisdocument niet goedgekeurd door de bewaking")
            row = rows[0]
            document = json.loads(row["inhoud"])
            fouten = valideer_voor_policy(document, rt.policy)
            if fouten:
                raise _SchemaGeweigerd(fouten)  # nothing written yet: the transaction rolls back
            nu = now()
            pagina = render_html(
                document,
                rol="coordinator",
                register=rt.policy.register,
                besluit=rt.policy.besluit(row["gemeente_code"]),
                context=context_uit_uitkomsten(
                    store.query("uitkomst_tijden", {"melding_id": melding_id}, conn=conn), nu
                ),
            )
            target_dir = (directory or rt.settings.outbox_dir) / row["gemeente_code"]
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / f"{run_key}.json"
            tmp = target.with_suffix(".json.tmp")
            tmp.write_text(row["inhoud"], encoding="utf-8")
            tmp.replace(target)  # atomic: a reader never sees half a document
            schrijf_pagina(target, pagina)
            _publiceer_rijen(store, conn, melding_id, row, target, nu)
    except _SchemaGeweigerd as exc:
        _block(store, melding_id, Fase.PUBLICEER, SCHEMA_REDEN, [(f.veld, f.keyword) for f in exc.fouten])
        raise Geblokkeerd(
            f"run {run_key}: basisdocument voldoet niet aan het schema; zie quarantaine"
        ) from None
    return {"gepubliceerd": 1}


def _publiceer_rijen(
    store: Store, conn: Connection, melding_id: str, row: dict[str, Any], target: Path, nu: str
) -> None:
    """The outbox row (published at ``nu``, the time on the page), the document's and the inbox's status."""
    store.execute(
        "outbox_upsert",
        {
            "melding_id": melding_id,
            "gemeente_code": row["gemeente_code"],
            "inhoud": row["inhoud"],
            "bestand": str(target),
            "nu": nu,
        },
        conn=conn,
    )
    store.execute(
        "basisdocument_set_status",
        {"melding_id": melding_id, "status": DocumentStatus.GEPUBLICEERD.value, "nu": now()},
        conn=conn,
    )
    store.execute(
        "inbox_publiceer",
        {
            "melding_id": melding_id,
            "gepubliceerd": MeldingStatus.GEPUBLICEERD.value,
            "geblokkeerd": MeldingStatus.GEBLOKKEERD.value,
            "nu": now(),
        },
        conn=conn,
    )
