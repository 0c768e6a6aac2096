"""Store judged meldingen: valid ones in the inbox, the rest in quarantine. Nothing is dropped.

One submission writes at most MAX_QUARANTAINE_RIJEN quarantine rows: a hostile
file of 100,000 tiny records would otherwise bury the rows operators read. The
refused records beyond that are still counted, in one ``quarantaine_limiet``
row for the submission.

Each melding stored gets a random run key (:mod:`nazorg.run_key`): the only
identifier of it that Airflow, its logs and the outbox file names ever see.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from nazorg.intake import Beoordeling, Resultaat, herkomst_voor
from nazorg.models import Fase, MeldingStatus
from nazorg.run_key import ALPHABET, LENGTH, PREFIX
from nazorg.store import Store, now, statement

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_QUARANTAINE_RIJEN = 1000
"""Quarantine rows one `dien_in` call writes for its records (the summary row comes on top)."""
BATCH = 500
"""Records per transaction: few commits, yet a short lock on an embedded SQLite database."""


# A random byte maps to a letter only below the largest multiple of 26 (234): every
# letter stays equally likely, as with nieuwe_run_key's secrets.choice.
_LETTER = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
_BUITEN = bytes(range(256 - 256 % len(ALPHABET), 256))


def _run_keys(aantal: int) -> list[str]:
    """``aantal`` fresh run keys, by the rule of :mod:`nazorg.run_key`, from one urandom call.

    Why not ``nieuwe_run_key`` per melding: 24 ``secrets.choice`` calls per key took
    more than half of storing 50,000 meldingen. Same alphabet, length and prefix,
    same source of randomness (``secrets``), same uniform letters.
    """
    nodig = aantal * LENGTH
    letters = b""
    while len(letters) < nodig:
        tekort = nodig - len(letters)
        letters += secrets.token_bytes(tekort + tekort // 8 + 16).translate(_LETTER, _BUITEN)
    tekst = letters.decode("ascii")
    return [PREFIX + tekst[i * LENGTH : (i + 1) * LENGTH] for i in range(aantal)]


def _rij(
    *,
    melding_id: str | None,
    herkomst: str,
    fase: Fase,
    reden_code: str,
    veld: str | None = None,
    expectation: str | None = None,
) -> dict[str, str | None]:
    return {
        "quarantaine_id": uuid.uuid4().hex,
        "melding_id": melding_id,
        "herkomst": herkomst,
        "fase": fase.value,
        "reden_code": reden_code,
        "veld": veld,
        "expectation": expectation,
        "nu": now(),
    }


def quarantaine(
    store: Store,
    *,
    melding_id: str | None,
    herkomst: str,
    fase: Fase,
    reden_code: str,
    veld: str | None = None,
    expectation: str | None = None,
    conn: Connection | None = None,
) -> None:
    """One quarantine row; ``conn`` puts it in the caller's transaction (a block)."""
    store.execute(
        "quarantaine_insert",
        _rij(
            melding_id=melding_id,
            herkomst=herkomst,
            fase=fase,
            reden_code=reden_code,
            veld=veld,
            expectation=expectation,
        ),
        conn=conn,
    )


class _Limiet:
    """Rows left for one submission; once a record does not fit, later refusals are only counted."""

    def __init__(self, rijen: int) -> None:
        self.over = rijen
        self.vol = False
        self.boven = 0

    def past(self, rijen: int) -> bool:
        if not self.vol and rijen <= self.over:
            self.over -= rijen
            return True
        self.vol = True
        self.boven += 1
        return False


def sla_op(
    store: Store,
    beoordeling: Beoordeling,
    limiet: _Limiet | None = None,
    conn: Connection | None = None,
) -> Resultaat:
    """Store one judged melding; within ``conn``'s transaction when given, else in its own.

    The same path as a batch of one: a single record and a file follow one rule.
    """
    if conn is None:
        with store.transaction() as own:
            return _sla_batch_op(store, [beoordeling], limiet, own)[0]
    return _sla_batch_op(store, [beoordeling], limiet, conn)[0]


def _opgeslagen(store: Store, melding_ids: list[str], conn: Connection) -> dict[str, tuple[str, str]]:
    """(run key, content hash) of the stored meldingen among ``melding_ids``: one query."""
    from sqlalchemy import bindparam, text

    stmt = text(statement(store.sql_root, "inbox_hashes")).bindparams(
        bindparam("melding_ids", expanding=True)
    )
    return {
        melding_id: (run_key, inhoud_hash)
        for melding_id, run_key, inhoud_hash in conn.execute(stmt, {"melding_ids": melding_ids})
    }


