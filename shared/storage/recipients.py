"""Recipients, roster previews, allocation runs and allotments."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.errors import NotFound
from shared.messages import DEFAULT_LANGUAGE
from shared.storage.connection import Row, _all, _insert, _one, to_db_time

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
    defaults = [_RECIPIENT_DEFAULTS.get(c) for c in stored]
    count = 0

    def params(row: dict[str, Any]) -> list[Any]:
        nonlocal count
        count += 1
        values = [distribution_id]
        values += [
            default if value is None else value
            for value, default in zip(map(row.get, stored), defaults, strict=True)
        ]
        for at in _RECIPIENT_TIMES:
            if isinstance(values[at], datetime):
                values[at] = to_db_time(values[at])
        return values

    db.conn.executemany(sql, map(params, rows))
    return count


_RECIPIENT_DEFAULTS = {
    "town": "",
    "floor_units": 0,
    "contact_name": "",
    "language": DEFAULT_LANGUAGE,
    "priority": 0,
}
# Where the datetimes are in a row of insert_recipients' parameters (after distribution_id).
_RECIPIENT_TIMES = tuple(1 + RECIPIENT_FIELDS.index(c) for c in ("earliest", "latest"))


def get_recipient(db: Database, recipient_id: int) -> Row:
    row = _one(db, "SELECT * FROM recipients WHERE id = ?", [recipient_id])
    if row is None:
        raise NotFound("recipient_missing", id=recipient_id)
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


def recipient_claims(db: Database, distribution_id: int) -> Iterator[tuple[Any, ...]]:
    """``(id, headcount, population, requested_units, floor_units)`` of every recipient, by
    id, read as the caller takes them: what an allocation needs, without a dict per row."""
    return iter(
        db.execute(
            "SELECT id, headcount, population, requested_units, floor_units FROM recipients "
            "WHERE distribution_id = ? ORDER BY id",
            [distribution_id],
        )
    )


def waiting_recipients(db: Database, distribution_id: int) -> Iterator[tuple[Any, ...]]:
    """``(id, units, priority, earliest, latest, site_id, external_id)`` of every recipient
    allotted units and without a live booking, by id, read as the caller takes them."""
    return iter(
        db.execute(
            """
            SELECT r.id, a.units, r.priority, r.earliest, r.latest, r.site_id, r.external_id
            FROM recipients r JOIN allotments a ON a.recipient_id = r.id
            WHERE r.distribution_id = ? AND a.units > 0
              AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.recipient_id = r.id
                              AND b.status != 'cancelled')
            ORDER BY r.id
            """,
            [distribution_id],
        )
    )


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


def insert_allotments(
    db: Database, distribution_id: int, run_id: int, units: Iterable[tuple[int, int]]
) -> None:
    """The allotments of an allocation run, replacing the distribution's previous ones,
    from ``(recipient_id, units)`` pairs as they come."""
    db.execute("DELETE FROM allotments WHERE distribution_id = ?", [distribution_id])
    db.conn.executemany(
        "INSERT INTO allotments (recipient_id, distribution_id, units, allocation_run_id) "
        "VALUES (?, ?, ?, ?)",
        ((rid, distribution_id, n, run_id) for rid, n in units),
    )


def has_allotments(db: Database, distribution_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM allotments WHERE distribution_id = ? LIMIT 1", [distribution_id]
    ).fetchone()
    return row is not None


def allotments_by_recipient(db: Database, distribution_id: int) -> dict[int, int]:
    rows = db.execute(
        "SELECT recipient_id, units FROM allotments WHERE distribution_id = ?", [distribution_id]
    ).fetchall()
    return dict(rows)


def allotment_units(db: Database, recipient_id: int) -> int | None:
    row = _one(db, "SELECT units FROM allotments WHERE recipient_id = ?", [recipient_id])
    return row["units"] if row else None


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


def recipient_towns(db: Database, distribution_id: int) -> list[str]:
    """The distinct non-empty towns of a distribution's roster (index on town), sorted."""
    rows = db.execute(
        "SELECT DISTINCT town FROM recipients WHERE distribution_id = ? AND town != '' "
        "ORDER BY town",
        [distribution_id],
    ).fetchall()
    return [r[0] for r in rows]


def count_invitable(db: Database, distribution_id: int) -> int:
    """Recipients of a distribution with a phone and an allotment of at least one unit."""
    row = db.execute(
        "SELECT count(*) FROM recipients r JOIN allotments a ON a.recipient_id = r.id "
        "WHERE r.distribution_id = ? AND r.phone IS NOT NULL AND r.phone != '' AND a.units > 0",
        [distribution_id],
    ).fetchone()
    return int(row[0])


def recipients_by_ids(db: Database, recipient_ids: Sequence[int]) -> dict[int, Row]:
    """The recipients with these ids, by id (the few a summary names)."""
    if not recipient_ids:
        return {}
    marks = ", ".join("?" for _ in recipient_ids)
    rows = _all(db, f"SELECT * FROM recipients WHERE id IN ({marks})", list(recipient_ids))
    return {row["id"]: row for row in rows}


def iter_recipient_labels(db: Database, distribution_id: int) -> Iterator[tuple[Any, ...]]:
    """``(id, name, external_id, town)`` of a distribution's recipients in id order, read
    as the caller takes them."""
    return iter(
        db.execute(
            "SELECT id, name, external_id, town FROM recipients WHERE distribution_id = ? "
            "ORDER BY id",
            [distribution_id],
        )
    )
