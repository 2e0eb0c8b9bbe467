"""The connection and what every storage module shares.

Opening a database (``PICKUP_DB``: a file path is SQLite with WAL, a busy timeout and
foreign keys; a ``postgresql://`` URL is PostgreSQL, see :mod:`shared.storage.postgres`),
migrations, :func:`transaction` (``BEGIN IMMEDIATE`` on SQLite, savepoints when nested,
busy and disk-full errors as :class:`StorageUnavailable`), the stored time format, the
small row helpers ``_one``, ``_all`` and ``_insert`` the other storage modules build
their SQL on, and the few dialect fragments they need (:func:`for_update`,
:func:`skip_locked`, :func:`lock_key`).
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from shared.errors import InvalidInput, StorageUnavailable
from shared.migrations import migrations

Row = dict[str, Any]

ENGINES = ("sqlite", "postgresql")
# What a refused constraint raises on either engine (PostgreSQL's is a subclass of it).
IntegrityError = sqlite3.IntegrityError
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class SqliteDatabase(Database):
    """sqlite-utils' Database, saying which engine it is (the storage functions ask)."""

    engine = "sqlite"

    def is_broken(self) -> bool:
        return False


def engine_of(target: str | Path) -> str:
    """``sqlite`` for a file path, ``postgresql`` for a ``postgresql://`` URL.

    Any other ``scheme://`` is refused: it would otherwise become a file of that name.
    """
    match = _SCHEME.match(str(target)) if isinstance(target, str) else None
    if match is None:
        return "sqlite"
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise InvalidInput("database_scheme_unknown", scheme=scheme)


def describe_target(target: str | Path) -> str:
    """The database's path or URL as shown to people: a URL's password is left out."""
    if engine_of(target) == "sqlite":
        return str(target)
    from shared.storage import postgres

    return postgres.redacted(str(target))


def open_database(
    path: str | Path,
    busy_timeout_ms: int = 5000,
    tracer: Callable[[str, Any], None] | None = None,
) -> Database:
    """Open the database: a file path with WAL, a busy timeout and foreign keys on, or a
    ``postgresql://`` URL (:func:`shared.storage.postgres.connect`).

    ``isolation_level=None`` leaves transactions to :func:`transaction`, which starts them
    with ``BEGIN IMMEDIATE`` so that a read-then-write cannot race another writer.
    """
    if engine_of(path) == "postgresql":
        from shared.storage import postgres

        return postgres.connect(str(path), busy_timeout_ms, tracer)  # type: ignore[return-value]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = SqliteDatabase(conn, tracer=tracer)
    db.busy_timeout_ms = int(busy_timeout_ms)  # type: ignore[attr-defined]
    return db


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    if db.engine != "sqlite":
        from shared.storage import postgres

        return postgres.migrate(db, migrations)  # type: ignore[arg-type]
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def pending_migrations(db: Database) -> list[str]:
    if db.engine != "sqlite":
        from shared.storage import postgres

        return postgres.pending(db, migrations)  # type: ignore[arg-type]
    return [m.name for m in migrations.pending(db)]


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic unit of work. Nested calls become savepoints.

    ``BEGIN IMMEDIATE`` takes the write lock up front: two requests for the last place
    in a slot are serialised instead of both reading "one left". A database that stays
    busy past the timeout, or a full disk, rolls everything back and raises
    :class:`StorageUnavailable` with a message a caller can show.
    """
    if db.engine != "sqlite":
        with db.transaction():  # type: ignore[attr-defined]
            yield db
        return
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
    """SQLite's own check of the file ("ok" when whole); PostgreSQL has none as cheap."""
    if db.engine != "sqlite":
        raise ValueError("integrity_check is SQLite's PRAGMA; on PostgreSQL use amcheck")
    return db.execute("PRAGMA integrity_check").fetchone()[0]


# -- what differs between the engines, for the storage modules -----------------------------
# SQLite's BEGIN IMMEDIATE already serialises every writer, so these add nothing there.


def for_update(db: Database) -> str:
    """`` FOR UPDATE`` on PostgreSQL (lock the rows read), nothing on SQLite."""
    return "" if db.engine == "sqlite" else " FOR UPDATE"


def skip_locked(db: Database) -> str:
    """`` FOR UPDATE SKIP LOCKED`` on PostgreSQL (rows another transaction holds are left
    for it), nothing on SQLite."""
    return "" if db.engine == "sqlite" else " FOR UPDATE SKIP LOCKED"


def insertion_order(db: Database) -> str:
    """The column that orders a table without an id by insertion: SQLite's ``rowid``;
    PostgreSQL's ``ctid`` (where the row lies: insertion order while rows are not updated,
    which holds for the append-only tables this is used on)."""
    return "rowid" if db.engine == "sqlite" else "ctid"


def lock_tables(db: Database, *tables: str) -> None:
    """Keep other writers off ``tables`` until the transaction ends (PostgreSQL; readers
    go on): for bulk writes that read what they must not race."""
    if db.engine != "sqlite":
        db.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


def lock_key(db: Database, *parts: object) -> None:
    """Hold a transaction advisory lock named by ``parts`` on PostgreSQL: for a
    read-then-write with no row to lock (a counter, a row that may not exist yet)."""
    if db.engine != "sqlite":
        from shared.storage import postgres

        postgres.lock_key(db, *parts)  # type: ignore[arg-type]


def table_names(db: Database) -> list[str]:
    """Every table of the database by name, the migrations' record included."""
    if db.engine == "sqlite":
        return db.table_names()
    return [
        row[0]
        for row in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]


def count_rows(db: Database, table: str) -> int:
    """How many rows ``table`` holds (a name from :func:`table_names`)."""
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
