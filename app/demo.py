"""`backroom demo`: the central service on its embedded SQLite, the seeded store, the app in web mode.

Everything runs on 127.0.0.1. The service runs as a child process (`backroom server`); the store
is seeded on first start; the demo handheld's database is filled by a first sync from the service,
the same pull a real device makes; then the Flet app is served in web mode with its local web
client (no CDN), so it works with no internet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

SERVER_PORT = 8700
APP_PORT = 8550
STORE_ID = "store-001"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the demo's arguments."""
    parser.add_argument("--data", type=Path, default=Path("var/demo"), help="where the demo keeps its databases")
    parser.add_argument("--server-port", type=int, default=SERVER_PORT)
    parser.add_argument("--app-port", type=int, default=APP_PORT)
    parser.add_argument("--seed", type=int, default=42, help="the demo store's seed")
    parser.add_argument("--fresh", action="store_true", help="start again from a newly seeded store")
    parser.add_argument("--no-app", action="store_true", help="start the service and the device, not the UI")
    parser.add_argument("--server-url", default=None,
                        help="use the central service already running at this URL, over the demo's own database"
                             " (DATA/server.db, seeded as `backroom seed` does), instead of starting one; the demo"
                             " then never stops it (tests stop and restart it to take the store offline)")


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the central service stopped at start (exit {proc.returncode}); see the lines above")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the central service did not answer on {base_url} within {timeout:.0f} s")


def run(args: argparse.Namespace) -> int:
    """Start everything; block until Ctrl+C."""
    from app.bootstrap import build_device, device_signer, start_checkpointer, start_sync
    from edge_sync.client import SyncClient
    from edge_sync.errors import SyncError
    from edge_sync.pull import pull

    data: Path = args.data
    external = getattr(args, "server_url", None)
    if external and args.fresh:
        raise SystemExit("--fresh would delete the database the service at --server-url runs on: leave one of them out")
    if args.fresh and data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    server_db = data / "server.db"
    database_url = f"sqlite:///{server_db}"
    needs_seed = not server_db.exists()
    base_url = external.rstrip("/") if external else f"http://127.0.0.1:{args.server_port}"
    if external and needs_seed:
        raise SystemExit(f"--server-url needs the service's database at {server_db}: seed it with `backroom seed"
                         f" --database-url {database_url}`, start the service on it, then start the demo again")

    cli = [sys.executable, "-m", "app.cli"]
    if needs_seed:
        print(f"Seeding the demo store (seed {args.seed}) ...", flush=True)
        subprocess.run([*cli, "seed", "--database-url", database_url, "--store-id", STORE_ID,
                        "--seed", str(args.seed), "--today"], check=True)
    server = None if external else subprocess.Popen([*cli, "server", "--host", "127.0.0.1", "--port",
                                                     str(args.server_port), "--database-url", database_url])
    try:
        _wait_healthy(base_url, server)
        print(f"Central service: {base_url}  (API docs {base_url}/docs)", flush=True)
        device = build_device(data / "handheld-1.db", store_id=STORE_ID, device_id="handheld-1")
        signer = device_signer(device)
        # Every store request is signed: the demo's devices enrol with their own keys and the
        # operator approves them, as `backroom devices approve` does at a real store's first start.
        for who, name in ((signer, "Demo handheld"), (_signer_of(data, "tablet-1"), "Demo manager tablet")):
            _enrol_and_approve(base_url, who, name, cli, database_url)
        with httpx.Client(base_url=base_url, timeout=30, auth=signer) as http:
            try:
                report = pull(SyncClient(http, store_id=STORE_ID), device.engine)
                print(f"Handheld synced: {report.changes} changes in {report.pages} pages", flush=True)
            except SyncError as exc:
                print(f"Handheld could not sync ({exc.message}); it works offline with what it has", flush=True)
        scheduler = start_sync(device, base_url)
        checkpointer = start_checkpointer(device)
        try:
            if args.no_app:
                print("Service and handheld ready (--no-app). Ctrl+C stops.", flush=True)
                while server is None:  # a service of someone else's: wait for Ctrl+C
                    time.sleep(3600)
                server.wait()
                return 0
            return _serve_app(device, args.app_port, base_url)
        finally:
            scheduler.shutdown()
            checkpointer.stop()
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def _serve_app(device: object, port: int, base_url: str = "") -> int:
    import flet as ft

    from app.bootstrap import (
        Device,
        build_device,
        camera_scanning,
        manager_view_model,
        receiving_view_model,
        shell_view_model,
        start_checkpointer,
        start_sync,
        supervision_client,
    )
    from app.ui.manager import build_manager
    from app.ui.shell import build_shell
    from edge_sync import heap
    from edge_sync.client import SyncClient
    from edge_sync.errors import SyncError
    from edge_sync.pull import pull

    assert isinstance(device, Device)
    # The manager's tablet is a device of its own: its task commands wait in its own outbox.
    tablet = build_device(device.db_path.parent / "tablet-1.db", store_id=device.store_id, device_id="tablet-1")
    store = supervision_client(base_url, tablet)  # signed with the tablet's key, enrolled by run()
    try:
        report = pull(SyncClient(store.http, store_id=device.store_id), tablet.engine)
        print(f"Tablet synced: {report.changes} changes in {report.pages} pages", flush=True)
    except SyncError as exc:
        print(f"Tablet could not sync ({exc.message}); it works offline with what it has", flush=True)
    scheduler, checkpointer = start_sync(tablet, base_url), start_checkpointer(tablet)

    camera = camera_scanning()  # once: with no camera the screens show no Camera toggle

    def main(page: ft.Page) -> None:
        # One web app, two screens: the route the browser opened picks the handheld or the tablet.
        if page.route.rstrip("/").startswith(MANAGER_ROUTE):
            build_manager(page, manager_view_model(tablet, store))
            return
        shell = shell_view_model(device)
        build_shell(page, shell, receiving_view_model(device, lambda: shell.state.actor), camera=camera)

    print(f"Associate (handheld): http://127.0.0.1:{port}/   (badge BADGE-1001)", flush=True)
    print(f"Manager (tablet):     http://127.0.0.1:{port}{MANAGER_ROUTE}   (a manager badge, e.g. BADGE-2001)", flush=True)
    print("Ctrl+C stops.", flush=True)
    heap.settle()  # what startup built lives as long as the process (edge_sync.heap)
    try:
        ft.run(main, view=None, host="127.0.0.1", port=port, no_cdn=True)
    finally:
        scheduler.shutdown()
        checkpointer.stop()
    return 0


MANAGER_ROUTE = "/manager"


def _signer_of(data: Path, device_id: str) -> object:
    """The signer of a demo device whose database lives in `data` (its key beside it, as bootstrap keeps it)."""
    from edge_sync.keys import device_key
    from edge_sync.signing import RequestSigner

    return RequestSigner(STORE_ID, device_id, device_key(STORE_ID, device_id, data / "keys"))


def _enrol_and_approve(base_url: str, signer: object, name: str, cli: list[str], database_url: str) -> None:
    """Ask the service to enrol the device, then approve it as the operator (direct database access)."""
    from edge_sync.signing import RequestSigner, enrol

    assert isinstance(signer, RequestSigner)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        record = enrol(http, signer, name=name)
    if record.status != "approved":
        subprocess.run([*cli, "devices", "approve", signer.device_id, "--database-url", database_url,
                        "--store-id", STORE_ID, "--by", "demo"], check=True)
