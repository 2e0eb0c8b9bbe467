"""Book, change and cancel a pickup slot, and mark the bookings nobody came for as missed.

Each is one transaction. A slot offered to someone who is choosing (by SMS, on the
phone) is held for a few minutes so that it is still free when they answer; holds count
against capacity until they expire, and nobody has to clean them up for that to hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import storage
from shared.errors import (
    BookingClosed,
    HoldExpired,
    InvalidInput,
    NoAllotment,
    NotFound,
    SlotFull,
    SlotStarted,
)


def slot_fits(slot: dict[str, Any], load: tuple[int, int], units: int) -> bool:
    """Whether one more recipient carrying ``units`` fits in ``slot`` given its ``load``."""
    people, taken_units = load
    if people + 1 > slot["capacity_people"]:
        return False
    return slot["capacity_units"] is None or taken_units + units <= slot["capacity_units"]


def _units_for(db: Database, recipient: dict[str, Any]) -> int:
    units = storage.allotment_units(db, recipient["id"])
    if not units:
        raise NoAllotment("no_allotment", name=recipient["name"])
    return units


def _guard_changeable(db: Database, booking: dict[str, Any] | None) -> None:
    if booking is None:
        return
    if booking["checked_in_at"]:
        raise BookingClosed("booking_checked_in")
    if storage.handed_units(db, booking["id"]):
        raise BookingClosed("booking_handed_over")


def free_slots(
    db: Database, recipient_id: int, now: datetime, limit: int = 3
) -> list[dict[str, Any]]:
    """The next slots at the recipient's site that still have room for them, earliest first.

    Their site is the roster's, else the one they are booked at; with neither, any site.
    """
    return find_free_slots(db, recipient_id, now, limit).slots


@dataclass(frozen=True)
class FreeSlots:
    """Slots found free for a recipient, and what finding them depended on.

    Found without the write lock, they are held under it only if the recipient's booking
    and allotment are still as read and each slot still has room (:func:`offer_slots`).
    """

    slots: list[dict[str, Any]]
    booking: dict[str, Any] | None  # the recipient's live booking when they were found
    units: int  # the recipient's allotment when they were found


def find_free_slots(db: Database, recipient_id: int, now: datetime, limit: int = 3) -> FreeSlots:
    """:func:`free_slots` with what they depended on (read-only: no lock needed)."""
    recipient = storage.get_recipient(db, recipient_id)
    units = _units_for(db, recipient)
    booking = storage.live_booking_for(db, recipient_id)
    site_id = recipient["site_id"]
    if site_id is None and booking:
        site_id = storage.get_slot(db, booking["slot_id"])["site_id"]
    skip = booking["slot_id"] if booking else 0
    found = storage.first_free_slots(db, recipient, units, site_id, skip, now, limit)
    return FreeSlots(found, booking, units)


def _still_free(
    db: Database,
    recipient_id: int,
    found: FreeSlots,
    booking: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """Whether slots found before the write lock are still free for the recipient (call
    under it): the booking and the allotment as they were, and room left in every slot."""
    if booking != found.booking or storage.allotment_units(db, recipient_id) != found.units:
        return False
    loads = storage.slot_loads_of(db, [slot["id"] for slot in found.slots], now, recipient_id)
    return all(
        slot["id"] in loads and slot_fits(slot, loads[slot["id"]], found.units)
        for slot in found.slots
    )


def offer_slots(
    db: Database,
    recipient_id: int,
    now: datetime,
    hold_minutes: int,
    limit: int = 3,
    found: FreeSlots | None = None,
) -> list[dict[str, Any]]:
    """Find up to ``limit`` free slots and hold them for the recipient while they choose.

    ``found``: the slots :func:`find_free_slots` found before the write lock was taken, so
    that the lock is held for the check and the holds only; if anything they depended on
    changed meanwhile, the slots are found again under the lock.
    """
    with storage.transaction(db):
        storage.lock_recipient(db, recipient_id)
        booking = storage.live_booking_for(db, recipient_id)
        _guard_changeable(db, booking)
        if found is None or not _still_free(db, recipient_id, found, booking, now):
            found = find_free_slots(db, recipient_id, now, limit)
        slots = found.slots
        storage.replace_holds(
            db, recipient_id, [s["id"] for s in slots], now + timedelta(minutes=hold_minutes)
        )
    return slots


def book_slot(
    db: Database,
    recipient_id: int,
    slot_id: int,
    now: datetime,
    actor: str,
    make_code: Callable[[int], str],
) -> dict[str, Any]:
    """Book ``slot_id`` for the recipient, or move their booking there; returns the voucher view.

    A move keeps the voucher: the code the representative already has stays good.
    """
    with storage.transaction(db):
        storage.lock_recipient(db, recipient_id)
        recipient = storage.get_recipient(db, recipient_id)
        slot = storage.lock_slot(db, slot_id)
        if slot["distribution_id"] != recipient["distribution_id"]:
            raise InvalidInput("slot_other_distribution")
        if slot["starts_at"] <= storage.to_db_time(now):
            raise SlotStarted("slot_started")
        units = _units_for(db, recipient)
        booking = storage.live_booking_for(db, recipient_id)
        _guard_changeable(db, booking)
        if booking and booking["slot_id"] == slot_id:
            storage.release_holds(db, recipient_id)
            return storage.voucher_view_by_booking(db, booking["id"])
        load = storage.slot_load(db, slot_id, now, recipient_id)
        if not slot_fits(slot, load, units):
            # Expired holds count here: they tell "your offer lapsed" from "someone was faster".
            had_hold = slot_id in storage.held_slot_ids(db, recipient_id, since=None)
            if had_hold and slot_id not in storage.held_slot_ids(db, recipient_id, since=now):
                raise HoldExpired("hold_expired")
            raise SlotFull("slot_full")
        storage.release_holds(db, recipient_id)
        if booking:
            storage.move_booking(db, booking["id"], slot_id, now)
            booking_id = booking["id"]
            action, detail = "change", {"from_slot": booking["slot_id"], "to_slot": slot_id}
        else:
            booking_id = storage.insert_booking(
                db, recipient["distribution_id"], recipient_id, slot_id, units, now
            )
            storage.insert_voucher(db, booking_id, make_code, now)
            action, detail = "book", {"slot": slot_id}
        storage.audit(db, actor, action, f"booking:{booking_id}", now, detail)
        return storage.voucher_view_by_booking(db, booking_id)


def cancel_booking(db: Database, recipient_id: int, now: datetime, actor: str) -> dict[str, Any]:
    """Cancel the recipient's live booking; the voucher stops being valid at once."""
    with storage.transaction(db):
        storage.lock_recipient(db, recipient_id)
        booking = storage.live_booking_for(db, recipient_id)
        if booking is None:
            raise NotFound("no_booking_to_cancel")
        _guard_changeable(db, booking)
        storage.lock_slot(db, booking["slot_id"])
        storage.cancel_booking_row(db, booking["id"], now)
        storage.release_holds(db, recipient_id)
        storage.audit(db, actor, "cancel", f"booking:{booking['id']}", now, {})
        return storage.voucher_view_by_booking(db, booking["id"])


def mark_no_shows(db: Database, distribution_id: int, now: datetime, actor: str) -> list[dict]:
    """Mark as missed every booking whose slot and grace period passed without anyone coming.

    Returns the bookings marked, so that the caller can offer them new slots. Running it
    again marks nothing twice.
    """
    distribution = storage.get_distribution(db, distribution_id)
    cutoff = now - timedelta(minutes=distribution["grace_minutes"])
    marked = []
    with storage.transaction(db):
        for booking in storage.overdue_bookings(db, distribution_id, cutoff):
            if storage.mark_missed(db, booking["id"], now):
                storage.audit(db, actor, "mark_missed", f"booking:{booking['id']}", now, {})
                marked.append(booking)
    return marked
