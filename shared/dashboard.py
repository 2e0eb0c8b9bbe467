"""How a distribution is going: handed out against stock, recipients by state, the crowd per
slot, who is late, who did not come, who is waiting. (Marking no-shows is a booking rule:
:mod:`shared.booking`; the states are :mod:`shared.booking_states`'.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared import booking_states, storage
from shared.booking_states import (
    ARRIVED,
    COLLECTED,
    MISSED,
)


@dataclass
class SlotProgress:
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    capacity_people: int
    site_id: int | None = None
    booked: int = 0  # live bookings (everyone expected in this slot)
    arrived: int = 0  # of which checked in or (partly) collected
    collected: int = 0
    missed_count: int = 0  # did not come
    missed: list[dict[str, Any]] = field(default_factory=list)  # the first few of them, named


@dataclass
class Progress:
    stock_units: int
    handed_units: int
    unit_size: float
    measure: str
    states: Counter = field(default_factory=Counter)  # recipients per RECIPIENT_STATES
    waiting: int = 0  # allotted recipients without a live booking
    slots: list[SlotProgress] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)  # checked in after their slot
    late_count: int = 0  # all of them (``late`` lists the latest LISTED)
    queue: list[dict[str, Any]] = field(default_factory=list)  # checked in, not yet served
    queue_count: int = 0  # all of them (``queue`` lists the first LISTED)

    @property
    def handed_share(self) -> float:
        return self.handed_units / self.stock_units if self.stock_units else 0.0

    @property
    def handed_amount(self) -> float:
        return self.handed_units * self.unit_size

    @property
    def missed_slots(self) -> list[SlotProgress]:
        """Slots that passed with people who did not arrive, earliest first."""
        return [slot for slot in self.slots if slot.missed_count]


LISTED = 100  # people listed in the queue and among late arrivals (the rest are counted)
MISSED_SLOTS_NAMED = 12  # the latest slots with no-shows whose people are named
MISSED_NAMED = 5  # people named per such slot (the rest are counted)


def distribution_progress(db: Database, distribution_id: int, now: datetime) -> Progress:
    """Everything the live dashboard shows, from the stored facts and the one state word.

    Counted in SQL (:func:`shared.booking_states.distribution_states`), so they are the
    recipients page's counts and the cost does not grow with the roster as a Python loop
    would; the lists of people are bounded (the queue, late arrivals, the latest no-shows).
    """
    distribution = storage.get_distribution(db, distribution_id)
    slots = {
        s["id"]: SlotProgress(
            s["id"],
            storage.from_db_time(s["starts_at"]),
            storage.from_db_time(s["ends_at"]),
            s["capacity_people"],
            s["site_id"],
        )
        for s in storage.list_slots(db, distribution_id)
    }
    states = booking_states.distribution_states(db, distribution_id, now)
    progress = Progress(
        distribution["stock_units"],
        0,
        distribution["unit_size"],
        distribution["measure"],
        states.counts,
        states.waiting,
        list(slots.values()),
    )
    for row in states.per_slot:
        progress.handed_units += row["handed_units"]
        slot = slots[row["slot_id"]]
        slot.booked += row["bookings"]
        if row["state"] in ARRIVED:
            slot.arrived += row["bookings"]
        if row["state"] == COLLECTED:
            slot.collected += row["bookings"]
        if row["state"] == MISSED:
            slot.missed_count += row["bookings"]
    before = booking_states.missed_before(now, distribution["grace_minutes"])
    named = [slot.slot_id for slot in progress.missed_slots[-MISSED_SLOTS_NAMED:]]
    for row in storage.missed_in_slots(db, distribution_id, named, before, MISSED_NAMED):
        slots[row["slot_id"]].missed.append(row)
    progress.queue = storage.checked_in_bookings(db, distribution_id, before, limit=LISTED)
    progress.queue_count = storage.count_checked_in_bookings(db, distribution_id, before)
    progress.late = storage.checked_in_bookings(
        db, distribution_id, before, late=True, limit=LISTED
    )
    progress.late_count = storage.count_checked_in_bookings(db, distribution_id, before, late=True)
    return progress
