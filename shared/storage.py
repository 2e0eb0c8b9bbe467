"""All SQL lives here: small named functions over a :class:`sqlite_utils.Database`.

Callers compose them inside :func:`transaction`. The SQL is kept portable where SQLite
and PostgreSQL both allow it (``INSERT ... ON CONFLICT``, ``UPDATE ... RETURNING``,
partial unique indexes) so that the service can later run on several nodes.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from shared.errors import NotFound, StorageUnavailable
from shared.messages import DEFAULT_LANGUAGE
from shared.migrations import migrations

Row = dict[str, Any]


# -- connection ---------------------------------------------------------------------------


def open_database(
    path: str | Path,
    busy_timeout_ms: int = 5000,
    tracer: Callable[[str, Any], None] | None = None,
) -> Database:
    """Open the database with WAL, a busy timeout and foreign keys on.

    ``isolation_level=None`` leaves transactions to :func:`transaction`, which starts them
    with ``BEGIN IMMEDIATE`` so that a read-then-write cannot race another writer.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = Database(conn, tracer=tracer)
    db.busy_timeout_ms = int(busy_timeout_ms)  # type: ignore[attr-defined]
    return db


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def pending_migrations(db: Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic unit of work. Nested calls become savepoints.

    ``BEGIN IMMEDIATE`` takes the write lock up front: two requests for the last place
    in a slot are serialised instead of both reading "one left". A database that stays
    busy past the timeout, or a full disk, rolls everything back and raises
    :class:`StorageUnavailable` with a message a caller can show.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        _begin_immediate(db)
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise _unavailable(exc) from exc


def _begin_immediate(db: Database) -> None:
    """``BEGIN IMMEDIATE``, retried with short sleeps while another writer holds the lock.

    SQLite's own busy handler sleeps 1 to 100 ms between tries, long after a booking
    transaction (about a millisecond) has let go; polling every millisecond or so takes
    the lock soon after it frees. The connection's busy timeout stays the deadline.
    """
    timeout_ms = getattr(db, "busy_timeout_ms", None)
    if timeout_ms is None:
        timeout_ms = db.conn.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline = time.monotonic() + timeout_ms / 1000
    db.conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.0003, 0.0015))
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def _unavailable(exc: sqlite3.OperationalError) -> Exception:
    message = str(exc).lower()
    if "locked" in message or "busy" in message:
        return StorageUnavailable("the service is busy; nothing was saved, please try again")
    if "full" in message:
        return StorageUnavailable("the server's disk is full; nothing was saved, tell the operator")
    return exc


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_db_time(moment: datetime) -> str:
    """Store times as UTC ISO 8601 text; they then sort correctly as strings."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every stored time must carry a time zone")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def from_db_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _rows(cursor: sqlite3.Cursor) -> Iterator[Row]:
    columns = [d[0] for d in cursor.description]
    return (dict(zip(columns, row, strict=True)) for row in cursor)


# Reads go through execute(), not sqlite-utils' query(): query() wraps every SELECT in its
# own SAVEPOINT and RELEASE, which doubled the statements of a booking webhook.
def _one(db: Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
    return next(_rows(db.execute(sql, params)), None)


def _all(db: Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
    return list(_rows(db.execute(sql, params)))


def _insert(db: Database, table: str, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = db.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
    )
    return cursor.fetchone()[0]


# -- distributions, sites, windows --------------------------------------------------------

DISTRIBUTION_FIELDS = (
    "name",
    "item",
    "item_key",
    "unit_name",
    "unit_name_en",
    "unit_size",
    "measure",
    "stock_units",
    "timezone",
    "slot_minutes",
    "capacity_people",
    "capacity_units",
    "early_minutes",
    "grace_minutes",
    "weight_basis",
    "allocation_method",
)


def insert_distribution(db: Database, fields: dict[str, Any], created_at: datetime) -> int:
    values = {k: fields[k] for k in DISTRIBUTION_FIELDS if k in fields}
    values["created_at"] = to_db_time(created_at)
    return _insert(db, "distributions", values)


def get_distribution(db: Database, distribution_id: int) -> Row:
    row = _one(db, "SELECT * FROM distributions WHERE id = ?", [distribution_id])
    if row is None:
        raise NotFound(f"distribution {distribution_id} does not exist")
    return row


def list_distributions(db: Database) -> list[Row]:
    return _all(db, "SELECT * FROM distributions ORDER BY id")


# A site's own values; a NULL capacity takes the distribution's.
SITE_FIELDS = ("name", "address", "capacity_people", "capacity_units")


def insert_site(db: Database, distribution_id: int, values: dict[str, Any]) -> int:
    return _insert(
        db, "sites", {"distribution_id": distribution_id, **{k: values.get(k) for k in SITE_FIELDS}}
    )


def update_site(db: Database, site_id: int, values: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in SITE_FIELDS)
    db.execute(
        f"UPDATE sites SET {assignments} WHERE id = ?",
        [*(values.get(k) for k in SITE_FIELDS), site_id],
    )


def delete_site(db: Database, site_id: int, now: datetime) -> None:
    """Delete a site; the scanner tokens that stood at it are revoked, not let loose."""
    db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE site_id = ? AND revoked_at IS NULL",
        [to_db_time(now), site_id],
    )
    db.execute("DELETE FROM sites WHERE id = ?", [site_id])


def list_sites(db: Database, distribution_id: int) -> list[Row]:
    return _all(db, "SELECT * FROM sites WHERE distribution_id = ? ORDER BY id", [distribution_id])


_SITE_VIEW_SQL = """
    SELECT st.*, d.name AS distribution_name, d.timezone,
           coalesce(st.capacity_people, d.capacity_people) AS slot_people,
           CASE WHEN st.capacity_units IS NULL THEN d.capacity_units
                ELSE st.capacity_units END AS slot_units
    FROM sites st JOIN distributions d ON d.id = st.distribution_id
"""


def find_site(db: Database, site_id: int) -> Row | None:
    """A site with its distribution's name and time zone, or None."""
    return _one(db, _SITE_VIEW_SQL + " WHERE st.id = ?", [site_id])


def sites_open_after(db: Database, moment: datetime | None) -> list[Row]:
    """Every site with a pickup window ending after ``moment`` (every site when None)."""
    return _all(
        db,
        _SITE_VIEW_SQL + " WHERE :moment IS NULL OR EXISTS (SELECT 1 FROM pickup_windows w "
        "WHERE w.site_id = st.id AND w.ends_at > :moment) ORDER BY d.id, st.id",
        {"moment": to_db_time(moment) if moment else None},
    )


def count_site_bookings(db: Database, site_id: int) -> int:
    """Live bookings in the site's slots: while there are any, the site cannot go."""
    return db.execute(
        "SELECT count(*) FROM bookings b JOIN slots s ON s.id = b.slot_id "
        "WHERE s.site_id = ? AND b.status != 'cancelled'",
        [site_id],
    ).fetchone()[0]


def insert_window(db: Database, site_id: int, starts_at: datetime, ends_at: datetime) -> int:
    return _insert(
        db,
        "pickup_windows",
        {"site_id": site_id, "starts_at": to_db_time(starts_at), "ends_at": to_db_time(ends_at)},
    )


def list_windows(db: Database, site_id: int) -> list[Row]:
    return _all(db, "SELECT * FROM pickup_windows WHERE site_id = ? ORDER BY starts_at", [site_id])


# -- recipients -----------------------------------------------------------------------------

RECIPIENT_FIELDS = (
    "name",
    "external_id",
    "town",
    "headcount",
    "population",
    "requested_units",
    "floor_units",
    "contact_name",
    "phone",
    "language",
    "priority",
    "earliest",
    "latest",
)


