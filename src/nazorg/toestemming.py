"""Consent and agreement (toestemming, overeenkomst) per melding: record, withdraw, show.

Why (report §3.3.1.2): support offered on a voluntary basis may rest on the
person's consent or on an agreement between DJI/PI, gemeente and the person
(a *modelovereenkomst* ticks the basisvoorwaarden the person wants support on).
The register marks the checks that need one (``wanneer: toestemming``); the
planner runs such a check for a melding only while a recorded consent covers
it: not withdrawn, not past ``geldig_tot`` (:mod:`nazorg.plan`, statement
``toestemming_for`` and ``batch/toestemming_voor_meldingen``).

Consent is keyed by ``melding_id`` (revision 0009): the inbox stays the only
table that holds a BSN. The CLI (``nazorg toestemming``) finds the melding by
the person's BSN, read from standard input or a file, never from argv.

What a change does to a melding already processed:

- :func:`vastleggen` marks the newly covered checks that were refused for lack
  of consent (``niet_uitgevoerd``, ``geen_toestemming``) as due for a
  herhaling (``uitkomst.volgende_poging`` = now, ``pogingen`` 0): the next
  batch collects the melding as it collects an ``onbekend`` to retry
  (:mod:`nazorg.batch.verzamel`), asks those checks under the consent as it is
  then, and publishes the changed document as the next ``outbox.versie``.
- :func:`intrekken` stops the checks at once, in the transaction of the
  withdrawal: their outcomes become ``niet_uitgevoerd`` / ``geen_toestemming``
  (answer and contact gone), the plan says so, the basisdocument is made again
  and passes the guard and the closed JSON Schema, and a published melding is
  republished (outbox ``versie`` + 1, its per-melding JSON file and the HTML page
  next to it rewritten; a document published before the header existed gets it,
  :func:`nazorg.basisdocument.met_kop`). A check another valid consent still
  covers keeps running.

Races with a run or a batch chunk: every change first takes the melding's inbox
row lock (``inbox_toestemming_vergrendel``), the lock every write of a run and
of a chunk takes too, and ends a batch chunk's claim on it (that chunk decided
under the old consent; it writes nothing for a melding it no longer holds, and
the next batch takes the melding up). A per-melding run keeps its claim: it
reads consent, the outcomes and the plan under the same lock before it writes
(:func:`nazorg.pipeline.plan`, ``_bewaar_uitkomst``, ``stel_basisdocument_op``),
so a withdrawal is never overwritten by an answer asked before it.

Basisvoorwaarden: the report's five basisvoorwaarden are the DPAN
aandachtsgebieden (:class:`nazorg.models.Aandachtsgebied`, a closed list). A
consent given per basisvoorwaarde covers the register's consent-gated checks
of those aandachtsgebieden at the moment it is recorded; what is stored is the
check ids, so a later register change never widens a consent silently.

Nothing here prints or returns a BSN or an outcome: results carry ids and counts.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg.bestanden import atomair
from nazorg.bsn import canonieke_bsn
from nazorg.models import (
    Aandachtsgebied,
    DocumentStatus,
    Fase,
    MeldingStatus,
    Reden,
    ToestemmingSoort,
    Uitkomst,
)
from nazorg.store import now, purge_checkpoint

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.register import Register
    from nazorg.store import Store
    from nazorg.wiring import Runtime

#: who recorded or withdrew: a user or role name; no run of 8+ digits (a BSN never fits)
DOOR = re.compile(r"^[A-Za-z][A-Za-z0-9._@ ()-]{1,79}$")
#: the version of the consent or agreement text the person agreed to
TEKST_VERSIE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,59}$")
_CIJFERREEKS = re.compile(r"\d{8,}")


class ToestemmingFout(ValueError):
    """A consent change was refused; ``reden_code`` says why, the message never holds a value."""

    def __init__(self, reden_code: str, message: str) -> None:
        super().__init__(f"{reden_code}: {message}")
        self.reden_code = reden_code


@dataclass(frozen=True, slots=True)
class Vastgelegd:
    toestemming_id: str
    melding_id: str
    checks: tuple[str, ...]
    #: how many checks of an already processed melding the next batch asks now
    herhalingen: int


@dataclass(frozen=True, slots=True)
class Ingetrokken:
    toestemming_id: str
    melding_id: str
    #: the checks no longer covered by any valid consent: their outcomes are gone
    gestopt: tuple[str, ...]
    #: the outbox versie the melding was republished as, or None (not published)
    versie: int | None
    #: the guard refused the new document: the melding is blocked (see quarantine)
    geblokkeerd: bool = False


@dataclass(frozen=True, slots=True)
class Record:
    """One consent record as ``toon`` shows it (no BSN, no outcome)."""

    toestemming_id: str
    soort: str
    checks: tuple[str, ...]
    tekst_versie: str
    vastgelegd_door: str
    vastgelegd_op: str
    geldig_tot: str | None
    ingetrokken_op: str | None
    ingetrokken_door: str | None


# -- pure ----------------------------------------------------------------------------------------


def toestemming_checks(register: Register) -> frozenset[str]:
    """The checks a consent may cover: those the register runs only with consent."""
    return frozenset(e.id for e in register.checks if e.wanneer == "toestemming")


def gedekte_checks(
    register: Register, checks: Iterable[str] = (), basisvoorwaarden: Iterable[str] = ()
) -> tuple[str, ...]:
    """The check ids a consent covers, in register order; refused with a reason code otherwise.

    ``checks`` names register checks; each must have ``wanneer: toestemming``
    (a check that runs anyway, or one the register does not know, is refused:
    recording consent for it would suggest a choice the person does not have).
    ``basisvoorwaarden`` names aandachtsgebieden; each must hold at least one
    consent-gated check.
    """
    gegated = toestemming_checks(register)
    gekozen: set[str] = set()
    for check_id in checks:
        if check_id not in register.ids:
            raise ToestemmingFout("check_onbekend", f"check {check_id!r} staat niet in het register")
        if check_id not in gegated:
            raise ToestemmingFout(
                "check_zonder_toestemming",
                f"check {check_id!r} heeft geen 'wanneer: toestemming'; toestemming kan alleen "
                f"{', '.join(sorted(gegated))} dekken",
            )
        gekozen.add(check_id)
    for naam in basisvoorwaarden:
        try:
            gebied = Aandachtsgebied(naam)
        except ValueError:
            raise ToestemmingFout(
                "basisvoorwaarde_onbekend",
                f"basisvoorwaarde {naam!r} onbekend; kies uit {', '.join(a.value for a in Aandachtsgebied)}",
            ) from None
        binnen = {e.id for e in register.checks if e.aandachtsgebied == gebied and e.id in gegated}
        if not binnen:
            raise ToestemmingFout(
                "basisvoorwaarde_zonder_toestemming",
                f"basisvoorwaarde {gebied.value} heeft geen check die toestemming vraagt",
            )
        gekozen |= binnen
    if not gekozen:
        raise ToestemmingFout("geen_checks", "noem minstens één check of basisvoorwaarde")
    return tuple(i for i in register.ids if i in gekozen)


def _tekst(pattern: re.Pattern[str], value: str, reden_code: str, veld: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value) or _CIJFERREEKS.search(value):
        raise ToestemmingFout(reden_code, f"{veld} heeft een ongeldig formaat")
    return value


def _geldig_tot(value: date | str | None, vandaag: date) -> str | None:
    if value is None:
        return None
    try:
        dag = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        raise ToestemmingFout("geldig_tot_ongeldig", "geldig_tot is geen datum (JJJJ-MM-DD)") from None
    if dag < vandaag:
        raise ToestemmingFout("geldig_tot_verleden", "geldig_tot ligt in het verleden")
    return dag.isoformat()


def nieuw_id() -> str:
    """A consent id of our own: letters only, so it never looks like a BSN in output."""
    return "t-" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(20))


# -- finding the melding ------------------------------------------------------------------------


def meldingen_voor_bsn(store: Store, bsn: str) -> list[dict[str, Any]]:
    """The person's meldingen (id, gemeente, status), the BSN matched in canonical form."""
    canoniek = canonieke_bsn(bsn)
    if canoniek is None:
        raise ToestemmingFout("bsn_ongeldig", "geen geldig BSN (9 cijfers, elfproef)")
    return store.query("inbox_voor_bsn", {"bsn": canoniek})


