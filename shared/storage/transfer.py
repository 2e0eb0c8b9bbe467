"""Whole tables, for ``copy-db``: the tables in foreign-key order, their columns, their rows
read and written in batches, and PostgreSQL's identity sequences set past the copied ids.

Only the copy uses these; every other caller reads and writes through the named functions
of the other storage modules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlite_utils import Database

from shared.storage.connection import insertion_order, table_names

# Each engine's own record of the migrations applied (sqlite-utils' and ours on PostgreSQL):
# the copy migrates the target itself instead of copying the record.
MIGRATION_RECORDS = frozenset({"_sqlite_migrations", "schema_migrations"})


def data_tables(db: Database) -> list[str]:
    """The service's tables, parents before the tables whose foreign keys point at them
    (ties by name): the order that inserts every row after the rows it refers to."""
    tables = [
        t for t in table_names(db) if t not in MIGRATION_RECORDS and not t.startswith("sqlite_")
    ]
    parents = {table: set(_referenced(db, table)) - {table} for table in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = sorted(t for t in tables if t not in ordered and parents[t] <= set(ordered))
        if not ready:  # a cycle of foreign keys: no migration makes one
            left = sorted(set(tables) - set(ordered))
            raise ValueError(f"foreign keys form a cycle among {left}")
        ordered.extend(ready)
    return ordered


def _referenced(db: Database, table: str) -> list[str]:
    if db.engine == "sqlite":
        return [row[2] for row in db.execute(f"PRAGMA foreign_key_list({table})")]
    return [
        row[0]
        for row in db.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = to_regclass(?)",
            [table],
        )
    ]


def column_names(db: Database, table: str) -> list[str]:
    """``table``'s columns in their declared order."""
    if db.engine == "sqlite":
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    return [
        row[0]
        for row in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
    ]


@contextlib.contextmanager
def read_snapshot(db: Database) -> Iterator[Database]:
    """Every read inside sees the database as it was at the first one, while other
    connections go on writing (SQLite's WAL keeps that snapshot; PostgreSQL's REPEATABLE
    READ does the same). Nothing is written through ``db`` meanwhile."""
    db.execute("BEGIN" if db.engine == "sqlite" else "BEGIN ISOLATION LEVEL REPEATABLE READ")
    try:
        yield db
    finally:
        db.execute("ROLLBACK")


def read_rows(
    db: Database, table: str, columns: Sequence[str], batch_size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """``table``'s rows as tuples of ``columns``, ``batch_size`` at a time, in the order
    they were inserted (tables that are read in insertion order keep it in the copy)."""
    cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {insertion_order(db)}")
    while batch := cursor.fetchmany(batch_size):
        yield [tuple(row) for row in batch]


def insert_rows(
    db: Database, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples of ``columns``) as they are, ids included: PostgreSQL's
    ``COPY`` (ten times the rows a second of one INSERT each), SQLite's ``executemany``."""
    if db.engine == "sqlite":
        marks = ", ".join("?" for _ in columns)
        db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    import psycopg

    from shared.storage import postgres

    try:
        with db.conn.raw.cursor().copy(  # type: ignore[attr-defined]
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(postgres._no_nul(row))  # text cannot hold NUL there
    except psycopg.Error as exc:
        raise postgres.unavailable(exc) from exc


def delete_rows(db: Database, table: str) -> None:
    """Empty ``table`` (for the rows the migrations put there, which the copy replaces)."""
    db.execute(f"DELETE FROM {table}")


def reset_identity(db: Database, table: str) -> None:
    """On PostgreSQL, the next id ``table`` hands out follows the highest copied one (its
    identity sequence does not know of ids inserted explicitly); SQLite needs nothing."""
    if db.engine == "sqlite":
        return
    identity = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? AND is_identity = 'YES'",
        [table],
    ).fetchone()
    if identity is None:
        return
    column = identity[0]
    db.execute(
        f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max({column}), 0) + 1, false) "
        f"FROM {table}",
        [table, column],
    )
