"""The built app's entry point: `flet build` runs this module on the handheld, tablet or desktop.

The device's database lives in the app's own storage (`FLET_APP_STORAGE_DATA`, set by Flet on
every built target; `~/.backroom` when run by hand). The central service's address comes from
`BACKROOM_SERVER_URL`; without it the app works offline with what it has and syncs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import flet as ft

from app.bootstrap import build_device, receiving_view_model, shell_view_model, start_checkpointer, start_sync
from app.ui.shell import build_shell
from edge_sync.heap import settle as settle_heap

STORE_ID = os.environ.get("BACKROOM_STORE_ID", "store-001")
DEVICE_ID = os.environ.get("BACKROOM_DEVICE_ID", "handheld-1")


def data_dir() -> Path:
    """Where this device keeps its database: the app's storage on a built target."""
    base = os.environ.get("FLET_APP_STORAGE_DATA")
    path = Path(base) if base else Path.home() / ".backroom"
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(page: ft.Page) -> None:
    """Wire the device and draw the handheld screens on `page`."""
    device = build_device(data_dir() / f"{DEVICE_ID}.db", store_id=STORE_ID, device_id=DEVICE_ID)
    server = os.environ.get("BACKROOM_SERVER_URL")
    if server:
        start_sync(device, server)
    start_checkpointer(device)
    shell = shell_view_model(device)
    build_shell(page, shell, receiving_view_model(device, lambda: shell.state.actor))


if __name__ == "__main__":
    settle_heap()  # what startup built lives as long as the process (edge_sync.heap)
    ft.run(main)
