"""Slots and holds, bookings and their vouchers (the voucher view joins them)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.errors import NotFound
from shared.storage.connection import (
    Row,
    _all,
    _insert,
    _one,
    _rows,
    for_update,
    lock_key,
    lock_tables,
    to_db_time,
)


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
        raise NotFound("slot_missing", id=slot_id)
    return row


def lock_recipient(db: Database, recipient_id: int) -> None:
    """Lock the recipient's row until the transaction ends (PostgreSQL: ``FOR UPDATE``), so
    that two requests for one recipient book, move or cancel one after the other. SQLite's
    write lock already does; no statement is spent there."""
    if db.engine != "sqlite":
        db.execute(f"SELECT id FROM recipients WHERE id = ?{for_update(db)}", [recipient_id])


def lock_booking(db: Database, booking_id: int) -> None:
    """Lock the booking's row until the transaction ends (PostgreSQL: ``FOR UPDATE``), as
    :func:`lock_voucher` does by the voucher's serial. Nothing to do on SQLite."""
    if db.engine != "sqlite":
        db.execute(f"SELECT id FROM bookings WHERE id = ?{for_update(db)}", [booking_id])


def lock_voucher(db: Database, serial: int) -> None:
    """Lock the booking of voucher ``serial`` until the transaction ends (PostgreSQL:
    ``FOR UPDATE``): twenty stations scanning one voucher hand it over once, the others
    then read what the first did. Nothing to do on SQLite."""
    if db.engine != "sqlite":
        db.execute(
            "SELECT b.id FROM bookings b JOIN vouchers v ON v.booking_id = b.id "
            f"WHERE v.serial = ?{for_update(db)}",
            [serial],
        )


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
        raise NotFound("slot_missing", id=slot_id)
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


# One slot's load, from its own bookings and holds through their indexes: the join above
# totals every slot of the distribution first, which is what a list of slots needs but
# not what a booking, under the write lock, should pay for.
_LIVE = "FROM bookings b WHERE b.slot_id = s.id AND b.status != 'cancelled'"
_HELD = (
    "FROM slot_holds sh LEFT JOIN allotments a ON a.recipient_id = sh.recipient_id "
    "WHERE sh.slot_id = s.id AND sh.expires_at > ? AND sh.recipient_id != ?"
)
_ONE_SLOT_LOAD_SQL = (
    f"SELECT s.id, (SELECT count(*) {_LIVE}), (SELECT coalesce(sum(b.units), 0) {_LIVE}), "
    f"(SELECT count(*) {_HELD}), (SELECT coalesce(sum(coalesce(a.units, 0)), 0) {_HELD}) "
    "FROM slots s WHERE s.id IN ({marks})"
)


def slot_loads_of(
    db: Database, slot_ids: Sequence[int], now: datetime, exclude_recipient: int = 0
) -> dict[int, tuple[int, int]]:
    """People and units in each of ``slot_ids`` (as :func:`slot_loads`), for a few slots."""
    if not slot_ids:
        return {}
    stamp = to_db_time(now)
    sql = _ONE_SLOT_LOAD_SQL.format(marks=", ".join("?" for _ in slot_ids))
    rows = db.execute(sql, [stamp, exclude_recipient] * 2 + list(slot_ids)).fetchall()
    return {
        slot_id: (int(booked) + int(held), int(booked_units) + int(held_units))
        for slot_id, booked, booked_units, held, held_units in rows
    }


def slot_load(
    db: Database, slot_id: int, now: datetime, exclude_recipient: int = 0
) -> tuple[int, int]:
    load = slot_loads_of(db, [slot_id], now, exclude_recipient).get(slot_id)
    if load is None:
        raise NotFound("slot_missing", id=slot_id)
    return load