def insert_recipients(db: Database, distribution_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Insert roster rows; a row whose external id is already there updates it instead."""
    stored = (*RECIPIENT_FIELDS, "site_id")
    columns = ("distribution_id", *stored)
    updates = ", ".join(f"{c} = excluded.{c}" for c in stored)
    sql = (
        f"INSERT INTO recipients ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT (distribution_id, external_id) DO UPDATE SET {updates}"
    )
    params = [[distribution_id, *(_recipient_value(row, c) for c in stored)] for row in rows]
    db.conn.executemany(sql, params)
    return len(params)


_RECIPIENT_DEFAULTS = {
    "town": "",
    "floor_units": 0,
    "contact_name": "",
    "language": DEFAULT_LANGUAGE,
    "priority": 0,
}


def _recipient_value(row: dict[str, Any], column: str) -> Any:
    value = row.get(column)
    if value is None:
        return _RECIPIENT_DEFAULTS.get(column)
    return to_db_time(value) if isinstance(value, datetime) else value


def get_recipient(db: Database, recipient_id: int) -> Row:
    row = _one(db, "SELECT * FROM recipients WHERE id = ?", [recipient_id])
    if row is None:
        raise NotFound(f"recipient {recipient_id} does not exist")
    return row


def list_recipients(db: Database, distribution_id: int) -> list[Row]:
    return _all(
        db, "SELECT * FROM recipients WHERE distribution_id = ? ORDER BY id", [distribution_id]
    )


def find_recipients_by_phone(db: Database, phone: str) -> list[Row]:
    return _all(db, "SELECT * FROM recipients WHERE phone = ? ORDER BY id", [phone])


def count_recipients(db: Database, distribution_id: int) -> int:
    row = _one(
        db, "SELECT count(*) AS n FROM recipients WHERE distribution_id = ?", [distribution_id]
    )
    return row["n"] if row else 0


def insert_roster_preview(
    db: Database,
    token: str,
    distribution_id: int,
    filename: str,
    data: bytes,
    actor: str,
    now: datetime,
) -> None:
    db.execute(
        "INSERT INTO roster_previews (token, distribution_id, filename, data, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [token, distribution_id, filename, data, actor, to_db_time(now)],
    )


def get_roster_preview(
    db: Database, token: str, distribution_id: int, not_before: datetime
) -> Row | None:
    """The roster kept under ``token`` for this distribution, unless made before ``not_before``."""
    return _one(
        db,
        "SELECT * FROM roster_previews WHERE token = ? AND distribution_id = ? AND created_at >= ?",
        [token, distribution_id, to_db_time(not_before)],
    )


def delete_roster_previews(db: Database, before: datetime, token: str = "") -> None:
    """Forget the previews made before ``before``, and the one kept under ``token``."""
    db.execute(
        "DELETE FROM roster_previews WHERE created_at < ? OR token = ?",
        [to_db_time(before), token],
    )


# -- allotments -----------------------------------------------------------------------------


def insert_allocation_run(
    db: Database,
    distribution_id: int,
    method: str,
    stock_units: int,
    allocated_units: int,
    inputs: dict[str, Any],
    created_at: datetime,
) -> int:
    return _insert(
        db,
        "allocation_runs",
        {
            "distribution_id": distribution_id,
            "method": method,
            "stock_units": stock_units,
            "allocated_units": allocated_units,
            "inputs": json.dumps(inputs, ensure_ascii=False, sort_keys=True),
            "created_at": to_db_time(created_at),
        },
    )


def latest_allocation_run(db: Database, distribution_id: int) -> Row | None:
    return _one(
        db,
        "SELECT * FROM allocation_runs WHERE distribution_id = ? ORDER BY id DESC LIMIT 1",
        [distribution_id],
    )


def replace_allotments(
    db: Database, distribution_id: int, run_id: int, units_by_recipient: dict[int, int]
) -> None:
    db.execute("DELETE FROM allotments WHERE distribution_id = ?", [distribution_id])
    db.conn.executemany(
        "INSERT INTO allotments (recipient_id, distribution_id, units, allocation_run_id) "
        "VALUES (?, ?, ?, ?)",
        [(rid, distribution_id, units, run_id) for rid, units in units_by_recipient.items()],
    )


def allotments_by_recipient(db: Database, distribution_id: int) -> dict[int, int]:
    rows = db.execute(
        "SELECT recipient_id, units FROM allotments WHERE distribution_id = ?", [distribution_id]
    ).fetchall()
    return dict(rows)


def allotment_units(db: Database, recipient_id: int) -> int | None:
    row = _one(db, "SELECT units FROM allotments WHERE recipient_id = ?", [recipient_id])
    return row["units"] if row else None


# -- slots and holds ------------------------------------------------------------------------


def insert_slots(db: Database, distribution_id: int, site_id: int, slots: Iterable[Any]) -> None:
    """Insert slot specs (objects with start, end, capacity_people, capacity_units)."""
    db.conn.executemany(
        "INSERT INTO slots (distribution_id, site_id, starts_at, ends_at, capacity_people, "
        "capacity_units) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                distribution_id,
                site_id,
                to_db_time(s.start),
                to_db_time(s.end),
                s.capacity_people,
                s.capacity_units,
            )
            for s in slots
        ],
    )


def delete_unbooked_slots(db: Database, distribution_id: int, site_id: int | None = None) -> None:
    """Delete the slots no booking points to: the distribution's, or one site's."""
    db.execute(
        "DELETE FROM slots WHERE distribution_id = ? AND (? IS NULL OR site_id = ?) "
        "AND id NOT IN (SELECT slot_id FROM bookings)",
        [distribution_id, site_id, site_id],
    )


def list_slots(db: Database, distribution_id: int) -> list[Row]:
    return _all(
        db,
        "SELECT * FROM slots WHERE distribution_id = ? ORDER BY starts_at, site_id",
        [distribution_id],
    )


def get_slot(db: Database, slot_id: int) -> Row:
    row = _one(db, "SELECT * FROM slots WHERE id = ?", [slot_id])
    if row is None:
        raise NotFound(f"slot {slot_id} does not exist")
    return row


def lock_slot(db: Database, slot_id: int) -> Row:
    """Take the slot's row lock (a no-op bump) and return the slot.

    On SQLite the transaction already holds the write lock; on PostgreSQL this UPDATE
    is what keeps two transactions from both counting "one place left".
    """
    row = db.execute(
        "UPDATE slots SET version = version + 1 WHERE id = ? "
        "RETURNING id, distribution_id, site_id, starts_at, ends_at, capacity_people, "
        "capacity_units",
        [slot_id],
    ).fetchone()
    if row is None:
        raise NotFound(f"slot {slot_id} does not exist")
    keys = (
        "id",
        "distribution_id",
        "site_id",
        "starts_at",
        "ends_at",
        "capacity_people",
        "capacity_units",
    )
    return dict(zip(keys, row, strict=True))


_SLOT_LOAD_SQL = """
    SELECT s.id AS slot_id,
           coalesce(b.people, 0) + coalesce(h.people, 0) AS people,
           coalesce(b.units, 0) + coalesce(h.units, 0) AS units
    FROM slots s
    LEFT JOIN (
        SELECT slot_id, count(*) AS people, sum(units) AS units
        FROM bookings WHERE status != 'cancelled' GROUP BY slot_id
    ) b ON b.slot_id = s.id
    LEFT JOIN (
        SELECT sh.slot_id, count(*) AS people, sum(coalesce(a.units, 0)) AS units
        FROM slot_holds sh LEFT JOIN allotments a ON a.recipient_id = sh.recipient_id
        WHERE sh.expires_at > :now AND sh.recipient_id != :exclude
        GROUP BY sh.slot_id
    ) h ON h.slot_id = s.id
"""


def slot_loads(
    db: Database, distribution_id: int, now: datetime, exclude_recipient: int = 0
) -> dict[int, tuple[int, int]]:
    """People and units per slot: live bookings plus unexpired holds of others."""
    rows = db.execute(
        _SLOT_LOAD_SQL + " WHERE s.distribution_id = :dist",
        {"now": to_db_time(now), "exclude": exclude_recipient, "dist": distribution_id},
    ).fetchall()
    return {slot_id: (people, units) for slot_id, people, units in rows}


def slot_load(
    db: Database, slot_id: int, now: datetime, exclude_recipient: int = 0
) -> tuple[int, int]:
    row = db.execute(
        _SLOT_LOAD_SQL + " WHERE s.id = :slot",
        {"now": to_db_time(now), "exclude": exclude_recipient, "slot": slot_id},
    ).fetchone()
    if row is None:
        raise NotFound(f"slot {slot_id} does not exist")
    return row[1], row[2]


def replace_holds(
    db: Database, recipient_id: int, slot_ids: Sequence[int], expires_at: datetime
) -> None:
    db.execute("DELETE FROM slot_holds WHERE recipient_id = ?", [recipient_id])
    db.conn.executemany(
        "INSERT INTO slot_holds (slot_id, recipient_id, expires_at) VALUES (?, ?, ?)",
        [(slot_id, recipient_id, to_db_time(expires_at)) for slot_id in slot_ids],
    )


def held_slot_ids(db: Database, recipient_id: int, since: datetime | None) -> list[int]:
    """Slots held for the recipient that are still held at ``since`` (all if None)."""
    cutoff = to_db_time(since) if since else ""
    rows = db.execute(
        "SELECT slot_id FROM slot_holds WHERE recipient_id = ? AND expires_at > ? ORDER BY slot_id",
        [recipient_id, cutoff],
    ).fetchall()
    return [r[0] for r in rows]


def release_holds(db: Database, recipient_id: int) -> None:
    db.execute("DELETE FROM slot_holds WHERE recipient_id = ?", [recipient_id])


def purge_expired_holds(db: Database, now: datetime) -> int:
    return db.execute("DELETE FROM slot_holds WHERE expires_at <= ?", [to_db_time(now)]).rowcount


# -- bookings and vouchers ----------------------------------------------------------------


def insert_booking(
    db: Database,
    distribution_id: int,
    recipient_id: int,
    slot_id: int,
    units: int,
    now: datetime,
) -> int:
    stamp = to_db_time(now)
    return _insert(
        db,
        "bookings",
        {
            "distribution_id": distribution_id,
            "recipient_id": recipient_id,
            "slot_id": slot_id,
            "units": units,
            "status": "booked",
            "created_at": stamp,
            "updated_at": stamp,
        },
    )


def live_booking_for(db: Database, recipient_id: int) -> Row | None:
    return _one(
        db,
        "SELECT * FROM bookings WHERE recipient_id = ? AND status != 'cancelled'",
        [recipient_id],
    )


def live_booking_units(db: Database, distribution_id: int) -> dict[int, tuple[int, int]]:
    """recipient id -> (booking id, units) of every live booking of a distribution."""
    rows = db.execute(
        "SELECT recipient_id, id, units FROM bookings WHERE distribution_id = ? "
        "AND status != 'cancelled'",
        [distribution_id],
    )
    return {recipient_id: (booking_id, units) for recipient_id, booking_id, units in rows}


def set_bookings_units(db: Database, units_by_booking: dict[int, int], now: datetime) -> None:
    """``set_booking_units`` for many bookings in one ``executemany``."""
    stamp = to_db_time(now)
    db.conn.executemany(
        "UPDATE bookings SET units = ?, updated_at = ? WHERE id = ?",
        [(units, stamp, booking_id) for booking_id, units in units_by_booking.items()],
    )


def booking_states(db: Database, distribution_id: int) -> list[Row]:
    """Every booking of a distribution with its slot, check-in and units handed over."""
    return _all(
        db,
        """
        SELECT b.id, b.recipient_id, b.slot_id, b.status, b.units, b.checked_in_at,
               b.queue_number, s.starts_at, s.ends_at, r.name AS recipient_name, r.phone,
               r.language, coalesce(h.units, 0) AS handed_units
        FROM bookings b
        JOIN slots s ON s.id = b.slot_id
        JOIN recipients r ON r.id = b.recipient_id
        LEFT JOIN (
            SELECT booking_id, sum(units) AS units FROM handovers
            WHERE undone_at IS NULL GROUP BY booking_id
        ) h ON h.booking_id = b.id
        WHERE b.distribution_id = ?
        ORDER BY s.starts_at, b.id
        """,
        [distribution_id],
    )


def overdue_bookings(db: Database, distribution_id: int, cutoff: datetime) -> list[Row]:
    """Live bookings whose slot ended before ``cutoff`` with no check-in and no handover."""
    return _all(
        db,
        """
        SELECT b.* FROM bookings b JOIN slots s ON s.id = b.slot_id
        WHERE b.distribution_id = ? AND b.status = 'booked' AND b.checked_in_at IS NULL
          AND s.ends_at < ?
          AND NOT EXISTS (SELECT 1 FROM handovers h WHERE h.booking_id = b.id
                          AND h.undone_at IS NULL)
        ORDER BY s.starts_at, b.id
        """,
        [distribution_id, to_db_time(cutoff)],
    )


def mark_missed(db: Database, booking_id: int, now: datetime) -> bool:
    cursor = db.execute(
        "UPDATE bookings SET status = 'missed', updated_at = ? WHERE id = ? AND status = 'booked'",
        [to_db_time(now), booking_id],
    )
    return cursor.rowcount == 1


def unbooked_allotted_recipients(db: Database, distribution_id: int) -> list[Row]:
    """Recipients with an allotment and no live booking: the waiting list for freed places."""
    return _all(
        db,
        """
        SELECT r.*, a.units FROM recipients r JOIN allotments a ON a.recipient_id = r.id
        WHERE r.distribution_id = ? AND a.units > 0
          AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.recipient_id = r.id
                          AND b.status != 'cancelled')
        ORDER BY r.priority DESC, r.id
        """,
        [distribution_id],
    )


def live_booked_recipient_ids(db: Database, distribution_id: int) -> set[int]:
    rows = db.execute(
        "SELECT recipient_id FROM bookings WHERE distribution_id = ? AND status != 'cancelled'",
        [distribution_id],
    ).fetchall()
    return {r[0] for r in rows}


def get_booking(db: Database, booking_id: int) -> Row:
    row = _one(db, "SELECT * FROM bookings WHERE id = ?", [booking_id])
    if row is None:
        raise NotFound(f"booking {booking_id} does not exist")
    return row


def move_booking(db: Database, booking_id: int, slot_id: int, now: datetime) -> None:
    """Move a booking to another slot; a missed booking that is moved is live again."""
    db.execute(
        "UPDATE bookings SET slot_id = ?, status = 'booked', updated_at = ? WHERE id = ?",
        [slot_id, to_db_time(now), booking_id],
    )


def set_booking_units(db: Database, booking_id: int, units: int, now: datetime) -> None:
    db.execute(
        "UPDATE bookings SET units = ?, updated_at = ? WHERE id = ?",
        [units, to_db_time(now), booking_id],
    )


def cancel_booking_row(db: Database, booking_id: int, now: datetime) -> None:
    stamp = to_db_time(now)
    db.execute(
        "UPDATE bookings SET status = 'cancelled', cancelled_at = ?, updated_at = ? WHERE id = ?",
        [stamp, stamp, booking_id],
    )


def mark_checked_in(db: Database, booking_id: int, now: datetime, queue_number: int) -> bool:
    """Set the check-in once; returns False if it was already set (idempotent)."""
    cursor = db.execute(
        "UPDATE bookings SET checked_in_at = ?, queue_number = ?, updated_at = ? "
        "WHERE id = ? AND checked_in_at IS NULL",
        [to_db_time(now), queue_number, to_db_time(now), booking_id],
    )
    return cursor.rowcount == 1


def next_queue_number(db: Database, site_id: int, day_start: datetime, day_end: datetime) -> int:
    """The next queue number at a site for the day bounded by ``day_start``/``day_end``."""
    row = db.execute(
        "SELECT coalesce(max(b.queue_number), 0) FROM bookings b JOIN slots s "
        "ON s.id = b.slot_id WHERE s.site_id = ? AND b.checked_in_at >= ? "
        "AND b.checked_in_at < ?",
        [site_id, to_db_time(day_start), to_db_time(day_end)],
    ).fetchone()
    return row[0] + 1


VOUCHER_SERIALS = 10**7  # 7-digit serials


def insert_voucher(db: Database, booking_id: int, make_code: Any, now: datetime) -> Row:
    """Give a booking its voucher under a random unused 7-digit serial.

    ``make_code(serial)`` turns the serial into the full code. A random serial says
    nothing about how many vouchers exist; a clash is retried.
    """
    for _ in range(50):
        serial = secrets.randbelow(VOUCHER_SERIALS)
        code = make_code(serial)
        cursor = db.execute(
            "INSERT INTO vouchers (serial, code, booking_id, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [serial, code, booking_id, to_db_time(now)],
        )
        if cursor.rowcount == 1:
            return {"serial": serial, "code": code, "booking_id": booking_id}
    raise RuntimeError("could not find a free voucher serial; the serial space is nearly full")


def insert_bookings_with_vouchers(
    db: Database,
    distribution_id: int,
    placements: Sequence[tuple[int, int, int]],
    make_code: Callable[[int], str],
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch: int = 10_000,
) -> int:
    """Book many recipients at once, each with a voucher under a random unused serial.

    ``placements`` are ``(recipient_id, slot_id, units)``. The serials in use are read once
    and the new ones drawn in Python (the caller's :func:`transaction` holds the write lock,
    so nobody else can take one meanwhile); then each batch of ``batch`` rows is two
    ``executemany`` statements and one read of the new bookings' ids, and ``progress`` is
    told how many rows it wrote. Run it inside :func:`transaction`: all or nothing.
    """
    stamp = to_db_time(now)
    used = {row[0] for row in db.execute("SELECT serial FROM vouchers")}
    if len(used) + len(placements) > VOUCHER_SERIALS // 2:
        raise RuntimeError("could not find free voucher serials; the serial space is nearly full")
    for start in range(0, len(placements), batch):
        chunk = placements[start : start + batch]
        # Rows inserted now get ids above every existing one (SQLite's rowid is max + 1).
        last_id = db.execute("SELECT coalesce(max(id), 0) FROM bookings").fetchone()[0]
        db.conn.executemany(
            "INSERT INTO bookings (distribution_id, recipient_id, slot_id, units, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 'booked', ?, ?)",
            [(distribution_id, rid, sid, units, stamp, stamp) for rid, sid, units in chunk],
        )
        booking_of = dict(
            db.execute("SELECT recipient_id, id FROM bookings WHERE id > ?", [last_id])
        )
        vouchers = []
        for recipient_id, _slot_id, _units in chunk:
            serial = secrets.randbelow(VOUCHER_SERIALS)
            while serial in used:
                serial = secrets.randbelow(VOUCHER_SERIALS)
            used.add(serial)
            vouchers.append((serial, make_code(serial), booking_of[recipient_id], stamp))
        db.conn.executemany(
            "INSERT INTO vouchers (serial, code, booking_id, created_at) VALUES (?, ?, ?, ?)",
            vouchers,
        )
        if progress:
            progress(len(chunk))
    return len(placements)


def used_serials(db: Database) -> int:
    return db.execute("SELECT count(*) FROM vouchers").fetchone()[0]


_VOUCHER_VIEW_SQL = """
    SELECT v.serial, v.code, v.created_at AS issued_at,
           b.id AS booking_id, b.status, b.units, b.checked_in_at, b.queue_number,
           b.called_at, b.skipped_at, b.cancelled_at, b.distribution_id,
           b.updated_at AS booking_updated_at,
           s.id AS slot_id, s.starts_at, s.ends_at, s.site_id,
           st.name AS site_name, st.address AS site_address,
           r.id AS recipient_id, r.name AS recipient_name, r.external_id, r.contact_name,
           r.phone, r.language, r.town,
           d.name AS distribution_name, d.item, d.item_key, d.unit_name, d.unit_name_en,
           d.unit_size, d.measure, d.timezone, d.early_minutes, d.grace_minutes,
           coalesce(ho.units, 0) AS handed_units, ho.last_at AS last_handed_at
    FROM vouchers v
    JOIN bookings b ON b.id = v.booking_id
    JOIN slots s ON s.id = b.slot_id
    JOIN sites st ON st.id = s.site_id
    JOIN recipients r ON r.id = b.recipient_id
    JOIN distributions d ON d.id = b.distribution_id
    LEFT JOIN (
        SELECT booking_id, sum(units) AS units, max(handed_at) AS last_at
        FROM handovers WHERE undone_at IS NULL GROUP BY booking_id
    ) ho ON ho.booking_id = b.id
