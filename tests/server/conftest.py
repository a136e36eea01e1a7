"""Fixtures for the central service's tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL comes from BACKROOM_TEST_PG_URL (default: the local cluster the CI script starts);
each test gets a fresh schema through `search_path`. When PostgreSQL is not reachable the
PostgreSQL half fails in CI (CI=true) and is skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from server_stub.app import create_app
from server_stub.db import create_engine_for, migrate
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from tests.server.helpers import STORE, AsgiClient, Device, LiveServer, demo_master_data, present_session
from tests.support.devices import approved_device

PG_URL = os.environ.get("BACKROOM_TEST_PG_URL", "postgresql+psycopg://backroom:backroom@127.0.0.1:5432/backroom_test")


def _pg_or_skip() -> sa.URL:
    url = sa.make_url(PG_URL)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A clean database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/server.db"
        return
    base = _pg_or_skip()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database, migrated, with the demo store loaded (no app)."""
    engine = create_engine_for(database_url)
    migrate(engine)
    load_master_data(engine, demo_master_data())
    yield engine
    engine.dispose()


@pytest.fixture
def settings() -> Settings:
    """The service's default rules."""
    return Settings()


@pytest.fixture
def app(database_url: str, settings: Settings) -> Iterator[FastAPI]:
    """The service on the test database, migrated, with the demo store loaded."""
    application = create_app(database_url, settings=settings)
    load_master_data(application.state.services.engine, demo_master_data())
    yield application
    application.state.services.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[AsgiClient]:
    """A synchronous HTTP client calling the app in-process, signed as the manager's tablet TAB-1,
    reading with U-MGR's session on it (supervision reads need one: server_stub.authz.READS)."""
    with AsgiClient(app, approved_device(app.state.services.engine, STORE, "TAB-1")) as c:
        yield present_session(c)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on a loopback port, for real concurrent HTTP."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def handheld(client: AsgiClient) -> Device:
    """An associate's handheld."""
    return Device(client, STORE, "HH-1", "U-ASSOC")


@pytest.fixture
def handheld2(client: AsgiClient) -> Device:
    """Another associate's handheld."""
    return Device(client, STORE, "HH-2", "U-ASSOC2")


@pytest.fixture
def tablet(client: AsgiClient) -> Device:
    """The manager's tablet."""
    return Device(client, STORE, "TAB-1", "U-MGR")
