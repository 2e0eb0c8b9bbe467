"""Which SMS the service sends on its own, to whom, in which language, and with what words.

Invitations, slot offers (after BOOK, after a no-show, to the waiting list), confirmations
of a change and reminders. Each is queued in the storage layer's outbox in the same
transaction as the change it reports, so a confirmation is never lost and never sent for
a change that rolled back; the SMS channel's worker (``sms/worker.py``) sends them. The
texts are in :mod:`shared.outreach_texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import booking, storage
from shared import outreach_texts as texts
from shared.errors import BookingClosed, NoPhone, NotFound
from shared.messages import DEFAULT_LANGUAGE

CHOOSE_MINUTES = 24 * 60  # how long "reply 1, 2 or 3" stays answerable (holds lapse sooner)
# How often the running worker sweeps no-shows: a slot's grace period is counted in minutes.
NO_SHOW_SWEEP_EVERY = timedelta(minutes=1)


def phone_language(db: Database, phone: str, recipient: Mapping[str, Any] | None) -> str | None:
    """The language a phone asked for, else the roster's; None if neither is known."""
    prefs = storage.get_phone_prefs(db, phone)
    if prefs and prefs["language"]:
        return prefs["language"]
    return recipient["language"] if recipient else None


def language_for(db: Database, phone: str, recipient: Mapping[str, Any] | None) -> str:
    """The language to write to ``phone`` in: its own, the roster's, else the default."""
    return phone_language(db, phone, recipient) or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class SlotOffer:
    """Slots held for a recipient and the SMS that offers them ("reply 1, 2 or 3")."""

    slot_ids: list[int]
    text: str


@dataclass(frozen=True)
class OfferDraft:
    """What an offer needs that can be read before the write lock is taken: the slots free
    for the recipient then, and the time zone their times are written in."""

    found: booking.FreeSlots
    timezone: str


def draft_offer(db: Database, recipient: Mapping[str, Any], now: datetime) -> OfferDraft | None:
    """Read what :func:`offer_slots` needs, without the write lock; None when the booking
    cannot change (:func:`offer_slots` then says why, under the lock)."""
    try:
        found = booking.find_free_slots(db, recipient["id"], now)
    except BookingClosed:
        return None
    timezone = storage.get_distribution(db, recipient["distribution_id"])["timezone"]
    return OfferDraft(found, timezone)


def offer_slots(
    db: Database,
    recipient: Mapping[str, Any],
    phone: str,
    now: datetime,
    hold_minutes: int,
    language: str,
    kind: str = "offer",
    draft: OfferDraft | None = None,
) -> SlotOffer | None:
    """Hold the next free slots for ``recipient`` and word the SMS that offers them.

    The phone's conversation then expects "1", "2" or "3". ``kind`` is the template:
    ``offer`` (the answer to BOOK or CHANGE), ``missed_offer`` (after a no-show) or
    ``waiting_offer`` (a freed place for the waiting list). Returns None when nothing is
    free; raises :class:`~shared.errors.BookingClosed` when the booking can no longer change.
    ``draft``: what :func:`draft_offer` read before the write lock (checked again under it).
    """
    found = draft.found if draft else None
    slots = booking.offer_slots(db, recipient["id"], now, hold_minutes, found=found)
    if not slots:
        return None
    ids = [s["id"] for s in slots]
    storage.set_conversation(
        db, phone, recipient["id"], "choosing", ids, now + timedelta(minutes=CHOOSE_MINUTES), now
    )
    if draft is not None:
        timezone = draft.timezone
    else:
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
    return SlotOffer(ids, body)


def queue_slot_offer(
    db: Database, recipient_id: int, now: datetime, hold_minutes: int, kind: str
) -> int | None:
    """Offer a recipient the next free slots by SMS (see :func:`offer_slots`).

    Returns the outbox id, or None when nothing was sent: no phone, opted out, nothing
    free, or the booking can no longer change. The same slots are never offered to the
    same recipient twice.
    """
    with storage.transaction(db):
        recipient = storage.get_recipient(db, recipient_id)
        phone = recipient["phone"]
        if not phone or storage.is_opted_out(db, phone):
            return None
        language = language_for(db, phone, recipient)
        try:
            offer = offer_slots(db, recipient, phone, now, hold_minutes, language, kind)
        except BookingClosed:
            return None
        if offer is None:
            return None
        key = f"offer:{recipient_id}:{','.join(map(str, offer.slot_ids))}"
        return storage.enqueue_sms(db, phone, offer.text, "offer", now, key)