def kies_melding(store: Store, bsn: str, melding_id: str | None = None) -> str:
    """The one melding of this person a consent change is about.

    Without ``melding_id`` the person must have exactly one melding that is not
    blocked (a blocked one is final: nothing will run for it); with it, the
    melding must be one of the person's.
    """
    meldingen = meldingen_voor_bsn(store, bsn)
    if melding_id is not None:
        if not any(m["melding_id"] == melding_id for m in meldingen):
            raise ToestemmingFout("melding_niet_van_bsn", "deze melding hoort niet bij dit BSN")
        return melding_id
    open_ = [m for m in meldingen if m["status"] != MeldingStatus.GEBLOKKEERD]
    if not open_:
        raise ToestemmingFout("geen_melding", "geen (open) melding voor dit BSN in de inbox")
    if len(open_) > 1:
        raise ToestemmingFout(
            "meerdere_meldingen",
            f"{len(open_)} open meldingen voor dit BSN; kies er één met --melding "
            f"({', '.join(m['melding_id'] for m in open_)})",
        )
    return str(open_[0]["melding_id"])


# -- store I/O ----------------------------------------------------------------------------------


def _vergrendel(store: Store, melding_id: str, conn: Connection) -> dict[str, Any]:
    """Take the melding's lock (and end a chunk's claim: module docstring); its inbox row."""
    if not store.execute("inbox_toestemming_vergrendel", {"melding_id": melding_id, "nu": now()}, conn=conn):
        raise ToestemmingFout("melding_onbekend", "melding staat niet in de inbox")
    return store.query("inbox_get", {"melding_id": melding_id}, conn=conn)[0]


