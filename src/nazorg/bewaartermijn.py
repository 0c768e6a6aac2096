"""Retention (issue 8 §4): delete what the register's terms say is due, and nothing else.

Two halves. :func:`plan` is pure: given the peildatum, the register's terms and
what the pipeline DB holds per melding, it says what is due. :func:`voer_uit`
does the I/O: it removes the due files and rows and records the counts.

What is deleted when (the clock of each register entry starts at its
``bewaartermijn_start``: ``melding_ontvangen`` = the inbox's ``ontvangen_op``;
``laatstedagsmelding`` = the laatstedagsmelding's ``datum_uitstroom``, see
:func:`startdatum` for the fallback when none arrived). A term has run on the
day start + term is reached (``einde <= peildatum``).

- per check: its ``uitkomst`` and ``plan`` rows, when that check's term has run;
- per melding, once the terms of *every* check of the register (and of any
  check it still has rows for) have run: the basisdocument, the outbox row and
  its JSON file, the melding's rows in the batch's Parquet files (a file is
  rewritten without them, or removed when nothing is left), consent records
  (``toestemming`` + ``toestemming_check``), notifications, the
  laatstedagsmelding, batch bookkeeping, and the inbox row is made a tombstone
  (BSN, detention data and content hash emptied; see migration 0010);
- a tombstone, once the processing log's term has run since it was made;
- quarantine rows and processing-log records after their own terms (settings
  ``NAZORG_QUARANTAINE_BEWAARTERMIJN``, ``NAZORG_VERWERKINGSLOG_BEWAARTERMIJN``).

A melding a run holds right now (a claim whose lease has not passed) is left
for the next day. Files go before rows: if a row delete fails, the next run
finds the row again and the file already gone; the other way round a file
would be left with nothing pointing at it.

Every deletion is reported and recorded as counts per :class:`Categorie`
(``bewaartermijn_run`` / ``bewaartermijn_telling``), never a melding id, a BSN
or a pseudonym. A dry run does the same deletes inside a transaction that is
rolled back and only counts files, so it reports exactly what a real run would.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg.bestanden import atomair
from nazorg.duur import tel_op
from nazorg.models import MeldingStatus, OpschoonSoort

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.register import Register
    from nazorg.settings import Settings
    from nazorg.store import Store

log = logging.getLogger(__name__)

#: ids per expanding IN list: well under SQLite's and psycopg's parameter limits
BLOK = 500


class BewaarStart(StrEnum):
    """The event that starts a register entry's retention clock (``bewaartermijn_start``)."""

    MELDING_ONTVANGEN = "melding_ontvangen"
    LAATSTEDAGSMELDING = "laatstedagsmelding"


class Categorie(StrEnum):
    """What a retention run counts; the keys of every report, log line, XCom and bookkeeping row."""

    UITKOMST = "uitkomst"
    PLAN = "plan"
    BASISDOCUMENT = "basisdocument"
    OUTBOX = "outbox"
    OUTBOX_BESTAND = "outbox_bestand"
    PARQUET_RIJ = "parquet_rij"
    PARQUET_BESTAND_HERSCHREVEN = "parquet_bestand_herschreven"
    PARQUET_BESTAND_VERWIJDERD = "parquet_bestand_verwijderd"
    TOESTEMMING = "toestemming"
    TOESTEMMING_CHECK = "toestemming_check"
    NOTIFICATIE = "notificatie"
    LAATSTEDAGSMELDING = "laatstedagsmelding"
    BATCH_CHUNK_MELDING = "batch_chunk_melding"
    QUARANTAINE = "quarantaine"
    INBOX_BSN = "inbox_bsn"  # inbox rows made a tombstone
    INBOX_GRAFSTEEN = "inbox_grafsteen"  # tombstones deleted
    VERWERKINGSLOG = "verwerkingslog"


#: the register's default until helper "register" adds ``bewaartermijn_start`` to the entries
STANDAARD_START = BewaarStart.LAATSTEDAGSMELDING


@dataclass(frozen=True, slots=True)
class Termijn:
    """One register entry's retention: how long (ISO 8601) from which event."""

    duur: str
    start: BewaarStart


def termijn_van(entry: Any) -> Termijn:
    """The retention of a register entry: ``bewaartermijn`` from ``bewaartermijn_start``.

    The one place that reads the start event: until the register carries
    ``bewaartermijn_start`` it defaults to :data:`STANDAARD_START`
    (laatstedagsmelding, the later and so the safer of the two for keeping what
    the aftercare needs). An unknown value is refused, never guessed.
    """
    start = getattr(entry, "bewaartermijn_start", None)
    return Termijn(str(entry.bewaartermijn), BewaarStart(str(start)) if start else STANDAARD_START)