"""


def voucher_view(db: Database, serial: int) -> Row | None:
    """Everything needed to judge and show a voucher, in one query."""
    return _one(db, _VOUCHER_VIEW_SQL + " WHERE v.serial = ?", [serial])


def voucher_view_by_booking(db: Database, booking_id: int) -> Row | None:
    return _one(db, _VOUCHER_VIEW_SQL + " WHERE b.id = ?", [booking_id])


def voucher_views_for_distribution(db: Database, distribution_id: int) -> list[Row]:
    return list(iter_voucher_views_for_distribution(db, distribution_id))


def iter_voucher_views_for_distribution(db: Database, distribution_id: int) -> Iterator[Row]:
    """The live bookings' voucher views, read one by one as the caller takes them."""
    return _rows(
        db.execute(
            _VOUCHER_VIEW_SQL + " WHERE b.distribution_id = ? AND b.status != 'cancelled' "
            "ORDER BY s.starts_at, r.id",
            [distribution_id],
        )
    )


# -- handovers ------------------------------------------------------------------------------


def handed_units(db: Database, booking_id: int) -> int:
    return db.execute(
        "SELECT coalesce(sum(units), 0) FROM handovers WHERE booking_id = ? AND undone_at IS NULL",
        [booking_id],
    ).fetchone()[0]