_FREE_SLOTS_SQL = f"""
    SELECT s.* FROM slots s
    WHERE s.distribution_id = ? AND s.starts_at > ? AND s.id != ?
      AND (? IS NULL OR s.site_id = ?)
      AND (coalesce(?, '') = '' OR s.starts_at >= ?)
      AND (coalesce(?, '') = '' OR s.ends_at <= ?)
      AND (SELECT count(*) {_LIVE}) + (SELECT count(*) {_HELD}) + 1 <= s.capacity_people
      AND (s.capacity_units IS NULL
           OR (SELECT coalesce(sum(b.units), 0) {_LIVE})
              + (SELECT coalesce(sum(coalesce(a.units, 0)), 0) {_HELD}) + ? <= s.capacity_units)
    ORDER BY s.starts_at, s.site_id, s.id
    LIMIT ?
"""


def first_free_slots(
    db: Database,
    recipient: Row,
    units: int,
    site_id: int | None,
    skip_slot_id: int,
    now: datetime,
    limit: int,
) -> list[Row]:
    """The first ``limit`` slots of the recipient's distribution, earliest first, that have
    not started at ``now``, are at ``site_id`` (any site if None), lie inside the
    recipient's own window (``earliest``, ``latest``) and still have room for one more
    person carrying ``units``, counting live bookings and the unexpired holds of others.
    ``skip_slot_id`` (the slot they are booked in, or 0) is left out.

    Slots are looked at in time order and counted through their indexes until enough are
    found, so a distribution's size does not matter as long as free places are near.
    """
    stamp = to_db_time(now)
    held = [stamp, recipient["id"]]
    earliest, latest = recipient["earliest"], recipient["latest"]
    params = [recipient["distribution_id"], stamp, skip_slot_id, site_id, site_id]
    params += [earliest, earliest, latest, latest, *held]
    return _all(db, _FREE_SLOTS_SQL, params + [*held, units, limit])


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


def get_booking(db: Database, booking_id: int) -> Row:
    row = _one(db, "SELECT * FROM bookings WHERE id = ?", [booking_id])
    if row is None:
        raise NotFound("booking_missing", id=booking_id)
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
    """The next queue number at a site for the day bounded by ``day_start``/``day_end``.

    On PostgreSQL the site's queue is locked (advisory) until the transaction ends, so two
    kiosks checking in at once cannot both take the same number.
    """
    lock_key(db, "queue", site_id)
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
    # PostgreSQL: nobody else books or draws a serial until this transaction ends, as
    # SQLite's write lock ensures (the ids read back below rely on it too).
    lock_tables(db, "bookings", "vouchers")
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


