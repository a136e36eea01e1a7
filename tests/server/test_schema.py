"""The schema: migrations match the tables, and every key starts with store_id (Citus-ready)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server_stub.db import create_engine_for, migrate
from server_stub.tables import metadata


def test_every_primary_key_and_unique_constraint_starts_with_store_id() -> None:
    for table in metadata.sorted_tables:
        keys = [table.primary_key, *(c for c in table.constraints if isinstance(c, sa.UniqueConstraint))]
        for constraint in keys:
            names = [c.name for c in constraint.columns]
            assert names and names[0] == "store_id", f"{table.name}: {constraint.name} is {names}"
        for index in table.indexes:
            if index.unique:
                assert [c.name for c in index.columns][0] == "store_id", f"{table.name}: {index.name}"


def test_the_migrations_build_exactly_the_tables_the_code_declares(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        migrate(engine)
        migrate(engine)  # a second run is a no-op
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
    finally:
        engine.dispose()
