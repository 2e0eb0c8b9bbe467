"""Faults: many clients at once, a crash mid-write, a busy database, a full disk.

Bounded in time, on this machine only. Each test says what must hold afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import DEMO_LOADED_AT, SECRET, make_code, small_distribution

from shared import booking, planning, storage
from shared.errors import AlreadyHandedOver, SlotFull, StorageUnavailable
from shared.handover import hand_over

ROOT = Path(__file__).resolve().parents[1]
NOW = DEMO_LOADED_AT


def _crowded(db, recipients: int, places_per_slot: int, hours: int):
    """``recipients`` with one unit each and slots of ``places_per_slot`` (30 minutes)."""
    distribution_id = small_distribution(
        db,
        recipients=recipients,
        stock=recipients,
        capacity_people=places_per_slot,
        hours=hours,
        weight_basis="equal",
    )
    planning.ensure_slots(db, distribution_id)
    return (
        distribution_id,
        [r["id"] for r in storage.list_recipients(db, distribution_id)],
        [s["id"] for s in storage.list_slots(db, distribution_id)],
    )


def test_500_attempts_for_100_places(app, db):
    distribution_id, recipients, slots = _crowded(db, 500, 10, 5)  # 10 slots x 10 places
    assert len(slots) == 10
    path = app.config["PICKUP_DB"]
    local = threading.local()

    def attempt(n: int) -> str:
        if not hasattr(local, "db"):
            local.db = storage.open_database(path, busy_timeout_ms=30_000)
        try:
            booking.book_slot(local.db, recipients[n], slots[n % 10], NOW, "load", make_code)
            return "booked"
        except SlotFull:
            return "full"

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(attempt, range(500)))
    assert results.count("booked") == 100 and results.count("full") == 400
    loads = storage.slot_loads(db, distribution_id, NOW)
    assert all(people == 10 for people, _ in loads.values())
    assert storage.count_live_bookings(db, distribution_id) == 100
    assert storage.used_serials(db) == 100  # no voucher without its booking


def test_20_concurrent_handovers_of_one_voucher(app, db):
    distribution_id = small_distribution(db, recipients=1, stock=3)
    planning.schedule_distribution(db, distribution_id, NOW, "t", make_code)
    view = storage.voucher_views_for_distribution(db, distribution_id)[0]
    at = storage.from_db_time(view["starts_at"])
    barrier = threading.Barrier(20)

    def station(n: int) -> str:
        database = storage.open_database(app.config["PICKUP_DB"], busy_timeout_ms=30_000)
        try:
            barrier.wait()
            hand_over(database, view["code"], SECRET.encode(), at, f"staff{n}", f"desk{n}")
            return "handed"
        except AlreadyHandedOver:
            return "told"
        finally:
            database.conn.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(station, range(20)))
    assert results.count("handed") == 1 and results.count("told") == 19
    assert storage.count_handovers(db, distribution_id) == 1


BOOKER = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from support import make_code, DEMO_LOADED_AT
from shared import booking, storage
db = storage.open_database({path!r})
for recipient_id, slot_id in {pairs!r}:
    view = booking.book_slot(db, recipient_id, slot_id, DEMO_LOADED_AT, "crash", make_code)
    print(view["booking_id"], flush=True)  # printed only after COMMIT
"""


def test_sigkill_mid_load_loses_no_committed_booking(app, db, engine):
    distribution_id, recipients, slots = _crowded(db, 400, 40, 5)
    pairs = [(r, slots[i % len(slots)]) for i, r in enumerate(recipients)]
    script = BOOKER.format(
        root=str(ROOT), tests=str(ROOT / "tests"), path=app.config["PICKUP_DB"], pairs=pairs
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    committed = []
    for line in process.stdout:
        committed.append(int(line))
        if len(committed) == 60:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # Every booking the writer saw committed is there, whole, with its voucher.
    for booking_id in committed:
        assert storage.voucher_view_by_booking(db, booking_id) is not None
    if engine == "sqlite":
        assert storage.integrity_check(db) == "ok"
    live = storage.count_live_bookings(db, distribution_id)
    assert live >= len(committed) and live == storage.used_serials(db)
    # And the database still takes writes.
    booking.book_slot(db, recipients[-1], slots[-1], NOW, "after", make_code)


def test_busy_database_fails_clearly_and_writes_nothing(app, db, engine):
    _, recipients, slots = _crowded(db, 2, 2, 1)
    holder = storage.open_database(app.config["PICKUP_DB"])
    if engine == "sqlite":
        holder.execute("BEGIN IMMEDIATE")  # the write lock
    else:
        holder.execute("BEGIN")
        holder.execute("SELECT id FROM slots WHERE id = ? FOR UPDATE", [slots[0]])
    impatient = storage.open_database(app.config["PICKUP_DB"], busy_timeout_ms=50)
    try:
        with pytest.raises(
            StorageUnavailable, match="^the service is busy; nothing was saved, please try again$"
        ):
            booking.book_slot(impatient, recipients[0], slots[0], NOW, "t", make_code)
    finally:
        holder.execute("ROLLBACK")
    assert storage.live_booking_for(db, recipients[0]) is None


@pytest.mark.sqlite_only  # SQLite's max_page_count stands in for a full disk
def test_full_disk_fails_clearly_and_writes_nothing(db):
    distribution_id, recipients, slots = _crowded(db, 400, 400, 1)
    audit_before = len(storage.audit_entries(db, limit=10_000))
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageUnavailable, match="disk is full; nothing was saved"):
        for recipient_id in recipients:  # fill the last free pages, then fail
            booking.book_slot(db, recipient_id, slots[0], NOW, "t", make_code)
    booked = storage.count_live_bookings(db, distribution_id)
    assert booked == storage.used_serials(db)  # no booking without its voucher
    assert len(storage.audit_entries(db, limit=10_000)) == audit_before + booked
    assert storage.integrity_check(db) == "ok"
