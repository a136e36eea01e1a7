"""`backroom server`: migrate the database, then serve the central inventory service with uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

DEFAULT_DATABASE = Path("var") / "server.db"


def default_database_url() -> str:
    """An embedded SQLite file under ./var, made absolute so workers agree on it."""
    return f"sqlite:///{(Path.cwd() / DEFAULT_DATABASE).resolve()}"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the server's arguments."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BACKROOM_DATABASE_URL"),
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db (default: sqlite file var/server.db)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")


def run(args: argparse.Namespace) -> int:
    """Migrate, then serve until interrupted."""
    import uvicorn

    from server_stub import heap
    from server_stub.app import DATABASE_URL_ENV, create_app
    from server_stub.balance import WORKERS_DIR_ENV
    from server_stub.db import migrate
    from server_stub.metrics import MULTIPROCESS_DIR_ENV

    url = args.database_url or default_database_url()
    try:
        migrate(url)
    except sa.exc.SQLAlchemyError as exc:
        print(f"backroom server: cannot prepare the database at {sa.make_url(url).render_as_string(hide_password=True)}: {exc}")
        return 1
    common = {"host": args.host, "port": args.port, "log_level": args.log_level, "access_log": not args.no_access_log}
    if args.workers > 1:
        os.environ[DATABASE_URL_ENV] = url
        # The workers' Prometheus counters (prometheus_client, imported in each, counts in files
        # there, and any worker's /metrics sums them all: server_stub.metrics), and where they tell
        # each other their load (server_stub.balance).
        with shared_dir(MULTIPROCESS_DIR_ENV, "backroom-metrics-"), shared_dir(WORKERS_DIR_ENV, "backroom-workers-"):
            uvicorn.run("server_stub.app:app_from_env", factory=True, workers=args.workers, **common)
    else:
        app = create_app(url, run_migrations=False)
        heap.settle()
        uvicorn.run(app, **common)
    return 0


@contextlib.contextmanager
def shared_dir(env: str, prefix: str) -> Iterator[None]:
    """A fresh folder named by the environment variable `env` (unless it is set already), removed
    at exit. Set before the workers start, so that each of them finds it."""
    if os.environ.get(env):
        yield
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        os.environ[env] = folder
        try:
            yield
        finally:
            del os.environ[env]
