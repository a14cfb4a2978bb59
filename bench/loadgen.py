"""Load generators with no dependency beyond the standard library: an asyncio HTTP/1.1 keep-alive client
and a minimal websocket client (RFC 6455, enough for text frames, ping/pong and close).

Why not wrk/locust: the same generator must drive both the baseline and the app, on a fresh machine,
with per-request latencies and status codes; a small asyncio client does that in one process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- HTTP -----------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            value = value.strip()
            # Keep every Set-Cookie (joined by a newline); other repeated headers: the last one.
            headers[name] = (
                headers[name] + "\n" + value if name == "set-cookie" and name in headers else value
            )
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()  # until the server closes
    return Response(status, headers, body)


def build_request(
    method: str, path: str, *, host: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpConnection:
    """One keep-alive connection; reconnects when the server closes."""

    def __init__(self, host: str, port: int, statuses: Counter | None = None):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.statuses = statuses if statuses is not None else Counter()

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(build_request(method, path, host=f"{self.host}:{self.port}",
                                                headers=headers, body=body))  # fmt: skip
                await self.writer.drain()
                response = await read_response(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
                continue
            self.statuses[response.status] += 1
            if response.headers.get("connection", "").lower() == "close":
                await self.close()
            return response
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class HttpLoadResult:
    concurrency: int
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def rate(self, ok: Callable[[int], bool] = lambda status: status < 400) -> float:
        good = sum(count for status, count in self.statuses.items() if ok(status))
        return good / self.seconds if self.seconds else 0.0


async def _http_load(
    host: str,
    port: int,
    make_request: Callable[[int, int], tuple[str, str, dict, bytes]],
    concurrency: int,
    seconds: float,
    prepare: Callable | None,
) -> HttpLoadResult:
    result = HttpLoadResult(concurrency, 0.0)
    connections = [HttpConnection(host, port) for _ in range(concurrency)]
    contexts = [None] * concurrency
    if prepare is not None:
        contexts = await asyncio.gather(*(prepare(conn, n) for n, conn in enumerate(connections)))
    start = time.monotonic()
    deadline = start + seconds

    async def worker(number: int) -> None:
        conn = connections[number]
        iteration = 0
        while time.monotonic() < deadline:
            method, path, headers, body = make_request(number, iteration, contexts[number])
            began = time.monotonic()
            try:
                response = await conn.request(method, path, headers=headers, body=body)
            except (OSError, asyncio.IncompleteReadError) as error:
                result.failures[error.__class__.__name__] += 1
                await conn.close()
                await asyncio.sleep(0.05)
                continue
            result.statuses[response.status] += 1
            if response.status < 400:
                result.latencies.append(time.monotonic() - began)
            iteration += 1

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    result.seconds = time.monotonic() - start
    await asyncio.gather(*(conn.close() for conn in connections))
    return result


async def _http_session_load(host, port, op, concurrency, seconds, prepare) -> HttpLoadResult:
    result = HttpLoadResult(concurrency, 0.0)
    outcomes: Counter = Counter()
    connections = [HttpConnection(host, port, result.statuses) for _ in range(concurrency)]
    contexts = await asyncio.gather(*(prepare(conn, n) for n, conn in enumerate(connections)))
    result.statuses.clear()  # count only the measured window
    start = time.monotonic()
    deadline = start + seconds

    async def worker(number: int) -> None:
        iteration = 0
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                outcome = await op(connections[number], number, iteration, contexts[number]) or "ok"
            except (OSError, asyncio.IncompleteReadError) as error:
                result.failures[error.__class__.__name__] += 1
                await connections[number].close()
                await asyncio.sleep(0.05)
                continue
            outcomes[outcome] += 1
            if outcome == "ok":
                result.latencies.append(time.monotonic() - began)
            iteration += 1

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    result.seconds = time.monotonic() - start
    result.outcomes = outcomes
    await asyncio.gather(*(conn.close() for conn in connections))
    return result


def http_session_load(
    host: str, port: int, op: Callable, *, concurrency: int, seconds: float, prepare: Callable
) -> HttpLoadResult:
    """Like ``http_load`` for multi-request operations: ``await op(conn, n, iteration, context)`` returns
    an outcome ("ok" or a name); latencies are per successful op; every response's status is counted."""
    return asyncio.run(_http_session_load(host, port, op, concurrency, seconds, prepare))


def http_load(
    host: str,
    port: int,
    make_request: Callable,
    *,
    concurrency: int,
    seconds: float,
    prepare: Callable | None = None,
) -> HttpLoadResult:
    """``concurrency`` keep-alive connections, each sending ``make_request(conn, iteration, context)``
    -> (method, path, headers, body) back to back for ``seconds``. ``prepare(conn, n)`` (async) runs
    once per connection before the clock starts (logins, CSRF tokens) and returns its context."""
    return asyncio.run(_http_load(host, port, make_request, concurrency, seconds, prepare))


