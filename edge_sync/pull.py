"""Pulling the store's changes from the central service into the local tables, page by page.

Each page is applied in one local transaction together with the cursor that follows it, so an
interrupted first sync resumes at the page it stopped in and never skips or loses a change: a
page is either wholly applied with its cursor, or not at all.

Errors:
    PullError         the service could not be reached or answered badly; nothing of that page
                      was applied, the cursor did not move. Retry later.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, select, update

from edge_sync import contract
from edge_sync.repositories import master
from edge_sync.tables import SyncState
from edge_sync.uow import UnitOfWork

_state = SyncState.__table__  # type: ignore[attr-defined]


class PullError(RuntimeError):
    """A page could not be fetched or understood; nothing of it was applied."""


Applier = Callable[[Connection, Iterable[Any]], None]

APPLIERS: dict[contract.ChangeKind, Applier] = {
    contract.ChangeKind.ITEM: master.apply_items,
    contract.ChangeKind.LOCATION: master.apply_locations,
    contract.ChangeKind.USER: master.apply_users,
    contract.ChangeKind.PURCHASE_ORDER: master.apply_purchase_orders,
    contract.ChangeKind.ASN: master.apply_asns,
    contract.ChangeKind.ORDER: master.apply_orders,
    contract.ChangeKind.TASK: master.apply_tasks,
    contract.ChangeKind.BALANCE: master.apply_balances,
}
"""Kinds the device keeps locally. Op results and exceptions are read by the sync engine."""


@dataclass
class PullReport:
    """What one pull did."""

    pages: int = 0
    changes: int = 0
    applied: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cursor: str = ""
    complete: bool = False
    """True when the last page said there was nothing more."""


def current_cursor(engine: Engine) -> str:
    """The cursor the next pull starts from ('' before the first sync)."""
    with engine.connect() as conn:
        row = conn.execute(select(_state.c.cursor)).first()
    return "" if row is None else str(row.cursor)


def apply_page(conn: Connection, page: contract.ChangesPage, report: PullReport) -> None:
    """Apply one page's changes (latest version of each key wins) in the caller's transaction."""
    latest: dict[tuple[contract.ChangeKind, str], dict[str, Any] | None] = {}
    for change in page.changes:
        latest[(change.kind, change.key)] = change.data
    grouped: dict[contract.ChangeKind, list[BaseModel]] = defaultdict(list)
    for (kind, _key), data in latest.items():
        if kind not in APPLIERS or data is None:
            continue
        grouped[kind].append(contract.RECORDS[kind].model_validate(data))
    # In the fixed order of APPLIERS: master data first, then documents, then balances.
    for kind in APPLIERS:
        if grouped.get(kind):
            APPLIERS[kind](conn, grouped[kind])
            report.applied[kind.value] += len(grouped[kind])


def pull(client: httpx.Client, engine: Engine, *, store_id: str, limit: int = 1000,
         max_pages: int | None = None, now: Callable[[], dt.datetime] | None = None) -> PullReport:
    """Pull pages until the service has nothing more (or `max_pages`), applying each atomically."""
    report = PullReport(cursor=current_cursor(engine))
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    while max_pages is None or report.pages < max_pages:
        try:
            response = client.get(f"/v1/stores/{store_id}/changes", params={"cursor": report.cursor, "limit": limit})
            response.raise_for_status()
            page = contract.ChangesPage.model_validate_json(response.content)
        except httpx.HTTPStatusError as exc:
            raise PullError(f"the service answered {exc.response.status_code} to a pull") from exc
        except httpx.HTTPError as exc:
            raise PullError(f"the service could not be reached: {exc.__class__.__name__}") from exc
        except ValidationError as exc:
            raise PullError("the service sent a page this app does not understand") from exc
        with UnitOfWork(engine) as uow:
            apply_page(uow.conn, page, report)
            uow.conn.execute(update(_state).where(_state.c.id == 1).values(
                cursor=page.next_cursor, last_pull_at=clock()))
            uow.commit()
        report.pages += 1
        report.changes += len(page.changes)
        report.cursor = page.next_cursor
        if not page.has_more:
            report.complete = True
            break
    return report