def vastleggen(
    rt: Runtime,
    melding_id: str,
    soort: ToestemmingSoort | str,
    *,
    checks: Collection[str] = (),
    basisvoorwaarden: Collection[str] = (),
    tekst_versie: str,
    vastgelegd_door: str,
    geldig_tot: date | str | None = None,
    vandaag: date | None = None,
    toestemming_id: str | None = None,
) -> Vastgelegd:
    """Record a toestemming or overeenkomst for one melding (module docstring); one transaction.

    ``toestemming_id`` None: a new id. The simulator passes its own derived id
    (recording the same id twice changes nothing).
    """
    try:
        soort_ = ToestemmingSoort(soort)
    except ValueError:
        raise ToestemmingFout(
            "soort_onbekend", f"soort moet {' of '.join(s.value for s in ToestemmingSoort)} zijn"
        ) from None
    gedekt = gedekte_checks(rt.policy.register, checks, basisvoorwaarden)
    versie = _tekst(TEKST_VERSIE, tekst_versie, "tekst_versie_ongeldig", "tekst_versie")
    door = _tekst(DOOR, vastgelegd_door, "vastgelegd_door_ongeldig", "vastgelegd_door")
    tot = _geldig_tot(geldig_tot, vandaag or date.today())
    ident = toestemming_id or nieuw_id()
    store = rt.store
    nu = now()
    with store.transaction() as conn:
        melding = _vergrendel(store, melding_id, conn)
        if melding["status"] == MeldingStatus.GEBLOKKEERD:
            raise ToestemmingFout("melding_geblokkeerd", "melding is geblokkeerd; er loopt niets meer voor")
        store.execute(
            "toestemming_insert",
            {
                "toestemming_id": ident,
                "melding_id": melding_id,
                "soort": soort_.value,
                "tekst_versie": versie,
                "vastgelegd_door": door,
                "vastgelegd_op": nu,
                "geldig_tot": tot,
            },
            conn=conn,
        )
        store.execute(
            "toestemming_check_insert", [{"toestemming_id": ident, "check_id": c} for c in gedekt], conn=conn
        )
        herhalingen = store.execute(
            "uitkomst_herhaal_toestemming",
            {
                "melding_id": melding_id,
                "check_ids": list(gedekt),
                "niet_uitgevoerd": Uitkomst.NIET_UITGEVOERD.value,
                "geen_toestemming": Reden.GEEN_TOESTEMMING.value,
                "nu": nu,
            },
            conn=conn,
        )
    return Vastgelegd(ident, melding_id, gedekt, herhalingen)