def termijnen(register: Register) -> dict[str, Termijn]:
    return {entry.id: termijn_van(entry) for entry in register.checks}


@dataclass(frozen=True, slots=True)
class Klok:
    """The dates of one melding that the retention clock needs (no BSN, nothing else)."""

    melding_id: str
    gemeente_code: str
    ontvangen_op: date
    datum_binnenkomst: date | None = None
    verwachte_einddatum: date | None = None
    datum_uitstroom: date | None = None  # from the laatstedagsmelding, if one arrived
    grafsteen: bool = False
    bijgewerkt_op: date | None = None
    bezet: bool = False  # a run holds it now (claim lease not passed)


@dataclass(frozen=True, slots=True)
class Instellingen:
    verwerkingslog: str
    quarantaine: str
    max_detentie: str

    @classmethod
    def uit(cls, config: Settings) -> Instellingen:
        return cls(
            config.verwerkingslog_bewaartermijn,
            config.quarantaine_bewaartermijn,
            config.bewaartermijn_max_detentie,
        )


def startdatum(klok: Klok, start: BewaarStart, max_detentie: str) -> date:
    """When the clock of a term with this start event began for this melding.

    ``laatstedagsmelding`` without one (it never came, or not yet): the
    melding's ``verwachte_einddatum``, else ``datum_binnenkomst`` plus the
    longest detention assumed (``NAZORG_BEWAARTERMIJN_MAX_DETENTIE``), else
    ``ontvangen_op`` plus that. Never earlier than the melding's receipt: a
    term cannot have run before the data existed.
    """
    if start is BewaarStart.MELDING_ONTVANGEN:
        return klok.ontvangen_op
    if klok.datum_uitstroom is not None:
        gekozen = klok.datum_uitstroom
    elif klok.verwachte_einddatum is not None:
        gekozen = klok.verwachte_einddatum
    else:
        gekozen = tel_op(klok.datum_binnenkomst or klok.ontvangen_op, max_detentie)
    return max(gekozen, klok.ontvangen_op)


def einde(klok: Klok, termijn: Termijn, max_detentie: str) -> date:
    """The day the term has run for this melding."""
    return tel_op(startdatum(klok, termijn.start, max_detentie), termijn.duur)


def laatste_dag_verlopen(peildatum: date, duur: str) -> date:
    """The latest day d with d + duur <= peildatum: records of that day and before are due.

    ``tel_op`` is monotone in its start, so the due days are a prefix; the
    calendar subtraction lands within a few days of its end and is corrected.
    """
    d = peildatum - timedelta(days=1)
    # a first guess: step back by whole years/months through tel_op's inverse
    while tel_op(d, duur) > peildatum:
        stap = (tel_op(d, duur) - peildatum).days
        d -= timedelta(days=max(1, stap))
    while tel_op(d + timedelta(days=1), duur) <= peildatum:
        d += timedelta(days=1)
    return d


@dataclass(frozen=True)
class Planning:
    """What is due on a peildatum; ids stay inside the process, reports carry counts only."""

    checks: tuple[tuple[str, str], ...]  # (melding_id, check_id) whose term has run
    meldingen: tuple[str, ...]  # every term run: melding-level deletion and tombstone
    grafstenen: tuple[str, ...]  # tombstones whose own term has run
    quarantaine_voor: str  # quarantine rows registered before this day are due
    verwerkingslog_voor: str  # processing-log records that ended before this day are due
    gemeente: Mapping[str, str] = field(default_factory=dict)  # melding_id -> gemeente (for Parquet)


