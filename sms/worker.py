"""The worker that sends what the outbox holds, and the delivery callbacks that follow.

Which SMS are queued, and with what words, is the core's business (:mod:`shared.outreach`);
the outbox's SQL is in :mod:`shared.storage`. The worker sends at a steady
rate, retries rate limits and gateway errors with exponential backoff, gives up after a
few tries (``failed``), and never sends to a phone that opted out. Delivery callbacks move
a message forward (sent, delivered, undelivered, failed), never back out of a final state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from shared import storage
from sms.senders import Sender, SendError

STALE_SENDING = timedelta(minutes=10)  # a claim older than this belongs to a dead worker

# Twilio's MessageStatus values mapped to ours; "queued"/"accepted"/"sending" add nothing.
CALLBACK_STATES = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}
# The states each new state may be reached from: forward only, never out of a final one.
_FORWARD_FROM = {
    "sent": ("queued", "sending"),
    "delivered": ("queued", "sending", "sent"),
    "undelivered": ("queued", "sending", "sent"),
    "failed": ("queued", "sending", "sent"),
}


@dataclass
class DrainResult:
    attempted: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.attempted += 1
        self.counts[status] = self.counts.get(status, 0) + 1


class Pacer:
    """Spaces sends at least ``1 / per_second`` seconds apart."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("the sending rate must be above zero")
        self.interval = 1 / per_second
        self.clock = clock
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def backoff(attempts: int, retry_seconds: int) -> timedelta:
    """Wait before the next try after ``attempts`` tries: 1x, 2x, 4x ... the base."""
    return timedelta(seconds=retry_seconds * 2 ** max(0, attempts - 1))


def send_one(
    db: Database,
    outbox_id: int,
    sender: Sender,
    now: datetime,
    max_attempts: int,
    retry_seconds: int,
) -> str:
    """Try to send one queued message; returns the state it ends in (``skipped`` if taken)."""
    with storage.transaction(db):
        message = storage.claim_outbox(db, outbox_id, now)
        if message is None:
            return "skipped"
        if storage.is_opted_out(db, message["phone"]):
            storage.mark_outbox_final(db, outbox_id, "opted_out", None, now)
            return "opted_out"
    # The gateway call runs outside any transaction: it can take seconds, and the
    # database must not stay locked meanwhile. The claim keeps other workers off it.
    try:
        provider_id = sender.send(message["phone"], message["body"])
    except SendError as exc:
        with storage.transaction(db):
            if exc.opted_out:
                storage.set_phone_opt_out(db, message["phone"], True, now)
                storage.mark_outbox_final(db, outbox_id, "opted_out", str(exc), now)
                return "opted_out"
            if exc.retryable and message["attempts"] < max_attempts:
                retry_at = now + backoff(message["attempts"], retry_seconds)
                storage.mark_outbox_retry(db, outbox_id, retry_at, str(exc), now)
                return "queued"
            storage.mark_outbox_final(db, outbox_id, "failed", str(exc), now)
            return "failed"
    with storage.transaction(db):
        storage.mark_outbox_sent(db, outbox_id, provider_id, now)
    return "sent"


def drain(
    db: Database,
    sender: Sender,
    now: Callable[[], datetime],
    max_attempts: int,
    retry_seconds: int,
    pacer: Pacer,
    limit: int = 100,
) -> DrainResult:
    """Send what is due now, up to ``limit`` messages, at the pacer's rate."""
    result = DrainResult()
    for outbox_id in storage.due_outbox_ids(db, now(), limit):
        pacer.wait()
        result.add(send_one(db, outbox_id, sender, now(), max_attempts, retry_seconds))
    return result


def apply_callback(
    db: Database, provider_id: str, provider_status: str, error: str | None, now: datetime
) -> bool:
    """Record a delivery callback; False if it changes nothing (unknown, stale or final)."""
    status = CALLBACK_STATES.get((provider_status or "").lower())
    if status is None or not provider_id:
        return False
    with storage.transaction(db):
        return storage.update_outbox_status(
            db, provider_id, status, _FORWARD_FROM[status], error, now
        )