def toon(store: Store, melding_id: str) -> list[Record]:
    """Every consent record of the melding, withdrawn ones included, oldest first."""
    with store.engine.connect() as conn:
        return _toon(store, melding_id, conn)


def intrekken(
    rt: Runtime,
    melding_id: str,
    toestemming_id: str,
    *,
    ingetrokken_door: str,
    vandaag: date | None = None,
) -> Ingetrokken:
    """Withdraw one consent and stop the checks it alone covered, at once (module docstring).

    One transaction: the withdrawal, the outcomes and plan, the new basisdocument
    (after the guard) and, for a published melding, the outbox row and its JSON
    file. Should the guard refuse the new document, the withdrawal still stands
    and the melding is blocked as the pipeline blocks it (purged, quarantined).
    """
    from nazorg.pipeline import _block

    door = _tekst(DOOR, ingetrokken_door, "ingetrokken_door_ongeldig", "ingetrokken_door")
    store = rt.store
    dag = (vandaag or date.today()).isoformat()
    nu = now()
    afgewezen: list[tuple[str | None, str | None]] = []
    versie: int | None = None
    parquet: set[Path] = set()
    with store.transaction() as conn:
        melding = _vergrendel(store, melding_id, conn)
        records = {r.toestemming_id: r for r in _toon(store, melding_id, conn)}
        record = records.get(toestemming_id)
        if record is None:
            raise ToestemmingFout("toestemming_onbekend", "geen toestemming met dit id bij deze melding")
        if record.ingetrokken_op is not None:
            raise ToestemmingFout("al_ingetrokken", "deze toestemming is al ingetrokken")
        store.execute(
            "toestemming_intrekken",
            {"toestemming_id": toestemming_id, "melding_id": melding_id, "nu": nu, "ingetrokken_door": door},
            conn=conn,
        )
        nog = {
            r["check_id"]
            for r in store.query("toestemming_for", {"melding_id": melding_id, "peildatum": dag}, conn=conn)
        }
        gestopt = tuple(c for c in record.checks if c not in nog)
        if gestopt:
            params = {
                "melding_id": melding_id,
                "check_ids": list(gestopt),
                "niet_uitgevoerd": Uitkomst.NIET_UITGEVOERD.value,
                "geen_toestemming": Reden.GEEN_TOESTEMMING.value,
                "nee": "nee",
                "nu": nu,
            }
            store.execute("uitkomst_zonder_toestemming", params, conn=conn)
            store.execute("plan_zonder_toestemming", params, conn=conn)
            _ook_zonder_uitkomst(rt, melding_id, gestopt, nu, conn)
            parquet = _parquet_bestanden(
                rt, melding_id, melding["gemeente_code"], conn
            )  # before republishing
            afgewezen, versie = _opnieuw_op(rt, melding, gestopt, conn)
    if gestopt:
        _schoon_parquet(melding_id, gestopt, parquet)
    if afgewezen:
        _block(store, melding_id, Fase.BEWAAK, "overcollectie", afgewezen)
        return Ingetrokken(toestemming_id, melding_id, gestopt, None, geblokkeerd=True)
    if gestopt:
        purge_checkpoint(store.engine)  # the answers are gone: out of SQLite's write-ahead log too
    return Ingetrokken(toestemming_id, melding_id, gestopt, versie)


