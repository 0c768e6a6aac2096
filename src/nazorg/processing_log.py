"""Logboek Dataverwerkingen: one record per check per person.

Follows the standard's span model (trace id, span id, name, start/end, status)
with the ``dpl.core.*`` attributes: the processing activity (register entry and
version) and a keyed pseudonym of the BSN. Purpose, basis and retention are not
repeated here: they live in the register entry the activity id points at.

Each record also names the key its pseudonym was made with (``sleutel_id``, a
fingerprint from :func:`nazorg.sleutel.sleutel_id`), so a record stays
verifiable after the key is rotated: look up the old key by its id.

A record is written in the same transaction as the outcome it belongs to
(:func:`nazorg.pipeline._bewaar_uitkomst`): an outcome is never stored without
its record. When no outcome is stored although the source was asked (the
melding was blocked meanwhile, the source over-collected, the step failed),
the record is written on its own.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nazorg import __version__
from nazorg.bsn import pseudonymise
from nazorg.sleutel import sleutel_id
from nazorg.store import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

RESOURCE_NAME = "nazorg-intake"
_TRACE_NAMESPACE = uuid.UUID("6f1c3f4e-6a53-4c1e-9c55-1d3c2b7a9e10")


def trace_id_for(run_id: str) -> str:
    """A stable 32-hex trace id per DAG run, shared by its tasks without XCom."""
    return uuid.uuid5(_TRACE_NAMESPACE, run_id).hex


@dataclass(frozen=True, slots=True)
class Verwerking:
    trace_id: str
    check_id: str
    processing_activity_id: str
    bsn: str
    start_time: str
    end_time: str
    geslaagd: bool


def record(verwerking: Verwerking, key: bytes | None = None) -> dict[str, str]:
    if key is None:
        from nazorg.settings import settings

        key = settings().pseudonym_key()
    return {
        "span_id": secrets.token_hex(8),
        "trace_id": verwerking.trace_id,
        "name": f"nazorg.check.{verwerking.check_id}",
        "status_code": "OK" if verwerking.geslaagd else "ERROR",
        "start_time": verwerking.start_time,
        "end_time": verwerking.end_time,
        "resource_name": RESOURCE_NAME,
        "resource_version": __version__,
        "processing_activity_id": verwerking.processing_activity_id,
        "data_subject_id": pseudonymise(verwerking.bsn, key),
        "data_subject_id_type": "BSN",
        "sleutel_id": sleutel_id(key),
    }


def records(verwerkingen: Iterable[Verwerking], key: bytes) -> list[dict[str, str]]:
    """:func:`record` for many at once, as the batch writes them: the same fields, the same values.

    Why a second function: a chunk writes a record for every executed check of
    thousands of meldingen. The key's fingerprint is computed once, and each
    BSN's pseudonym once however many checks it has, instead of per record.
    """
    from nazorg.sleutel import MIN_KEY_BYTES

    if len(key) < MIN_KEY_BYTES:  # as pseudonymise: never a pseudonym from a short key
        raise ValueError(f"pseudoniemsleutel te kort: minstens {MIN_KEY_BYTES} bytes")
    sleutel = sleutel_id(key)
    pseudoniemen: dict[str, str] = {}
    out = []
    for v in verwerkingen:
        pseudoniem = pseudoniemen.get(v.bsn)
        if pseudoniem is None:
            pseudoniem = pseudoniemen[v.bsn] = pseudonymise(v.bsn, key)
        out.append(
            {
                "span_id": secrets.token_hex(8),
                "trace_id": v.trace_id,
                "name": f"nazorg.check.{v.check_id}",
                "status_code": "OK" if v.geslaagd else "ERROR",
                "start_time": v.start_time,
                "end_time": v.end_time,
                "resource_name": RESOURCE_NAME,
                "resource_version": __version__,
                "processing_activity_id": v.processing_activity_id,
                "data_subject_id": pseudoniem,
                "data_subject_id_type": "BSN",
                "sleutel_id": sleutel,
            }
        )
    return out


def schrijf(
    store: Store, verwerkingen: list[Verwerking], key: bytes | None = None, conn: Connection | None = None
) -> int:
    """Insert the records; with ``conn``, inside that transaction (the outcome's)."""
    if not verwerkingen:
        return 0
    return store.execute("verwerkingslog_insert", [record(v, key) for v in verwerkingen], conn=conn)
