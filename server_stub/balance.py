"""Keep-alive connections spread over the service's worker processes (`backroom server --workers N`).

The workers share one listening socket and each accepts what it can: the one woken first may
take several connections that arrive together, and a device keeps its connection for all its
pushes. With a few devices pushing hard (a drain after an outage, the ingest benchmark), one
worker then does the work of two while another idles, and since a worker is one Python process
it cannot use more than about one core: measured with four devices on two workers, an uneven
split of connections cost 10 to 20 % of the applied ops/s.

So each worker counts its active connections (a client address that made a request in the last
ACTIVE_S seconds) and, every HEARTBEAT_S, writes that count to a file of its own in a folder the
workers share (`WORKERS_DIR_ENV`, made by `backroom server`) and reads the others'. A worker
holding at least two more active connections than the least loaded live worker answers one
request with `Connection: close`; the device's HTTP client opens a new connection for its next
request, which the kernel hands to whichever worker accepts first, most often the idle one (a
busy worker's event loop waits for the GIL). Until the next heartbeat says where it went, the
shed connection is taken as landed on the least loaded worker, so one reading of the counts sheds
no more than they call for; one that came back is shed again at a later heartbeat. A worker
whose file is older than STALE_S (stopped, or gone) is left out. Nothing is lost: the answer is
whole, and an HTTP/1.1 client sends nothing more on a connection before its answer is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKERS_DIR_ENV = "BACKROOM_WORKERS_DIR"
ACTIVE_S = 0.5
HEARTBEAT_S = 0.1
STALE_S = 10 * HEARTBEAT_S

Client = tuple[str, int]


class Balance:
    """One worker's view: its active connections, the others' counts, and when to shed one (pure)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_seen: dict[Client, float] = {}
        self._fewest_elsewhere: int | None = None

    def active(self) -> int:
        """Connections that made a request in the last ACTIVE_S seconds (dropping the older ones)."""
        horizon = self._clock() - ACTIVE_S
        for client in [c for c, at in self._last_seen.items() if at < horizon]:
            del self._last_seen[client]
        return len(self._last_seen)

    def others(self, counts: list[int]) -> None:
        """The active connections of every other live worker (none: nobody to shed to)."""
        self._fewest_elsewhere = min(counts) if counts else None

    def request(self, client: Client) -> bool:
        """A request came on `client`'s connection: True when this connection is to be closed after
        its answer, so that the device's next request may land on a less loaded worker."""
        now = self._clock()
        self._last_seen[client] = now
        fewest = self._fewest_elsewhere
        if fewest is None or len(self._last_seen) - fewest < 2:
            return False
        del self._last_seen[client]
        # Taken as landed on the least loaded worker until the next heartbeat says where it went:
        # so one heartbeat sheds at most what the counts it read call for.
        self._fewest_elsewhere = fewest + 1
        return True


class Board:
    """The shared folder: one file per worker (named by its pid) holding its active connections."""

    def __init__(self, folder: Path, pid: int | None = None) -> None:
        self.folder = folder
        self.pid = os.getpid() if pid is None else pid
        self._mine = folder / str(self.pid)

    def publish(self, active: int) -> None:
        """Write this worker's count (atomically: a reader sees the old file or the new one)."""
        tmp = self.folder / f".{self.pid}.tmp"
        tmp.write_text(f"{active}\n")
        os.replace(tmp, self._mine)

    def others(self, now: float | None = None) -> list[int]:
        """The counts of the other workers whose file is fresh (written in the last STALE_S)."""
        now = time.time() if now is None else now
        counts: list[int] = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name == str(self.pid):
                    continue
                try:
                    if now - entry.stat().st_mtime > STALE_S:
                        continue
                    counts.append(int(Path(entry.path).read_text().strip() or 0))
                except (OSError, ValueError):
                    continue  # a worker going away, or a file being replaced
        return counts

    def withdraw(self) -> None:
        """This worker is stopping: its file goes."""
        with contextlib.suppress(FileNotFoundError):
            self._mine.unlink()


class ShedConnections:
    """ASGI middleware: counts each request's connection and closes the one `Balance` picks to shed."""

    def __init__(self, app: ASGIApp, balance: Balance, on_shed: Callable[[], object] = lambda: None) -> None:
        self.app = app
        self.balance = balance
        self.on_shed = on_shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if client is None or not self.balance.request((client[0], client[1])):
            await self.app(scope, receive, send)
            return
        self.on_shed()

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


@contextlib.asynccontextmanager
async def heartbeat(balance: Balance, board: Board) -> AsyncIterator[None]:
    """While the worker serves: publish its count and read the others' every HEARTBEAT_S."""

    async def beat() -> None:
        while True:
            try:
                board.publish(balance.active())
                balance.others(board.others())
            except OSError:
                balance.others([])  # the folder is gone: balance nothing rather than guess
            await asyncio.sleep(HEARTBEAT_S)

    task = asyncio.create_task(beat(), name="backroom-worker-balance")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        board.withdraw()
