"""What every router needs: the app's services, the acting user, and an error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from edge_sync.contract import Id
from server_stub.ingest import Ingestor
from server_stub.metrics import Metrics
from server_stub.settings import Settings
from server_stub.signatures import SignatureGuard, VerifiedDevice, message_from_scope


@dataclass(frozen=True, slots=True)
class Services:
    """The composition root's products, kept on `app.state.services`."""

    engine: Engine
    settings: Settings
    ingestor: Ingestor
    metrics: Metrics


def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
StoreId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]
UserHeader = Annotated[Id | None, Header(alias="X-User-Id")]


async def signed_device(request: Request) -> VerifiedDevice | None:
    """The approved device that signed this store request; refused (401/403) otherwise.

    With `require_signatures` off (an explicit setting, never the default) nothing is checked
    and None is returned.
    """
    guard: SignatureGuard = request.app.state.signature_guard
    if not guard.required:
        return None
    body = await request.body()
    device = await run_in_threadpool(
        guard.verify, message_from_scope(request.scope), body, request.path_params.get("store_id")
    )
    request.state.device = device
    request.state.device_id = device.device_id
    return device


def acting_device_id(request: Request, x_device_id: Annotated[Id | None, Header(alias="X-Device-Id")] = None) -> str | None:
    """The device behind the request: the one whose signature was verified, never a header's claim.

    X-Device-Id is read only when signatures are switched off by setting.
    """
    device: VerifiedDevice | None = getattr(request.state, "device", None)
    if device is not None:
        return device.device_id
    guard: SignatureGuard = request.app.state.signature_guard
    return None if guard.required else x_device_id


DeviceHeader = Annotated[str | None, Depends(acting_device_id)]
SignedDevice = Annotated[VerifiedDevice | None, Depends(signed_device)]
