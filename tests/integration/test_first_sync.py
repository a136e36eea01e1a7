"""A device's first pull of a store from the real central service: paged, resumable, complete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from edge_sync import outbox
from edge_sync.db import open_device_database
from edge_sync.client import SyncClient
from edge_sync.errors import BadAnswer, Offline
from edge_sync.pull import current_cursor, pull
from edge_sync.tables import Item, ItemGtin, Location, Stock, Task, User
from edge_sync.uow import UnitOfWork
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from server_stub.seed import generate_store
from tests.support.live_server import live_server, signed_for

STORE = generate_store(7, items=300, locations=120)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.db'}"
    app = create_app(url)
    load_master_data(app.state.services.engine, STORE)
    with live_server(app) as base_url, httpx.Client(base_url=base_url, timeout=10,
                                                    auth=signed_for(STORE.store_id, "first-sync")) as http:
        yield SyncClient(http, store_id=STORE.store_id)


def _device(tmp_path: Path, name: str) -> Engine:
    engine = open_device_database(tmp_path / f"{name}.db")
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id=STORE.store_id, device_id=name)
        uow.commit()
    return engine


def _snapshot(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            t.__tablename__: conn.execute(select(func.count()).select_from(t.__table__)).scalar()  # type: ignore[attr-defined]
            for t in (Item, ItemGtin, Location, User, Task, Stock)
        } | {"stock_units": conn.execute(select(func.sum(Stock.__table__.c.qty))).scalar()}  # type: ignore[attr-defined]


def test_a_first_sync_brings_the_whole_store_in_pages(service: SyncClient, tmp_path: Path) -> None:
    engine = _device(tmp_path, "dev-a")
    report = pull(service, engine, limit=100)
    assert report.complete and report.pages > 3
    snap = _snapshot(engine)
    assert snap["items"] == len(STORE.items)
    assert snap["item_gtins"] == sum(len(i.gtins) for i in STORE.items)
    assert snap["locations"] == len(STORE.locations)
    assert snap["users"] == len(STORE.users)
    assert snap["tasks"] == len(STORE.tasks)
    assert snap["stock_units"] == sum(b.qty for b in STORE.opening_balances)
    # Nothing new: a second pull is one empty page.
    again = pull(service, engine, limit=100)
    assert (again.pages, again.changes, again.complete) == (1, 0, True)


def test_an_interrupted_first_sync_resumes_where_it_stopped_and_ends_the_same(service: SyncClient, tmp_path: Path) -> None:
    whole = _device(tmp_path, "dev-whole")
    pull(service, whole, limit=100)

    resumed = _device(tmp_path, "dev-resumed")
    first = pull(service, resumed, limit=100, max_pages=2)
    assert not first.complete and current_cursor(resumed) == first.cursor != ""
    # The network drops in the middle of the next page: nothing of it is applied, the cursor stays.
    broken = httpx.Client(transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("down"))),
                          base_url="http://service")
    with pytest.raises(Offline, match="could not be reached"):
        pull(SyncClient(broken, store_id=STORE.store_id), resumed, limit=100)
    assert current_cursor(resumed) == first.cursor
    rest = pull(service, resumed, limit=100)
    assert rest.complete
    assert _snapshot(resumed) == _snapshot(whole)


def test_a_page_the_app_does_not_understand_is_refused_whole(tmp_path: Path) -> None:
    engine = _device(tmp_path, "dev-bad")
    bad = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"changes": "nope"})),
                       base_url="http://service")
    with pytest.raises(BadAnswer, match="does not understand"):
        pull(SyncClient(bad, store_id=STORE.store_id), engine)
    assert current_cursor(engine) == ""
