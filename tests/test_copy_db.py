"""``copy-db``: an office's SQLite database (the demo at 13:00, with handovers, a check-in
and cancellations) moved into an empty PostgreSQL database, checked, and served from there;
and the copies it refuses, each with its message, leaving the target as it found it.

The source is the SQLite half's office day (``sqlite_only``); the target is a database of
the session's PostgreSQL server, so these tests run where the PostgreSQL half runs.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from support import DEMO_LOADED_AT, app_settings, make_code

from shared import booking, database_copy, storage
from shared.db import get_db
from shared.handover import reconcile
from wsgi import create_app

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def empty_target(postgresql_databases):
    """The URL of a new, empty PostgreSQL database (dropped after the test)."""
    name = postgresql_databases.create()
    yield postgresql_databases.url(name)
    postgresql_databases.drop(name)


def counts(db) -> dict[str, int]:
    return {table: storage.count_rows(db, table) for table in storage.data_tables(db)}


def ledgers(db) -> dict[int, tuple]:
    return {
        d["id"]: (asdict(reconcile(db, d["id"])), storage.handed_units_by_recipient(db, d["id"]))
        for d in storage.list_distributions(db)
    }


def test_copy_db_moves_an_office_day_to_postgresql(office_day, empty_target):
    result = office_day.test_cli_runner().invoke(args=["copy-db", "--to", empty_target])
    assert result.exit_code == 0, result.output
    with office_day.app_context():
        source = get_db()
        expected_counts, expected_ledgers = counts(source), ledgers(source)
    assert expected_counts["handovers"] == 2 and expected_counts["vouchers"] > 100
    handed = sum(ledger["handed_over"] for ledger, _ in expected_ledgers.values())
    assert handed > 0
    lines = result.output.splitlines()
    assert lines[1:-2] == [f"  {table}: {rows} rows" for table, rows in expected_counts.items()]
    assert lines[-2] == (
        f"Checked: {sum(expected_counts.values())} rows in {len(expected_counts)} tables, the "
        f"same on both sides; 2 distributions reconcile, {handed} units handed over on both sides."
    )
    assert lines[-1] == f"Done. Set PICKUP_DB={empty_target} and restart the service."

    moved = create_app(app_settings(empty_target))
    with moved.app_context():
        target = get_db()
        assert storage.pending_migrations(target) == []
        assert counts(target) == expected_counts
        assert ledgers(target) == expected_ledgers
        # The identity sequences follow the copied ids: new rows get new ids, not clashes.
        highest = target.execute("SELECT max(id) FROM bookings").fetchone()[0]
        recipient = storage.list_recipients(target, 1)[0]["id"]
        booking.cancel_booking(target, recipient, DEMO_LOADED_AT, "test")
        slot = booking.free_slots(target, recipient, DEMO_LOADED_AT, limit=1)[0]
        made = booking.book_slot(target, recipient, slot["id"], DEMO_LOADED_AT, "test", make_code)
        assert made["booking_id"] == highest + 1
    assert moved.test_client().get("/healthz").status_code == 200


def test_a_copy_that_differs_is_rolled_back(office_day, empty_target, monkeypatch):
    # A batch that never arrives (a fault between the engines): the check finds it.
    insert_rows = storage.insert_rows

    def losing_one_handover(db, table, columns, rows):
        insert_rows(db, table, columns, rows[1:] if table == "handovers" else rows)

    monkeypatch.setattr(storage, "insert_rows", losing_one_handover)
    result = office_day.test_cli_runner().invoke(args=["copy-db", "--to", empty_target])
    assert result.exit_code == 1
    error = result.output.splitlines()[-1]
    assert error.startswith(
        "Error: the copy does not match the source, so it was rolled back and the target is "
        "empty again: handovers: 2 rows in the source, 1 in the target; distribution 1, "
        "recipient "
    )
    assert "handed_over " in error
    target = storage.open_database(empty_target)
    assert storage.count_rows(target, "distributions") == 0
    assert storage.count_rows(target, "handovers") == 0
    target.conn.close()
    # Nothing was left behind: the same target takes the copy once the fault is gone.
    monkeypatch.setattr(storage, "insert_rows", insert_rows)
    again = office_day.test_cli_runner().invoke(args=["copy-db", "--to", empty_target])
    assert again.exit_code == 0, again.output


def test_compare_names_each_difference(office_day, empty_target):
    assert (
        office_day.test_cli_runner().invoke(args=["copy-db", "--to", empty_target]).exit_code == 0
    )
    target = storage.open_database(empty_target)
    with office_day.app_context():
        source = get_db()
        assert database_copy.compare(source, target) == []
        # The office goes on after the copy: a booking cancelled is not in the target.
        recipient = storage.list_recipients(source, 1)[0]["id"]
        booking.cancel_booking(source, recipient, DEMO_LOADED_AT, "test")
        assert database_copy.compare(source, target) == [
            f"audit_log: {storage.count_rows(target, 'audit_log') + 1} rows in the source, "
            f"{storage.count_rows(target, 'audit_log')} in the target",
            "distribution 1: outstanding_booked "
            f"{reconcile(source, 1).outstanding_booked} in the source, "
            f"{reconcile(target, 1).outstanding_booked} in the target",
        ]
    target.conn.close()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            "{tmp}/pickup.sqlite3",
            "Error: copy-db copies to a PostgreSQL database "
            "(postgresql://user:password@host:port/dbname), not to {tmp}/pickup.sqlite3",
        ),
        (
            "mysql://pickup:s3cret@db.internal/pickup",
            "Error: copy-db copies to a PostgreSQL database "
            "(postgresql://user:password@host:port/dbname), not to "
            "mysql://pickup:***@db.internal/pickup",
        ),
        (
            "postgresql://pickup:s3cret@127.0.0.1:9/pickup",
            "Error: cannot reach the database at postgresql://pickup:***@127.0.0.1:9/pickup: ",
        ),
    ],
)
def test_copy_db_refuses_what_is_not_an_empty_postgresql(office_day, tmp_path, target, expected):
    target, expected = target.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    result = office_day.test_cli_runner().invoke(args=["copy-db", "--to", target])
    assert result.exit_code == 1
    error = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and error[0].startswith(expected), result.output
    assert "s3cret" not in result.output
    assert not (tmp_path / "pickup.sqlite3").exists()


def test_copy_db_refuses_a_target_with_data(office_day, empty_target):
    runner = office_day.test_cli_runner()
    assert runner.invoke(args=["copy-db", "--to", empty_target]).exit_code == 0
    target = storage.open_database(empty_target)
    before = counts(target)
    result = runner.invoke(args=["copy-db", "--to", empty_target])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: the target {empty_target} is not empty (audit_log, distributions, users, "
        "allocation_runs, sites and 7 more hold rows); nothing was copied. Give a new, empty "
        "database"
    )
    assert counts(target) == before
    target.conn.close()


def test_copy_db_refuses_a_source_not_migrated(office_day, empty_target):
    with office_day.app_context():
        db = get_db()
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0015_offline_stations'")
    result = office_day.test_cli_runner().invoke(args=["copy-db", "--to", empty_target])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: the source database lacks the migrations 0015_offline_stations: run "
        "flask --app wsgi init-db first"
    )
    target = storage.open_database(empty_target)
    assert storage.table_names(target) == []  # not even migrated
    target.conn.close()