def last_handover(db: Database, booking_id: int) -> Row | None:
    return _one(
        db,
        "SELECT * FROM handovers WHERE booking_id = ? AND undone_at IS NULL "
        "ORDER BY handed_at DESC, id DESC LIMIT 1",
        [booking_id],
    )


def insert_handover(
    db: Database,
    booking_id: int,
    units: int,
    staff: str,
    station: str,
    now: datetime,
    api_token_id: int | None = None,
    overridden: str | None = None,
    override_reason: str | None = None,
    override_note: str | None = None,
) -> int:
    return _insert(
        db,
        "handovers",
        {
            "booking_id": booking_id,
            "units": units,
            "staff": staff,
            "station": station,
            "handed_at": to_db_time(now),
            "api_token_id": api_token_id,
            "overridden": overridden,
            "override_reason": override_reason,
            "override_note": override_note,
        },
    )


def get_handover(db: Database, handover_id: int) -> Row:
    row = _one(db, "SELECT * FROM handovers WHERE id = ?", [handover_id])
    if row is None:
        raise NotFound(f"handover {handover_id} does not exist")
    return row


def mark_handover_undone(db: Database, handover_id: int, staff: str, now: datetime) -> bool:
    cursor = db.execute(
        "UPDATE handovers SET undone_at = ?, undone_by = ? WHERE id = ? AND undone_at IS NULL",
        [to_db_time(now), staff, handover_id],
    )
    return cursor.rowcount == 1


def ledger_rows(db: Database, distribution_id: int) -> list[Row]:
    """One row per handover that stands, with who received it and who handed it."""
    return _all(
        db,
        """
        SELECT r.name AS recipient, r.external_id, h.units, h.handed_at, h.staff, h.station,
               h.overridden, h.override_reason, h.override_note,
               s.starts_at AS slot_start, s.ends_at AS slot_end, d.unit_size, d.measure,
               v.code AS voucher_code
        FROM handovers h
        JOIN bookings b ON b.id = h.booking_id
        JOIN recipients r ON r.id = b.recipient_id
        JOIN slots s ON s.id = b.slot_id
        JOIN distributions d ON d.id = b.distribution_id
        LEFT JOIN vouchers v ON v.booking_id = b.id
        WHERE b.distribution_id = ? AND h.undone_at IS NULL
        ORDER BY h.handed_at, h.id
        """,
        [distribution_id],
    )


