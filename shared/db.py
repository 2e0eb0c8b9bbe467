"""The app's database connection: one per app context, closed on teardown (flaskr's way)."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlite_utils import Database

from shared import storage


def get_db() -> Database:
    """The connection for this app context, opened on first use."""
    if "db" not in g:
        tracer = _log_statement if current_app.config["PICKUP_LOG_SQL"] else None
        g.db = storage.open_database(
            current_app.config["PICKUP_DB"], current_app.config["PICKUP_BUSY_TIMEOUT_MS"], tracer
        )
    return g.db


def _log_statement(sql: str, _params: Any) -> None:
    # Parameters are left out on purpose: they hold phone numbers and voucher codes.
    logging.getLogger("pickup.sql").info("%s", " ".join(sql.split()))


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database, or apply the migrations it is missing."""
    applied = storage.migrate(get_db())
    if applied:
        click.echo(f"Applied migrations: {', '.join(applied)}")
    else:
        click.echo("The database is up to date.")
    click.echo(f"Database: {current_app.config['PICKUP_DB']}")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
