"""Logboek Dataverwerkingen: one record per check per person.

Follows the standard's span model (trace id, span id, name, start/end, status)
with the ``dpl.core.*`` attributes: the processing activity (a URI of the
register entry and version, ``<NAZORG_REGISTER_URI><check_id>/v<versie>``: the
standard wants ``dpl.core.processing_activity_id`` to be a URI into the register)
and a keyed pseudonym of the BSN. Purpose, basis and retention are not repeated
here: they live in the register entry the activity id points at.

A check that called another processor (Haal Centraal) also records the
standard's ``foreign_operation``: the trace and span at the called processor
(``foreign_trace_id``, ``foreign_span_id``: the latter only when it answered
with a W3C ``traceresponse``), the processor as a URI (``foreign_entity``), and
``request_span_id``, the span id of the request that served this person as sent
in its ``traceparent`` (one BRP Personen request serves up to 20 persons: each
of their records names it). See :mod:`nazorg.sources.trace_context`.

Source: Logius, Logboek Dataverwerkingen (github.com/Logius-standaarden/
logboek-dataverwerkingen), "Component: Logboek" (fields, ``foreign_operation``,
``dpl.core.*``) and "Component: Applicatie" (W3C Trace Context on outgoing
requests, one record per data subject, no log sampling). With
``NAZORG_OTEL_ENDPOINT`` set, each record is also exported as an OpenTelemetry
span (:mod:`nazorg.otel`).

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

    from nazorg.sources.trace_context import ForeignOperation

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
    #: the request to another processor that served this person, if any
    foreign: ForeignOperation | None = None


def _foreign_velden(foreign: ForeignOperation | None) -> dict[str, str | None]:
    if foreign is None:
        return dict.fromkeys(FOREIGN_KOLOMMEN)
    return {
        "foreign_trace_id": foreign.trace_id,
        "foreign_span_id": foreign.span_id,
        "foreign_entity": foreign.entity,
        "request_span_id": foreign.request_span_id,
    }


FOREIGN_KOLOMMEN = ("foreign_trace_id", "foreign_span_id", "foreign_entity", "request_span_id")


def record(verwerking: Verwerking, key: bytes | None = None) -> dict[str, str | None]:
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
        **_foreign_velden(verwerking.foreign),
    }


def records(verwerkingen: Iterable[Verwerking], key: bytes) -> list[dict[str, str | None]]:
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
                **_foreign_velden(v.foreign),
            }
        )
    return out


def schrijf(
    store: Store, verwerkingen: list[Verwerking], key: bytes | None = None, conn: Connection | None = None
) -> int:
    """Insert the records; with ``conn``, inside that transaction (the outcome's).

    Without ``conn`` the records are committed here, and then exported as spans
    (:func:`exporteer`); a caller that passes ``conn`` exports after its commit.
    """
    if not verwerkingen:
        return 0
    regels = [record(v, key) for v in verwerkingen]
    aantal = store.execute("verwerkingslog_insert", regels, conn=conn)
    if conn is None:
        exporteer(regels)
    return aantal


def exporteer(regels: Iterable[dict[str, str | None]]) -> None:
    """Committed records as OpenTelemetry spans when ``NAZORG_OTEL_ENDPOINT`` is set; else nothing.

    Never fails the caller: the record in the pipeline DB is the log of record,
    the export a copy for a central Logboek. See :mod:`nazorg.otel`.
    """
    from nazorg.otel import exporteer_records

    exporteer_records(list(regels))