def plan(
    peildatum: date,
    register_termijnen: Mapping[str, Termijn],
    klokken: Iterable[Klok],
    checks: Iterable[tuple[str, str]],
    instellingen: Instellingen,
) -> Planning:
    """What is due on ``peildatum``: pure, so every rule is tested without a database.

    A check id the register no longer knows (an entry removed) gets the
    register's longest term from the later start: never deleted earlier than
    any known check would be.
    """
    per_melding: dict[str, list[str]] = {}
    for melding_id, check_id in checks:
        per_melding.setdefault(melding_id, []).append(check_id)
    langste = max(register_termijnen.values(), key=lambda t: tel_op(date(2000, 1, 1), t.duur))
    onbekend = Termijn(langste.duur, BewaarStart.LAATSTEDAGSMELDING)

    def termijn(check_id: str) -> Termijn:
        return register_termijnen.get(check_id, onbekend)

    due_checks: list[tuple[str, str]] = []
    due_meldingen: list[str] = []
    grafstenen: list[str] = []
    gemeente: dict[str, str] = {}
    for klok in klokken:
        if klok.bezet:
            continue
        if klok.grafsteen:
            gemaakt = klok.bijgewerkt_op or klok.ontvangen_op
            if tel_op(gemaakt, instellingen.verwerkingslog) <= peildatum:
                grafstenen.append(klok.melding_id)
            continue
        eigen = per_melding.get(klok.melding_id, [])
        for check_id in sorted(eigen):
            if einde(klok, termijn(check_id), instellingen.max_detentie) <= peildatum:
                due_checks.append((klok.melding_id, check_id))
        alle = set(register_termijnen) | set(eigen)
        if all(einde(klok, termijn(c), instellingen.max_detentie) <= peildatum for c in alle):
            due_meldingen.append(klok.melding_id)
            gemeente[klok.melding_id] = klok.gemeente_code
    return Planning(
        checks=tuple(due_checks),
        meldingen=tuple(due_meldingen),
        grafstenen=tuple(grafstenen),
        quarantaine_voor=(
            laatste_dag_verlopen(peildatum, instellingen.quarantaine) + timedelta(1)
        ).isoformat(),
        verwerkingslog_voor=(
            laatste_dag_verlopen(peildatum, instellingen.verwerkingslog) + timedelta(1)
        ).isoformat(),
        gemeente=gemeente,
    )


# -- store I/O ------------------------------------------------------------------------------------


def _datum(value: object) -> date | None:
    """The date part of an ISO date or timestamp as stored (TEXT), or None."""
    if value is None or value == "":
        return None
    return date.fromisoformat(str(value)[:10])


def lees_klokken(store: Store, nu: datetime, conn: Connection | None = None) -> list[Klok]:
    rows = store.query("bewaartermijn/inbox_klok", conn=conn)
    moment = nu.isoformat(timespec="milliseconds")
    out = []
    for r in rows:
        ontvangen = _datum(r["ontvangen_op"])
        assert ontvangen is not None
        out.append(
            Klok(
                melding_id=r["melding_id"],
                gemeente_code=r["gemeente_code"],
                ontvangen_op=ontvangen,
                datum_binnenkomst=_datum(r["datum_binnenkomst"]),
                verwachte_einddatum=_datum(r["verwachte_einddatum"]),
                datum_uitstroom=_datum(r["datum_uitstroom"]),
                grafsteen=bool(r["grafsteen"]),
                bijgewerkt_op=_datum(r["bijgewerkt_op"]),
                bezet=r["claim_tot"] is not None and str(r["claim_tot"]) > moment,
            )
        )
    return out


def _blokken(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), BLOK):
        yield list(ids[i : i + BLOK])


#: a tombstone of a melding that never finished is closed (see sql/bewaartermijn/inbox_grafsteen.sql)
_OPEN_STATUS = {
    "ontvangen": MeldingStatus.ONTVANGEN.value,
    "in_behandeling": MeldingStatus.IN_BEHANDELING.value,
    "mislukt": MeldingStatus.MISLUKT.value,
}

#: the melding-level deletes, in order (a consent's checks before the consent itself); the
#: statement files are ``sql/bewaartermijn/<table>_van_meldingen.sql``
MELDING_TABELLEN: tuple[tuple[Categorie, str], ...] = (
    (Categorie.UITKOMST, "uitkomst"),
    (Categorie.PLAN, "plan"),
    (Categorie.BASISDOCUMENT, "basisdocument"),
    (Categorie.OUTBOX, "outbox"),
    (Categorie.TOESTEMMING_CHECK, "toestemming_check"),
    (Categorie.TOESTEMMING, "toestemming"),
    (Categorie.NOTIFICATIE, "notificatie"),
    (Categorie.LAATSTEDAGSMELDING, "laatstedagsmelding"),
    (Categorie.BATCH_CHUNK_MELDING, "batch_chunk_melding"),
    (Categorie.QUARANTAINE, "quarantaine"),
)


