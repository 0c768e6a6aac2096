"""HTTP: routing, headers, the order of checks, and the server in a background thread.

Why a real HTTP server: the clients are tested over the wire (timeouts,
keep-alive, content negotiation, status codes), exactly as they meet a real
gateway. Only the standard library's ``http.server`` is used.

Privacy: no access log, no tracebacks; a problem names a parameter, never a value.

Accountability: the server plays the other side of the Logboek Dataverwerkingen
link. Per request it keeps (in memory, the last :data:`MAX_VERZOEKEN`) the
``traceparent`` it received and the BRP API gateway's protocollering headers
(``x-doelbinding``, ``x-verwerking``, ``x-origin-oin``, ``x-gebruiker``), with the
span id it gave its own handling, and answers that span in a W3C
``traceresponse`` (``00-<trace id>-<its span id>-01``) when the traceparent was
well-formed. Tests read them with ``GET /_sim/verzoeken``; nothing of the body
(no BSN) is kept.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import re
import secrets
import socket
import socketserver
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast
from urllib.parse import urlsplit

from nazorg_dev.sim.haal_centraal import data, spec
from nazorg_dev.sim.haal_centraal.fields import build_selection, project
from nazorg_dev.sim.haal_centraal.problems import (
    JSON_CONTENT_TYPE,
    InvalidParam,
    Response,
    ok,
    problem,
)
from nazorg_dev.sim.haal_centraal.state import INHOUD_FAULTS, SimConfig, SimState
from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE, Persoon

SIM_CONFIG_PATH: Final = "/_sim/config"
SIM_STATS_PATH: Final = "/_sim/stats"
SIM_RESET_PATH: Final = "/_sim/reset"
SIM_VERZOEKEN_PATH: Final = "/_sim/verzoeken"
#: the request headers the simulator keeps per request (never the body)
GEVOLGDE_HEADERS: Final = ("traceparent", "x-doelbinding", "x-verwerking", "x-origin-oin", "x-gebruiker")
_TRACEPARENT: Final = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
API_KEY_HEADER: Final = "X-API-KEY"
DEFAULT_CLI_PORT: Final = 5010
MAX_BODY_BYTES: Final = 1 << 20

_ZOEK: Final = {"personen": data.zoek_personen, "reisdocumenten": data.zoek_reisdocumenten}
_STREAM_CHUNK: Final = 64 << 10  # the huge fault's body is generated and written this much at a time


@dataclass(frozen=True, slots=True)
class _Trickle(Response):
    """The ``trickle`` fault: this response, status line and headers included, byte by byte."""

    interval_s: float = 3.0


@dataclass(frozen=True, slots=True)
class _Huge(Response):
    """The ``huge`` fault: a valid JSON answer of ``size`` bytes, generated while it is sent."""

    query_type: str = ""
    list_key: str = ""
    size: int = 0
    declare_length: bool = False

    def chunks(self) -> Iterator[bytes]:
        """``{"type": ..., "<list_key>": [{}, {}, ...]}``: empty objects, no data at all."""
        head = f'{{"type":"{self.query_type}","{self.list_key}":['.encode()
        tail = b"{}]}"
        filler = b"{}," * (_STREAM_CHUNK // 3)
        yield head
        left = max(0, self.size - len(head) - len(tail))
        while left >= len(filler):
            yield filler
            left -= len(filler)
        yield b"{}," * (left // 3) + b" " * (left % 3)  # whitespace pads to the exact size
        yield tail


def _is_json_content_type(value: str | None) -> bool:
    """application/json, optionally with charset utf-8 (the spec's request media type)."""
    if not value:
        return False
    media, *params = (part.strip().lower() for part in value.split(";"))
    if media != "application/json":
        return False
    for param in params:
        key, _, val = param.partition("=")
        if key.strip() == "charset" and val.strip().strip('"') not in {"utf-8", "utf8"}:
            return False
    return True


def _accepts_json(value: str | None) -> bool:
    """False only when an Accept header is present and rules out application/json."""
    if value is None or not value.strip():
        return True
    for part in value.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, val = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(val)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media in {"*/*", "application/*", "application/json"}:
            return True
    return False


def _fault_response(fault: str, operation: spec.Operation, config: SimConfig) -> Response:
    if fault == "timeout":
        return Response(504, hang=True)
    if fault == "malformed":
        return Response(200, b'{"type":"' + operation.name.encode() + b'","', JSON_CONTENT_TYPE)
    if fault == "wrong_type":
        return ok({operation.list_key: []})
    status = int(fault)
    headers = (("Retry-After", str(config.retry_after_s)),) if status == 429 else ()
    return operation.problem(status, headers=headers)


def _ander(bsn: str, population: Mapping[str, Persoon]) -> str:
    """Another person's BSN: the first plain person (no BRP signals) with a valid reisdocument."""
    return next(
        p.bsn for p in population.values() if p.bsn != bsn and p.heeft_geldig_id and not p.heeft_brp_signaal
    )


def _over_een_ander(body: Mapping[str, Any], population: Mapping[str, Persoon]) -> dict[str, Any]:
    """The ``andere_houder`` fault: the same query about other people (their documents, their records)."""
    bsns = body["burgerservicenummer"]
    if isinstance(bsns, list):
        return {**body, "burgerservicenummer": [_ander(bsn, population) for bsn in bsns]}
    return {**body, "burgerservicenummer": _ander(bsns, population)}


def answer(
    operation: spec.Operation, body: Mapping[str, Any], state: SimState, *, fault: str | None = None
) -> Response:
    """A query body checked against the spec, answered from the population, cut to ``fields``."""
    invalid = operation.check(body)
    if invalid:
        return operation.problem(400, invalid=invalid)
    if fault == "andere_houder":
        body = _over_een_ander(body, state.population)
    resources = _ZOEK[operation.name](body, state.population, date.today(), state.seed)
    selection = build_selection(body["fields"])
    found = [project(resource, operation.resource, selection) for resource in resources]
    return ok({"type": operation.query_type, operation.list_key: found})


class _SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # the benchmark opens tens of keep-alive connections at once; the default backlog of 5
    # drops SYNs that then wait a second for a retransmit
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], state: SimState, operations: Mapping[str, spec.Operation]
    ) -> None:
        self.state = state
        self.operations = operations
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.state.count_connection()
        super().process_request(request, client_address)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup (getfqdn), which can take seconds."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a default traceback could end up in logs next to request data."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real gateway
    # Status line, headers and body leave in one write (flushed after each request, and
    # at once by the streaming faults): two small writes cost a second system call and,
    # with many handler threads, a second wait for the GIL.
    wbufsize = 64 << 10
    server_version = "HaalCentraalSim/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without this, Nagle plus
        # delayed ACKs add ~40 ms to every request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def _server(self) -> _SimHTTPServer:
        return cast(_SimHTTPServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the simulator must never write request data anywhere."""

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._read_body()
        state = self._server.state
        if body is None:
            self._send(problem(413, path), close=True)
        elif path in self._server.operations:
            traceresponse = self._volg(path)
            response = self._operation(self._server.operations[path], body)
            if traceresponse is not None:
                response = dataclasses.replace(response, headers=(*response.headers, traceresponse))
            self._send(response)
        elif path == SIM_CONFIG_PATH:
            self._send(self._configure(body))
        elif path == SIM_RESET_PATH:
            state.reset_stats()
            self._send(ok(state.stats()))
        else:
            self._send(problem(404, path))

    def _volg(self, path: str) -> tuple[str, str] | None:
        """Keep this request's trace and protocollering headers; the traceresponse to send, if any."""
        headers = {naam: self.headers.get(naam) for naam in GEVOLGDE_HEADERS}
        match = _TRACEPARENT.fullmatch(headers["traceparent"] or "")
        geldig = match is not None and match[1] != "0" * 32 and match[2] != "0" * 16
        span_id = secrets.token_hex(8)
        self._server.state.volg_verzoek(
            {
                "pad": path,
                **headers,
                "traceparent_geldig": geldig,
                "server_span_id": span_id if geldig else None,
            }
        )
        if not geldig or match is None:
            return None  # W3C: an invalid traceparent is ignored (the receiver starts its own trace)
        return ("traceresponse", f"00-{match[1]}-{span_id}-01")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == SIM_STATS_PATH:
            self._send(ok(self._server.state.stats()))
        elif path == SIM_VERZOEKEN_PATH:
            self._send(ok({"verzoeken": self._server.state.verzoeken()}))
        elif path == SIM_CONFIG_PATH:
            self._send(ok(asdict(self._server.state.config)))
        else:
            self._not_post(path)

    def do_PUT(self) -> None:
        self._read_body()
        self._not_post(urlsplit(self.path).path)

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def _not_post(self, path: str) -> None:
        known = path in self._server.operations or path in {
            SIM_CONFIG_PATH,
            SIM_STATS_PATH,
            SIM_RESET_PATH,
            SIM_VERZOEKEN_PATH,
        }
        self._send(problem(405 if known else 404, path))

    def _read_body(self) -> bytes | None:
        """Read the whole body (also for errors, so keep-alive stays in sync); None if too big."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _operation(self, operation: spec.Operation, raw: bytes) -> Response:
        state = self._server.state
        state.count_request(operation.name)
        # decided on arrival, so a slow request that outlives a reconfiguration
        # cannot shift the seeded fault pattern of the requests after it
        fault = state.next_fault()
        config = state.config
        if config.latency_ms > 0:
            state.stopping.wait(config.latency_ms / 1000)
        if fault == "trickle":  # the right answer, too slowly to be of use
            response = self._answer(operation, raw)
            return _Trickle(
                response.status,
                response.body,
                response.content_type,
                response.headers,
                interval_s=config.trickle_interval_s,
            )
        if fault == "huge":
            return _Huge(
                200,
                content_type=JSON_CONTENT_TYPE,
                query_type=operation.query_type,
                list_key=operation.list_key,
                size=config.huge_bytes,
                declare_length=config.huge_declare_length,
            )
        if fault is not None and fault not in INHOUD_FAULTS:
            return _fault_response(fault, operation, config)
        return self._answer(operation, raw, fault)

    def _answer(self, operation: spec.Operation, raw: bytes, fault: str | None = None) -> Response:
        """The answer of a well-behaved server: authorised, negotiated, validated, from the population.

        ``fault`` is a content fault (:data:`INHOUD_FAULTS`): a well-formed answer that lies.
        """
        state = self._server.state
        if state.api_key is not None:
            given = self.headers.get(API_KEY_HEADER) or ""
            if not hmac.compare_digest(given.encode(), state.api_key.encode()):
                return operation.problem(401, headers=(("WWW-Authenticate", "ApiKey"),))
        if not _is_json_content_type(self.headers.get("Content-Type")):
            return operation.problem(415)
        if not _accepts_json(self.headers.get("Accept")):
            return operation.problem(406)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict):
            return operation.problem(400, invalid=[InvalidParam("body", "json", "Geen JSON object.")])
        return answer(operation, body, state, fault=fault)

    def _configure(self, raw: bytes) -> Response:
        try:
            changes = json.loads(raw.decode("utf-8") or "{}")
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object")
            config = self._server.state.configure(changes)
        except (UnicodeDecodeError, ValueError, TypeError):
            invalid = [InvalidParam("config", "value", "Ongeldige simulatorinstelling.")]
            return problem(400, SIM_CONFIG_PATH, invalid=invalid)
        return ok(asdict(config))

    def _send(self, response: Response, *, close: bool = False) -> None:
        state = self._server.state
        if isinstance(response, _Trickle):
            self._send_trickle(response)
            return
        if isinstance(response, _Huge):
            self._send_huge(response)
            return
        if response.hang:
            state.count_status("timeout")
            state.stopping.wait(state.config.timeout_sleep_s)
            self.close_connection = True
            return
        state.count_status(response.status)
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True

    def _send_trickle(self, response: _Trickle) -> None:
        """Write the whole response one byte at a time; stop when the client leaves or the server stops."""
        state = self._server.state
        state.count_status("trickle")
        self.close_connection = True
        head = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        if response.content_type:
            head.append(f"Content-Type: {response.content_type}")
        head.extend(f"{name}: {value}" for name, value in response.headers)
        head += [f"Content-Length: {len(response.body)}", "Connection: close", "", ""]
        for byte in "\r\n".join(head).encode("latin-1") + response.body:
            if state.stopping.wait(response.interval_s):
                return
            try:
                self.wfile.write(bytes((byte,)))
                self.wfile.flush()
            except OSError:  # the client gave up: that is the point
                return
            state.count_streamed(1)

    def _send_huge(self, response: _Huge) -> None:
        """Stream the huge body, chunked unless its length is declared; stop when the client leaves."""
        state = self._server.state
        state.count_status("huge")
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", response.content_type or JSON_CONTENT_TYPE)
            if response.declare_length:
                self.send_header("Content-Length", str(response.size))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in response.chunks():
                if state.stopping.is_set():
                    return
                if not chunk:
                    continue
                framed = chunk if response.declare_length else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                self.wfile.write(framed)
                self.wfile.flush()
                state.count_streamed(len(chunk))
            if not response.declare_length:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except OSError:  # the client refused the rest: that is the point
            return


class HaalCentraalSimServer:
    """One local server for both APIs; start it in a background thread.

    >>> with HaalCentraalSimServer() as sim:  # doctest: +SKIP
    ...     client = BrpPersonenClient(sim.brp_base_url)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = DEFAULT_SEED,
        size: int = DEFAULT_SIZE,
        api_key: str | None = None,
        latency_ms: float = 0.0,
        fault: str | None = None,
        fault_rate: float = 1.0,
        fault_first_n: int | None = None,
        fault_seed: int = 0,
        timeout_sleep_s: float = 5.0,
    ) -> None:
        config = SimConfig(
            latency_ms=latency_ms,
            fault=fault,
            fault_rate=fault_rate,
            fault_first_n=fault_first_n,
            fault_seed=fault_seed,
            timeout_sleep_s=timeout_sleep_s,
        )
        self._host = host
        self._port = port
        self._state = SimState(seed=seed, size=size, api_key=api_key, config=config)
        # read the specs now, so a broken spec fails here and not on the first request
        self._operations = {op.path: op for op in (spec.personen(), spec.reisdocumenten())}
        self._httpd: _SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._state.stopping.clear()
        httpd = _SimHTTPServer((self._host, self._port), self._state, self._operations)
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="haal-centraal-sim",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and wake handlers that sleep for latency or a timeout fault."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> HaalCentraalSimServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self._host in {"", "0.0.0.0"} else self._host  # noqa: S104
        return f"http://{host}:{self._port}"

    @property
    def brp_base_url(self) -> str:
        return self.base_url + spec.personen().base_path

    @property
    def reisdocumenten_base_url(self) -> str:
        return self.base_url + spec.reisdocumenten().base_path

    @property
    def config(self) -> SimConfig:
        return self._state.config

    def configure(self, **changes: object) -> SimConfig:
        """The in-process equivalent of ``POST /_sim/config``."""
        return self._state.configure(changes)

    def stats(self) -> dict[str, Any]:
        """The in-process equivalent of ``GET /_sim/stats``."""
        return self._state.stats()

    def reset_stats(self) -> None:
        self._state.reset_stats()

    def verzoeken(self) -> list[dict[str, Any]]:
        """In-process ``GET /_sim/verzoeken``: trace and protocollering headers per request."""
        return self._state.verzoeken()


def serve_forever(host: str = "127.0.0.1", port: int = DEFAULT_CLI_PORT, **opts: Any) -> None:
    """Run the simulator in the foreground until interrupted (for the CLI and demos)."""
    server = HaalCentraalSimServer(host, port, **opts)
    server.start()
    urls = f"BRP {server.brp_base_url}, Reisdocumenten {server.reisdocumenten_base_url}"
    print(f"Haal Centraal simulator: {urls}", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
