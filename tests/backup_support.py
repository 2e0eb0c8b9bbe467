"""What the backup tests share (deploy/backup.sh on SQLite, deploy/pg-backup.sh on
PostgreSQL): a writer that keeps the database busy, and the bookings to compare."""

from __future__ import annotations

import threading
from pathlib import Path

from support import DEMO_LOADED_AT, make_code

from shared import booking, storage


def live_bookings(db) -> list[tuple]:
    """Every live booking with its voucher, as (serial, code, recipient, slot, units)."""
    rows = [
        (v["serial"], v["code"], v["recipient_id"], v["slot_id"], v["units"])
        for distribution in storage.list_distributions(db)
        for v in storage.voucher_views_for_distribution(db, distribution["id"])
    ]
    live = sum(storage.count_live_bookings(db, d["id"]) for d in storage.list_distributions(db))
    assert len(rows) == live  # no booking without its voucher
    return sorted(rows)


class Rebooker(threading.Thread):
    """Cancels and books again, recipient after recipient, until stopped: a busy morning."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.writes = 0

    def run(self) -> None:
        db = storage.open_database(self.path, busy_timeout_ms=30_000)
        recipients = [r["id"] for r in storage.list_recipients(db, 1)]
        n = 0
        while not self.stop.is_set():
            recipient = recipients[n % len(recipients)]
            booking.cancel_booking(db, recipient, DEMO_LOADED_AT, "test")
            slot = booking.free_slots(db, recipient, DEMO_LOADED_AT, limit=1)[0]
            booking.book_slot(db, recipient, slot["id"], DEMO_LOADED_AT, "test", make_code)
            self.writes += 2
            n += 1
        db.conn.close()