def _sla_batch_op(
    store: Store,
    batch: list[Beoordeling],
    limiet: _Limiet | None,
    conn: Connection,
) -> list[Resultaat]:
    """Store a batch of judged records in ``conn``'s transaction; one result per record, in order.

    Set-based, with the outcome of storing the records one by one in input order:
    a melding id seen before (in the inbox, earlier in this batch) is ``al_aanwezig``
    with the same content and a ``conflict`` (one quarantine row) with other
    content, and quarantine rows take their place under ``limiet`` in input order.

    Insert first, then read: every first occurrence of an id in the batch is
    inserted with ``ON CONFLICT DO NOTHING`` and a fresh run key, then one query
    reads back the stored run key and hash of each id. A row carrying our run key
    is ours (``opgeslagen``); any other row was there first. Reading only after
    writing makes this safe against a concurrent submission of the same id: on
    PostgreSQL the insert waits for the other transaction's row and then does
    nothing, and the read (a new snapshot under READ COMMITTED) sees that row;
    on SQLite the insert holds the database write lock until commit. Inserting
    in melding_id order makes two batches that share ids take their index locks
    in the same order, so they cannot deadlock on PostgreSQL. Inbox rows are
    deleted (retention deletes a tombstone after its term, erasure a melding):
    a row that was there at the insert and is gone at the read is a ``conflict``
    too (the id was taken when we inserted; the sender may re-send it).
    """
    nieuw: dict[str, dict[str, Any]] = {}  # first occurrence in this batch -> its inbox row
    digests: list[str | None] = []
    keys = iter(_run_keys(len(batch)))
    for beoordeling in batch:
        melding = beoordeling.melding
        if melding is None:
            digests.append(None)
            continue
        digest = melding.inhoud_hash()
        digests.append(digest)
        if melding.melding_id not in nieuw:
            nieuw[melding.melding_id] = {
                **melding.model_dump(mode="json"),
                "run_key": next(keys),
                "inhoud_hash": digest,
                "status": MeldingStatus.ONTVANGEN.value,
                "nu": now(),
            }
    stored: dict[str, tuple[str, str]] = {}
    if nieuw:
        store.execute("inbox_insert", [nieuw[k] for k in sorted(nieuw)], conn=conn)
        stored = _opgeslagen(store, list(nieuw), conn)

    resultaten: list[Resultaat] = []
    quarantaine_rijen: list[dict[str, str | None]] = []
    eerste: set[str] = set()  # ids whose first occurrence in this batch has been judged
    for beoordeling, inhoud_hash in zip(batch, digests, strict=True):
        melding = beoordeling.melding
        if melding is None or inhoud_hash is None:
            rows = [
                _rij(
                    melding_id=beoordeling.melding_id,
                    herkomst=beoordeling.herkomst,
                    fase=Fase.INTAKE,
                    reden_code=afwijzing.reden_code,
                    veld=afwijzing.veld,
                )
                for afwijzing in beoordeling.afwijzingen
            ]
            if rows and (limiet is None or limiet.past(len(rows))):
                quarantaine_rijen.extend(rows)
            resultaten.append("quarantaine")
            continue
        melding_id = melding.melding_id
        bewaard = stored.get(melding_id)
        first = melding_id not in eerste
        eerste.add(melding_id)
        if bewaard is None:
            # The insert did nothing, so a row with this id was there; it was deleted before the
            # read-back (retention deletes a tombstone after its term, erasure a melding). The id
            # was taken when we inserted: a conflict the sender sees in quarantine and may
            # re-send, never an error for the whole submission nor a silent drop.
            if limiet is None or limiet.past(1):
                quarantaine_rijen.append(
                    _rij(
                        melding_id=melding_id,
                        herkomst=beoordeling.herkomst,
                        fase=Fase.INTAKE,
                        reden_code="melding_id_conflict",
                        veld="melding_id",
                    )
                )
            resultaten.append("conflict")
        elif first and bewaard[0] == nieuw[melding_id]["run_key"]:
            resultaten.append("opgeslagen")
        elif bewaard[1] == inhoud_hash:
            resultaten.append("al_aanwezig")
        else:
            # Same id, different content: keep the first, make the second visible.
            if limiet is None or limiet.past(1):
                quarantaine_rijen.append(
                    _rij(
                        melding_id=melding_id,
                        herkomst=beoordeling.herkomst,
                        fase=Fase.INTAKE,
                        reden_code="melding_id_conflict",
                        veld="melding_id",
                    )
                )
            resultaten.append("conflict")
    if quarantaine_rijen:
        store.execute("quarantaine_insert", quarantaine_rijen, conn=conn)
    return resultaten


def run_key_voor(store: Store, melding_id: str) -> str | None:
    """The run key the inbox gave this melding (None: not in the inbox); it starts the melding's run."""
    rows = store.query("inbox_run_key", {"melding_id": melding_id})
    return str(rows[0]["run_key"]) if rows else None


@dataclass(frozen=True, slots=True)
class Inzendingsresultaat:
    """What one submission did; counts records, never values."""

    inzending: str
    aantallen: Counter[Resultaat] = field(default_factory=Counter)
    melding_ids: tuple[str, ...] = ()  # valid meldingen (stored, present or conflicting), input order
    boven_limiet: int = 0  # refused records counted only in the quarantaine_limiet row

    @property
    def totaal(self) -> int:
        return sum(self.aantallen.values())


def dien_in(
    store: Store,
    beoordelingen: Iterable[Beoordeling],
    *,
    inzending: str,
    max_rijen: int = MAX_QUARANTAINE_RIJEN,
) -> Inzendingsresultaat:
    """Store every judged record of one submission, read lazily and committed BATCH at a time.

    Beyond ``max_rijen`` quarantine rows, one ``quarantaine_limiet`` row with
    herkomst ``inzending:<id>`` and veld ``<aantal:N>`` accounts for the N
    refused records that got no row of their own.
    """
    summary_herkomst = herkomst_voor(inzending)
    limiet = _Limiet(max_rijen)
    aantallen: Counter[Resultaat] = Counter()
    ids: list[str] = []
    pending = iter(beoordelingen)
    while batch := list(islice(pending, BATCH)):
        with store.transaction() as conn:
            resultaten = _sla_batch_op(store, batch, limiet, conn)
        for beoordeling, resultaat in zip(batch, resultaten, strict=True):
            aantallen[resultaat] += 1
            if beoordeling.melding is not None:
                ids.append(beoordeling.melding.melding_id)
    if limiet.boven:
        quarantaine(
            store,
            melding_id=None,
            herkomst=summary_herkomst,
            fase=Fase.INTAKE,
            reden_code="quarantaine_limiet",
            veld=f"<aantal:{limiet.boven}>",
        )
    return Inzendingsresultaat(inzending, aantallen, tuple(ids), limiet.boven)
