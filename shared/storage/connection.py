"""The connection and what every storage module shares.

Opening a database (WAL, a busy timeout, foreign keys), migrations, :func:`transaction`
(``BEGIN IMMEDIATE``, savepoints when nested, busy and disk-full errors as
:class:`StorageUnavailable`), the stored time format, and the small row helpers
``_one``, ``_all`` and ``_insert`` the other storage modules build their SQL on.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from shared.errors import StorageUnavailable
from shared.migrations import migrations

Row = dict[str, Any]


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
        return StorageUnavailable("storage_busy")
    if "full" in message:
        return StorageUnavailable("disk_full")
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


def integrity_check(db: Database) -> str:
    return db.execute("PRAGMA integrity_check").fetchone()[0]