def ledger_totals(db: Database, distribution_id: int) -> Row:
    """Stock, allotted, handed over and the split of what is still out, in units."""
    row = _one(
        db,
        """
        SELECT d.stock_units,
               (SELECT coalesce(sum(units), 0) FROM allotments
                 WHERE distribution_id = d.id) AS allotted,
               (SELECT coalesce(sum(h.units), 0) FROM handovers h
                 JOIN bookings b ON b.id = h.booking_id
                 WHERE b.distribution_id = d.id AND h.undone_at IS NULL) AS handed_over,
               (SELECT coalesce(sum(a.units), 0) FROM allotments a
                 JOIN bookings b ON b.recipient_id = a.recipient_id AND b.status = 'booked'
                 WHERE a.distribution_id = d.id) AS allotted_booked,
               (SELECT coalesce(sum(h.units), 0) FROM handovers h
                 JOIN bookings b ON b.id = h.booking_id
                 WHERE b.distribution_id = d.id AND b.status = 'booked'
                   AND h.undone_at IS NULL) AS handed_booked
        FROM distributions d WHERE d.id = ?
        """,
        [distribution_id],
    )
    if row is None:
        raise NotFound(f"distribution {distribution_id} does not exist")
    return row


def handed_units_by_recipient(db: Database, distribution_id: int) -> dict[int, int]:
    rows = db.execute(
        "SELECT b.recipient_id, sum(h.units) FROM handovers h JOIN bookings b "
        "ON b.id = h.booking_id WHERE b.distribution_id = ? AND h.undone_at IS NULL "
        "GROUP BY b.recipient_id",
        [distribution_id],
    ).fetchall()
    return dict(rows)


def count_live_bookings(db: Database, distribution_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM bookings WHERE distribution_id = ? AND status != 'cancelled'",
        [distribution_id],
    ).fetchone()[0]


def count_handovers(db: Database, distribution_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM handovers h JOIN bookings b ON b.id = h.booking_id "
        "WHERE b.distribution_id = ?",
        [distribution_id],
    ).fetchone()[0]


# -- audit log ------------------------------------------------------------------------------


def audit(
    db: Database,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        [
            to_db_time(now),
            actor,
            action,
            subject,
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ],
    )


def audit_entries(db: Database, subject: str | None = None, limit: int = 200) -> list[Row]:
    if subject is None:
        return _all(db, "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])
    return _all(
        db, "SELECT * FROM audit_log WHERE subject = ? ORDER BY id DESC LIMIT ?", [subject, limit]
    )


def integrity_check(db: Database) -> str:
    return db.execute("PRAGMA integrity_check").fetchone()[0]


# -- pickup point ---------------------------------------------------------------------------


def insert_user(db: Database, username: str, password_hash: str, role: str, now: datetime) -> int:
    return _insert(
        db,
        "users",
        {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": to_db_time(now),
        },
    )


def get_user_by_name(db: Database, username: str) -> Row | None:
    return _one(db, "SELECT * FROM users WHERE username = ?", [username])


def get_user(db: Database, user_id: int) -> Row | None:
    return _one(db, "SELECT * FROM users WHERE id = ?", [user_id])


def list_users(db: Database) -> list[Row]:
    """Every account, without its password hash, enabled ones first, by name."""
    return _all(
        db,
        "SELECT u.id, u.username, u.role, u.created_at, u.disabled_at, "
        "(SELECT count(*) FROM user_sessions s WHERE s.user_id = u.id) AS sessions "
        "FROM users u ORDER BY u.disabled_at IS NOT NULL, u.username",
    )


def count_enabled_admins(db: Database) -> int:
    return db.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL"
    ).fetchone()[0]


def set_user_role(db: Database, user_id: int, role: str) -> None:
    db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])


def set_user_password(db: Database, user_id: int, password_hash: str) -> None:
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def set_user_disabled(db: Database, user_id: int, disabled_at: datetime | None) -> None:
    db.execute(
        "UPDATE users SET disabled_at = ? WHERE id = ?",
        [to_db_time(disabled_at) if disabled_at else None, user_id],
    )


def insert_user_session(db: Database, token_hash: str, user_id: int, now: datetime) -> int:
    return _insert(
        db,
        "user_sessions",
        {"token_hash": token_hash, "user_id": user_id, "created_at": to_db_time(now)},
    )


def user_of_session(db: Database, token_hash: str) -> Row | None:
    """The enabled user (id, username, role) a session token belongs to, or None."""
    return _one(
        db,
        "SELECT u.id, u.username, u.role FROM user_sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND u.disabled_at IS NULL",
        [token_hash],
    )


def delete_user_session(db: Database, token_hash: str) -> None:
    db.execute("DELETE FROM user_sessions WHERE token_hash = ?", [token_hash])


def delete_user_sessions(db: Database, user_id: int) -> int:
    """End every session of a user; returns how many there were."""
    return db.execute("DELETE FROM user_sessions WHERE user_id = ?", [user_id]).rowcount


def insert_api_token(
    db: Database,
    token_hash: str,
    role: str,
    device: str,
    now: datetime,
    site_id: int | None = None,
) -> int:
    return _insert(
        db,
        "api_tokens",
        {
            "token_hash": token_hash,
            "role": role,
            "device": device,
            "created_at": to_db_time(now),
            "site_id": site_id,
        },
    )


def api_token_by_hash(db: Database, token_hash: str) -> Row | None:
    return _one(
        db, "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", [token_hash]
    )


def touch_api_token(db: Database, token_id: int, now: datetime) -> None:
    db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [to_db_time(now), token_id])


SAFETY_FIELDS = (
    "title",
    "hazards",
    "protective_equipment",
    "dilution",
    "storage",
    "never_mix",
    "first_aid",
    "pictograms",
    "sms",
)


def get_safety_content(db: Database, item_key: str, language: str) -> Row | None:
    return _one(
        db,
        "SELECT * FROM safety_contents WHERE item_key = ? AND language = ?",
        [item_key, language],
    )


def list_safety_contents(db: Database) -> list[Row]:
    return _all(db, "SELECT * FROM safety_contents ORDER BY item_key, language")


def upsert_safety_content(
    db: Database, item_key: str, language: str, values: dict[str, str], now: datetime, actor: str
) -> None:
    """Insert or replace one item's instructions in one language (``values`` as stored)."""
    columns = ("item_key", "language", *SAFETY_FIELDS, "updated_at", "updated_by")
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*SAFETY_FIELDS, "updated_at", "updated_by"))
    db.execute(
        f"INSERT INTO safety_contents ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT (item_key, language) DO UPDATE SET {updates}",
        [item_key, language, *(values[f] for f in SAFETY_FIELDS), to_db_time(now), actor],
    )


def insert_acknowledgement(
    db: Database, booking_id: int, item_key: str, language: str, channel: str, now: datetime
) -> bool:
    """Record that the instructions were acknowledged; False if they already were."""
    cursor = db.execute(
        "INSERT INTO safety_acknowledgements (booking_id, item_key, language, channel, "
        "acknowledged_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (booking_id, item_key) DO NOTHING",
        [booking_id, item_key, language, channel, to_db_time(now)],
    )
    return cursor.rowcount == 1


def get_acknowledgement(db: Database, booking_id: int) -> Row | None:
    return _one(
        db,
        "SELECT * FROM safety_acknowledgements WHERE booking_id = ? ORDER BY id LIMIT 1",
        [booking_id],
    )


def checked_in_queue(
    db: Database,
    day_start: datetime,
    day_end: datetime,
    site_id: int | None = None,
    limit: int = 100,
) -> list[Row]:
    """Vouchers checked in between ``day_start`` and ``day_end`` with units still due, at
    ``site_id`` (every site when None), in queue order."""
    return _all(
        db,
        f"SELECT * FROM ({_VOUCHER_VIEW_SQL}) WHERE checked_in_at >= :start "
        "AND checked_in_at < :end AND (:site IS NULL OR site_id = :site) "
        "AND status = 'booked' AND handed_units < units ORDER BY queue_number, site_id "
        "LIMIT :limit",
        {
            "start": to_db_time(day_start),
            "end": to_db_time(day_end),
            "site": site_id,
            "limit": limit,
        },
    )


