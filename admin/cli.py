"""``flask --app wsgi mark-no-shows``: the no-show sweep for cron or the worker."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from shared import clock, storage
from shared.cli import cli_actor, distribution_option, ready_db
from shared.outreach import sweep_no_shows


@click.command("mark-no-shows")
@distribution_option
@with_appcontext
def mark_no_shows_command(distribution_id: int | None) -> None:
    """Mark bookings missed whose slot and grace period passed without a check-in, and
    offer each of them the next free slots by SMS. Every distribution unless one is named;
    running it again marks nobody twice."""
    db = ready_db()
    ids = (
        [storage.get_distribution(db, distribution_id)["id"]]
        if distribution_id is not None
        else [d["id"] for d in storage.list_distributions(db)]
    )
    hold = current_app.config["PICKUP_HOLD_MINUTES"]
    for each in ids:
        result = sweep_no_shows(db, each, clock.now(), cli_actor(), hold)
        click.echo(
            f"Distribution {each}: {result.marked} bookings marked missed, "
            f"{result.offered} offered new slots by SMS."
        )


COMMANDS = (mark_no_shows_command,)
