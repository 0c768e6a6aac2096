"""Optional export of processing-log records as OpenTelemetry spans (OTLP over HTTP).

Why: the Logboek Dataverwerkingen standard recommends OTLP between an
application and its Logboek ("Protocollen": *het is AANBEVOLEN om het
OpenTelemetry Protocol (OTLP) te gebruiken*). The pipeline DB's
``verwerkingslog`` stays the log of record (written in the outcome's
transaction); with ``NAZORG_OTEL_ENDPOINT`` set, each committed record is also
sent to a collector as one span: one span per check per person.

A span is the record, not a new measurement: its trace id and span id are the
record's (a private id generator hands them to the SDK), its name, start, end
and status are the record's, its resource is ``service.name`` nazorg-intake
with the version, and its attributes are the standard's ``dpl.core.*``:
``processing_activity_id`` (the register URI), ``data_subject_id`` (the keyed
pseudonym, never the BSN) and ``data_subject_id_type``. A record with a foreign
operation gets a span link to the request that served the person (the trace and
span id sent in its ``traceparent``) with ``dpl.core.foreign_operation.entity``
and, when the processor answered with a ``traceresponse``, its span id.

Unset (the default), nothing is imported and no exporter or provider is
created. The provider is private to this module: Airflow's own OpenTelemetry
settings (its metrics and task traces) are not touched, and no global provider
is installed. Export failures are swallowed: the record is already committed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from nazorg import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "nazorg-intake"
TRACER_NAME = "nazorg.processing_log"
#: the record fields that become ``dpl.core.*`` span attributes
DPL_ATTRIBUTEN = ("processing_activity_id", "data_subject_id", "data_subject_id_type")

_VASTE_IDS: ContextVar[tuple[int, int] | None] = ContextVar("nazorg_otel_ids", default=None)
_lock = threading.Lock()
_provider: TracerProvider | None = None


def _id_generator() -> Any:
    """An IdGenerator that returns the record's trace and span id while one is being exported."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

    class _RecordIds(IdGenerator):
        _willekeurig = RandomIdGenerator()

        def generate_span_id(self) -> int:
            ids = _VASTE_IDS.get()
            return ids[1] if ids is not None else self._willekeurig.generate_span_id()

        def generate_trace_id(self) -> int:
            ids = _VASTE_IDS.get()
            return ids[0] if ids is not None else self._willekeurig.generate_trace_id()

    return _RecordIds()


def maak_provider(exporter: SpanExporter, *, batch: bool = True) -> TracerProvider:
    """A private TracerProvider exporting to ``exporter`` (tests pass an in-memory one, ``batch=False``)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE_NAME, "service.version": __version__}),
        id_generator=_id_generator(),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return provider


@cache
def _geconfigureerd(endpoint: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return maak_provider(OTLPSpanExporter(endpoint=endpoint))


def provider() -> TracerProvider | None:
    """The provider in use: one set with :func:`gebruik`, else the configured endpoint's, else None (off)."""
    if _provider is not None:
        return _provider
    from nazorg.settings import settings

    endpoint = settings().otel_endpoint
    return None if endpoint is None else _geconfigureerd(endpoint)


def gebruik(nieuw: TracerProvider | None) -> None:
    """Use ``nieuw`` instead of the configured endpoint (tests); None: back to the configuration."""
    global _provider
    with _lock:
        _provider = nieuw


def _ns(tijd: str | None) -> int | None:
    if not tijd:
        return None
    return int(datetime.fromisoformat(tijd).timestamp() * 1_000_000_000)


def exporteer_records(regels: Sequence[dict[str, str | None]]) -> None:
    """One span per record; nothing when export is off; never raises."""
    if not regels:
        return
    with contextlib.suppress(Exception):
        gekozen = provider()
        if gekozen is None:
            return
        _exporteer(gekozen, regels)


def _exporteer(gekozen: TracerProvider, regels: Sequence[dict[str, str | None]]) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags

    tracer = gekozen.get_tracer(TRACER_NAME, __version__)
    for regel in regels:
        links = []
        if regel.get("foreign_trace_id") and regel.get("request_span_id"):
            doel = SpanContext(
                trace_id=int(str(regel["foreign_trace_id"]), 16),
                span_id=int(str(regel["request_span_id"]), 16),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            attributen = {"dpl.core.foreign_operation.entity": str(regel.get("foreign_entity") or "")}
            if regel.get("foreign_span_id"):
                attributen["dpl.core.foreign_operation.span_id"] = str(regel["foreign_span_id"])
            links.append(Link(doel, attributen))
        token = _VASTE_IDS.set((int(str(regel["trace_id"]), 16), int(str(regel["span_id"]), 16)))
        try:
            span = tracer.start_span(
                str(regel["name"]),
                context=trace.set_span_in_context(trace.INVALID_SPAN),  # a root: the record's own ids
                kind=trace.SpanKind.INTERNAL,
                attributes={f"dpl.core.{k}": str(regel[k]) for k in DPL_ATTRIBUTEN if regel.get(k)},
                links=links,
                start_time=_ns(regel.get("start_time")),
            )
        finally:
            _VASTE_IDS.reset(token)
        fout = regel.get("status_code") == "ERROR"
        span.set_status(Status(StatusCode.ERROR if fout else StatusCode.OK))
        span.end(end_time=_ns(regel.get("end_time")))
    gekozen.force_flush()
