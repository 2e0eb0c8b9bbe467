"""Migrations, connection settings, transactions and the append-only audit log."""

from __future__ import annotations

import secrets

import pytest
from support import DEMO_LOADED_AT, make_code, small_distribution

from shared import planning, storage
from shared.migrations import migrations


def test_fresh_database_migrates_once(tmp_path):
    db = storage.open_database(tmp_path / "a.sqlite3")
    assert storage.pending_migrations(db) == [m.name for m in migrations._migrations]
    assert storage.migrate(db) == ["0001_core"] + [
        m.name for m in migrations._migrations if m.name != "0001_core"
    ]
    assert storage.migrate(db) == []
    assert storage.integrity_check(db) == "ok"


def test_connection_pragmas(tmp_path):
    db = storage.open_database(tmp_path / "a.sqlite3", busy_timeout_ms=1234)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 1234


def test_failed_migration_rolls_back_and_stays_pending(tmp_path):
    from sqlite_utils import Migrations

    broken = Migrations("broken-test")

    @broken(name="0001_half")
    def half(db):
        db.execute("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("disk full halfway")

    db = storage.open_database(tmp_path / "a.sqlite3")
    with pytest.raises(RuntimeError, match="disk full halfway"):
        broken.apply(db)
    assert not db["half_done"].exists()
    assert [m.name for m in broken.pending(db)] == ["0001_half"]


def test_transaction_rolls_back_everything_on_error(db):
    with pytest.raises(RuntimeError), storage.transaction(db):
        storage.audit(db, "t", "one", "x:1", DEMO_LOADED_AT)
        raise RuntimeError("crash mid-write")
    assert storage.audit_entries(db) == []


def test_nested_transaction_is_a_savepoint(db):
    with storage.transaction(db):
        storage.audit(db, "t", "outer", "x:1", DEMO_LOADED_AT)
        with pytest.raises(RuntimeError), storage.transaction(db):
            storage.audit(db, "t", "inner", "x:1", DEMO_LOADED_AT)
            raise RuntimeError("inner fails")
    assert [e["action"] for e in storage.audit_entries(db)] == ["outer"]


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"]
)
def test_audit_log_is_append_only(db, sql):
    storage.audit(db, "t", "act", "x:1", DEMO_LOADED_AT)
    with pytest.raises(storage.IntegrityError, match="the audit log is append-only"):
        db.execute(sql)


def test_naive_times_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError, match="naive datetime"):
        storage.to_db_time(datetime(2020, 2, 4, 12))


def test_one_live_booking_per_recipient(demo_db):
    booking = demo_db.execute("SELECT * FROM bookings LIMIT 1").fetchone()
    with pytest.raises(storage.IntegrityError, match="(?i)unique"):
        demo_db.execute(
            "INSERT INTO bookings (distribution_id, recipient_id, slot_id, units, created_at, "
            "updated_at) VALUES (?, ?, ?, 1, 'x', 'x')",
            [booking[1], booking[2], booking[3]],
        )


def test_batched_bookings_get_their_own_vouchers_and_skip_used_serials(db, monkeypatch):
    distribution_id = small_distribution(db, recipients=5, stock=20, capacity_people=5)
    planning.ensure_slots(db, distribution_id)
    slot_id = storage.list_slots(db, distribution_id)[0]["id"]
    recipients = [r["id"] for r in storage.list_recipients(db, distribution_id)]
    with storage.transaction(db):
        storage.insert_bookings_with_vouchers(
            db, distribution_id, [(recipients[0], slot_id, 4)], make_code, DEMO_LOADED_AT
        )
    taken = db.execute("SELECT serial FROM vouchers").fetchone()[0]
    # The draw offers the serial in use first, then the same new one twice, then others.
    draws = iter([taken, 11, 11, 22, 33, 44])
    monkeypatch.setattr(secrets, "randbelow", lambda _n: next(draws))
    progress: list[int] = []
    with storage.transaction(db):
        placements = [(rid, slot_id, 4) for rid in recipients[1:]]
        written = storage.insert_bookings_with_vouchers(
            db, distribution_id, placements, make_code, DEMO_LOADED_AT, progress.append, batch=3
        )
    assert written == 4 and progress == [3, 1]
    views = storage.voucher_views_for_distribution(db, distribution_id)
    assert sorted(v["recipient_id"] for v in views) == recipients
    assert sorted(v["serial"] for v in views) == sorted([taken, 11, 22, 33, 44])
    assert all(v["code"] == make_code(v["serial"]) for v in views)
