"""What the store already holds that an imported file may refer to, or must not clash with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from edge_sync.contract import MasterData


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Ids, SKUs, GTINs and codes known to the store before the import.

    Items and locations in a file may update ones listed here (same id); a SKU, GTIN or code that
    already belongs to a *different* id is a clash. POs refer to items listed here.
    """

    item_ids: frozenset[str] = frozenset()
    sku_items: Mapping[str, str] = field(default_factory=dict)
    gtin_items: Mapping[str, str] = field(default_factory=dict)
    item_unit_gtin: Mapping[str, str] = field(default_factory=dict)
    location_ids: frozenset[str] = frozenset()
    code_locations: Mapping[str, str] = field(default_factory=dict)
    po_ids: frozenset[str] = frozenset()
    asn_ids: frozenset[str] = frozenset()

    @classmethod
    def from_master_data(cls, data: MasterData) -> Catalogue:
        """The catalogue of a store held in memory (a seeded store, a test fixture)."""
        return cls(
            item_ids=frozenset(i.item_id for i in data.items),
            sku_items={i.sku: i.item_id for i in data.items},
            gtin_items={g: i.item_id for i in data.items for g in i.gtins},
            item_unit_gtin={i.item_id: _unit_gtin(i.gtins, i.pack_sizes) for i in data.items},
            location_ids=frozenset(loc.location_id for loc in data.locations),
            code_locations={loc.code: loc.location_id for loc in data.locations},
            po_ids=frozenset(po.po_id for po in data.purchase_orders),
            asn_ids=frozenset(asn.asn_id for asn in data.asns),
        )


def _unit_gtin(gtins: list[str], pack_sizes: Mapping[str, int]) -> str:
    return next((g for g in gtins if g not in pack_sizes), gtins[0])


def read_catalogue(engine: Engine, store_id: str) -> Catalogue:
    """The catalogue of a store in the service database (read in one transaction)."""
    from server_stub import tables as t
    from server_stub.db import read_transaction

    with read_transaction(engine) as conn:
        items = conn.execute(
            select(t.items.c.item_id, t.items.c.sku, t.items.c.data).where(t.items.c.store_id == store_id)
        ).all()
        gtins = conn.execute(
            select(t.item_gtins.c.gtin, t.item_gtins.c.item_id, t.item_gtins.c.pack_qty)
            .where(t.item_gtins.c.store_id == store_id)
        ).all()
        locations = conn.execute(
            select(t.locations.c.location_id, t.locations.c.code).where(t.locations.c.store_id == store_id)
        ).all()
        po_ids = conn.execute(
            select(t.purchase_orders.c.po_id).where(t.purchase_orders.c.store_id == store_id)
        ).scalars().all()
        asn_ids = conn.execute(select(t.asns.c.asn_id).where(t.asns.c.store_id == store_id)).scalars().all()
    unit_gtin: dict[str, str] = {}
    for item_id, _sku, data in items:
        listed = data.get("gtins") if isinstance(data, dict) else None
        packs = data.get("pack_sizes") or {} if isinstance(data, dict) else {}
        if isinstance(listed, list) and listed:
            unit_gtin[item_id] = _unit_gtin(listed, packs)
    for gtin, item_id, pack_qty in gtins:
        if pack_qty == 1:
            unit_gtin.setdefault(item_id, gtin)
    return Catalogue(
        item_ids=frozenset(row.item_id for row in items),
        sku_items={row.sku: row.item_id for row in items},
        gtin_items={row.gtin: row.item_id for row in gtins},
        item_unit_gtin=unit_gtin,
        location_ids=frozenset(row.location_id for row in locations),
        code_locations={row.code: row.location_id for row in locations},
        po_ids=frozenset(po_ids),
        asn_ids=frozenset(asn_ids),
    )