# --- websockets -----------------------------------------------------------------------------------


def ws_accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()  # noqa: S324


def ws_frame(payload: bytes, *, opcode: int = 1, mask: bool = True) -> bytes:
    head = bytes([0x80 | opcode])
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    return head + key + masked


async def ws_read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    opcode = first & 0x0F
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if second & 0x80 else None
    payload = await reader.readexactly(length)
    if key:
        payload = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    return opcode, payload


class WebSocket:
    """A client connection: ``await WebSocket.connect(...)``, then ``recv()`` / ``send()``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.closed = False

    @classmethod
    async def connect(
        cls, host: str, port: int, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30
    ) -> WebSocket:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://{host}:{port}",
        ]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = head.split(b" ", 2)[1]
        if status != b"101":
            writer.close()
            raise ConnectionError(f"websocket handshake refused: {head.splitlines()[0].decode()}")
        if ws_accept_key(key).encode() not in head:
            writer.close()
            raise ConnectionError("websocket handshake: bad Sec-WebSocket-Accept")
        return cls(reader, writer)

    async def recv(self) -> bytes:
        """The next text/binary message; answers pings; raises ConnectionError on close."""
        while True:
            opcode, payload = await ws_read_frame(self.reader)
            if opcode in (1, 2):
                return payload
            if opcode == 9:
                self.writer.write(ws_frame(payload, opcode=10))
            elif opcode == 8:
                self.closed = True
                raise ConnectionError("websocket closed by server")

    async def send(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            payload = payload.encode()
        self.writer.write(ws_frame(payload))
        await self.writer.drain()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.write(ws_frame(b"", opcode=8))
            await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        self.writer.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a lost network)."""
        self.closed = True
        self.writer.transport.abort()


# --- websocket fan-out ----------------------------------------------------------------------------


async def connect_many(factory: Callable, count: int, *, parallel: int = 50) -> tuple[list, Counter]:
    """``count`` sockets from ``await factory(n)``, at most ``parallel`` handshakes at a time.
    Returns the sockets that connected and the failures by kind."""
    gate = asyncio.Semaphore(parallel)
    failures: Counter = Counter()

    async def one(number: int):
        async with gate:
            try:
                return await factory(number)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                failures[f"{error.__class__.__name__}: {str(error)[:60]}"] += 1
                return None

    sockets = await asyncio.gather(*(one(n) for n in range(count)))
    return [sock for sock in sockets if sock is not None], failures


class Watchers:
    """Reads every socket forever, timestamping the messages ``accept(payload)`` keeps."""

    def __init__(self, sockets: list[WebSocket], accept: Callable[[bytes], bool] = lambda payload: True):
        self.sockets = sockets
        self.accept = accept
        self.arrivals: list[list[tuple[float, bytes]]] = [[] for _ in sockets]
        self.lost = 0
        self.alive = [True] * len(sockets)
        self.tasks = [asyncio.create_task(self._read(n, sock)) for n, sock in enumerate(sockets)]

    async def _read(self, number: int, sock: WebSocket) -> None:
        try:
            while True:
                payload = await sock.recv()
                if self.accept(payload):
                    self.arrivals[number].append((time.monotonic(), payload))
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            self.alive[number] = False
            if not sock.closed:
                self.lost += 1

    async def round(self, trigger: Callable, *, timeout: float = 30, origin: Callable | None = None) -> dict:
        """Run ``await trigger()`` and wait until every socket received one more message. Latencies run
        from ``origin()`` (called after the trigger; e.g. when the broadcast was sent) or the trigger's
        start."""
        marks = [len(items) for items in self.arrivals]
        started = time.monotonic()
        await trigger()
        triggered = time.monotonic()
        if origin is not None:
            started = origin() or started
        deadline = started + timeout
        while time.monotonic() < deadline:
            # Done when every socket still open has one more message (a dropped one never will).
            if all(
                len(items) > mark or not alive
                for items, mark, alive in zip(self.arrivals, marks, self.alive, strict=True)
            ):
                break
            await asyncio.sleep(0.005)
        latencies = [
            items[mark][0] - started
            for items, mark in zip(self.arrivals, marks, strict=True)
            if len(items) > mark
        ]
        return {
            "delivered": len(latencies),
            "expected": len(self.sockets),
            "dropped_by_server": self.lost,
            "latencies": latencies,
            "trigger_seconds": triggered - started,
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for sock in self.sockets:
            await sock.close()
