"""The real central service on a loopback port, in a thread of the test process.

    with live_server(create_app(url)) as base_url:
        httpx.Client(base_url=base_url).get("/healthz")

Real HTTP through uvicorn, the way a device reaches the service; no test client shortcuts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from tests.support.devices import approved_device


SERVING: list[Engine] = []
"""The databases of the services `live_server` is serving now: where a test device gets enrolled."""


def signed_for(store_id: str, device_id: str, key_dir: Path | None = None) -> httpx.Auth:
    """A signer for a device enrolled and approved in the service started last and still served.

    With `key_dir` its key is kept there as a 0600 file (the file key store), as on a device.
    """
    if not SERVING:
        raise RuntimeError("no service is being served: start it with live_server() first")
    return approved_device(SERVING[-1], store_id, device_id, key_dir=key_dir)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(app: FastAPI, *, port: int | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields the base URL."""
    port = port or free_port()
    engine = getattr(getattr(app.state, "services", None), "engine", None)
    if engine is not None:
        SERVING.append(engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the service did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        if engine is not None:
            SERVING.remove(engine)
