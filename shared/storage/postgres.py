"""PostgreSQL behind the same storage functions as SQLite: every dialect difference is here.

The storage modules write one SQL text for both engines (``?`` and ``:name`` placeholders,
``INSERT ... ON CONFLICT``, ``RETURNING``, times as ISO 8601 text). On SQLite they run as
written, on the connection sqlite-utils gives (no translation on the hot path). On
PostgreSQL a :class:`PostgresDatabase` offers the few members the storage layer uses of a
sqlite-utils ``Database`` (``execute``, ``conn.executemany``, ``conn.in_transaction``,
``conn.rollback``) and translates on the way:

* placeholders: ``?`` becomes ``%s`` and ``:name`` becomes ``%(name)s`` (a literal ``%``
  is doubled); translations are cached per SQL text;
* transactions: ``BEGIN`` instead of ``BEGIN IMMEDIATE``. PostgreSQL has no single writer,
  so a read-then-write takes a row lock (``FOR UPDATE``, :data:`FOR_UPDATE`), a unique
  constraint or a transaction advisory lock (:func:`lock_key`) where SQLite relied on
  its write lock; each such place says which in a comment;
* schema: migrations are written in SQLite's DDL; :func:`ddl` translates each statement
  (``id INTEGER PRIMARY KEY`` to an identity column, ``REAL`` to ``DOUBLE PRECISION``,
  ``BLOB`` to ``BYTEA``, SQLite's ``RAISE(ABORT)`` triggers to PL/pgSQL ones);
  :func:`migrate` applies the same ordered list, recorded in ``schema_migrations`` and
  serialised across nodes by an advisory lock;
* errors: a lock wait past the busy timeout, a deadlock, a lost connection or a full disk
  become :class:`StorageUnavailable` with the same words as on SQLite.

Parameters are bound on the client (``ClientCursor``), as SQLite's loose typing expects:
``? IS NULL`` with a ``None`` needs no declared type.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from shared.errors import StorageUnavailable

# The table recording which migrations are applied (sqlite-utils' is _sqlite_migrations).
MIGRATIONS_TABLE = "schema_migrations"
# Advisory lock keys: one for migrations; lock_key() hashes its own into the rest.
_MIGRATION_LOCK = 0x5049434B  # "PICK"


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class IntegrityError(sqlite3.IntegrityError):
    """A constraint PostgreSQL refused: one class to catch on both engines."""


class _Connection:
    """What the storage layer and :mod:`shared.db` use of a DB-API connection."""

    def __init__(self, raw: psycopg.Connection, database: PostgresDatabase) -> None:
        self.raw = raw
        self._database = database

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor:
        return self._database.executemany(sql, rows)

    def rollback(self) -> None:
        self.raw.rollback()

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


class PostgresDatabase:
    """One PostgreSQL connection with the interface the storage functions use."""

    engine = "postgresql"

    def __init__(
        self,
        raw: psycopg.Connection,
        busy_timeout_ms: int,
        tracer: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.conn = _Connection(raw, self)
        self.busy_timeout_ms = busy_timeout_ms
        self._tracer = tracer
        self._savepoints = 0

    def is_broken(self) -> bool:
        """True once the server has gone: the next use must open a new connection."""
        return self.conn.raw.closed or self.conn.raw.broken

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> psycopg.Cursor:
        if self._tracer:
            self._tracer(sql, params)
        try:
            return self.conn.raw.execute(
                placeholders(sql, bool(params), isinstance(params, dict)), _no_nul(params) or None
            )
        except psycopg.Error as exc:
            raise unavailable(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor:
        if self._tracer:
            self._tracer(sql, None)
        cursor = self.conn.raw.cursor()
        rows = list(rows)
        if not rows:
            return cursor
        try:
            cursor.executemany(
                placeholders(sql, True, isinstance(rows[0], dict)), [_no_nul(r) for r in rows]
            )
        except psycopg.Error as exc:
            raise unavailable(exc) from exc
        return cursor

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresDatabase]:
        """``BEGIN`` ... ``COMMIT``; nested calls become savepoints, as on SQLite."""
        if self.conn.in_transaction:
            self._savepoints += 1
            name = f"sp{self._savepoints}"
            self.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                if not self.is_broken():
                    self.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                self.execute(f"RELEASE SAVEPOINT {name}")
            finally:
                self._savepoints -= 1
            return
        self.execute("BEGIN")
        try:
            yield self
        except BaseException:
            if not self.is_broken() and self.conn.in_transaction:
                self.conn.raw.rollback()
            raise
        try:
            self.execute("COMMIT")
        except BaseException:
            if not self.is_broken() and self.conn.in_transaction:
                self.conn.raw.rollback()
            raise

    # sqlite-utils' name for the same thing (the migrations use it).
    atomic = transaction


def _no_nul(params: Any) -> Any:
    """``params`` with each NUL character in text as U+FFFD: PostgreSQL's text cannot hold
    NUL (SQLite's can), and an SMS or a form field may carry one."""
    if isinstance(params, dict):
        if any(isinstance(v, str) and "\x00" in v for v in params.values()):
            return {
                k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v
                for k, v in params.items()
            }
        return params
    if any(isinstance(v, str) and "\x00" in v for v in params):
        return [v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in params]
    return params


def connect(
    url: str, busy_timeout_ms: int = 5000, tracer: Callable[[str, Any], None] | None = None
) -> PostgresDatabase:
    """Open a connection; statements wait for a row lock at most ``busy_timeout_ms``."""
    try:
        raw = psycopg.connect(
            url,
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            connect_timeout=max(1, busy_timeout_ms // 1000),
            options=f"-c lock_timeout={int(busy_timeout_ms)} -c TimeZone=UTC",
        )
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(
            "database_unreachable", target=redacted(url), problem=str(exc).strip()
        ) from exc
    return PostgresDatabase(raw, int(busy_timeout_ms), tracer)


def unavailable(exc: psycopg.Error) -> Exception:
    """The error a caller shows for a PostgreSQL failure: busy and disk full as on SQLite,
    a refused constraint as :class:`IntegrityError`; others pass through as they are."""
    if isinstance(exc, psycopg.IntegrityError):
        return IntegrityError(str(exc).strip())
    if isinstance(
        exc,
        pg_errors.LockNotAvailable
        | pg_errors.DeadlockDetected
        | pg_errors.SerializationFailure
        | pg_errors.QueryCanceled
        | pg_errors.AdminShutdown
        | pg_errors.CannotConnectNow,
    ) or (isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None):
        return StorageUnavailable("storage_busy")
    if isinstance(exc, pg_errors.DiskFull):
        return StorageUnavailable("disk_full")
    return exc


# -- SQL text ---------------------------------------------------------------------------

# A quoted string or identifier, a comment, or a placeholder: ``?`` or ``:name``.
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|(?<!:):([A-Za-z_]\w*)|\?|%""")


@functools.lru_cache(maxsize=4096)
def placeholders(sql: str, has_params: bool, named: bool) -> str:
    """SQLite's ``?`` and ``:name`` as psycopg's ``%s`` and ``%(name)s``; ``%`` doubled."""
    if not has_params:
        return sql

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s" if named else text
        return text.replace("%", "%%")

    return _TOKEN.sub(swap, sql)


FOR_UPDATE = " FOR UPDATE"
SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"


def lock_key(database: PostgresDatabase, *parts: object) -> None:
    """Hold a transaction advisory lock on ``parts`` until the transaction ends."""
    key = zlib.crc32(":".join(str(p) for p in parts).encode()) - 2**31
    database.execute("SELECT pg_advisory_xact_lock(?, ?)", [_MIGRATION_LOCK, key])


# -- schema -----------------------------------------------------------------------------

_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE|INSERT) ON (\w+)\s+"
    r"BEGIN SELECT RAISE\(ABORT, '((?:[^']|'')*)'\); END;?",
    re.IGNORECASE,
)
_TYPES = (
    (
        re.compile(r"\bid INTEGER PRIMARY KEY\b"),
        "id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
)


def ddl(statement: str) -> list[str]:
    """A migration's SQLite statement as the PostgreSQL statements that do the same."""
    text = statement.strip()
    if not text or text.upper().startswith("PRAGMA"):
        return []
    trigger = _TRIGGER.search(text)
    if trigger:
        name, event, table, message = trigger.groups()
        return [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}' "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$",
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    for pattern, replacement in _TYPES:
        text = pattern.sub(replacement, text)
    return [text]


def _applied(database: PostgresDatabase, migration_set: str) -> set[str]:
    exists = database.execute("SELECT to_regclass(?)", [MIGRATIONS_TABLE]).fetchone()[0]
    if exists is None:
        return set()
    rows = database.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [migration_set]
    )
    return {row[0] for row in rows}


def pending(database: PostgresDatabase, migrations: Any) -> list[str]:
    """Names of the migrations not yet applied, in order."""
    done = _applied(database, migrations.name)
    return [m.name for m in migrations._migrations if m.name not in done]


def migrate(database: PostgresDatabase, migrations: Any) -> list[str]:
    """Apply the pending migrations, each in a transaction with its record.

    An advisory lock serialises nodes that run ``init-db`` at the same time: the second
    waits, then finds the migration applied and skips it.
    """
    applied = []
    with database.transaction():
        database.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATION_LOCK])
        database.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            "migration_set TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, "
            "PRIMARY KEY (migration_set, name))"
        )
    for migration in migrations._migrations:
        with database.transaction():
            database.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATION_LOCK])
            if migration.name in _applied(database, migrations.name):
                continue
            migration.fn(database)
            database.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) "
                "VALUES (?, ?, ?)",
                [migrations.name, migration.name, datetime.now(UTC).isoformat()],
            )
        applied.append(migration.name)
    return applied
