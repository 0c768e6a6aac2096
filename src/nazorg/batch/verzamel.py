"""Collect what a batch must do and cut it into chunks, claiming every melding on the way.

Why claims: a melding must never be processed by a batch chunk and a per-melding
run at the same time, nor by two batches (a scheduled run and ``nazorg batch``).
Whoever takes a melding writes its claim in the inbox (``chunk:<chunk_id>`` here,
``run:<run_key>`` for a per-melding run, :func:`nazorg.pipeline.ontvang`) with a
lease end (``claim_tot``). A claim whose lease has passed belongs to a worker or
run that was lost, and may be taken over.

:func:`verzamel` does it all in one transaction:

1. one conditional ``UPDATE`` claims, with a token of this batch, every melding
   without a live claim that is not yet published (``ontvangen``, or
   ``in_behandeling`` whose claim expired or was never set), or that is published
   with an ``onbekend`` outcome due for retry (``uitkomst.volgende_poging`` passed,
   ``pogingen`` below ``NAZORG_BATCH_MAX_POGINGEN``: see :func:`volgende_poging`), or
   with a check refused for lack of consent that :mod:`nazorg.toestemming` marked due
   once consent was recorded (``niet_uitgevoerd``, ``geen_toestemming``, same columns);
2. reads back what it actually got (a concurrent batch got the rest), in the
   database's own order;
3. hands consecutive ranges to chunks (``chunk:<chunk_id>``) and records each
   chunk (``batch_chunk``) and its meldingen with their soort
   (``batch_chunk_melding``: ``nieuw`` or ``herhaling``).

Failed (``mislukt``) and blocked meldingen are not collected: a failure needs its
cause fixed first (then a new run takes it up), and blocking is final.

Chunks are Airflow mapped tasks, and Airflow refuses more than ``max_map_length``
(1024) of them: a batch never has more than :data:`MAX_CHUNKS` (512) chunks; when
``chunk_grootte`` would give more, the chunks are made larger (at least
``ceil(meldingen / 512)`` each), so 50,000 meldingen at the default 1000 are 50
chunks and 1,000,000 are 512 chunks of 1954.

Ids are ours and carry no data: ``b<yyyymmddHHMMSS>-<6 random letters>`` for the
batch, ``<batch_id>-<nnnn>`` for its chunks.

The retry rule lives here too (:func:`volgende_poging`, pure): the chunk that
stores outcomes (``nazorg.batch.chunk``), the per-melding path that stores them
(``nazorg.pipeline._bewaar_uitkomst``) and the runner that gives up on a
failed chunk apply it, and :func:`verzamel` selects on what they wrote. Only a
source that was down (unreachable, an error, a timeout) is asked again: those
answers may change within the hour. An ambiguous answer, a record in
onderzoek or a deceased person says something about the record itself and
would only be asked again for nothing.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from nazorg.models import ChunkStatus, MeldingStatus, Reden, Soort, Uitkomst

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.settings import Settings
    from nazorg.store import Store
    from nazorg.wiring import Runtime

#: the reasons of an onbekend that a later attempt may fill in
TRANSIENT: Final = frozenset({Reden.BRON_ONBEREIKBAAR, Reden.BRON_FOUT, Reden.BRON_TIMEOUT})

#: the most chunks one batch has: well under Airflow's max_map_length (1024)
MAX_CHUNKS: Final = 512
CHUNK_PREFIX: Final = "chunk:"
RUN_PREFIX: Final = "run:"


@dataclass(frozen=True, slots=True)
class Verzameling:
    """One collected batch: its id and its chunks' ids (what Airflow may carry), and counts."""

    batch_id: str
    chunk_ids: list[str] = field(default_factory=list)
    #: meldingen claimed, retries included
    meldingen: int = 0
    #: of which published meldingen with onbekend outcomes due for retry
    herhalingen: int = 0


def tijdstip(moment: datetime | str) -> str:
    """``moment`` as the pipeline DB stores timestamps (:func:`nazorg.store.now`): UTC, ms, ISO 8601.

    One form everywhere, so that timestamps compare correctly as text in SQL.
    A naive datetime is taken as UTC; a string is parsed as ISO 8601.
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def volgende_poging(
    pogingen: int,
    uitkomst: str | None,
    reden: str | None,
    settings: Settings | None,
    nu: datetime | str,
    *,
    toestemming_later: bool = False,
) -> str | None:
    """When to ask the check again (as stored: :func:`tijdstip`), or None (not needed, no attempts left).

    ``pogingen`` counts the attempts made so far, this one included (the first
    evaluation is 1); store it with the outcome. The wait after attempt ``n``
    is ``batch_backoff_s * 2**(n-1)``; after ``batch_max_pogingen`` attempts the
    outcome stays onbekend for good. ``settings`` None: the process's settings.

    ``toestemming_later``: the attempt was a check refused for lack of consent
    (``niet_uitgevoerd``, ``geen_toestemming``) that :mod:`nazorg.toestemming`
    marked due after consent was recorded, and its chunk failed: it backs off the
    same way instead of being forgotten. Only the runner's failure path says so;
    a refusal the planner makes is never retried by itself.
    """
    consent_retry = (
        toestemming_later and uitkomst == Uitkomst.NIET_UITGEVOERD and reden == Reden.GEEN_TOESTEMMING
    )
    if not consent_retry and (uitkomst != Uitkomst.ONBEKEND or reden not in TRANSIENT):
        return None
    if settings is None:
        from nazorg.settings import settings as process_settings

        settings = process_settings()
    if pogingen >= settings.batch_max_pogingen:
        return None
    moment = datetime.fromisoformat(nu) if isinstance(nu, str) else nu
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    wacht = settings.batch_backoff_s * 2 ** (max(pogingen, 1) - 1)
    return tijdstip(moment + timedelta(seconds=wacht))


def chunk_claim(chunk_id: str) -> str:
    return f"{CHUNK_PREFIX}{chunk_id}"


def nieuwe_batch_id(nu: datetime) -> str:
    letters = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    return f"b{nu.astimezone(UTC):%Y%m%d%H%M%S}-{letters}"


# -- the batch's statements (sql/batch/<name>.sql), run on the pipeline store's engine --------


@cache
def _statement(sql_root: Path, name: str) -> str:
    return (sql_root / "batch" / f"{name}.sql").read_text(encoding="utf-8")


def execute(
    store: Store,
    name: str,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    conn: Connection,
) -> int:
    """Run ``sql/batch/<name>.sql`` in the caller's transaction; the affected rows."""
    from sqlalchemy import text

    payload: Any = [dict(p) for p in params] if isinstance(params, Sequence) else dict(params)
    return int(conn.execute(text(_statement(store.sql_root, name)), payload).rowcount or 0)


