"""Child process for the crash test: commits ops in a loop and acknowledges each one on stdout.

    python -m tests.chaos.crash_writer DB_PATH

Each transaction moves one unit of stock and appends one op, like a receive scan. "ACK <seq>" is
printed only after the commit returned, exactly when the handheld would beep "saved".
"""

from __future__ import annotations

import datetime as dt
import sys

from edge_sync import contract, outbox
from edge_sync.db import open_device_database
from edge_sync.repositories.master import StockRepository
from edge_sync.uow import UnitOfWork


def main(path: str) -> None:
    """Write until killed."""
    engine = open_device_database(path)
    with UnitOfWork(engine) as uow:
        try:
            outbox.register_device(uow.conn, store_id="store-001", device_id="dev-crash")
        except ValueError:
            pass
        uow.commit()
    print("READY", flush=True)
    n = 0
    while True:
        n += 1
        with UnitOfWork(engine) as uow:
            StockRepository(uow.conn).move("item-1", "loc-dock", "received", 1)
            op = uow.append_op(
                contract.OpType.RECEIPT_RECEIVE,
                contract.ReceiptReceivePayload(receipt_id="r-1", item_id="item-1", gtin="04006381333931", qty=1),
                user_id="u1", session_id="s1", occurred_at=dt.datetime.now(dt.UTC),
            )
            uow.commit()
        sys.stdout.write(f"ACK {op.seq} {op.op_id}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
