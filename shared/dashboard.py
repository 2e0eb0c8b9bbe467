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
    CANCELLED,
    CHECKED_IN,
    COLLECTED,
    MISSED,
    PARTLY_COLLECTED,
)


@dataclass
class SlotProgress:
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    capacity_people: int
    booked: int = 0  # live bookings (everyone expected in this slot)
    arrived: int = 0  # of which checked in or (partly) collected
    collected: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)  # did not come (yet)


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
    queue: list[dict[str, Any]] = field(default_factory=list)  # checked in, not yet served

    @property
    def handed_share(self) -> float:
        return self.handed_units / self.stock_units if self.stock_units else 0.0

    @property
    def handed_amount(self) -> float:
        return self.handed_units * self.unit_size

    @property
    def missed_slots(self) -> list[SlotProgress]:
        """Slots that passed with people who did not arrive, earliest first."""
        return [slot for slot in self.slots if slot.missed]


def distribution_progress(db: Database, distribution_id: int, now: datetime) -> Progress:
    """Everything the live dashboard shows, from the stored facts and the one state word.

    The state counts are per recipient (:func:`shared.booking_states.recipient_states`), so
    they are the recipients page's counts; a cancelled booking someone replaced by a new
    one is not counted twice.
    """
    distribution = storage.get_distribution(db, distribution_id)
    slots = {
        s["id"]: SlotProgress(
            s["id"],
            storage.from_db_time(s["starts_at"]),
            storage.from_db_time(s["ends_at"]),
            s["capacity_people"],
        )
        for s in storage.list_slots(db, distribution_id)
    }
    entries = booking_states.recipient_states(db, distribution_id, now)
    progress = Progress(
        distribution["stock_units"],
        0,
        distribution["unit_size"],
        distribution["measure"],
        booking_states.count_states(entries),
        sum(1 for entry in entries if entry.waiting),
        list(slots.values()),
    )
    for row in sorted(
        (entry.booking for entry in entries if entry.booking),
        key=lambda r: (r["starts_at"], r["id"]),
    ):
        progress.handed_units += row["handed_units"]
        state = row["state"]
        if state == CANCELLED:
            continue
        slot = slots[row["slot_id"]]
        slot.booked += 1
        if state in ARRIVED:
            slot.arrived += 1
        if state == COLLECTED:
            slot.collected += 1
        if state == MISSED:
            slot.missed.append(row)
        if row["checked_in_at"] and row["checked_in_at"] > row["ends_at"]:
            progress.late.append(row)
        if row["checked_in_at"] and state in (CHECKED_IN, PARTLY_COLLECTED):
            progress.queue.append(row)  # as the staff station's queue: units still due
    progress.queue.sort(key=lambda r: r["queue_number"] or 0)
    return progress