def verwijder_meldingrijen(
    store: Store,
    conn: Connection,
    melding_ids: Sequence[str],
    nu: str,
    tel: dict[Categorie, int],
    categorieen: frozenset[Categorie],
) -> None:
    """The rows of whole meldingen in ``categorieen`` (inside the caller's transaction).

    ``Categorie.INBOX_BSN`` makes the inbox row a tombstone. The daily run
    leaves a melding's quarantine rows to their own term; an erasure request
    passes every category its policy deletes.
    """
    for blok in _blokken(melding_ids):
        p = {"melding_ids": blok}
        for categorie, tabel in MELDING_TABELLEN:
            if categorie not in categorieen:
                continue
            tel[categorie] += store.execute(f"bewaartermijn/{tabel}_van_meldingen", p, conn=conn)
        if Categorie.INBOX_BSN in categorieen:
            tel[Categorie.INBOX_BSN] += store.execute(
                "bewaartermijn/inbox_grafsteen", {**p, "nu": nu, **_OPEN_STATUS}, conn=conn
            )


#: what the daily run deletes of a melding whose every term has run (quarantine: its own term)
BIJ_TERMIJN = frozenset(c for c, _ in MELDING_TABELLEN if c is not Categorie.QUARANTAINE) | {
    Categorie.INBOX_BSN
}


def outbox_bestanden(store: Store, melding_ids: Sequence[str], conn: Connection | None = None) -> list[Path]:
    paden = []
    for blok in _blokken(melding_ids):
        paden += [
            Path(r["bestand"])
            for r in store.query("bewaartermijn/outbox_bestanden", {"melding_ids": blok}, conn)
        ]
    return paden


def verwijder_bestanden(paden: Iterable[Path], droog: bool) -> int:
    """Remove the published JSON files (a missing one counts as nothing to do); returns how many.

    A JSON file's HTML page (:func:`nazorg.basisdocument_html.bestand.pagina_van`,
    same outcomes) goes with it, counted as part of the same publication.
    """
    from nazorg.basisdocument_html.bestand import pagina_van

    weg = 0
    for pad in paden:
        pagina = pagina_van(pad) if pad.suffix == ".json" else None
        if not droog and pagina is not None:
            with contextlib.suppress(FileNotFoundError):
                pagina.unlink()
        if not pad.is_file():
            continue
        weg += 1
        if not droog:
            with contextlib.suppress(FileNotFoundError):
                pad.unlink()
    return weg


def parquet_bestanden(root: Path, gemeente_code: str) -> list[Path]:
    """A gemeente's Parquet files of the batch (``gemeente_code=XXXX/datum=.../<chunk>.parquet``)."""
    return sorted((root / f"gemeente_code={gemeente_code}").glob("datum=*/*.parquet"))


