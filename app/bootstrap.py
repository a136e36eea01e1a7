"""The composition root: the one place where the device's parts are built and wired.

Screens, the CLI and the benches call `build_device`; tests build the same graph with a fake clock
and a temporary database file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import Engine

from app.domain.commands import Command
from app.domain.context import Actor, Clock, SystemClock
from app.domain.policy import StorePolicy
from app.services import counting, handheld, people, picking, putaway, receiving, tasks
from app.services.bus import Handler, MessageBus
from app.services.sync_status import sync_status
from app.viewmodels.receiving import ReceivingViewModel
from app.viewmodels.counting import CountViewModel
from app.viewmodels.parked import ParkedViewModel
from app.viewmodels.picking import PickViewModel
from app.viewmodels.putaway import PutawayViewModel
from app.viewmodels.shell import ShellViewModel
from app.services import manager
from app.viewmodels.manager import LocalReads, ManagerViewModel
from edge_sync.supervision import SupervisionClient
from app.viewmodels.workflows import Workflows
from edge_sync import outbox
from edge_sync.client import SyncClient
from edge_sync.keys import device_key
from edge_sync.signing import RequestSigner
from edge_sync.engine import SyncEngine
from edge_sync.scheduler import SyncScheduler
from edge_sync.db import Checkpointer, open_device_database
from edge_sync.uow import UnitOfWork, UnitOfWorkFactory, uow_factory


if TYPE_CHECKING:  # the screens' camera types; importing them would load flet here
    from app.ui.camera import Camera, CameraFactory
    from device.events import ScanEvent

APP_VERSION = "0.1.0"


def all_handlers() -> Mapping[type[Command], Handler]:
    """Every command's handler, from each workflow's service module."""
    table: dict[type[Command], Handler] = {}
    for module in (receiving, putaway, counting, picking, tasks):
        overlap = table.keys() & module.HANDLERS.keys()
        if overlap:
            raise RuntimeError(f"two handlers for {sorted(c.__name__ for c in overlap)}")
        table.update(module.HANDLERS)
    return table


@dataclass(slots=True)
class ServiceLink:
    """What the device knows of the service once `start_sync` has wired it: sign-in registers
    sessions through it (online, 12 h), and starts them offline (4 h) while it is None or fails."""

    register_session: people.SessionRegistrar | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A wired device: its database, its units of work and its command bus."""

    engine: Engine
    uow: UnitOfWorkFactory
    bus: MessageBus
    clock: Clock
    policy: StorePolicy
    store_id: str
    device_id: str
    db_path: Path
    service: ServiceLink = field(default_factory=ServiceLink)


def build_device(
    db_path: str | Path,
    *,
    store_id: str,
    device_id: str,
    clock: Clock | None = None,
    policy: StorePolicy | None = None,
) -> Device:
    """Open (and migrate) the device database, register the device, and wire the bus."""
    engine = open_device_database(db_path)
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id=store_id, device_id=device_id)
        uow.commit()
    clock = clock or SystemClock()
    policy = policy or StorePolicy()
    factory = uow_factory(engine)
    bus = MessageBus(factory, all_handlers(), clock=clock, policy=policy)
    return Device(engine=engine, uow=factory, bus=bus, clock=clock, policy=policy,
                  store_id=store_id, device_id=device_id, db_path=Path(db_path))


SYNC_KICK_DELAY_S = 0.3
"""A commit's sync starts this long after it: a burst of scans goes in one push, and the push stays
off the CPU while the screen draws the scan's answer (see bench.scan_feedback)."""


def start_sync(device: Device, base_url: str, *, interval_s: float = 10.0,
               auth: httpx.Auth | None = None) -> SyncScheduler:
    """Sync `device` with the service at `base_url` in the background; local commits kick a run.

    Requests are signed with `auth`, by default the device's own key (`device_signer`).
    """
    http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(15.0, connect=5.0),
                        auth=auth if auth is not None else device_signer(device))
    client = SyncClient(http, store_id=device.store_id)
    # Sign-ins register their session through the same signed client, with its own ~1 s timeout.
    device.service.register_session = client.start_session
    engine = SyncEngine(device.engine, client, app_version=APP_VERSION)
    scheduler = _ClosingSyncScheduler(engine, interval_s=interval_s, http=http)
    device.bus.after_commit = scheduler.kick
    scheduler.start()
    return scheduler