# Calling and skipping leave ``updated_at`` alone: that marks a change to the booking
# itself (its slot or units), which the reminders look at.
def mark_called(db: Database, booking_id: int, now: datetime) -> None:
    """Call (or call again) a checked-in number: it shows on the board, not skipped."""
    db.execute(
        "UPDATE bookings SET called_at = ?, skipped_at = NULL WHERE id = ?",
        [to_db_time(now), booking_id],
    )


def mark_skipped(db: Database, booking_id: int, now: datetime) -> None:
    """Take a called number off the board."""
    db.execute("UPDATE bookings SET skipped_at = ? WHERE id = ?", [to_db_time(now), booking_id])


def get_site(db: Database, site_id: int) -> Row:
    row = _one(
        db,
        "SELECT st.*, d.timezone, d.name AS distribution_name FROM sites st "
        "JOIN distributions d ON d.id = st.distribution_id WHERE st.id = ?",
        [site_id],
    )
    if row is None:
        raise NotFound(f"site {site_id} does not exist")
    return row


def site_ids(db: Database, limit: int = 2) -> list[int]:
    """The ids of the first ``limit`` sites: enough to tell whether there is only one."""
    return [r[0] for r in db.execute("SELECT id FROM sites ORDER BY id LIMIT ?", [limit])]


_SEARCH_WHERE = (
    "WHERE recipient_name LIKE :like OR contact_name LIKE :like "
    "OR (:digits IS NOT NULL AND (phone LIKE :digits OR code LIKE :digits))"
)


def search_vouchers(
    db: Database, query: str, digits: str, limit: int = 20, offset: int = 0
) -> list[Row]:
    """Vouchers whose recipient or contact name contains ``query``, or whose phone or
    code contains ``digits`` (when given); live bookings first, then by slot."""
    return _all(
        db,
        f"SELECT * FROM ({_VOUCHER_VIEW_SQL}) {_SEARCH_WHERE} "
        "ORDER BY status != 'booked', starts_at, serial LIMIT :limit OFFSET :offset",
        {**_search_params(query, digits), "limit": limit, "offset": offset},
    )


def count_vouchers_matching(db: Database, query: str, digits: str) -> int:
    """How many vouchers :func:`search_vouchers` finds in all its pages."""
    return db.execute(
        f"SELECT count(*) FROM ({_VOUCHER_VIEW_SQL}) {_SEARCH_WHERE}",
        _search_params(query, digits),
    ).fetchone()[0]


def _search_params(query: str, digits: str) -> dict[str, Any]:
    return {"like": f"%{query}%", "digits": f"%{digits}%" if digits else None}


def handovers_for_booking(db: Database, booking_id: int) -> list[Row]:
    return _all(
        db, "SELECT * FROM handovers WHERE booking_id = ? ORDER BY handed_at, id", [booking_id]
    )


# -- sms and ivr ----------------------------------------------------------------------------

OUTBOX_FINAL = ("delivered", "failed", "undelivered", "opted_out")


def get_inbound(db: Database, message_id: str) -> Row | None:
    return _one(db, "SELECT * FROM sms_inbound WHERE message_id = ?", [message_id])


def record_inbound(
    db: Database,
    message_id: str,
    phone: str,
    to_phone: str | None,
    body: str,
    reply: str,
    language: str,
    now: datetime,
) -> None:
    db.execute(
        "INSERT INTO sms_inbound (message_id, phone, to_phone, body, reply, language, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [message_id, phone, to_phone, body, reply, language, to_db_time(now)],
    )


def inbound_for_phone(db: Database, phone: str, limit: int = 50) -> list[Row]:
    return _all(
        db,
        "SELECT * FROM sms_inbound WHERE phone = ? ORDER BY received_at DESC, rowid DESC LIMIT ?",
        [phone, limit],
    )


def record_gateway_event(
    db: Database, gateway: str, event_id: str, event: str, now: datetime
) -> bool:
    """Remember a gateway's webhook event; False if it was seen before (a retry)."""
    return (
        db.execute(
            "INSERT INTO gateway_events (gateway, event_id, event, received_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [gateway, event_id, event, to_db_time(now)],
        ).rowcount
        == 1
    )


def phone_languages(db: Database) -> dict[str, str]:
    """phone -> the language that phone asked for, for every phone that asked for one."""
    rows = db.execute(
        "SELECT phone, language FROM phone_prefs WHERE language IS NOT NULL AND language != ''"
    )
    return dict(rows.fetchall())


def get_phone_prefs(db: Database, phone: str) -> Row | None:
    return _one(db, "SELECT * FROM phone_prefs WHERE phone = ?", [phone])


