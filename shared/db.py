"""The app's database connections: one per worker thread, lent to each app context.

flaskr opens a connection per request; here each thread keeps its own and lends it to one
app context at a time, because opening one (and its PRAGMAs) cost more than a booking's
own queries. A connection is never shared between threads or forked processes, and it is
returned with no transaction open.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from flask import Flask, current_app, g
from sqlite_utils import Database

from shared import storage


def get_db() -> Database:
    """The connection for this app context: this thread's own, opened on first use."""
    if "db" not in g:
        g.db = _thread_connection(current_app)
    return g.db


def _thread_connection(app: Flask) -> Database:
    local = app.extensions.setdefault("pickup_db", threading.local())
    db = getattr(local, "db", None)
    # A forked worker must not use its parent's connection; one the server dropped is
    # replaced (PostgreSQL restarted or failed over).
    if db is None or getattr(local, "pid", None) != os.getpid() or db.is_broken():
        tracer = _log_statement if app.config["PICKUP_LOG_SQL"] else None
        db = storage.open_database(
            app.config["PICKUP_DB"], app.config["PICKUP_BUSY_TIMEOUT_MS"], tracer
        )
        local.db, local.pid = db, os.getpid()
    return db


def _log_statement(sql: str, _params: Any) -> None:
    # Parameters are left out on purpose: they hold phone numbers and voucher codes.
    logging.getLogger("pickup.sql").info("%s", " ".join(sql.split()))


def close_db(_exc: BaseException | None = None) -> None:
    """Give the connection back to its thread; a transaction left open is rolled back."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_app(app: Flask) -> None:
    """Give every app context's connection back when the context ends."""
    app.teardown_appcontext(close_db)
