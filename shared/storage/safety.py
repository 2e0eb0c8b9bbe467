"""Safety instructions per item and language, and their acknowledgements."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from shared.storage.connection import Row, _all, _one, to_db_time

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