def set_phone_language(db: Database, phone: str, language: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO phone_prefs (phone, language, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
        "updated_at = excluded.updated_at",
        [phone, language, to_db_time(now)],
    )


def set_phone_opt_out(db: Database, phone: str, opted_out: bool, now: datetime) -> None:
    stamp = to_db_time(now)
    db.execute(
        "INSERT INTO phone_prefs (phone, opted_out_at, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone) DO UPDATE SET opted_out_at = excluded.opted_out_at, "
        "updated_at = excluded.updated_at",
        [phone, stamp if opted_out else None, stamp],
    )


def is_opted_out(db: Database, phone: str) -> bool:
    row = get_phone_prefs(db, phone)
    return bool(row and row["opted_out_at"])


def get_conversation(db: Database, phone: str) -> Row | None:
    return _one(db, "SELECT * FROM phone_conversations WHERE phone = ?", [phone])


def set_conversation(
    db: Database,
    phone: str,
    recipient_id: int,
    state: str,
    offered: Sequence[int],
    expires_at: datetime,
    now: datetime,
) -> None:
    db.execute(
        "INSERT INTO phone_conversations (phone, recipient_id, state, offered, expires_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (phone) DO UPDATE SET "
        "recipient_id = excluded.recipient_id, state = excluded.state, "
        "offered = excluded.offered, expires_at = excluded.expires_at, "
        "updated_at = excluded.updated_at",
        [
            phone,
            recipient_id,
            state,
            json.dumps(list(offered)),
            to_db_time(expires_at),
            to_db_time(now),
        ],
    )


def clear_conversation(db: Database, phone: str) -> None:
    db.execute("DELETE FROM phone_conversations WHERE phone = ?", [phone])


def get_ivr_step(db: Database, call_id: str, step: str) -> Row | None:
    return _one(db, "SELECT * FROM ivr_steps WHERE call_id = ? AND step = ?", [call_id, step])


def record_ivr_step(db: Database, call_id: str, step: str, turn: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO ivr_steps (call_id, step, turn, created_at) VALUES (?, ?, ?, ?)",
        [call_id, step, turn, to_db_time(now)],
    )


def recipient_external_ids(db: Database) -> list[Row]:
    """Every recipient's id and external id (the IVR matches keypad digits against them)."""
    return _all(db, "SELECT id, external_id, distribution_id FROM recipients ORDER BY id")


def recipients_with_phone(db: Database, distribution_id: int) -> list[Row]:
    return _all(
        db,
        "SELECT * FROM recipients WHERE distribution_id = ? AND phone IS NOT NULL "
        "AND phone != '' ORDER BY id",
        [distribution_id],
    )


def roster_phones(db: Database) -> list[Row]:
    """Every distinct roster phone with one recipient's name and distribution, for pickers."""
    return _all(
        db,
        "SELECT phone, min(id) AS recipient_id, min(name) AS name, "
        "min(distribution_id) AS distribution_id, count(*) AS recipients "
        "FROM recipients WHERE phone IS NOT NULL AND phone != '' "
        "GROUP BY phone ORDER BY phone",
    )


def bookings_starting_between(db: Database, start: datetime, end: datetime) -> list[Row]:
    """Live, not yet checked-in bookings whose slot starts in ``(start, end]``."""
    return _all(
        db,
        _VOUCHER_VIEW_SQL + " WHERE b.status = 'booked' AND b.checked_in_at IS NULL "
        "AND r.phone IS NOT NULL AND r.phone != '' AND s.starts_at > ? AND s.starts_at <= ? "
        "ORDER BY s.starts_at, b.id",
        [to_db_time(start), to_db_time(end)],
    )


def enqueue_sms(
    db: Database,
    phone: str,
    body: str,
    kind: str,
    now: datetime,
    dedup_key: str | None = None,
) -> int | None:
    """Queue one SMS; returns its id, or None if ``dedup_key`` was already queued."""
    stamp = to_db_time(now)
    row = db.execute(
        "INSERT INTO sms_outbox (phone, body, kind, dedup_key, next_attempt_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING "
        "RETURNING id",
        [phone, body, kind, dedup_key, stamp, stamp, stamp],
    ).fetchone()
    return row[0] if row else None


def enqueue_many_sms(
    db: Database, messages: Iterable[tuple[str, str, str]], kind: str, now: datetime
) -> int:
    """Queue ``(phone, body, dedup_key)`` messages in one ``executemany``; returns how many
    were new (a key already queued is skipped, as :func:`enqueue_sms` does)."""
    stamp = to_db_time(now)
    cursor = db.conn.executemany(
        "INSERT INTO sms_outbox (phone, body, kind, dedup_key, next_attempt_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        [(phone, body, kind, key, stamp, stamp, stamp) for phone, body, key in messages],
    )
    return max(cursor.rowcount, 0)


def get_outbox(db: Database, outbox_id: int) -> Row:
    row = _one(db, "SELECT * FROM sms_outbox WHERE id = ?", [outbox_id])
    if row is None:
        raise NotFound(f"outbox message {outbox_id} does not exist")
    return row


# Answers to what a phone just asked go first, bulk invitations last.
_OUTBOX_PRIORITY = (
    "CASE kind WHEN 'reply' THEN 0 WHEN 'confirmation' THEN 1 WHEN 'offer' THEN 1 "
    "WHEN 'voucher' THEN 1 "
    "WHEN 'invitation' THEN 3 ELSE 2 END"
)


def due_outbox(db: Database, now: datetime, limit: int) -> list[Row]:
    """Queued messages due now (``id``, ``kind``), answers first, in order for each phone.

    A message waits while an earlier one to the same phone is still queued or sending
    (say, waiting for a retry), so a phone never gets its messages out of order; an
    invitation held by the daily cap does not hold up the phone's other messages.
    """
    stamp = to_db_time(now)
    return _all(
        db,
        "SELECT o.id, o.kind FROM sms_outbox o WHERE o.status = 'queued' "
        "AND o.next_attempt_at <= :now AND NOT EXISTS (SELECT 1 FROM sms_outbox e "
        "WHERE e.phone = o.phone AND e.id < o.id AND e.status IN ('queued', 'sending') "
        "AND (e.held_until IS NULL OR e.held_until <= :now)) "
        f"ORDER BY {_OUTBOX_PRIORITY.replace('kind', 'o.kind')}, o.next_attempt_at, o.id "
        "LIMIT :limit",
        {"now": stamp, "limit": limit},
    )


def claim_outbox(
    db: Database, outbox_id: int, now: datetime, send_key: str | None = None
) -> Row | None:
    """Move a queued message that is due to ``sending`` and count the attempt; None if
    someone else did (or it is not due: held back meanwhile).

    ``send_key`` becomes the message's key for the gateway unless it has one already (a
    retry keeps the key of the first try).
    """
    cursor = db.execute(
        "UPDATE sms_outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?, "
        "send_key = coalesce(send_key, ?), held_until = NULL "
        "WHERE id = ? AND status = 'queued' AND next_attempt_at <= ? "
        "RETURNING id, phone, body, kind, attempts, send_key",
        [to_db_time(now), send_key, outbox_id, to_db_time(now)],
    )
    row = cursor.fetchone()
    names = ("id", "phone", "body", "kind", "attempts", "send_key")
    return dict(zip(names, row, strict=True)) if row else None


def mark_outbox_sent(db: Database, outbox_id: int, provider_id: str, now: datetime) -> None:
    db.execute(
        "UPDATE sms_outbox SET status = 'sent', provider_id = ?, last_error = NULL, "
        "sent_at = ?, updated_at = ? WHERE id = ? AND status = 'sending'",
        [provider_id, to_db_time(now), to_db_time(now), outbox_id],
    )


def release_outbox_claim(db: Database, outbox_id: int, error: str, now: datetime) -> None:
    """Give a claimed message back, due at once and its try not counted (gateway down)."""
    db.execute(
        "UPDATE sms_outbox SET status = 'queued', attempts = attempts - 1, "
        "next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'sending'",
        [to_db_time(now), error, to_db_time(now), outbox_id],
    )


def sent_times_since(db: Database, kind: str, since: datetime) -> list[datetime]:
    """When a gateway took each message of ``kind`` after ``since``, oldest first."""
    rows = db.execute(
        "SELECT sent_at FROM sms_outbox WHERE kind = ? AND sent_at > ? ORDER BY sent_at",
        [kind, to_db_time(since)],
    ).fetchall()
    return [datetime.fromisoformat(r[0]) for r in rows]


def hold_due_outbox(db: Database, kind: str, until: datetime, now: datetime) -> int:
    """Hold every due queued message of ``kind`` until ``until`` (the daily cap)."""
    stamp = to_db_time(until)
    return db.execute(
        "UPDATE sms_outbox SET next_attempt_at = ?, held_until = ?, updated_at = ? "
        "WHERE kind = ? AND status = 'queued' AND next_attempt_at <= ?",
        [stamp, stamp, to_db_time(now), kind, to_db_time(now)],
    ).rowcount


def mark_outbox_retry(
    db: Database, outbox_id: int, next_attempt_at: datetime, error: str, now: datetime
) -> None:
    db.execute(
        "UPDATE sms_outbox SET status = 'queued', next_attempt_at = ?, last_error = ?, "
        "updated_at = ? WHERE id = ? AND status = 'sending'",
        [to_db_time(next_attempt_at), error, to_db_time(now), outbox_id],
    )


def mark_outbox_final(
    db: Database, outbox_id: int, status: str, error: str | None, now: datetime
) -> None:
    """End a message that was never handed to the provider: failed or opted out."""
    db.execute(
        "UPDATE sms_outbox SET status = ?, last_error = ?, updated_at = ? "
        "WHERE id = ? AND status IN ('queued', 'sending')",
        [status, error, to_db_time(now), outbox_id],
    )


def requeue_stale_outbox(db: Database, claimed_before: datetime, now: datetime) -> int:
    """Give back messages left in ``sending`` by a worker that died mid-send."""
    return db.execute(
        "UPDATE sms_outbox SET status = 'queued', next_attempt_at = ?, updated_at = ? "
        "WHERE status = 'sending' AND updated_at < ?",
        [to_db_time(now), to_db_time(now), to_db_time(claimed_before)],
    ).rowcount


def update_outbox_status(
    db: Database,
    provider_id: str,
    status: str,
    allowed_from: Sequence[str],
    error: str | None,
    now: datetime,
) -> bool:
    """Apply a delivery callback, only from a state in ``allowed_from``; True if it applied."""
    marks = ", ".join("?" for _ in allowed_from)
    cursor = db.execute(
        f"UPDATE sms_outbox SET status = ?, last_error = coalesce(?, last_error), "
        f"updated_at = ? WHERE provider_id = ? AND status IN ({marks})",
        [status, error, to_db_time(now), provider_id, *allowed_from],
    )
    return cursor.rowcount == 1


def outbox_for_phone(db: Database, phone: str, limit: int = 50) -> list[Row]:
    return _all(
        db, "SELECT * FROM sms_outbox WHERE phone = ? ORDER BY id DESC LIMIT ?", [phone, limit]
    )


def outbox_counts(db: Database) -> dict[str, int]:
    rows = db.execute("SELECT status, count(*) FROM sms_outbox GROUP BY status").fetchall()
    return dict(rows)


# -- operator console -----------------------------------------------------------------------


def update_distribution(db: Database, distribution_id: int, fields: dict[str, Any]) -> None:
    """Change the given distribution fields (only names in ``DISTRIBUTION_FIELDS``)."""
    values = {k: fields[k] for k in DISTRIBUTION_FIELDS if k in fields}
    if not values:
        return
    assignments = ", ".join(f"{column} = ?" for column in values)
    db.execute(
        f"UPDATE distributions SET {assignments} WHERE id = ?", [*values.values(), distribution_id]
    )


def replace_windows(
    db: Database, site_id: int, windows: Sequence[tuple[datetime, datetime]]
) -> None:
    db.execute("DELETE FROM pickup_windows WHERE site_id = ?", [site_id])
    for start, end in windows:
        insert_window(db, site_id, start, end)


def set_slot_capacities(
    db: Database, site_id: int, capacity_people: int, capacity_units: int | None
) -> None:
    """Give every stored slot of the site the site's capacity."""
    db.execute(
        "UPDATE slots SET capacity_people = ?, capacity_units = ?, version = version + 1 "
        "WHERE site_id = ?",
        [capacity_people, capacity_units, site_id],
    )


def invitation_counts(db: Database, distribution_id: int) -> dict[str, int]:
    """Invitation SMS of one distribution by outbox state (their dedup key names it)."""
    rows = db.execute(
        "SELECT status, count(*) FROM sms_outbox WHERE kind = 'invitation' "
        "AND dedup_key LIKE ? GROUP BY status",
        [f"invitation:{distribution_id}:%"],
    ).fetchall()
    return dict(rows)


def held_invitations(
    db: Database, distribution_id: int, now: datetime
) -> tuple[int, datetime | None]:
    """Invitations of a distribution waiting for the daily cap, and when the first goes."""
    count, until = db.execute(
        "SELECT count(*), min(held_until) FROM sms_outbox WHERE kind = 'invitation' "
        "AND dedup_key LIKE ? AND status = 'queued' AND held_until > ?",
        [f"invitation:{distribution_id}:%", to_db_time(now)],
    ).fetchone()
    return count, from_db_time(until)


def requeue_failed_invitations(db: Database, distribution_id: int, now: datetime) -> int:
    """Queue the failed and undelivered invitations of a distribution again, with fresh tries."""
    stamp = to_db_time(now)
    return db.execute(
        "UPDATE sms_outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, "
        "provider_id = NULL, send_key = NULL, sent_at = NULL, held_until = NULL, "
        "updated_at = ? WHERE kind = 'invitation' AND dedup_key LIKE ? "
        "AND status IN ('failed', 'undelivered')",
        [stamp, stamp, f"invitation:{distribution_id}:%"],
    ).rowcount


def dashboard_fingerprint(db: Database, distribution_id: int) -> tuple[Any, ...]:
    """A few aggregates that change whenever the dashboard's figures can change."""
    return tuple(
        db.execute(
            """
            SELECT (SELECT count(*) FROM bookings WHERE distribution_id = :d),
                   (SELECT max(updated_at) FROM bookings WHERE distribution_id = :d),
                   (SELECT count(*) FROM handovers h JOIN bookings b ON b.id = h.booking_id
                     WHERE b.distribution_id = :d),
                   (SELECT count(h.undone_at) FROM handovers h
                     JOIN bookings b ON b.id = h.booking_id WHERE b.distribution_id = :d),
                   (SELECT max(id) FROM audit_log)
            """,
            {"d": distribution_id},
        ).fetchone()
    )


# -- hardening: sign-in and per-phone limits ---------------------------------------------


def login_failure_count(db: Database, username: str, address: str) -> int:
    """Failures remembered for this (user name, address); ``""`` as name: the address."""
    row = _one(
        db,
        "SELECT failures FROM login_throttle WHERE username = ? AND address = ?",
        [username, address],
    )
    return row["failures"] if row else 0


def set_login_failures(
    db: Database,
    username: str,
    address: str,
    failures: int,
    paused_until: datetime | None,
    forget_at: datetime,
) -> None:
    db.execute(
        "INSERT INTO login_throttle (username, address, failures, paused_until, forget_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (username, address) DO UPDATE SET "
        "failures = excluded.failures, paused_until = excluded.paused_until, "
        "forget_at = excluded.forget_at",
        [
            username,
            address,
            failures,
            to_db_time(paused_until) if paused_until else None,
            to_db_time(forget_at),
        ],
    )


def clear_login_failures(db: Database, username: str, address: str) -> None:
    db.execute("DELETE FROM login_throttle WHERE username = ? AND address = ?", [username, address])


def forget_login_failures(db: Database, now: datetime) -> None:
    """Forget the counts that have been quiet long enough, so that the table stays small."""
    db.execute("DELETE FROM login_throttle WHERE forget_at <= ?", [to_db_time(now)])


def login_paused_until(
    db: Database, counts: Sequence[tuple[str, str]], now: datetime
) -> datetime | None:
    """The latest pause still running on any of ``counts`` (``(user name, address)``)."""
    latest = None
    for username, address in counts:
        row = _one(
            db,
            "SELECT paused_until FROM login_throttle "
            "WHERE username = ? AND address = ? AND paused_until > ?",
            [username, address, to_db_time(now)],
        )
        if row is not None:
            until = from_db_time(row["paused_until"])
            latest = until if latest is None or until > latest else latest
    return latest


def count_inbound_since(db: Database, phone: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM sms_inbound WHERE phone = ? AND received_at > ?",
        [phone, to_db_time(since)],
    ).fetchone()[0]


def record_ivr_call(db: Database, call_id: str, phone: str, now: datetime) -> bool:
    """Record a call's start; False if the call was recorded before."""
    return (
        db.execute(
            "INSERT INTO ivr_calls (call_id, phone, started_at) VALUES (?, ?, ?) "
            "ON CONFLICT (call_id) DO NOTHING",
            [call_id, phone, to_db_time(now)],
        ).rowcount
        == 1
    )


def count_calls_since(db: Database, phone: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM ivr_calls WHERE phone = ? AND started_at > ?",
        [phone, to_db_time(since)],
    ).fetchone()[0]


def record_code_failure(db: Database, scope: str, key: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO ivr_code_failures (scope, key, failed_at) VALUES (?, ?, ?)",
        [scope, key, to_db_time(now)],
    )


def count_code_failures(db: Database, scope: str, key: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM ivr_code_failures WHERE scope = ? AND key = ? AND failed_at > ?",
        [scope, key, to_db_time(since)],
    ).fetchone()[0]


def prune_code_failures(db: Database, before: datetime) -> None:
    """Forget wrong codes older than the window, so that the table stays small."""
    db.execute("DELETE FROM ivr_code_failures WHERE failed_at <= ?", [to_db_time(before)])


def lock_code_entry(db: Database, scope: str, key: str, until: datetime) -> None:
    db.execute(
        "INSERT INTO ivr_code_locks (scope, key, locked_until) VALUES (?, ?, ?) "
        "ON CONFLICT (scope, key) DO UPDATE SET locked_until = excluded.locked_until",
        [scope, key, to_db_time(until)],
    )


def code_entry_locked_until(
    db: Database, keys: Sequence[tuple[str, str]], now: datetime
) -> datetime | None:
    """The end of the latest lock on code entry running for any of ``keys``, or None."""
    if not keys:
        return None
    which = " OR ".join("(scope = ? AND key = ?)" for _ in keys)
    row = db.execute(
        f"SELECT max(locked_until) FROM ivr_code_locks WHERE locked_until > ? AND ({which})",
        [to_db_time(now), *(part for pair in keys for part in pair)],
    ).fetchone()
    return from_db_time(row[0]) if row and row[0] else None


def limit_noticed_at(db: Database, phone: str, channel: str) -> datetime | None:
    row = _one(
        db,
        "SELECT noticed_at FROM phone_limit_notices WHERE phone = ? AND channel = ?",
        [phone, channel],
    )
    return from_db_time(row["noticed_at"]) if row else None


def set_limit_noticed(db: Database, phone: str, channel: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO phone_limit_notices (phone, channel, noticed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone, channel) DO UPDATE SET noticed_at = excluded.noticed_at",
        [phone, channel, to_db_time(now)],
    )
