"""Distributions, their sites and the sites' pickup windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.errors import NotFound
from shared.storage.connection import Row, _all, _insert, _one, to_db_time

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
        raise NotFound("distribution_missing", id=distribution_id)
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


def get_site(db: Database, site_id: int) -> Row:
    row = _one(
        db,
        "SELECT st.*, d.timezone, d.name AS distribution_name FROM sites st "
        "JOIN distributions d ON d.id = st.distribution_id WHERE st.id = ?",
        [site_id],
    )
    if row is None:
        raise NotFound("site_missing", id=site_id)
    return row


def site_ids(db: Database, limit: int = 2) -> list[int]:
    """The ids of the first ``limit`` sites: enough to tell whether there is only one."""
    return [r[0] for r in db.execute("SELECT id FROM sites ORDER BY id LIMIT ?", [limit])]


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