# The booking's own handovers through handovers_booking (a join to a grouped subquery
# would total every booking's handovers for each voucher looked at).
_HANDED = "FROM handovers h WHERE h.booking_id = b.id AND h.undone_at IS NULL"
_VOUCHER_VIEW_SQL = f"""
    SELECT v.serial, v.code, v.created_at AS issued_at,
           b.id AS booking_id, b.status, b.units, b.checked_in_at, b.queue_number, b.queue_label,
           b.called_at, b.skipped_at, b.cancelled_at, b.distribution_id,
           b.updated_at AS booking_updated_at,
           s.id AS slot_id, s.starts_at, s.ends_at, s.site_id,
           st.name AS site_name, st.address AS site_address,
           r.id AS recipient_id, r.name AS recipient_name, r.external_id, r.contact_name,
           r.phone, r.language, r.town,
           d.name AS distribution_name, d.item, d.item_key, d.unit_name, d.unit_name_en,
           d.unit_size, d.measure, d.timezone, d.early_minutes, d.grace_minutes,
           coalesce((SELECT sum(h.units) {_HANDED}), 0) AS handed_units,
           (SELECT max(h.handed_at) {_HANDED}) AS last_handed_at
    FROM vouchers v
    JOIN bookings b ON b.id = v.booking_id
    JOIN slots s ON s.id = b.slot_id
    JOIN sites st ON st.id = s.site_id
    JOIN recipients r ON r.id = b.recipient_id
    JOIN distributions d ON d.id = b.distribution_id
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


def booking_exports(db: Database, distribution_id: int) -> Iterator[tuple[Any, ...]]:
    """The live bookings of a distribution as the bookings export needs them, as tuples
    read one by one (no dict per row): ``(recipient name, external_id, town, phone, site
    name, slot id, starts_at, ends_at, units, voucher code, status, checked_in_at, handed
    units)``, in slot time, then recipient id, order."""
    return iter(
        db.execute(
            """
            SELECT r.name, r.external_id, r.town, r.phone, st.name, s.id, s.starts_at,
                   s.ends_at, b.units, v.code, b.status, b.checked_in_at,
                   coalesce(ho.units, 0)
            FROM bookings b
            JOIN vouchers v ON v.booking_id = b.id
            JOIN slots s ON s.id = b.slot_id
            JOIN sites st ON st.id = s.site_id
            JOIN recipients r ON r.id = b.recipient_id
            LEFT JOIN (
                SELECT booking_id, sum(units) AS units FROM handovers
                WHERE undone_at IS NULL GROUP BY booking_id
            ) ho ON ho.booking_id = b.id
            WHERE b.distribution_id = ? AND b.status != 'cancelled'
            ORDER BY s.starts_at, r.id
            """,
            [distribution_id],
        )
    )


def set_live_bookings_to_allotments(db: Database, distribution_id: int, now: datetime) -> int:
    """Give every live booking of a distribution its recipient's allotted units where they
    differ, in one statement; returns how many changed."""
    cursor = db.execute(
        """
        UPDATE bookings SET
            units = (SELECT a.units FROM allotments a WHERE a.recipient_id = bookings.recipient_id),
            updated_at = ?
        WHERE distribution_id = ? AND status != 'cancelled'
          AND units != (SELECT a.units FROM allotments a
                        WHERE a.recipient_id = bookings.recipient_id)
        """,
        [to_db_time(now), distribution_id],
    )
    return max(cursor.rowcount, 0)


def bookings_starting_between(db: Database, start: datetime, end: datetime) -> list[Row]:
    """Live, not yet checked-in bookings whose slot starts in ``(start, end]``."""
    return _all(
        db,
        _VOUCHER_VIEW_SQL + " WHERE b.status = 'booked' AND b.checked_in_at IS NULL "
        "AND r.phone IS NOT NULL AND r.phone != '' AND s.starts_at > ? AND s.starts_at <= ? "
        "ORDER BY s.starts_at, b.id",
        [to_db_time(start), to_db_time(end)],
    )


def set_slot_capacities(
    db: Database, site_id: int, capacity_people: int, capacity_units: int | None
) -> None:
    """Give every stored slot of the site the site's capacity."""
    db.execute(
        "UPDATE slots SET capacity_people = ?, capacity_units = ?, version = version + 1 "
        "WHERE site_id = ?",
        [capacity_people, capacity_units, site_id],
    )


# Units handed over per booking (undone ones not counted): joined as ``h``, read once per
# query, so that the state's CASE reads a column and not a subquery at every branch.
_HANDED_JOIN = """
    LEFT JOIN (SELECT booking_id, sum(units) AS units FROM handovers
               WHERE undone_at IS NULL GROUP BY booking_id) h ON h.booking_id = b.id
"""


def booking_states_for_recipient(db: Database, recipient_id: int) -> list[Row]:
    """A recipient's bookings as :func:`booking_states` gives a distribution's."""
    return _all(
        db,
        f"""
        SELECT b.id, b.recipient_id, b.slot_id, b.status, b.units, b.checked_in_at,
               b.queue_number, s.starts_at, s.ends_at, r.name AS recipient_name, r.phone,
               r.language, coalesce(h.units, 0) AS handed_units
        FROM bookings b
        JOIN slots s ON s.id = b.slot_id
        JOIN recipients r ON r.id = b.recipient_id
        {_HANDED_JOIN}
        WHERE b.recipient_id = ?
        ORDER BY s.starts_at, b.id
        """,
        [recipient_id],
    )
