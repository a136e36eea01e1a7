"""How a worker decides to shed a keep-alive connection (server_stub.balance), with a fake clock."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from server_stub.balance import ACTIVE_S, STALE_S, Balance, Board, ShedConnections, heartbeat


T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a thread of its own: it refuses to start where an event loop is already running
    (the end-to-end tiers leave one in the main thread)."""
    out: list[T] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            failed.append(exc)

    runner = threading.Thread(target=target)
    runner.start()
    runner.join(30)
    if failed:
        raise failed[0]
    assert out, "the coroutine did not finish"
    return out[0]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _conn(n: int) -> tuple[str, int]:
    return ("10.0.0.9", 40000 + n)


def test_nothing_is_shed_without_another_live_worker() -> None:
    balance = Balance(Clock())
    assert not any(balance.request(_conn(n)) for n in range(8))
    balance.others([])
    assert not any(balance.request(_conn(n)) for n in range(8))


def test_a_worker_two_connections_above_the_least_loaded_sheds_one_and_counts_it_gone() -> None:
    balance = Balance(Clock())
    balance.others([1])
    assert not balance.request(_conn(1))  # 1 here, 1 there
    assert not balance.request(_conn(2))  # 2 against 1: as even as three can be
    assert balance.request(_conn(3))  # 3 against 1: this one goes
    assert balance.active() == 2
    # Taken as landed on the other worker (2 there now) until the next heartbeat says otherwise.
    assert not any(balance.request(_conn(n)) for n in (1, 2, 1, 2))


def test_a_shed_connection_that_came_back_is_shed_again_once_the_counts_say_so() -> None:
    balance = Balance(Clock())
    balance.others([0])
    assert [balance.request(_conn(n)) for n in (1, 2)] == [False, True]
    assert not balance.request(_conn(3))  # the shed device, back here on a new connection
    balance.others([0])  # the heartbeat: the other worker still has none
    assert balance.request(_conn(3))


def test_connections_idle_longer_than_the_window_no_longer_count() -> None:
    clock = Clock()
    balance = Balance(clock)
    for n in range(4):
        balance.request(_conn(n))
    assert balance.active() == 4
    clock.now += ACTIVE_S / 2
    balance.request(_conn(0))
    clock.now += ACTIVE_S / 2 + 0.01
    assert balance.active() == 1
    balance.others([0])
    assert not balance.request(_conn(0))  # one connection against none: nothing to even out


def test_the_board_shows_other_fresh_workers_only(tmp_path: Path) -> None:
    mine, other, gone = Board(tmp_path, pid=11), Board(tmp_path, pid=22), Board(tmp_path, pid=33)
    mine.publish(3)
    other.publish(1)
    gone.publish(0)
    old = time.time() - STALE_S - 1
    os.utime(tmp_path / "33", (old, old))
    assert mine.others() == [1]
    assert other.others() == [3]
    other.withdraw()
    assert mine.others() == []
    other.withdraw()  # twice is harmless
    assert sorted(p.name for p in tmp_path.iterdir()) == ["11", "33"]


def _app(balance: Balance, shed: list[int]) -> ShedConnections:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"connection": "keep-alive"})

    return ShedConnections(Starlette(routes=[Route("/", hello)]), balance, on_shed=lambda: shed.append(1))


def test_the_shed_answer_is_whole_and_says_connection_close() -> None:
    balance = Balance(Clock())
    balance.others([0])
    shed: list[int] = []
    app = _app(balance, shed)

    async def ask(port: int) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.9", port))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
            return await http.get("/")

    first, second = _run(ask(1)), _run(ask(2))
    assert (first.text, first.headers["connection"]) == ("hi", "keep-alive")
    assert (second.status_code, second.text) == (200, "hi")
    assert second.headers.get_list("connection") == ["close"]
    assert shed == [1]


def test_the_heartbeat_publishes_reads_and_withdraws(tmp_path: Path) -> None:
    balance = Balance()
    Board(tmp_path, pid=99).publish(0)
    balance.request(_conn(1))
    balance.request(_conn(2))

    async def run() -> str:
        async with heartbeat(balance, Board(tmp_path)):
            await asyncio.sleep(0.05)
            mine = (tmp_path / str(os.getpid())).read_text().strip()
            assert balance.request(_conn(3))  # 3 here against the other worker's 0
            return mine

    assert _run(run()) == "2"
    assert not (tmp_path / str(os.getpid())).exists()