def _parquet_bestanden(rt: Runtime, melding_id: str, gemeente_code: str, conn: Connection) -> set[Path]:
    """The batch's Parquet files that may hold the melding's published rows (see :func:`_schoon_parquet`)."""
    from nazorg.batch.chunk import parquet_root

    root = parquet_root(rt)
    chunks = [
        r["chunk_id"] for r in rt.store.query("toestemming_chunks", {"melding_id": melding_id}, conn=conn)
    ]
    bestanden = {b for c in chunks for b in root.glob(f"gemeente_code={gemeente_code}/datum=*/{c}.parquet")}
    for r in rt.store.query("outbox_get", {"melding_id": melding_id}, conn=conn):
        if r["bestand"] and str(r["bestand"]).endswith(".parquet") and Path(r["bestand"]).is_file():
            bestanden.add(Path(r["bestand"]))
    return bestanden


def _schoon_parquet(melding_id: str, gestopt: Collection[str], bestanden: Collection[Path]) -> int:
    """Remove the withdrawn answers from the batch's Parquet files of this melding; files rewritten.

    Each chunk that held the melding wrote its published rows (every ``versie``)
    to ``gemeente_code=G/datum=D/<chunk_id>.parquet`` (found through
    ``batch_chunk_melding``, plus the file ``outbox.bestand`` names). Those rows of the stopped
    checks become ``niet_uitgevoerd`` / ``geen_toestemming`` without a contact,
    as the outcome rows did; the other rows and files stay as they were. Written
    to a temporary file (mode 0600) and renamed, as the batch writes. Runs after
    the withdrawal committed: a failure here is reported (the withdrawal stands).
    """
    from nazorg.batch import parquet as pq_uitvoer

    geschoond = 0
    try:
        for bestand in sorted(bestanden):
            geschoond += _schoon_bestand(bestand, melding_id, gestopt, pq_uitvoer.schema())
    except Exception as exc:
        raise ToestemmingFout(
            "parquet_niet_geschoond",
            f"toestemming ingetrokken, maar een Parquet-bestand kon niet worden bijgewerkt "
            f"({type(exc).__name__}); de intrekking staat: meld het de beheerder",
        ) from None
    return geschoond


def _schoon_bestand(bestand: Path, melding_id: str, gestopt: Collection[str], schema: Any) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tabel = pq.read_table(bestand, schema=schema)
    raak = pc.and_(
        pc.equal(tabel["melding_id"], melding_id), pc.is_in(tabel["check_id"], pa.array(list(gestopt)))
    )
    if not pc.any(raak).as_py():
        return 0
    leeg = pa.nulls(len(tabel), pa.string())
    tabel = tabel.set_column(
        tabel.schema.get_field_index("uitkomst"),
        "uitkomst",
        pc.if_else(raak, Uitkomst.NIET_UITGEVOERD.value, tabel["uitkomst"]),
    )
    tabel = tabel.set_column(
        tabel.schema.get_field_index("reden"),
        "reden",
        pc.if_else(raak, Reden.GEEN_TOESTEMMING.value, tabel["reden"]),
    )
    tabel = tabel.set_column(
        tabel.schema.get_field_index("dossierverantwoordelijke"),
        "dossierverantwoordelijke",
        pc.if_else(raak, leeg, tabel["dossierverantwoordelijke"]),
    )
    with atomair(bestand) as handle:
        pq.write_table(tabel.cast(schema), handle, compression="zstd")
    return 1


