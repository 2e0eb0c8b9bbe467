"""Offline stations: a station's copy of its site's vouchers, the actions it uploaded,
and the conflicts of handovers made offline (see :mod:`shared.offline`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.storage.connection import Row, _all, _insert, _one, to_db_time

_STATION_VOUCHERS_SQL = """
    SELECT b.id AS booking_id, v.code, b.status, b.units, b.checked_in_at, b.queue_number,
           b.queue_label, b.distribution_id, s.starts_at, s.ends_at,
           r.name AS recipient_name, r.contact_name, r.phone,
           coalesce(ho.units, 0) AS handed_units
    FROM bookings b
    JOIN vouchers v ON v.booking_id = b.id
    JOIN slots s ON s.id = b.slot_id
    JOIN recipients r ON r.id = b.recipient_id
    LEFT JOIN (
        SELECT h.booking_id, sum(h.units) AS units
        FROM handovers h JOIN bookings hb ON hb.id = h.booking_id
        JOIN slots hs ON hs.id = hb.slot_id
        WHERE h.undone_at IS NULL AND hs.site_id = ? AND hs.starts_at >= ? AND hs.starts_at < ?
        GROUP BY h.booking_id
    ) ho ON ho.booking_id = b.id
    WHERE s.site_id = ? AND s.starts_at >= ? AND s.starts_at < ?
"""

# What changed since a station's copy: the booking itself (state, slot, units, check-in),
# a handover made or undone, a safety acknowledgement.
_CHANGED_SINCE_SQL = """
    AND (b.updated_at >= ?
         OR EXISTS (SELECT 1 FROM handovers h WHERE h.booking_id = b.id
                    AND (h.id > ? OR h.undone_at >= ? OR h.conflict_resolved_at >= ?))
         OR EXISTS (SELECT 1 FROM safety_acknowledgements a WHERE a.booking_id = b.id
                    AND a.id > ?))
"""


def station_vouchers(
    db: Database,
    site_id: int,
    starts_from: datetime,
    starts_before: datetime,
    changed_since: tuple[datetime, int, int] | None = None,
) -> list[Row]:
    """The vouchers of ``site_id`` whose slot starts in [``starts_from``, ``starts_before``),
    cancelled ones too; with ``changed_since`` = (time, last handover id, last
    acknowledgement id) only those changed since."""
    window = [site_id, to_db_time(starts_from), to_db_time(starts_before)]
    sql, params = _STATION_VOUCHERS_SQL, window + window
    if changed_since is not None:
        since, handover_id, ack_id = changed_since
        stamp = to_db_time(since)
        sql += _CHANGED_SINCE_SQL
        params += [stamp, handover_id, stamp, stamp, ack_id]
    return _all(db, sql + " ORDER BY s.starts_at, b.id", params)


def station_booking_ids(
    db: Database, site_id: int, starts_from: datetime, starts_before: datetime
) -> list[int]:
    """The ids of every booking a station's copy of ``site_id`` holds for that window."""
    rows = db.execute(
        "SELECT b.id FROM bookings b JOIN slots s ON s.id = b.slot_id "
        "WHERE s.site_id = ? AND s.starts_at >= ? AND s.starts_at < ? ORDER BY b.id",
        [site_id, to_db_time(starts_from), to_db_time(starts_before)],
    ).fetchall()
    return [row[0] for row in rows]


def sync_marks(db: Database) -> tuple[int, int]:
    """The newest handover id and safety acknowledgement id: part of a station's cursor."""
    handover = db.execute("SELECT coalesce(max(id), 0) FROM handovers").fetchone()[0]
    ack = db.execute("SELECT coalesce(max(id), 0) FROM safety_acknowledgements").fetchone()[0]
    return int(handover), int(ack)


def get_sync_action(db: Database, client_id: str) -> Row | None:
    return _one(db, "SELECT * FROM sync_actions WHERE client_id = ?", [client_id])


def insert_sync_action(db: Database, values: dict[str, Any]) -> int:
    return _insert(db, "sync_actions", values)


def flag_handover_conflicts(db: Database, booking_id: int) -> int:
    """Flag every standing, unresolved handover of a booking as in conflict."""
    cursor = db.execute(
        "UPDATE handovers SET conflict = 1 WHERE booking_id = ? AND undone_at IS NULL "
        "AND conflict_resolution IS NULL",
        [booking_id],
    )
    return cursor.rowcount


def mark_checked_in_offline(
    db: Database,
    booking_id: int,
    checked_in_at: datetime,
    queue_number: int,
    queue_label: str | None,
    now: datetime,
) -> bool:
    """Set a check-in made offline: when it happened, but changed ``now`` (so stations'
    cursors see it). False if the booking was checked in already."""
    cursor = db.execute(
        "UPDATE bookings SET checked_in_at = ?, queue_number = ?, queue_label = ?, "
        "updated_at = ? WHERE id = ? AND checked_in_at IS NULL",
        [to_db_time(checked_in_at), queue_number, queue_label, to_db_time(now), booking_id],
    )
    return cursor.rowcount == 1


_CONFLICT_SQL = """
    SELECT h.id AS handover_id, h.booking_id, h.units, h.staff, h.station, h.handed_at,
           h.conflict, h.conflict_resolution, h.undone_at,
           b.units AS booking_units, b.distribution_id, v.code,
           r.name AS recipient_name, st.name AS site_name
    FROM handovers h
    JOIN bookings b ON b.id = h.booking_id
    JOIN vouchers v ON v.booking_id = b.id
    JOIN recipients r ON r.id = b.recipient_id
    JOIN slots s ON s.id = b.slot_id
    JOIN sites st ON st.id = s.site_id
"""


def unresolved_conflict_handovers(db: Database, distribution_id: int | None = None) -> list[Row]:
    """Every handover of a voucher with an unresolved conflict, standing or returned."""
    sql = (
        _CONFLICT_SQL + " WHERE h.booking_id IN (SELECT booking_id FROM handovers "
        "WHERE conflict = 1 AND conflict_resolution IS NULL AND undone_at IS NULL)"
    )
    params: list[Any] = []
    if distribution_id is not None:
        sql += " AND b.distribution_id = ?"
        params.append(distribution_id)
    return _all(db, sql + " ORDER BY b.id, h.handed_at, h.id", params)


def conflict_handovers(db: Database, booking_id: int) -> list[Row]:
    """The handovers of one booking, as the Conflicts list shows them."""
    return _all(
        db, _CONFLICT_SQL + " WHERE h.booking_id = ? ORDER BY h.handed_at, h.id", [booking_id]
    )


def resolve_handover_conflicts(
    db: Database,
    booking_id: int,
    resolution: str,
    by: str,
    now: datetime,
    handover_id: int | None = None,
) -> int:
    """Mark a booking's unresolved conflicting handovers (or only ``handover_id``)
    resolved as ``resolution``."""
    sql = (
        "UPDATE handovers SET conflict_resolution = ?, conflict_resolved_by = ?, "
        "conflict_resolved_at = ? WHERE booking_id = ? AND conflict = 1 "
        "AND conflict_resolution IS NULL"
    )
    params: list[Any] = [resolution, by, to_db_time(now), booking_id]
    if handover_id is not None:
        sql += " AND id = ?"
        params.append(handover_id)
    return db.execute(sql, params).rowcount
