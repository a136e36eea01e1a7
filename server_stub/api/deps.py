"""What every router needs: the app's services, the acting user, and an error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.engine import Engine

from edge_sync.contract import Id
from server_stub.ingest import Ingestor
from server_stub.metrics import Metrics
from server_stub.settings import Settings


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
DeviceHeader = Annotated[Id | None, Header(alias="X-Device-Id")]