def queue_confirmation(db: Database, booking_id: int, kind: str, now: datetime) -> int | None:
    """Queue the SMS that confirms a change: ``booked``, ``changed`` or ``cancelled``."""
    voucher = storage.voucher_view_by_booking(db, booking_id)
    if voucher is None or not voucher["phone"]:
        return None
    language = language_for(db, voucher["phone"], voucher)
    body = texts.sms_text(kind, language, **texts.voucher_values(voucher, language))
    return storage.enqueue_sms(db, voucher["phone"], body, "confirmation", now)


def queue_reminders(db: Database, now: datetime, minutes_before: int) -> int:
    """Queue a reminder for each booking starting within ``minutes_before``; once per slot.

    A booking made or moved inside that window gets none: its confirmation (the SMS reply,
    or the one a phone call or the office queued) said the same a moment ago, and one change
    sends one message.
    """
    queued = 0
    window = timedelta(minutes=minutes_before)
    with storage.transaction(db):
        for voucher in storage.bookings_starting_between(db, now, now + window):
            starts_at = storage.from_db_time(voucher["starts_at"])
            changed_at = storage.from_db_time(voucher["booking_updated_at"])
            if changed_at >= starts_at - window:
                continue
            language = language_for(db, voucher["phone"], voucher)
            body = texts.sms_text("reminder", language, **texts.voucher_values(voucher, language))
            key = f"reminder:{voucher['booking_id']}:{voucher['starts_at']}"
            if storage.enqueue_sms(db, voucher["phone"], body, "reminder", now, key):
                queued += 1
    return queued


def queue_invitations(db: Database, distribution_id: int, now: datetime) -> tuple[int, int]:
    """Invite every recipient of a distribution who has a phone; returns (queued, already).

    Those already booked get their time and code; the others are asked to reply BOOK.
    Each recipient is invited once per distribution, however often this runs. What the
    texts need is read in a few queries and the messages queued in one batched insert, so
    100,000 invitations take seconds; the worker still paces the sending.
    """
    distribution = storage.get_distribution(db, distribution_id)
    with storage.transaction(db):
        allotments = storage.allotments_by_recipient(db, distribution_id)
        chosen_languages = storage.phone_languages(db)

        def language(recipient: Mapping[str, Any]) -> str:
            return (
                chosen_languages.get(recipient["phone"])
                or recipient["language"]
                or DEFAULT_LANGUAGE
            )

        # The booked first, each text written as its voucher is read (a view is not kept).
        booked_texts = {
            v["recipient_id"]: _voucher_or_invitation_text(distribution, language(v), v, None)[1]
            for v in storage.iter_voucher_views_for_distribution(db, distribution_id)
            if v["phone"]
        }
        messages = []
        for recipient in storage.recipients_with_phone(db, distribution_id):
            units = allotments.get(recipient["id"])
            if not units:
                continue
            body = booked_texts.get(recipient["id"])
            if body is None:
                _, body = _voucher_or_invitation_text(
                    distribution, language(recipient), None, units
                )
            key = f"invitation:{distribution_id}:{recipient['id']}"
            messages.append((recipient["phone"], body, key))
        queued = storage.enqueue_many_sms(db, messages, "invitation", now)
    return queued, len(messages) - queued


def retry_failed_invitations(db: Database, distribution_id: int, now: datetime) -> int:
    """Queue a distribution's failed and undelivered invitations again; returns how many."""
    with storage.transaction(db):
        return storage.requeue_failed_invitations(db, distribution_id, now)


def _voucher_or_invitation(
    db: Database, recipient: Mapping[str, Any], distribution: Mapping[str, Any], language: str
) -> tuple[str, str]:
    """``("voucher", text)`` with the time and code if booked, else ``("invitation", text)``."""
    live = storage.live_booking_for(db, recipient["id"])
    voucher = storage.voucher_view_by_booking(db, live["id"]) if live is not None else None
    units = None if voucher else storage.allotment_units(db, recipient["id"])
    return _voucher_or_invitation_text(distribution, language, voucher, units)


def _voucher_or_invitation_text(
    distribution: Mapping[str, Any],
    language: str,
    voucher: Mapping[str, Any] | None,
    units: int | None,
) -> tuple[str, str]:
    """The SMS of :func:`_voucher_or_invitation` from the live booking's voucher view
    (None without one) and the recipient's allotted units."""
    if voucher is not None:
        values = texts.voucher_values(voucher, language)
        return "voucher", texts.sms_text("invitation_booked", language, **values)
    return "invitation", texts.sms_text(
        "invitation",
        language,
        item=texts.item_label(distribution["name"], distribution["item"], language),
        amount=texts.amount(units, distribution["unit_size"], distribution["measure"], language),
    )


