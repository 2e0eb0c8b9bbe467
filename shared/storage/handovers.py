"""Handovers and the ledger, and the checked-in queue."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from shared.errors import NotFound
from shared.storage.bookings import _VOUCHER_VIEW_SQL
from shared.storage.connection import Row, _all, _insert, _one, to_db_time


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
        raise NotFound("handover_missing", id=handover_id)
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
               h.overridden, h.override_reason, h.override_note, h.conflict,
               h.conflict_resolution, s.starts_at AS slot_start, s.ends_at AS slot_end,
               d.unit_size, d.measure, v.code AS voucher_code
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
    """Stock, allotted, handed over and the split of what is still out, in units.

    ``handovers h CROSS JOIN bookings b`` (a plain inner join on both engines) keeps SQLite
    reading the handovers first and each booking by its key: the cost of what was handed
    over, not of every booking of the roster."""
    row = _one(
        db,
        """
        SELECT d.stock_units,
               (SELECT coalesce(sum(units), 0) FROM allotments
                 WHERE distribution_id = d.id) AS allotted,
               (SELECT coalesce(sum(h.units), 0) FROM handovers h CROSS JOIN bookings b
                 WHERE b.id = h.booking_id AND b.distribution_id = d.id
                   AND h.undone_at IS NULL) AS handed_over,
               (SELECT coalesce(sum(a.units), 0) FROM allotments a
                 JOIN bookings b ON b.recipient_id = a.recipient_id AND b.status = 'booked'
                 WHERE a.distribution_id = d.id) AS allotted_booked,
               (SELECT coalesce(sum(h.units), 0) FROM handovers h CROSS JOIN bookings b
                 WHERE b.id = h.booking_id AND b.distribution_id = d.id
                   AND b.status = 'booked' AND h.undone_at IS NULL) AS handed_booked
        FROM distributions d WHERE d.id = ?
        """,
        [distribution_id],
    )
    if row is None:
        raise NotFound("distribution_missing", id=distribution_id)
    return row


def handed_against_allotments(db: Database, distribution_id: int) -> dict[str, int]:
    """Handed units per recipient set against their allotment, summed in SQL: ``within``
    (what each hands within the allotment, min(handed, allotted)) and ``beyond`` (what each
    has beyond it: offline stations handing one voucher together). Driven by the standing
    handovers (the CROSS JOIN, as in :func:`ledger_totals`), so it costs what was handed
    over, not the roster."""
    within, beyond = db.execute(
        """
        SELECT coalesce(sum(CASE WHEN hr.units < coalesce(a.units, 0) THEN hr.units
                                 ELSE coalesce(a.units, 0) END), 0) AS within,
               coalesce(sum(CASE WHEN hr.units > coalesce(a.units, 0)
                                 THEN hr.units - coalesce(a.units, 0) ELSE 0 END), 0) AS beyond
        FROM (SELECT b.recipient_id, sum(h.units) AS units FROM handovers h
              CROSS JOIN bookings b
              WHERE b.id = h.booking_id AND b.distribution_id = ? AND h.undone_at IS NULL
              GROUP BY b.recipient_id) hr
        LEFT JOIN allotments a ON a.recipient_id = hr.recipient_id AND a.distribution_id = ?
        """,
        [distribution_id, distribution_id],
    ).fetchone()
    return {"within": int(within), "beyond": int(beyond)}


def handed_units_by_recipient(db: Database, distribution_id: int) -> dict[int, int]:
    """Units handed over (and not undone) per recipient: copy-db compares them."""
    rows = db.execute(
        "SELECT b.recipient_id, sum(h.units) FROM handovers h JOIN bookings b "
        "ON b.id = h.booking_id WHERE b.distribution_id = ? AND h.undone_at IS NULL "
        "GROUP BY b.recipient_id ORDER BY b.recipient_id",
        [distribution_id],
    ).fetchall()
    return {recipient: int(units) for recipient, units in rows}


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
        f"SELECT * FROM ({_VOUCHER_VIEW_SQL}) v WHERE checked_in_at >= :start "
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


def handovers_for_booking(db: Database, booking_id: int) -> list[Row]:
    return _all(
        db, "SELECT * FROM handovers WHERE booking_id = ? ORDER BY handed_at, id", [booking_id]
    )
