"""Migrations, connection settings, transactions and the append-only audit log."""

from __future__ import annotations

import sqlite3

import pytest
from support import DEMO_LOADED_AT

from shared import storage
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
    with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
        db.execute(sql)


def test_naive_times_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError, match="naive datetime"):
        storage.to_db_time(datetime(2020, 2, 4, 12))


def test_one_live_booking_per_recipient(demo_db):
    booking = demo_db.execute("SELECT * FROM bookings LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        demo_db.execute(
            "INSERT INTO bookings (distribution_id, recipient_id, slot_id, units, created_at, "
            "updated_at) VALUES (?, ?, ?, 1, 'x', 'x')",
            [booking[1], booking[2], booking[3]],
        )
