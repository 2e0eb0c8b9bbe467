"""The outbox: every SMS the service sends is queued here first, then a worker sends it.

Queueing happens in the same transaction as the change it reports, so a confirmation is
never lost and never sent for a change that rolled back. The worker sends at a steady
rate, retries rate limits and gateway errors with exponential backoff, gives up after a
few tries (``failed``), and never sends to a phone that opted out. Delivery callbacks move
a message forward (sent, delivered, undelivered, failed), never back out of a final state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import storage
from sms import texts
from sms.conversation import phone_language
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


def _language(db: Database, voucher: Mapping[str, Any]) -> str:
    return phone_language(db, voucher["phone"], voucher) or "zh"


def queue_confirmation(db: Database, booking_id: int, kind: str, now: datetime) -> int | None:
    """Queue the SMS that confirms a change: ``booked``, ``changed`` or ``cancelled``."""
    voucher = storage.voucher_view_by_booking(db, booking_id)
    if voucher is None or not voucher["phone"]:
        return None
    language = _language(db, voucher)
    body = texts.sms_text(kind, language, **texts.voucher_values(voucher, language))
    return storage.enqueue_sms(db, voucher["phone"], body, "confirmation", now)


def queue_reminders(db: Database, now: datetime, minutes_before: int) -> int:
    """Queue a reminder for each booking starting within ``minutes_before``; once per slot."""
    queued = 0
    with storage.transaction(db):
        for voucher in storage.bookings_starting_between(
            db, now, now + timedelta(minutes=minutes_before)
        ):
            language = _language(db, voucher)
            body = texts.sms_text("reminder", language, **texts.voucher_values(voucher, language))
            key = f"reminder:{voucher['booking_id']}:{voucher['starts_at']}"
            if storage.enqueue_sms(db, voucher["phone"], body, "reminder", now, key):
                queued += 1
    return queued


def queue_invitations(db: Database, distribution_id: int, now: datetime) -> tuple[int, int]:
    """Invite every recipient of a distribution who has a phone; returns (queued, already).

    Those already booked get their time and code; the others are asked to reply BOOK.
    Each recipient is invited once per distribution, however often this runs.
    """
    distribution = storage.get_distribution(db, distribution_id)
    queued = already = 0
    with storage.transaction(db):
        for recipient in storage.recipients_with_phone(db, distribution_id):
            units = storage.allotment_units(db, recipient["id"])
            if not units:
                continue
            language = phone_language(db, recipient["phone"], recipient) or "zh"
            live = storage.live_booking_for(db, recipient["id"])
            if live is not None:
                voucher = storage.voucher_view_by_booking(db, live["id"])
                values = texts.voucher_values(voucher, language)
                body = texts.sms_text("invitation_booked", language, **values)
            else:
                body = texts.sms_text(
                    "invitation",
                    language,
                    item=texts.item_label(distribution["name"], distribution["item"], language),
                    amount=texts.amount(
                        units, distribution["unit_size"], distribution["measure"], language
                    ),
                )
            key = f"invitation:{distribution_id}:{recipient['id']}"
            if storage.enqueue_sms(db, recipient["phone"], body, "invitation", now, key):
                queued += 1
            else:
                already += 1
    return queued, already


# -- offers and retries for the operator console (admin) ------------------------------------


def queue_slot_offer(
    db: Database, recipient_id: int, now: datetime, hold_minutes: int, kind: str
) -> int | None:
    """Hold the next free slots for a recipient and queue an SMS offering them.

    ``kind`` is the template: ``missed_offer`` (after a no-show) or ``waiting_offer`` (a
    freed place for the waiting list). The phone's conversation then expects "1", "2" or
    "3", exactly as after BOOK. Returns the outbox id, or None when nothing was sent: no
    phone, opted out, nothing free, or the booking can no longer change. The same slots
    are never offered to the same recipient twice.
    """
    from shared import booking
    from shared.errors import BookingClosed
    from sms.conversation import CHOOSE_MINUTES

    with storage.transaction(db):
        recipient = storage.get_recipient(db, recipient_id)
        phone = recipient["phone"]
        if not phone or storage.is_opted_out(db, phone):
            return None
        try:
            slots = booking.offer_slots(db, recipient_id, now, hold_minutes)
        except BookingClosed:
            return None
        if not slots:
            return None
        ids = [s["id"] for s in slots]
        storage.set_conversation(
            db, phone, recipient_id, "choosing", ids, now + timedelta(minutes=CHOOSE_MINUTES), now
        )
        language = phone_language(db, phone, recipient) or "zh"
        timezone = storage.get_distribution(db, recipient["distribution_id"])["timezone"]
        options = " ".join(
            f"{n}) {texts.start_time(s['starts_at'], timezone, language)}"
            for n, s in enumerate(slots, start=1)
        )
        body = texts.sms_text(
            kind,
            language,
            choices=texts.choices(len(slots), language),
            minutes=hold_minutes,
            options=options,
        )
        key = f"offer:{recipient_id}:{','.join(map(str, ids))}"
        return storage.enqueue_sms(db, phone, body, "offer", now, key)


def retry_failed_invitations(db: Database, distribution_id: int, now: datetime) -> int:
    """Queue a distribution's failed and undelivered invitations again; returns how many."""
    with storage.transaction(db):
        return storage.requeue_failed_invitations(db, distribution_id, now)
