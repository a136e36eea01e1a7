"""A fault-injecting HTTP/1.1 proxy on loopback, for the chaos tests.

    with FaultProxy(upstream="http://127.0.0.1:8700", fault_rate=0.3, seed=7) as proxy:
        httpx.Client(base_url=proxy.url).post(...)
        proxy.counts  # Counter({"pass": 140, "drop_response": 12, ...})

Each request is read whole (headers and a Content-Length body) and, with a `random.Random(seed)`
draw, either passed through or met with one fault:

    drop_request    the connection is closed without forwarding: the service never saw it
    drop_response   forwarded, the whole answer read (so the service has committed), then the
                    connection is closed without answering: the device cannot tell it landed
    delay           held for a moment, then passed
    reset           forwarded and the service's answer read, then half of it written and the
                    connection reset (RST, SO_LINGER 0), or reset before forwarding (a coin flip)
    error_5xx       answered 503 without forwarding

One request per connection: the request goes upstream with `Connection: close`, and every
answer to the device says `Connection: close`, so a client never reuses a connection the proxy
is about to cut. The proxy runs its own asyncio loop in a daemon thread; `stop` closes every
socket it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import urlsplit

PASS = "pass"
DROP_REQUEST = "drop_request"
DROP_RESPONSE = "drop_response"
DELAY = "delay"
RESET = "reset"
ERROR_5XX = "error_5xx"

FAULTS: tuple[str, ...] = (DROP_REQUEST, DROP_RESPONSE, DELAY, RESET, ERROR_5XX)
EVEN_MIX: Mapping[str, float] = {kind: 1.0 for kind in FAULTS}

_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024
_IO_TIMEOUT = 30.0


class FaultProxy:
    """An HTTP/1.1 proxy to one upstream that injects faults at a seeded random rate."""

    def __init__(self, upstream: str, *, fault_rate: float = 0.3, mix: Mapping[str, float] | None = None,
                 seed: int = 0, delay_s: tuple[float, float] = (0.02, 0.2)) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError("the fault proxy only forwards to a loopback host:port")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.delay_s = delay_s
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._guard = threading.Lock()
        self._rate = 0.0
        self._kinds: list[str] = []
        self._weights: list[float] = []
        self.configure(fault_rate=fault_rate, mix=mix)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # --- control, from the test's thread ------------------------------------------------------

    def configure(self, *, fault_rate: float | None = None, mix: Mapping[str, float] | None = None) -> None:
        """Change the fault rate and/or mix for the requests that follow."""
        with self._guard:
            if fault_rate is not None:
                if not 0.0 <= fault_rate <= 1.0:
                    raise ValueError("fault_rate is a probability")
                self._rate = fault_rate
            if mix is not None or not self._kinds:
                chosen = dict(mix or EVEN_MIX)
                unknown = set(chosen) - set(FAULTS)
                if unknown or not chosen:
                    raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose among {FAULTS}")
                self._kinds, self._weights = list(chosen), [float(w) for w in chosen.values()]

    @property
    def url(self) -> str:
        """The base URL devices use instead of the service's."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def faults(self) -> int:
        """How many requests met a fault other than a delay."""
        return sum(n for kind, n in self.counts.items() if kind not in (PASS, DELAY))

    def start(self) -> FaultProxy:
        """Listen on a free loopback port, serving from a background thread."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
                self.port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:  # pragma: no cover - reported to the caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("the fault proxy did not start") from (failure[0] if failure else None)
        return self

    def stop(self) -> None:
        """Stop listening, cut the connections still open, and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # --- the proxy, on its loop ---------------------------------------------------------------

    def _decide(self) -> tuple[str, float, bool]:
        with self._guard:
            action = PASS
            if self._rng.random() < self._rate:
                action = self._rng.choices(self._kinds, self._weights)[0]
            pause = self._rng.uniform(*self.delay_s) if action == DELAY else 0.0
            before_forwarding = self._rng.random() < 0.5 if action == RESET else False
            self.counts[action] += 1
            return action, pause, before_forwarding

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve_one(reader, writer)
        except (asyncio.CancelledError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                TimeoutError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await _read_request(reader)
        if request is None:
            return  # the client closed an idle connection
        action, pause, before_forwarding = self._decide()
        if action == DROP_REQUEST or (action == RESET and before_forwarding):
            _abort(writer, reset=action == RESET)
            return
        if action == ERROR_5XX:
            body = b'{"detail":{"code":"proxy_fault","message":"injected 503"}}'
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            writer.close()
            return
        if action == DELAY:
            await asyncio.sleep(pause)
        answer = await self._forward(request)
        if action == DROP_RESPONSE:
            _abort(writer, reset=False)
            return
        if action == RESET:
            writer.write(answer[: max(1, len(answer) // 2)])
            await writer.drain()
            _abort(writer, reset=True)
            return
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def _forward(self, request: bytes) -> bytes:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(self.upstream_host, self.upstream_port), _IO_TIMEOUT)
        try:
            up_writer.write(request)
            await up_writer.drain()
            # Upstream closes after its answer (Connection: close): read to the end, so the service
            # has finished the request (and committed) before the proxy decides what the device sees.
            return await asyncio.wait_for(up_reader.read(), _IO_TIMEOUT)
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One whole request, rewritten with `Connection: close`; None on a clean close before one."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    if len(head) > _MAX_HEADER:
        raise ValueError("request head too large")
    request_line, *header_lines = head[:-4].split(b"\r\n")
    headers = [line for line in header_lines if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    length = 0
    for line in headers:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked request bodies are not supported by the fault proxy")
    if not 0 <= length <= _MAX_BODY:
        raise ValueError("request body too large")
    body = await asyncio.wait_for(reader.readexactly(length), _IO_TIMEOUT) if length else b""
    return b"\r\n".join([request_line, *headers, b"connection: close"]) + b"\r\n\r\n" + body


def _abort(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    """Close the device's connection without an answer; with `reset`, send an RST, not a FIN."""
    if reset:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


__all__ = ["DELAY", "DROP_REQUEST", "DROP_RESPONSE", "ERROR_5XX", "EVEN_MIX", "FAULTS", "PASS", "RESET", "FaultProxy"]
