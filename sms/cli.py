"""``flask --app wsgi send-outbox`` and ``send-invitations``: the sending worker and its feed."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlite_utils import Database

from shared import clock as shared_clock
from shared import outreach, storage
from shared.cli import distribution_option, pick_distribution, ready_db
from sms import wakeup, worker
from sms.senders import Sender, make_sender

log = logging.getLogger(__name__)


def get_sender(app: Flask) -> Sender:
    """The app's sender, made on first use from its settings (never at import)."""
    sender = app.extensions.get("sms_sender")
    if sender is None:
        sender = app.extensions["sms_sender"] = make_sender(app.config)
    return sender


@click.command("send-outbox")
@click.option(
    "--loop/--once",
    default=False,
    help="Keep sending as messages come (the worker `make run` starts), or send what is "
    "due and stop.",
)
@click.option(
    "--per-second",
    type=click.FloatRange(min=0.01),
    help="Sending rate; default PICKUP_SMS_PER_SECOND.",
)
@click.option(
    "--poll-seconds",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="With --loop: how long to wait when nothing is due (a reply queued by a webhook "
    "wakes it at once).",
)
@with_appcontext
def send_outbox_command(loop: bool, per_second: float | None, poll_seconds: float) -> None:
    """Send queued SMS (paced, retried with backoff) and queue reminders that are due.

    With --loop it waits for work on the doorbell (PICKUP_OUTBOX_SOCKET), and while the
    gateway cannot be reached it tries again every PICKUP_SMS_RETRY_SECONDS.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = current_app.config
    db = ready_db()
    sender = get_sender(current_app)
    pacer = worker.Pacer(per_second or config["PICKUP_SMS_PER_SECOND"])
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    if loop:
        signal.signal(signal.SIGTERM, stop)
    doorbell = wakeup.Doorbell(config["PICKUP_OUTBOX_SOCKET"])
    with doorbell.listening() if loop else contextlib.nullcontext():
        work_loop(db, sender, pacer, config, loop, poll_seconds, doorbell, lambda: stopping)


def work_loop(
    db: Database,
    sender: Sender,
    pacer: worker.Pacer,
    config: Mapping[str, Any],
    loop: bool,
    poll_seconds: float,
    doorbell: wakeup.Doorbell,
    stopping: Callable[[], bool],
    clock: Callable[[], datetime] = shared_clock.now,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """The worker: sweep no-shows (once a minute), queue due reminders, send what is due,
    wait; once, or until ``stopping``.

    While the gateway cannot be reached it sleeps PICKUP_SMS_RETRY_SECONDS between tries
    (one message each, its try not counted); when nothing is due it waits for the doorbell.
    """
    last_sweep: datetime | None = None
    while True:
        now = clock()
        with storage.transaction(db):
            storage.requeue_stale_outbox(db, now - worker.STALE_SENDING, now)
        last_sweep, missed = worker.sweep_no_shows_if_due(
            db, now, last_sweep, config["PICKUP_HOLD_MINUTES"]
        )
        if missed:
            click.echo(f"No-shows: {missed} bookings marked missed and offered new slots.")
        reminders = outreach.queue_reminders(db, now, config["PICKUP_REMINDER_MINUTES"])
        result = worker.drain(
            db,
            sender,
            clock,
            config["PICKUP_SMS_MAX_ATTEMPTS"],
            config["PICKUP_SMS_RETRY_SECONDS"],
            pacer,
            invitations_per_day=config["PICKUP_SMS_INVITATIONS_PER_DAY"],
        )
        if result.attempted or reminders or result.held or result.unreachable or not loop:
            summary = ", ".join(
                f"{n} {'to retry' if status == 'queued' else status}"
                for status, n in sorted(result.counts.items())
            )
            held = f"; {result.held} invitations wait for the daily cap" if result.held else ""
            down = "; the gateway is unreachable, waiting" if result.unreachable else ""
            click.echo(
                f"Outbox: {result.attempted} tried ({summary or 'nothing due'}); "
                f"{reminders} reminders queued{held}{down}."
            )
        if not loop or stopping():
            return
        if result.unreachable:
            sleep(config["PICKUP_SMS_RETRY_SECONDS"])
        elif not result.attempted:
            doorbell.wait(poll_seconds)
        if stopping():
            return


@click.command("send-invitations")
@distribution_option
@with_appcontext
def send_invitations_command(distribution_id: int | None) -> None:
    """Queue an invitation SMS to every recipient of a distribution (once each)."""
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    queued, already = outreach.queue_invitations(db, distribution_id, shared_clock.now())
    click.echo(
        f"Queued {queued} invitations for distribution {distribution_id} "
        f"({already} were already queued). `send-outbox` sends them; `make run` runs it."
    )


COMMANDS = (send_outbox_command, send_invitations_command)
