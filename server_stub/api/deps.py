"""What every router needs: the app's services, the acting user, and an error mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from edge_sync.contract import Id
from server_stub.ingest import Ingestor
from server_stub.metrics import Metrics
from server_stub.settings import Settings
from server_stub.signatures import RequestNonce, SignatureGuard, VerifiedDevice, message_from_scope


@dataclass(frozen=True, slots=True)
class Services:
    """The composition root's products, kept on `app.state.services`."""

    engine: Engine
    settings: Settings
    ingestor: Ingestor
    metrics: Metrics


# The dependencies that only read the request are `async def`: FastAPI runs a plain `def` dependency
# in its thread pool, a hand-off to another thread and back for each, on every request.


async def get_services(request: Request) -> Services:
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
    device, nonce = await run_in_threadpool(
        guard.check, message_from_scope(request.scope), body, request.path_params.get("store_id")
    )
    if getattr(request.scope.get("endpoint"), _NONCE_IN_TRANSACTION, False):
        # The endpoint writes the nonce in its own write transaction (RequestNonceDep).
        request.state.nonce = nonce
    else:
        await run_in_threadpool(nonce.keep_alone)
    request.state.device = device
    request.state.device_id = device.device_id
    return device


_NONCE_IN_TRANSACTION = "_backroom_nonce_in_transaction"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def nonce_in_transaction(endpoint: _Endpoint) -> _Endpoint:
    """Mark an endpoint that writes the request's nonce in its own write transaction.

    Such an endpoint takes `RequestNonceDep`, passes it to the transaction that does its work
    (`StoreTx.open(..., nonce=...)`) and runs inside `nonce_kept(nonce)`, so that a path that
    writes nothing still records it. Put this decorator under the route's.
    """
    setattr(endpoint, _NONCE_IN_TRANSACTION, True)
    return endpoint


async def request_nonce(request: Request) -> RequestNonce | None:
    """The verified request's nonce, not yet recorded (None when signatures are off)."""
    nonce: RequestNonce | None = getattr(request.state, "nonce", None)
    return nonce


async def verified_device_id(request: Request) -> str | None:
    """The device whose signature was verified (None when signatures are off)."""
    device: VerifiedDevice | None = getattr(request.state, "device", None)
    return None if device is None else device.device_id


def acting_device_id(request: Request, x_device_id: Annotated[Id | None, Header(alias="X-Device-Id")] = None) -> str | None:
    """The device behind the request: the one whose signature was verified, never a header's claim.

    X-Device-Id is read only when signatures are switched off by setting.
    """
    device: VerifiedDevice | None = getattr(request.state, "device", None)
    if device is not None:
        return device.device_id
    guard: SignatureGuard = request.app.state.signature_guard
    return None if guard.required else x_device_id


async def _acting_device_dep(request: Request,
                             x_device_id: Annotated[Id | None, Header(alias="X-Device-Id")] = None) -> str | None:
    return acting_device_id(request, x_device_id)


DeviceHeader = Annotated[str | None, Depends(_acting_device_dep)]
SignedDevice = Annotated[VerifiedDevice | None, Depends(signed_device)]
RequestNonceDep = Annotated[RequestNonce | None, Depends(request_nonce)]
VerifiedDeviceId = Annotated[str | None, Depends(verified_device_id)]