class _ClosingSyncScheduler(SyncScheduler):
    """The scheduler `start_sync` returns: once it has stopped, the HTTP client made for it is closed
    (a sign-in after that fails to register its session and starts offline, as with no network)."""

    def __init__(self, engine: SyncEngine, *, interval_s: float, http: httpx.Client) -> None:
        super().__init__(engine, interval_s=interval_s, kick_delay_s=SYNC_KICK_DELAY_S)
        self._http = http

    def shutdown(self) -> None:
        """Stop the job (a run under way finishes first), then close the HTTP client."""
        try:
            super().shutdown()
        finally:
            self._http.close()


def start_checkpointer(device: Device) -> Checkpointer:
    """Keep the device database's WAL checkpointed off the scan path (see edge_sync.db.Checkpointer)."""
    return Checkpointer(device.db_path).start()


def shell_view_model(device: Device) -> ShellViewModel:
    """The sign-in/my-tasks view-model of one screen session on `device`, with its workflow screens."""
    by_pin = getattr(people, "sign_in_by_pin", None)
    sign_in_pin: Callable[[str, str], tuple[Actor, str]] | None = None
    if by_pin is not None:
        def sign_in_pin(user: str, pin: str) -> tuple[Actor, str]:
            result: tuple[Actor, str] = by_pin(device.uow, user, pin, device_id=device.device_id, clock=device.clock,
                                               online=device.service.register_session)
            return result
    shell = ShellViewModel(
        sign_in=lambda badge: people.sign_in_by_badge(device.uow, badge, device_id=device.device_id, clock=device.clock,
                                                      online=device.service.register_session),
        list_tasks=lambda actor, now: tasks.my_tasks(device.uow, actor, now),
        sync_status=lambda: sync_status(device.engine),
        clock=device.clock,
        sign_in_pin=sign_in_pin,
        task_ref=lambda task_id: handheld.task_ref(device.uow, task_id),
        handle=device.bus.handle,
        end_session=lambda actor: people.sign_out(device.uow, actor, device.clock.now()),
    )
    shell.workflows = handheld_workflows(device, lambda: shell.state.actor)
    return shell


def receiving_view_model(device: Device, actor: Callable[[], Actor | None]) -> ReceivingViewModel:
    """The Receiving screen's view-model on `device`, acting as whoever `actor()` says is signed in."""
    return ReceivingViewModel(
        handle=device.bus.handle,
        list_asns=lambda: receiving.open_asns(device.engine),
        summary=lambda receipt_id: receiving.receipt_summary(device.engine, receipt_id),
        open_receipts=lambda: receiving.open_receipts(device.engine),
        actor=actor,
        approver_by_badge=lambda badge: handheld.approver_by_badge(device.uow, badge),
    )


def putaway_view_model(device: Device, actor: Callable[[], Actor | None]) -> PutawayViewModel:
    """The directed putaway screen's view-model on `device`."""
    return PutawayViewModel(
        handle=device.bus.handle,
        awaiting=lambda: putaway.awaiting_putaway(device.engine),
        item_by_gtin=lambda gtin: handheld.item_by_gtin(device.uow, gtin),
        actor=actor,
    )


def count_view_model(device: Device, actor: Callable[[], Actor | None]) -> CountViewModel:
    """The cycle count screen's view-model on `device` (blind as the store's policy says)."""
    return CountViewModel(
        handle=device.bus.handle,
        task_lines=lambda task_id: counting.count_task_lines(device.uow, task_id, blind=device.policy.blind_counts),
        item_by_gtin=lambda gtin: handheld.item_by_gtin(device.uow, gtin),
        approver_by_badge=lambda badge: handheld.approver_by_badge(device.uow, badge),
        actor=actor,
        clock=device.clock,
    )


