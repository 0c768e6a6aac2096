"""W3C Trace Context on outgoing requests, and what each request served, for the processing log.

Why: the Logboek Dataverwerkingen standard (Logius, ``logboek-dataverwerkingen``,
"Component: Applicatie") says an application that sends a request to another
application MUST pass the W3C Trace Context with it, and a processing-log record
may name the ``foreign_operation`` it is linked to (``trace_id``, ``span_id``,
``entity``: a URI of the other party). So the processor we call can link its own
log to ours, and ours names the request that answered for a person.

- :func:`traceparent` builds the header: version ``00``, the processing log's
  trace id, a fresh span id per request (:func:`nieuwe_span_id`), flag ``01``
  (sampled: the standard forbids log sampling, so every request is recorded).
- :class:`Spoor` goes with one check's question (:class:`nazorg.sources.kinds.Vraag`):
  the trace id the requests carry, and per BSN the :class:`ForeignOperation` of
  the request that served it. One BRP Personen request serves up to 20 BSNs: each
  gets that request's span id. When several processors answer for one BSN
  (Reisdocumenten, then BRP Personen to confirm a nee), the first processor asked
  is kept, with its last attempt (the one that answered); the others carry the
  same trace id, so their logs are found through it.
- :func:`lees_traceresponse` reads the called processor's own span from a W3C
  ``traceresponse`` header (Trace Context Level 2), when it sends one.

Nothing here holds a BSN longer than the question: the mapping lives in memory
and is read by the step that writes the records (which pseudonymises the BSN).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit, urlunsplit

VERSIE: Final = "00"
SAMPLED: Final = "01"
_TRACEPARENT: Final = re.compile(
    r"^00-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})$"
)
_NUL_TRACE: Final = "0" * 32
_NUL_SPAN: Final = "0" * 16


def nieuwe_span_id() -> str:
    """8 random bytes as 16 lowercase hex digits, never all zero (W3C: an invalid parent-id)."""
    while True:
        span = secrets.token_hex(8)
        if span != _NUL_SPAN:
            return span


def nieuwe_trace_id() -> str:
    while True:
        trace = secrets.token_hex(16)
        if trace != _NUL_TRACE:
            return trace


def traceparent(trace_id: str, span_id: str) -> str:
    """``00-<trace_id>-<span_id>-01``; refuses ids the W3C format does not allow."""
    if not is_trace_id(trace_id) or not re.fullmatch(r"[0-9a-f]{16}", span_id) or span_id == _NUL_SPAN:
        raise ValueError("trace_id moet 32 en span_id 16 kleine hex-cijfers zijn, niet allemaal 0")
    return f"{VERSIE}-{trace_id}-{span_id}-{SAMPLED}"


def is_trace_id(waarde: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{32}", waarde)) and waarde != _NUL_TRACE


def lees_traceparent(waarde: str | None) -> tuple[str, str] | None:
    """``(trace_id, span_id)`` of a well-formed version-00 header, else None (W3C: ignore it)."""
    if waarde is None:
        return None
    match = _TRACEPARENT.fullmatch(waarde.strip())
    if match is None or match["trace"] == _NUL_TRACE or match["span"] == _NUL_SPAN:
        return None
    return match["trace"], match["span"]


#: the ``traceresponse`` header has the same format as ``traceparent``
lees_traceresponse = lees_traceparent


def entity_uri(base_url: str) -> str:
    """The called processor as a URI: its base URL without credentials, query or fragment."""
    delen = urlsplit(base_url)
    host = delen.hostname or ""
    netloc = f"{host}:{delen.port}" if delen.port else host
    return urlunsplit((delen.scheme, netloc, delen.path.rstrip("/"), "", ""))


@dataclass(frozen=True, slots=True)
class ForeignOperation:
    """One request to another processor, as the processing-log record names it."""

    trace_id: str  # the trace the request carried (or the one the processor answered with)
    request_span_id: str  # our request's span id, as sent in its traceparent
    entity: str  # URI of the called processor
    span_id: str | None = None  # the processor's own span, from its traceresponse


@dataclass
class Spoor:
    """The trace of one check's question and, per BSN, the request that served it (thread-safe)."""

    trace_id: str = field(default_factory=nieuwe_trace_id)
    _per_bsn: dict[str, ForeignOperation] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not is_trace_id(self.trace_id):
            raise ValueError("trace_id moet 32 kleine hex-cijfers zijn, niet allemaal 0")

    def vastleggen(self, bsns: list[str] | tuple[str, ...], operatie: ForeignOperation) -> None:
        """``operatie`` served ``bsns``: the first processor per BSN stays, its last attempt wins."""
        with self._lock:
            for bsn in bsns:
                bestaand = self._per_bsn.get(bsn)
                if bestaand is None or bestaand.entity == operatie.entity:
                    self._per_bsn[bsn] = operatie

    def voor(self, bsn: str) -> ForeignOperation | None:
        with self._lock:
            return self._per_bsn.get(bsn)
