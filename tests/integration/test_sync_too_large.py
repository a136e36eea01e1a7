"""A push the service refuses as too large (413) is split down to one op; an op too large alone is parked.

Against the real service on loopback with a push limit of 6 KB (the default is 8 MB).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.domain.context import FakeClock
from edge_sync import contract, outbox, parked
from edge_sync.uow import UnitOfWork
from server_stub import tables as t
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from tests.conftest import outbox_rows
from tests.fixtures.store import small_store
from tests.support.live_server import live_server
from tests.support.sync_stack import Handheld, Service, handheld

LIMIT = 6 * 1024


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}", settings=Settings(max_push_body_bytes=LIMIT))
    load_master_data(app.state.services.engine, small_store())
    with live_server(app) as url:
        yield Service(app, url)
    app.state.services.engine.dispose()


@pytest.fixture
def device(tmp_path: Path, service: Service) -> Iterator[Handheld]:
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    made = handheld(tmp_path, service.url, name="hh-1", clock=clock, user_id="u-mgr", role="manager")
    yield made
    made.http.close()


def queue_tasks(device: Handheld, *lines_per_task: int) -> None:
    """Queue one task.create op per entry, each with that many lines (about 60 bytes a line)."""
    with UnitOfWork(device.device.engine) as uow:
        for n, lines in enumerate(lines_per_task):
            payload = contract.TaskCreatePayload(
                task_id=f"T-BIG-{n}", type=contract.TaskType.COUNT, title=f"Count {n}",
                lines=[contract.TaskLineSpec(line_id=str(i), location_id="loc-br-1", qty=1) for i in range(lines)])
            outbox.append(uow.conn, op_type=contract.OpType.TASK_CREATE, payload=payload, user_id="u-mgr",
                          session_id="s-hh-1", occurred_at=dt.datetime.now(dt.UTC))
        uow.commit()


def service_ops(service: Service) -> list[tuple[int, str]]:
    with service.app.state.services.engine.connect() as conn:
        return [(r.seq, r.status) for r in conn.execute(sa.select(t.ops.c.seq, t.ops.c.status).order_by(t.ops.c.seq))]


def test_a_batch_too_large_for_the_service_is_split_until_it_goes_through(service: Service, device: Handheld) -> None:
    queue_tasks(device, *([10] * 24))  # ~24 x 0.9 KB: about 22 KB in all, 6 KB per push at most
    report = device.sync.run_once()
    assert report.error is None and report.drained, report
    assert report.split >= 2 and report.too_large == 0
    assert report.applied == 24
    assert service_ops(service) == [(seq, "applied") for seq in range(1, 25)]
    assert {r["state"] for r in outbox_rows(device.device.engine)} == {"applied"}


def test_an_op_too_large_alone_is_parked_with_the_reason_and_the_ops_after_it_go_through(
    service: Service, device: Handheld,
) -> None:
    queue_tasks(device, 2, 2, 200, 2, 2)  # the third is ~12 KB on its own
    report = device.sync.run_once()
    assert report.error is None and report.drained, report
    assert (report.too_large, report.parked, report.applied) == (1, 1, 4)
    states = [(r["seq"], r["state"]) for r in outbox_rows(device.device.engine)]
    assert states == [(1, "applied"), (2, "applied"), (3, "parked"), (4, "applied"), (5, "applied")]
    # The service holds seq 3 as a rejected stand-in: nothing of the big task was created.
    assert service_ops(service) == [(1, "applied"), (2, "applied"), (3, "rejected"), (4, "applied"), (5, "applied")]
    with service.app.state.services.engine.connect() as conn:
        tasks = set(conn.execute(sa.select(t.tasks.c.task_id).where(t.tasks.c.task_id.like("T-BIG-%"))).scalars())
    assert tasks == {"T-BIG-0", "T-BIG-1", "T-BIG-3", "T-BIG-4"}
    with UnitOfWork(device.device.engine) as uow:
        [big] = parked.list_parked(uow)
    assert big.seq == 3 and big.type == "task.create"
    assert big.reason.startswith("This task.create is too large for the service to take (")
    assert f"({LIMIT:,} bytes)" in big.reason and "correct it to hold less" in big.reason


def test_a_parked_op_too_large_is_not_sent_again_and_a_corrected_one_goes_through(service: Service, device: Handheld) -> None:
    queue_tasks(device, 200)
    assert device.sync.run_once().too_large == 1
    with UnitOfWork(device.device.engine) as uow:
        [big] = parked.list_parked(uow)
        smaller = {**big.payload, "lines": big.payload["lines"][:20]}
        parked.resend(uow, big.seq, payload=smaller, user_id="u-mgr", session_id="s-hh-1")
        uow.commit()
    report = device.sync.run_once()
    assert (report.applied, report.too_large, report.error) == (1, 0, None)
    assert service_ops(service) == [(1, "rejected"), (2, "applied")]