def pick_view_model(device: Device, actor: Callable[[], Actor | None]) -> PickViewModel:
    """The picking screen's view-model on `device`."""
    return PickViewModel(
        handle=device.bus.handle,
        walk=lambda task_id: picking.pick_walk(device.uow, task_id),
        actor=actor,
    )


def parked_view_model(device: Device, actor: Callable[[], Actor | None]) -> ParkedViewModel:
    """The needs-attention screen's view-model on `device`: refused ops, fixed or dismissed."""
    return ParkedViewModel(
        list_parked=lambda: handheld.parked_ops(device.uow),
        dismiss=lambda seq, reason, who: handheld.dismiss_parked(device.uow, seq, reason=reason, actor=who),
        resend=lambda seq, payload, who: handheld.resend_parked(device.uow, seq, payload=payload, actor=who),
        location_by_code=lambda code: handheld.location_id_by_code(device.uow, code),
        actor=actor,
        name_of=lambda kind, key: handheld.names(device.uow, kind, key),
    )


def handheld_workflows(device: Device, actor: Callable[[], Actor | None]) -> Workflows:
    """Every associate screen's view-model on `device`, acting as whoever `actor()` says is signed in."""
    return Workflows(
        receiving=receiving_view_model(device, actor),
        putaway=putaway_view_model(device, actor),
        counting=count_view_model(device, actor),
        picking=pick_view_model(device, actor),
        parked=parked_view_model(device, actor),
    )


def supervision_client(base_url: str, device: Device, *, auth: httpx.Auth | None = None) -> SupervisionClient:
    """The manager tablet's client for store-wide reads and decisions, signed with `auth` (default: the device's key)."""
    http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, connect=3.0),
                        auth=auth if auth is not None else device_signer(device))
    return SupervisionClient(http, store_id=device.store_id)


def manager_view_model(device: Device, store: SupervisionClient) -> ManagerViewModel:
    """The manager tablet's view-model on `device`: commands through its outbox, store-wide reads from
    `store` as the manager signed in (their session, registered with the service when it answers)."""
    return ManagerViewModel(
        sign_in=lambda badge: manager.sign_in_manager(device.uow, badge, device_id=device.device_id, clock=device.clock,
                                                      online=device.service.register_session),
        handle=device.bus.handle,
        store=lambda actor: store.for_session(actor.user_id, actor.session_id),
        end_session=lambda actor: people.sign_out(device.uow, actor, device.clock.now()),
        local=LocalReads(
            people=lambda: manager.store_people(device.uow),
            tasks=lambda: manager.local_tasks(device.uow),
            unsent_task_ids=lambda: manager.unsent_task_ids(device.engine),
            sync_status=lambda: sync_status(device.engine),
        ),
        clock=device.clock,
        tz=dt.datetime.now().astimezone().tzinfo,
    )


def device_signer(device: Device, key_dir: Path | None = None) -> RequestSigner:
    """The device's request signer: its Ed25519 key from the OS keystore, else a 0600 file in `key_dir`
    (default: beside the device database), made there on first use."""
    key = device_key(device.store_id, device.device_id, key_dir or device.db_path.parent / "keys")
    return RequestSigner(device.store_id, device.device_id, key)


def camera_scanning(device: int = 0) -> CameraFactory | None:
    """How the scanning screens open a camera, or None when this machine has none (decided once, at start).

    With None the screens show no Camera toggle. The camera module (OpenCV, the decoders) is imported
    only here, so the screens never load it.
    """
    from app.services.camera import CameraService, camera_available

    if not camera_available(device):
        return None

    def open_camera(on_scan: Callable[[ScanEvent], None], on_error: Callable[[str], None]) -> Camera:
        return CameraService(on_scan, on_error=on_error)
    return open_camera