def _ook_zonder_uitkomst(
    rt: Runtime, melding_id: str, gestopt: Collection[str], nu: str, conn: Connection
) -> None:
    """A planned check whose run has not stored its outcome yet gets its ``niet_uitgevoerd`` row now.

    The run will not ask it (the plan says ``nee`` now), and the document must
    still show every check of the plan, as :func:`nazorg.pipeline.plan` records a refusal.
    """
    store, register = rt.store, rt.policy.register
    gepland = {r["check_id"] for r in store.query("plan_for", {"melding_id": melding_id}, conn=conn)}
    bestaand = {r["check_id"] for r in store.query("uitkomst_for", {"melding_id": melding_id}, conn=conn)}
    ontbrekend = [c for c in gestopt if c in gepland and c not in bestaand]
    if ontbrekend:
        store.execute(
            "uitkomst_upsert",
            [
                {
                    "melding_id": melding_id,
                    "check_id": c,
                    "aandachtsgebied": register.entry(c).aandachtsgebied.value,
                    "uitkomst": Uitkomst.NIET_UITGEVOERD.value,
                    "dossierverantwoordelijke": None,
                    "contact_herkomst": None,
                    "reden": Reden.GEEN_TOESTEMMING.value,
                    "processing_activity_id": register.entry(c).processing_activity_id,
                    "nu": nu,
                    "pogingen": 0,
                    "volgende_poging": None,
                }
                for c in ontbrekend
            ],
            conn=conn,
        )


def _toon(store: Store, melding_id: str, conn: Connection) -> list[Record]:
    per_id: dict[str, Record] = {}
    for row in store.query("toestemming_lijst", {"melding_id": melding_id}, conn=conn):
        vorig = per_id.get(row["toestemming_id"])
        checks = (vorig.checks if vorig else ()) + ((row["check_id"],) if row["check_id"] else ())
        per_id[row["toestemming_id"]] = Record(
            row["toestemming_id"],
            row["soort"],
            checks,
            row["tekst_versie"],
            row["vastgelegd_door"],
            row["vastgelegd_op"],
            row["geldig_tot"],
            row["ingetrokken_op"],
            row["ingetrokken_door"],
        )
    return list(per_id.values())


def zonder_antwoord(document: dict[str, Any], gestopt: Collection[str]) -> dict[str, Any]:
    """The document with the stopped checks ``niet_uitgevoerd`` / ``geen_toestemming``, no contact."""
    return {
        **document,
        "aandachtsgebieden": [
            {
                **groep,
                "checks": [
                    {
                        **check,
                        "uitkomst": Uitkomst.NIET_UITGEVOERD.value,
                        "dossierverantwoordelijke": None,
                        **({"contact_herkomst": None} if "contact_herkomst" in check else {}),
                        "reden": Reden.GEEN_TOESTEMMING.value,
                    }
                    if check.get("check_id") in gestopt
                    else check
                    for check in groep["checks"]
                ],
            }
            for groep in document["aandachtsgebieden"]
        ],
    }


