"""How a distribution is going: handed out against stock, bookings by state, the crowd per
slot, who is late, who is waiting. (Marking no-shows is a booking rule: :mod:`shared.booking`.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import storage

STATES = ("booked", "checked_in", "collected", "missed", "cancelled")


def booking_state(row: dict[str, Any], now: datetime, grace_minutes: int) -> str:
    """One word for where a booking stands, from the stored facts and the time."""
    if row["status"] == "cancelled":
        return "cancelled"
    if row["handed_units"] >= row["units"] and row["handed_units"] > 0:
        return "collected"
    if row["checked_in_at"]:
        return "checked_in"
    ends = storage.from_db_time(row["ends_at"])
    if row["status"] == "missed" or now > ends + timedelta(minutes=grace_minutes):
        return "missed"
    return "booked"


@dataclass
class SlotProgress:
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    capacity_people: int
    booked: int = 0  # live bookings (everyone expected in this slot)
    arrived: int = 0  # of which checked in or collected
    collected: int = 0


@dataclass
class Progress:
    stock_units: int
    handed_units: int
    unit_size: float
    measure: str
    states: Counter = field(default_factory=Counter)
    slots: list[SlotProgress] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)  # checked in after their slot
    queue: list[dict[str, Any]] = field(default_factory=list)  # checked in, not yet served

    @property
    def handed_share(self) -> float:
        return self.handed_units / self.stock_units if self.stock_units else 0.0

    @property
    def handed_amount(self) -> float:
        return self.handed_units * self.unit_size


def distribution_progress(db: Database, distribution_id: int, now: datetime) -> Progress:
    """Everything the live dashboard shows, computed from the stored facts in two queries."""
    distribution = storage.get_distribution(db, distribution_id)
    grace = distribution["grace_minutes"]
    slots = {
        s["id"]: SlotProgress(
            s["id"],
            storage.from_db_time(s["starts_at"]),
            storage.from_db_time(s["ends_at"]),
            s["capacity_people"],
        )
        for s in storage.list_slots(db, distribution_id)
    }
    progress = Progress(
        distribution["stock_units"],
        0,
        distribution["unit_size"],
        distribution["measure"],
        Counter(dict.fromkeys(STATES, 0)),
        list(slots.values()),
    )
    for row in storage.booking_states(db, distribution_id):
        state = booking_state(row, now, grace)
        progress.states[state] += 1
        progress.handed_units += row["handed_units"]
        if state == "cancelled":
            continue
        slot = slots[row["slot_id"]]
        slot.booked += 1
        if state in ("checked_in", "collected"):
            slot.arrived += 1
        if state == "collected":
            slot.collected += 1
        if row["checked_in_at"] and row["checked_in_at"] > row["ends_at"]:
            progress.late.append(row)
        if state == "checked_in":
            progress.queue.append(row)
    progress.queue.sort(key=lambda r: r["queue_number"] or 0)
    return progress
