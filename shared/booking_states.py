"""Where a booking stands, in one word that every screen, export and count uses.

A booking is ``booked``, ``checked_in``, ``partly_collected``, ``collected``, ``missed``
or ``cancelled``; a recipient without any booking is ``no_booking``. The word comes from
the stored facts (status, check-in, units handed over) and the time, never from a column
kept up to date by hand, so the dashboard, the recipients page, staff search and the
bookings export cannot disagree. Their labels in Chinese and English are
:func:`shared.messages.state_label`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import storage

BOOKED = "booked"
CHECKED_IN = "checked_in"
PARTLY_COLLECTED = "partly_collected"
COLLECTED = "collected"
MISSED = "missed"
CANCELLED = "cancelled"
NO_BOOKING = "no_booking"

# The states of a booking, in the order a pickup goes through them (screens list them so).
STATES = (BOOKED, CHECKED_IN, PARTLY_COLLECTED, COLLECTED, MISSED, CANCELLED)
# The states of a recipient: their booking's, or none.
RECIPIENT_STATES = (*STATES, NO_BOOKING)
# States in which someone came to the pickup point.
ARRIVED = (CHECKED_IN, PARTLY_COLLECTED, COLLECTED)


def booking_state(booking: Mapping[str, Any], now: datetime, grace_minutes: int) -> str:
    """One word for where ``booking`` stands at ``now``.

    ``booking`` needs ``status``, ``units``, ``handed_units`` (not undone),
    ``checked_in_at`` and ``ends_at`` (the slot's end as stored), as the rows of
    :func:`shared.storage.booking_states` and the voucher views have. A booking nobody came
    for is ``missed`` once its slot ended ``grace_minutes`` ago, whether or not the
    no-show sweep has marked it yet. Goods handed over win over a late or missed slot.
    """
    return state_of(
        booking["status"],
        booking["units"],
        booking["handed_units"],
        booking["checked_in_at"],
        booking["ends_at"],
        now,
        grace_minutes,
    )


def state_of(
    status: str,
    units: int,
    handed_units: int | None,
    checked_in_at: str | None,
    ends_at: str | None,
    now: datetime,
    grace_minutes: int,
) -> str:
    """:func:`booking_state` from the facts themselves, for a caller that reads rows as
    tuples (the bookings export at 100,000 rows)."""
    if status == "cancelled":
        return CANCELLED
    handed = handed_units or 0
    if handed > 0:
        return COLLECTED if handed >= units else PARTLY_COLLECTED
    if checked_in_at:
        return CHECKED_IN
    if status == "missed":
        return MISSED
    ends = storage.from_db_time(ends_at)
    if ends is not None and now > ends + timedelta(minutes=grace_minutes):
        return MISSED
    return BOOKED


@dataclass(frozen=True)
class RecipientState:
    """A recipient with their allotment (None before allocation) and where they stand.

    ``booking`` is their live booking, else the last one they cancelled, else None.
    """

    recipient: Mapping[str, Any]
    units: int | None
    booking: Mapping[str, Any] | None
    state: str

    @property
    def waiting(self) -> bool:
        """Allotted and without a live booking: on the waiting list for freed places."""
        return bool(self.units) and self.state in (CANCELLED, NO_BOOKING)


def _chosen_bookings(rows: Iterable[Mapping[str, Any]], now: datetime, grace_minutes: int):
    """Each recipient's live booking, else their last cancelled one, with its state word."""
    bookings: dict[int, dict[str, Any]] = {}
    for row in rows:
        state = booking_state(row, now, grace_minutes)
        # A live booking wins over the cancelled ones kept for the record; among cancelled
        # ones the last wins (rows come in slot order, so compare ids).
        kept = bookings.get(row["recipient_id"])
        if (
            kept is None
            or (kept["state"] == CANCELLED and state != CANCELLED)
            or (kept["state"] == state == CANCELLED and row["id"] > kept["id"])
        ):
            bookings[row["recipient_id"]] = {**row, "state": state}
    return bookings


def recipient_states(db: Database, distribution_id: int, now: datetime) -> list[RecipientState]:
    """Every recipient of a distribution, in roster order, with their one state.

    Reads the whole roster: for exports and tests. Pages use :func:`recipient_state` (one)
    and :mod:`shared.recipient_list` (a page, counted in SQL).
    """
    distribution = storage.get_distribution(db, distribution_id)
    allotted = storage.allotments_by_recipient(db, distribution_id)
    bookings = _chosen_bookings(
        storage.booking_states(db, distribution_id), now, distribution["grace_minutes"]
    )
    entries = []
    for recipient in storage.list_recipients(db, distribution_id):
        booking = bookings.get(recipient["id"])
        entries.append(
            RecipientState(
                recipient,
                allotted.get(recipient["id"]),
                booking,
                booking["state"] if booking else NO_BOOKING,
            )
        )
    return entries


def recipient_state(db: Database, recipient: Mapping[str, Any], now: datetime) -> RecipientState:
    """One recipient (a stored row) with their allotment, booking and state."""
    distribution = storage.get_distribution(db, recipient["distribution_id"])
    rows = storage.booking_states_for_recipient(db, recipient["id"])
    booking = _chosen_bookings(rows, now, distribution["grace_minutes"]).get(recipient["id"])
    return RecipientState(
        recipient,
        storage.allotment_units(db, recipient["id"]),
        booking,
        booking["state"] if booking else NO_BOOKING,
    )


def missed_before(now: datetime, grace_minutes: int) -> datetime:
    """A live booking nobody came for is missed once its slot ended before this."""
    return now - timedelta(minutes=grace_minutes)


@dataclass(frozen=True)
class DistributionStates:
    """A distribution's recipients counted by state word, in SQL (the roster is never read
    into memory): what the dashboard and the recipients page both show."""

    counts: Counter  # recipients per RECIPIENT_STATES (every key present)
    waiting: int  # allotted recipients without a live booking
    per_slot: list[dict[str, Any]]  # live bookings per slot and state (storage's rows)


def distribution_states(db: Database, distribution_id: int, now: datetime) -> DistributionStates:
    """Count a distribution's recipients by state, the same words :func:`booking_state` says.

    A recipient's state is their live booking's; without one, ``cancelled`` if they
    cancelled one, else ``no_booking``.
    """
    distribution = storage.get_distribution(db, distribution_id)
    before = missed_before(now, distribution["grace_minutes"])
    per_slot = storage.live_booking_state_counts(db, distribution_id, before)
    totals = storage.recipient_totals(db, distribution_id)
    counts: Counter = Counter(dict.fromkeys(RECIPIENT_STATES, 0))
    for row in per_slot:
        counts[row["state"]] += row["bookings"]
    live = sum(row["bookings"] for row in per_slot)
    counts[CANCELLED] += totals["cancelled"]
    counts[NO_BOOKING] = totals["recipients"] - live - totals["cancelled"]
    return DistributionStates(counts, totals["waiting"], per_slot)


def count_states(entries: Iterable[RecipientState]) -> Counter:
    """How many recipients are in each of :data:`RECIPIENT_STATES` (every key present)."""
    counts: Counter = Counter(dict.fromkeys(RECIPIENT_STATES, 0))
    counts.update(entry.state for entry in entries)
    return counts
