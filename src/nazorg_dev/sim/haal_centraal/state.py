"""The switchable misbehaviour (latency, faults) and the counters the tests read.

Why: tests must prove that every failure of a source ends in onbekend and never
in nee, so the server can be slow, fail with 5xx or 429, hang, or send a broken
or wrong answer, reproducibly (a seeded fault pattern, or the first n requests),
and reports what it did through ``/_sim/stats``. ``andere_houder`` is a wrong
answer that looks right: a well-formed 200 about another person (their
reisdocumenten, their persoonslijst), which a client must not take for the
person it asked about.

Two faults play a hostile server: ``trickle`` sends its (correct) answer, status
line and headers included, one byte every ``trickle_interval_s``, so no single
read ever times out; ``huge`` answers 200 with a valid JSON body of
``huge_bytes``, generated while it is sent (never held in memory), chunked or,
with ``huge_declare_length``, with its Content-Length. ``streamed_bytes`` in the
stats counts what these two faults actually wrote to the socket.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final

from nazorg_dev.sim.population import by_bsn

FAULTS: Final = (
    "500",
    "503",
    "429",
    "timeout",
    "malformed",
    "wrong_type",
    "trickle",
    "huge",
    "andere_houder",
)
#: faults that are about the content of a valid answer, not the transport
INHOUD_FAULTS: Final = frozenset({"andere_houder"})
#: requests whose trace and protocollering headers are kept (the newest)
MAX_VERZOEKEN: Final = 2000


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Switchable misbehaviour; changed at runtime through ``POST /_sim/config``."""

    latency_ms: float = 0.0
    fault: str | None = None
    fault_rate: float = 1.0
    fault_first_n: int | None = None
    fault_seed: int = 0
    timeout_sleep_s: float = 5.0
    trickle_interval_s: float = 3.0
    huge_bytes: int = 64 << 20
    huge_declare_length: bool = False
    #: the ``Retry-After`` (delta-seconds) that the ``429`` fault sends
    retry_after_s: int = 0

    def __post_init__(self) -> None:
        def number(value: object) -> bool:
            return isinstance(value, int | float) and not isinstance(value, bool)

        if not number(self.latency_ms) or self.latency_ms < 0:
            raise ValueError("latency_ms must be a number >= 0")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)} or null")
        if not number(self.fault_rate) or not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        first_n = self.fault_first_n
        if first_n is not None and (not isinstance(first_n, int) or isinstance(first_n, bool) or first_n < 0):
            raise ValueError("fault_first_n must be an integer >= 0 or null")
        if not isinstance(self.fault_seed, int) or isinstance(self.fault_seed, bool):
            raise ValueError("fault_seed must be an integer")
        if not number(self.timeout_sleep_s) or self.timeout_sleep_s <= 0:
            raise ValueError("timeout_sleep_s must be a number > 0")
        if not number(self.trickle_interval_s) or self.trickle_interval_s < 0:
            raise ValueError("trickle_interval_s must be a number >= 0")
        if not isinstance(self.huge_bytes, int) or isinstance(self.huge_bytes, bool) or self.huge_bytes < 1:
            raise ValueError("huge_bytes must be an integer >= 1")
        if not isinstance(self.huge_declare_length, bool):
            raise ValueError("huge_declare_length must be true or false")
        retry_after = self.retry_after_s
        if not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
            raise ValueError("retry_after_s must be an integer >= 0")

    def updated(self, changes: Mapping[str, object]) -> SimConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        return replace(self, **changes)  # type: ignore[arg-type]


class SimState:
    """Everything the request handlers share; guarded by one lock."""

    def __init__(self, *, seed: int, size: int, api_key: str | None, config: SimConfig) -> None:
        self.seed = seed
        self.population = by_bsn(seed, size)
        self.api_key = api_key
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(config.fault_seed)
        self._since_config = 0
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._streamed_bytes = 0
        self._connections = 0
        self._verzoeken: deque[dict[str, Any]] = deque(maxlen=MAX_VERZOEKEN)

    @property
    def config(self) -> SimConfig:
        with self._lock:
            return self._config

    def configure(self, changes: Mapping[str, object]) -> SimConfig:
        """Apply a partial change; restarts the fault dice and the first-n count."""
        with self._lock:
            self._config = self._config.updated(changes)
            self._rng = random.Random(self._config.fault_seed)
            self._since_config = 0
            return self._config

    def next_fault(self) -> str | None:
        with self._lock:
            config = self._config
            if config.fault is None:
                return None
            self._since_config += 1
            if config.fault_first_n is not None:
                hit = self._since_config <= config.fault_first_n
            else:
                hit = self._rng.random() < config.fault_rate
            if hit:
                self._faults[config.fault] += 1
            return config.fault if hit else None

    def count_request(self, operation: str) -> None:
        with self._lock:
            self._requests[operation] += 1

    def count_status(self, status: int | str) -> None:
        with self._lock:
            self._statuses[str(status)] += 1

    def count_connection(self) -> None:
        """A TCP connection accepted: a client that keeps its connections alive opens few."""
        with self._lock:
            self._connections += 1

    def count_streamed(self, size: int) -> None:
        """Bytes a ``trickle`` or ``huge`` fault wrote to the socket."""
        with self._lock:
            self._streamed_bytes += size

    def volg_verzoek(self, verzoek: dict[str, Any]) -> None:
        """One request's trace and protocollering headers (no body: never a BSN)."""
        with self._lock:
            self._verzoeken.append(verzoek)

    def verzoeken(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._verzoeken]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {"personen": 0, "reisdocumenten": 0, **self._requests},
                "faults": dict(self._faults),
                "statuses": dict(self._statuses),
                "streamed_bytes": self._streamed_bytes,
                "connections": self._connections,
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._statuses.clear()
            self._streamed_bytes = 0
            self._connections = 0
            self._verzoeken.clear()
