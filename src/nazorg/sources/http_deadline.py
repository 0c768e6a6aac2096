"""An httpx transport whose every socket operation ends at the calling thread's deadline.

Why: httpx's timeouts bound each wait (connect, one read, one write), not a
call. A server that trickles one byte every three seconds never trips a five
second read timeout, neither in the body nor in the status line and headers,
which are read inside httpx before the caller sees a response it could stop
reading. So the deadline has to reach the sockets: this transport is httpx's
own :class:`httpx.HTTPTransport` whose connection pool runs on a network
backend that cuts the timeout of every connect, TLS handshake, read and write
to what is left of the deadline set with :func:`deadline_scope`, and fails at
once when nothing is left. httpx reports that as an ordinary
:class:`httpx.TimeoutException`.

The deadline travels in a :class:`contextvars.ContextVar`, so threads that
share one client (the Reisdocumenten pool) each keep their own, and a
keep-alive connection opened under one call's deadline obeys the next call's.

Limits: name resolution (``getaddrinfo``) is not bounded by any socket
timeout; and this transport does not read proxy settings from the environment
(``HTTP(S)_PROXY``): the Haal Centraal endpoints are called directly.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Final

import httpcore
import httpx

from nazorg.sources.deadline import Deadline

_DEADLINE: Final[ContextVar[Deadline | None]] = ContextVar("nazorg_http_deadline", default=None)


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[None]:
    """Every request this thread sends through a :class:`DeadlineTransport` meanwhile ends by ``deadline``."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current deadline; raises when nothing is left."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        raise timeout_error("deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once per process.

    Building one reads the whole CA bundle (tenths of a second); a context is
    safe to share between connections and threads.
    """
    return httpx.create_ssl_context()


class DeadlineTransport(httpx.HTTPTransport):
    """:class:`httpx.HTTPTransport` with httpx's default TLS and limits, on the deadline backend.

    httpx offers no parameter for the network backend, so the pool it built is
    replaced by an equal one (same defaults) on :class:`_DeadlineBackend`. A
    future httpx that no longer keeps its pool in ``_pool`` fails here, loudly,
    instead of silently dropping the deadline.
    """

    def __init__(self, *, max_connections: int = 100, max_keepalive_connections: int = 20) -> None:
        """``max_keepalive_connections``: connections kept open for reuse; size it to the
        number of threads that share the client, or every request past it reconnects."""
        ssl_context = _ssl_context()
        super().__init__(verify=ssl_context)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx keeps its pool elsewhere now: DeadlineTransport needs updating")
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,  # defaults: httpx.Limits'
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(httpcore.SyncBackend()),
        )