def query(
    store: Store, name: str, params: Mapping[str, Any], conn: Connection | None = None
) -> list[dict[str, Any]]:
    """Rows of ``sql/batch/<name>.sql``, in the caller's transaction when given."""
    from sqlalchemy import text

    stmt = text(_statement(store.sql_root, name))
    if conn is not None:
        return [dict(r._mapping) for r in conn.execute(stmt, dict(params))]
    with store.engine.connect() as own:
        return [dict(r._mapping) for r in own.execute(stmt, dict(params))]


def chunk_grootte_voor(meldingen: int, gewenst: int) -> int:
    """The chunk size for ``meldingen``: ``gewenst``, or larger so there are at most MAX_CHUNKS."""
    if gewenst < 1:
        raise ValueError("chunk_grootte moet een positief geheel getal zijn")
    return max(gewenst, math.ceil(meldingen / MAX_CHUNKS))


def verzamel(rt: Runtime, *, chunk_grootte: int | None = None, nu: datetime | None = None) -> Verzameling:
    """Claim every melding due and split them into chunks, in one transaction (module docstring).

    ``nu`` is the moment the batch decides on (tests move it to make retries due
    or leases pass). Returns the ids only; which melding is in which chunk stays
    in the pipeline DB.
    """
    store, config = rt.store, rt.settings
    moment = nu or datetime.now(UTC)
    nu_s = tijdstip(moment)
    batch_id = nieuwe_batch_id(moment)
    token = f"batch:{batch_id}"
    claim_tot = tijdstip(moment + timedelta(seconds=config.batch_claim_s))
    gewenst = chunk_grootte or config.batch_chunk_grootte
    chunk_ids: list[str] = []
    with store.transaction() as conn:
        execute(
            store,
            "verzamel_claim",
            {
                "token": token,
                "claim_tot": claim_tot,
                "nu": nu_s,
                "ontvangen": MeldingStatus.ONTVANGEN.value,
                "in_behandeling": MeldingStatus.IN_BEHANDELING.value,
                "gepubliceerd": MeldingStatus.GEPUBLICEERD.value,
                "onbekend": Uitkomst.ONBEKEND.value,
                "niet_uitgevoerd": Uitkomst.NIET_UITGEVOERD.value,
                "geen_toestemming": Reden.GEEN_TOESTEMMING.value,
                "max_pogingen": config.batch_max_pogingen,
            },
            conn,
        )
        rows = query(store, "verzamel_geclaimd", {"token": token}, conn)
        herhalingen = sum(1 for r in rows if r["status"] == MeldingStatus.GEPUBLICEERD)
        grootte = chunk_grootte_voor(len(rows), gewenst)
        for volgnummer, start in enumerate(range(0, len(rows), grootte), start=1):
            deel = rows[start : start + grootte]
            chunk_id = f"{batch_id}-{volgnummer:04d}"
            claim = chunk_claim(chunk_id)
            moved = execute(
                store,
                "verzamel_chunk_claim",
                {
                    "claim": claim,
                    "token": token,
                    "eerste": deel[0]["melding_id"],
                    "laatste": deel[-1]["melding_id"],
                },
                conn,
            )
            if moved != len(deel):  # the database's order and its range comparison disagree
                raise RuntimeError(f"verzamel {batch_id}: chunk {volgnummer} kreeg {moved} van {len(deel)}")
            execute(
                store,
                "batch_chunk_insert",
                {
                    "chunk_id": chunk_id,
                    "batch_id": batch_id,
                    "volgnummer": volgnummer,
                    "status": ChunkStatus.OPEN.value,
                    "meldingen": len(deel),
                    "nu": nu_s,
                },
                conn,
            )
            execute(
                store,
                "batch_chunk_melding_insert",
                {
                    "chunk_id": chunk_id,
                    "claim": claim,
                    "gepubliceerd": MeldingStatus.GEPUBLICEERD.value,
                    "herhaling": Soort.HERHALING.value,
                    "nieuw": Soort.NIEUW.value,
                },
                conn,
            )
            chunk_ids.append(chunk_id)
    return Verzameling(batch_id, chunk_ids, len(rows), herhalingen)
