"""What the benches (and the chaos tests' child processes) share: memory figures, server processes,
devices enrolled and approved to sign their requests."""

from __future__ import annotations

import contextlib
import io
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from edge_sync.signing import RequestSigner


def peak_rss_mb() -> float:
    """This process's peak resident set, in MB.

    Linux's VmHWM (/proc/self/status) belongs to the process's own address space. `ru_maxrss`
    does not, quite: it keeps the high-water mark of the image replaced by exec, so a process
    started by a big parent (pytest at the end of a session) would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(argv: list[str], port: int, *, env: dict[str, str] | None = None, log: Path | None = None,
            timeout_s: float = 60.0) -> Iterator[str]:
    """Run a server process (`argv`, listening on `port`) until its /healthz answers; yields its base
    URL and stops it at the end. Its output goes to `log` (or is dropped)."""
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
                raise RuntimeError(f"the server did not start: {tail}")
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def enrolled_device(base_url: str, database_url: str, store_id: str, device_id: str, key_dir: Path) -> RequestSigner:
    """A device's request signer, enrolled as a real device is: its key made and kept on the device
    (a 0600 file in `key_dir`, the file key store), its enrolment asked over HTTP signed with that
    key, then approved by the operator's `backroom devices approve` on the service database."""
    from app.cli import main as backroom
    from edge_sync.keys import FileKeyStore, load_or_create
    from edge_sync.signature_profile import key_id
    from edge_sync.signing import RequestSigner, enrol

    signer = RequestSigner(store_id, device_id, load_or_create(FileKeyStore(key_dir), key_id(store_id, device_id)))
    with httpx.Client(base_url=base_url, timeout=30) as http:
        enrol(http, signer, name=f"bench {device_id}")
    with contextlib.redirect_stdout(io.StringIO()) as said:
        code = backroom(["devices", "approve", device_id, "--database-url", database_url, "--store-id", store_id])
    if code != 0:
        raise RuntimeError(f"`backroom devices approve {device_id}` failed: {said.getvalue().strip()}")
    return signer


def device_signer(key_dir: Path, store_id: str, device_id: str) -> RequestSigner:
    """The signer of a device whose key `enrolled_device` left in `key_dir` (another process's)."""
    from edge_sync.keys import FileKeyStore
    from edge_sync.signature_profile import key_id
    from edge_sync.signing import RequestSigner

    key = FileKeyStore(key_dir).load(key_id(store_id, device_id))
    if key is None:
        raise RuntimeError(f"no key for device {store_id}/{device_id} in {key_dir}: enrol it first")
    return RequestSigner(store_id, device_id, key)


def interpreter() -> str:
    """The interpreter running the benchmark (and the service it starts): its version, and the base
    interpreter's real path (a virtual environment's python is a link to it).

    Figures depend on its build: on this machine Debian's own python3.11 (a static interpreter)
    runs the service ~25 % faster than a source build that loads libpython3.11.so
    (bench/RESULTS.md, 2026-11-23).
    """
    import os
    import sys

    base = getattr(sys, "_base_executable", sys.executable)
    return f"python {sys.version.split()[0]} ({os.path.realpath(base)})"