def _opnieuw_op(
    rt: Runtime, melding: dict[str, Any], gestopt: Collection[str], conn: Connection
) -> tuple[list[tuple[str | None, str | None]], int | None]:
    """Make the melding's documents again without the stopped answers, guard them, republish.

    The basisdocument (a run's work in progress, or the published one) is made
    again from the corrected outcomes. The published document (outbox), if any,
    is the one that went out with the stopped checks' answers taken out: also
    when a new run has the melding in hand (it publishes its own later), so the
    outbox never keeps a withdrawn answer in the meantime. Returns the guard's
    failures (then nothing is written: the caller blocks the melding after the
    withdrawal commits) and the outbox versie published now.
    """
    import pandas as pd

    from nazorg import basisdocument as bd
    from nazorg.basisdocument_html import context_uit_uitkomsten, render_html
    from nazorg.basisdocument_html.bestand import schrijf_pagina
    from nazorg.basisdocument_html.schema import valideer_voor_policy
    from nazorg.guard import validate_frame

    store, pol = rt.store, rt.policy
    melding_id = melding["melding_id"]
    bestaand = store.query("basisdocument_get", {"melding_id": melding_id}, conn=conn)
    uitgegaan = store.query("outbox_get", {"melding_id": melding_id}, conn=conn)
    documenten: list[dict[str, Any]] = []
    concept: dict[str, Any] | None = None
    if bestaand:
        uitkomsten = store.query("uitkomst_for", {"melding_id": melding_id}, conn=conn)
        besluit = pol.besluit(melding["gemeente_code"])
        concept = bd.stel_op(
            melding_id,
            melding["gemeente_code"],
            besluit.besluit.id,
            pol.register.register_versie,
            uitkomsten,
            kop=bd.kop(melding, besluit.gemeente_naam),
        )
        documenten.append(concept)
    gepubliceerd: dict[str, Any] | None = None
    if uitgegaan:
        besluit = pol.besluit(melding["gemeente_code"])
        # a document published before the header existed gets it now (nazorg.basisdocument.KOP_VELDEN)
        gepubliceerd = bd.met_kop(
            zonder_antwoord(json.loads(uitgegaan[0]["inhoud"]), gestopt),
            bd.kop(melding, besluit.gemeente_naam),
        )
        documenten.append(gepubliceerd)
    for document in documenten:
        verdict = validate_frame(pd.DataFrame(bd.rows(document)))
        if not verdict.passed:
            return [(f.column, f.expectation) for f in verdict.failures], None
        fouten = valideer_voor_policy(document, pol)  # closed schema, header included
        if fouten:
            return [(f.veld, f.keyword) for f in fouten], None
    is_gepubliceerd = melding["status"] == MeldingStatus.GEPUBLICEERD
    if concept is not None:
        status = bestaand[0]["status"]
        if is_gepubliceerd:
            status = DocumentStatus.GEPUBLICEERD.value
            concept = gepubliceerd or concept  # the published document is the melding's document
        elif status == DocumentStatus.GEPUBLICEERD:  # published earlier, taken up again by a new run
            status = DocumentStatus.GOEDGEKEURD.value
        store.execute(
            "basisdocument_upsert",
            {
                "melding_id": melding_id,
                "gemeente_code": melding["gemeente_code"],
                "status": status,
                "inhoud": json.dumps(concept, ensure_ascii=False),
                "register_versie": pol.register.register_versie,
                "nu": now(),
            },
            conn=conn,
        )
    if gepubliceerd is None:
        return [], None
    inhoud = json.dumps(gepubliceerd, ensure_ascii=False)
    target_dir = rt.settings.outbox_dir / melding["gemeente_code"]
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{melding['run_key']}.json"  # as nazorg.pipeline.publiceer names it
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(inhoud, encoding="utf-8")
    tmp.replace(target)
    nu = now()
    # the page next to it must not keep the withdrawn answers either (nazorg.basisdocument_html)
    schrijf_pagina(
        target,
        render_html(
            gepubliceerd,
            rol="coordinator",
            register=pol.register,
            besluit=pol.besluit(melding["gemeente_code"]),
            context=context_uit_uitkomsten(
                store.query("uitkomst_tijden", {"melding_id": melding_id}, conn=conn), nu
            ),
        ),
    )
    store.execute(
        "outbox_upsert",
        {
            "melding_id": melding_id,
            "gemeente_code": melding["gemeente_code"],
            "inhoud": inhoud,
            "bestand": str(target),
            "nu": now(),
        },
        conn=conn,
    )
    return [], int(store.query("outbox_versie", {"melding_id": melding_id}, conn=conn)[0]["versie"])


__all__ = [
    "Ingetrokken",
    "Record",
    "ToestemmingFout",
    "Vastgelegd",
    "gedekte_checks",
    "intrekken",
    "kies_melding",
    "meldingen_voor_bsn",
    "toestemming_checks",
    "toon",
    "vastleggen",
    "zonder_antwoord",
]