@dataclass(frozen=True)
class SentToPhone:
    """A voucher (or, without a booking, the invitation) sent to a recipient's own phone."""

    phone_ending: str  # the last four digits, all that may be told to whoever asked
    booked: bool  # the SMS carries the voucher; False: it asks to reply BOOK
    queued: bool  # False: the same was sent today already, and is not sent again


def send_voucher_to_phone(db: Database, recipient_id: int, now: datetime) -> SentToPhone | None:
    """Queue the recipient's voucher SMS to the phone on the roster, at most once a day.

    For whoever knows only a public code (the phone menu without caller ID): the voucher
    goes to the registered phone, never to them. None when there is no phone or it opted
    out. Call inside a transaction.
    """
    recipient = storage.get_recipient(db, recipient_id)
    phone = recipient["phone"]
    if not phone or storage.is_opted_out(db, phone):
        return None
    distribution = storage.get_distribution(db, recipient["distribution_id"])
    language = language_for(db, phone, recipient)
    kind, body = _voucher_or_invitation(db, recipient, distribution, language)
    key = f"to_phone:{recipient_id}:{kind}:{storage.to_db_time(now)[:10]}"
    queued = storage.enqueue_sms(db, phone, body, "voucher", now, key) is not None
    digits = "".join(ch for ch in phone if ch.isdigit())
    return SentToPhone(digits[-4:], kind == "voucher", queued)


def move_and_confirm(
    db: Database,
    recipient_id: int,
    slot_id: int,
    now: datetime,
    actor: str,
    make_code: Callable[[int], str],
) -> dict[str, Any]:
    """Move the recipient's booking to ``slot_id`` (or book it) and confirm it by SMS.

    The rules are :func:`shared.booking.book_slot`'s (audited there); the SMS is queued
    in the same transaction. Returns the voucher view.
    """
    with storage.transaction(db):
        had_booking = storage.live_booking_for(db, recipient_id) is not None
        view = booking.book_slot(db, recipient_id, slot_id, now, actor, make_code)
        queue_confirmation(db, view["booking_id"], "changed" if had_booking else "booked", now)
    return view


def cancel_and_confirm(db: Database, recipient_id: int, now: datetime, actor: str) -> dict:
    """Cancel the recipient's booking (:func:`shared.booking.cancel_booking`, audited
    there) and tell them by SMS in the same transaction. Returns the voucher view."""
    with storage.transaction(db):
        view = booking.cancel_booking(db, recipient_id, now, actor)
        queue_confirmation(db, view["booking_id"], "cancelled", now)
    return view


def resend_voucher(db: Database, recipient_id: int, now: datetime, actor: str) -> int:
    """Queue the voucher SMS (time, place, amount, code) again, at the operator's word for
    a representative who lost it: not limited to once a day as
    :func:`send_voucher_to_phone` is; audited. Returns the outbox id.

    Raises NotFound without a live booking, NoPhone without a phone that takes SMS.
    """
    with storage.transaction(db):
        live = storage.live_booking_for(db, recipient_id)
        if live is None:
            raise NotFound("no_voucher_booking")
        recipient = storage.get_recipient(db, recipient_id)
        phone = recipient["phone"]
        if not phone or storage.is_opted_out(db, phone):
            raise NoPhone("no_sms_phone")
        distribution = storage.get_distribution(db, recipient["distribution_id"])
        language = language_for(db, phone, recipient)
        _, body = _voucher_or_invitation(db, recipient, distribution, language)
        outbox_id = storage.enqueue_sms(db, phone, body, "voucher", now)
        storage.audit(db, actor, "resend_voucher", f"booking:{live['id']}", now, {})
    return outbox_id


@dataclass(frozen=True)
class NoShowResult:
    marked: int
    offered: int


def sweep_no_shows(
    db: Database, distribution_id: int, now: datetime, actor: str, hold_minutes: int
) -> NoShowResult:
    """Mark the no-shows missed and offer each of them the next free slots by SMS."""
    marked = booking.mark_no_shows(db, distribution_id, now, actor)
    offered = 0
    for missed in marked:
        if queue_slot_offer(db, missed["recipient_id"], now, hold_minutes, "missed_offer"):
            offered += 1
    if marked:
        with storage.transaction(db):
            storage.audit(
                db,
                actor,
                "offer_missed",
                f"distribution:{distribution_id}",
                now,
                {"marked": len(marked), "offered": offered},
            )
    return NoShowResult(len(marked), offered)


def sweep_all_no_shows(
    db: Database, now: datetime, actor: str, hold_minutes: int
) -> dict[int, NoShowResult]:
    """:func:`sweep_no_shows` over every distribution (the worker and ``mark-no-shows``)."""
    return {
        d["id"]: sweep_no_shows(db, d["id"], now, actor, hold_minutes)
        for d in storage.list_distributions(db)
    }
