"""``flask --app wsgi send-outbox`` and ``send-invitations``: the sending worker and its feed."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from shared import outreach, storage
from shared.cli import distribution_option, domain_errors, pick_distribution, ready_db
from sms import worker
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
    help="With --loop: how long to wait when nothing is due.",
)
@with_appcontext
@domain_errors
def send_outbox_command(loop: bool, per_second: float | None, poll_seconds: float) -> None:
    """Send queued SMS (paced, retried with backoff) and queue reminders that are due."""
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
    while True:
        now = storage.now_utc()
        with storage.transaction(db):
            storage.requeue_stale_outbox(db, now - worker.STALE_SENDING, now)
        reminders = outreach.queue_reminders(db, now, config["PICKUP_REMINDER_MINUTES"])
        result = worker.drain(
            db,
            sender,
            storage.now_utc,
            config["PICKUP_SMS_MAX_ATTEMPTS"],
            config["PICKUP_SMS_RETRY_SECONDS"],
            pacer,
        )
        if result.attempted or reminders or not loop:
            summary = ", ".join(
                f"{n} {'to retry' if status == 'queued' else status}"
                for status, n in sorted(result.counts.items())
            )
            click.echo(
                f"Outbox: {result.attempted} tried ({summary or 'nothing due'}); "
                f"{reminders} reminders queued."
            )
        if not loop or stopping:
            return
        if not result.attempted:
            time.sleep(poll_seconds)
        if stopping:
            return


@click.command("send-invitations")
@distribution_option
@with_appcontext
@domain_errors
def send_invitations_command(distribution_id: int | None) -> None:
    """Queue an invitation SMS to every recipient of a distribution (once each)."""
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    queued, already = outreach.queue_invitations(db, distribution_id, storage.now_utc())
    click.echo(
        f"Queued {queued} invitations for distribution {distribution_id} "
        f"({already} were already queued). `send-outbox` sends them; `make run` runs it."
    )


COMMANDS = (send_outbox_command, send_invitations_command)