def verwijder_uit_parquet(
    root: Path, per_gemeente: Mapping[str, Iterable[str]], droog: bool
) -> tuple[int, int, int]:
    """Remove these meldingen's rows from the batch's Parquet files; (rows, rewritten, removed).

    Several meldingen share a file (one per chunk, gemeente and day), so a file
    is rewritten without the due rows: to a temporary name in the same directory
    with mode 0600, then renamed over the original (atomic; a reader sees the
    old or the new file). A file left without rows is removed. Only the
    ``melding_id`` column is read to find out whether a file is touched.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rijen = herschreven = verwijderd = 0
    for gemeente_code, ids in sorted(per_gemeente.items()):
        gezocht = pa.array(sorted(set(ids)), type=pa.string())
        if len(gezocht) == 0:
            continue
        for pad in parquet_bestanden(root, gemeente_code):
            treffers = pc.is_in(pq.read_table(pad, columns=["melding_id"])["melding_id"], value_set=gezocht)
            aantal = int(pc.sum(treffers).as_py() or 0)
            if aantal == 0:
                continue
            rijen += aantal
            tabel = pq.read_table(pad)
            rest = tabel.filter(pc.invert(pc.is_in(tabel["melding_id"], value_set=gezocht)))
            if rest.num_rows == 0:
                verwijderd += 1
                if not droog:
                    pad.unlink()
                continue
            herschreven += 1
            if droog:
                continue
            with atomair(pad) as handle:
                pq.write_table(rest, handle, compression="zstd")
    return rijen, herschreven, verwijderd


@dataclass
class Rapport:
    """Counts per category of one run; nothing that identifies a melding or a person."""

    run_id: str
    soort: OpschoonSoort
    peildatum: date
    droog: bool
    tellingen: dict[Categorie, int] = field(default_factory=lambda: dict.fromkeys(Categorie, 0))
    #: remarks about what could not be done, as fixed texts (no ids)
    opmerkingen: list[str] = field(default_factory=list)

    def voor_xcom(self) -> dict[str, int]:
        return {c.value: n for c, n in self.tellingen.items()}

    @property
    def totaal(self) -> int:
        return sum(self.tellingen.values())


def boekhouding(store: Store, conn: Connection, rapport: Rapport) -> None:
    store.execute(
        "bewaartermijn/run_insert",
        {
            "run_id": rapport.run_id,
            "soort": rapport.soort.value,
            "peildatum": rapport.peildatum.isoformat(),
            "droog": "ja" if rapport.droog else "nee",
            "nu": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
        conn=conn,
    )
    store.execute(
        "bewaartermijn/telling_insert",
        [{"run_id": rapport.run_id, "categorie": c.value, "aantal": n} for c, n in rapport.tellingen.items()],
        conn=conn,
    )


def nieuwe_run_id() -> str:
    return f"bt-{uuid.uuid4().hex[:16]}"


def voer_uit(
    store: Store,
    register: Register,
    config: Settings,
    *,
    nu: datetime,
    peildatum: date | None = None,
    droog: bool = False,
) -> Rapport:
    """One retention run on ``peildatum`` (default: ``nu``'s date); with ``droog`` nothing changes.

    ``nu`` is injected (never the clock read here): it decides which claims are
    still held and stamps the tombstones. The counts are logged per category
    and recorded in ``bewaartermijn_run``/``bewaartermijn_telling`` (a dry run
    too, marked ``droog``).
    """
    from nazorg.store import purge_checkpoint

    dag = peildatum or nu.date()
    rapport = Rapport(nieuwe_run_id(), OpschoonSoort.BEWAARTERMIJN, dag, droog)
    tel = rapport.tellingen
    instellingen = Instellingen.uit(config)
    planning = plan(
        dag,
        termijnen(register),
        lees_klokken(store, nu),
        [(r["melding_id"], r["check_id"]) for r in store.query("bewaartermijn/checks")],
        instellingen,
    )
    # files first (see the module docstring): the JSON files and the Parquet rows
    tel[Categorie.OUTBOX_BESTAND] = verwijder_bestanden(outbox_bestanden(store, planning.meldingen), droog)
    per_gemeente: dict[str, list[str]] = {}
    for melding_id in planning.meldingen:
        per_gemeente.setdefault(planning.gemeente[melding_id], []).append(melding_id)
    (
        tel[Categorie.PARQUET_RIJ],
        tel[Categorie.PARQUET_BESTAND_HERSCHREVEN],
        tel[Categorie.PARQUET_BESTAND_VERWIJDERD],
    ) = verwijder_uit_parquet(config.parquet_dir, per_gemeente, droog)

    nu_tekst = nu.isoformat(timespec="milliseconds")
    with store.engine.connect() as conn:
        transactie = conn.begin()
        try:
            per_check: dict[str, list[str]] = {}
            for melding_id, check_id in planning.checks:
                per_check.setdefault(check_id, []).append(melding_id)
            for check_id, ids in sorted(per_check.items()):
                for blok in _blokken(ids):
                    p = {"check_id": check_id, "melding_ids": blok}
                    tel[Categorie.UITKOMST] += store.execute("bewaartermijn/uitkomst_verwijder", p, conn=conn)
                    tel[Categorie.PLAN] += store.execute("bewaartermijn/plan_verwijder", p, conn=conn)
            verwijder_meldingrijen(store, conn, planning.meldingen, nu_tekst, tel, BIJ_TERMIJN)
            for blok in _blokken(planning.grafstenen):
                tel[Categorie.INBOX_GRAFSTEEN] += store.execute(
                    "bewaartermijn/inbox_grafsteen_verwijder", {"melding_ids": blok}, conn=conn
                )
            tel[Categorie.QUARANTAINE] += store.execute(
                "bewaartermijn/quarantaine_verlopen", {"voor": planning.quarantaine_voor}, conn=conn
            )
            tel[Categorie.VERWERKINGSLOG] += store.execute(
                "bewaartermijn/verwerkingslog_verlopen", {"voor": planning.verwerkingslog_voor}, conn=conn
            )
            if droog:
                transactie.rollback()
                transactie = conn.begin()
            boekhouding(store, conn, rapport)
            transactie.commit()
        except BaseException:
            transactie.rollback()
            raise
    if not droog and rapport.totaal:
        purge_checkpoint(store.engine)
    log.info(
        "bewaartermijn %s (peildatum %s%s): %s",
        rapport.run_id,
        dag.isoformat(),
        ", proefrun" if droog else "",
        ", ".join(f"{c.value} {n}" for c, n in rapport.tellingen.items()),
    )
    return rapport
