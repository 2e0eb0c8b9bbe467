"""The app's database connection: one per app context, closed on teardown (flaskr's way)."""

from __future__ import annotations

import click
from flask import Flask, current_app, g
from sqlite_utils import Database

from shared import storage


def get_db() -> Database:
    """The connection for this app context, opened on first use."""
    if "db" not in g:
        g.db = storage.open_database(
            current_app.config["PICKUP_DB"], current_app.config["PICKUP_BUSY_TIMEOUT_MS"]
        )
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


@click.command("init-db")
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
