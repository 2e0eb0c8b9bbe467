"""The worker that sends what the outbox holds, and the delivery callbacks that follow.

Which SMS are queued, and with what words, is the core's business (:mod:`shared.outreach`);
the outbox's SQL is in :mod:`shared.storage`. The worker sends at a steady
rate, answers before bulk and each phone's messages in order, retries rate limits and
gateway errors with exponential backoff, gives up after a few tries (``failed``), and
never sends to a phone that opted out (except the answer to its own STOP). While the
gateway cannot be reached at all it waits, counting no tries, and then goes on where it
stopped. Invitations stop at the daily cap and go on when the 24-hour window frees up.
Delivery callbacks move a message forward (sent, delivered, undelivered, failed), never
back out of a final state.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from shared import outreach, storage
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


DAY = timedelta(hours=24)


@dataclass
class DrainResult:
    attempted: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    held: int = 0  # invitations held back by the daily cap
    unreachable: bool = False  # the gateway could not be reached: wait before the next round

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
    """Try to send one queued message; returns the state it ends in (``skipped`` if taken,
    ``unreachable`` if the gateway could not be reached: then it is due again, its try
    not counted)."""
    with storage.transaction(db):
        message = storage.claim_outbox(db, outbox_id, now, f"pk-{outbox_id}-{uuid.uuid4().hex[:8]}")
        if message is None:
            return "skipped"
        # The answer to a phone's own STOP still goes; nothing else to an opted-out phone.
        if message["kind"] != "reply" and storage.is_opted_out(db, message["phone"]):
            storage.mark_outbox_final(db, outbox_id, "opted_out", None, now)
            return "opted_out"
    # The gateway call runs outside any transaction: it can take seconds, and the
    # database must not stay locked meanwhile. The claim keeps other workers off it.
    try:
        provider_id = sender.send(message["phone"], message["body"], message["send_key"])
    except SendError as exc:
        with storage.transaction(db):
            if exc.unreachable:
                storage.release_outbox_claim(db, outbox_id, str(exc), now)
                return "unreachable"
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
    invitations_per_day: int = 0,
) -> DrainResult:
    """Send what is due now, up to ``limit`` messages, at the pacer's rate.

    ``invitations_per_day`` (0: no cap) holds invitations back once that many were sent
    in the last 24 hours. The round stops at the first message the gateway could not be
    reached for; ``unreachable`` tells the worker to wait before the next.
    """
    result = DrainResult()
    for message in storage.due_outbox(db, now(), limit):
        if message["kind"] == "invitation" and invitations_per_day:
            if result.held:
                continue  # held already, with the rest of the round's invitations
            result.held = hold_invitations_over_cap(db, now(), invitations_per_day)
            if result.held:
                continue
        pacer.wait()
        status = send_one(db, message["id"], sender, now(), max_attempts, retry_seconds)
        if status == "unreachable":
            result.unreachable = True
            return result
        result.add(status)
    return result


def sweep_no_shows_if_due(
    db: Database, now: datetime, last_sweep: datetime | None, hold_minutes: int
) -> tuple[datetime | None, int]:
    """Sweep every distribution's no-shows when :data:`shared.outreach.NO_SHOW_SWEEP_EVERY`
    passed since ``last_sweep``: marked missed and offered new slots by SMS (queued here,
    sent by this worker). Returns (the time of the last sweep, how many were marked).
    """
    if last_sweep is not None and now - last_sweep < outreach.NO_SHOW_SWEEP_EVERY:
        return last_sweep, 0
    results = outreach.sweep_all_no_shows(db, now, "worker", hold_minutes)
    return now, sum(result.marked for result in results.values())


def hold_invitations_over_cap(db: Database, now: datetime, per_day: int) -> int:
    """At the cap, hold the due invitations until the oldest of the day's is 24 hours old.

    A rolling 24 hours: no calendar day (in any time zone) then sees more than
    ``per_day``. Returns how many were held (0 while under the cap).
    """
    with storage.transaction(db):
        sent = storage.sent_times_since(db, "invitation", now - DAY)
        if len(sent) < per_day:
            return 0
        # The count falls below the cap once the oldest ``len(sent) - per_day + 1`` are out
        # of the window.
        until = sent[len(sent) - per_day] + DAY
        return storage.hold_due_outbox(db, "invitation", until, now)


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
