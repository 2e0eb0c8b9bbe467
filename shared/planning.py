"""Turn a distribution and its roster into allotments, slots, bookings and vouchers.

``allocate_distribution`` divides the stock; ``schedule_distribution`` cuts the pickup
windows into slots and gives every recipient without a booking a staggered slot and a
voucher. Both record what they did in the audit log, with their inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared import storage
from shared.allocation import Allocation, Claimant, allocate_units
from shared.errors import BookingClosed, InvalidInput
from shared.scheduling import Demand, SlotSpec, assign_slots, generate_slots

WEIGHT_COLUMNS = {"headcount": "headcount", "population": "population", "requested": None}


def claimant_for(recipient: dict[str, Any], weight_basis: str) -> Claimant:
    """The allocation claim of one roster row under the distribution's weight basis."""
    if weight_basis == "equal":
        weight: float = 1
    elif weight_basis == "requested":
        weight = recipient["requested_units"]
    else:
        weight = recipient[weight_basis]
    if weight is None:
        raise InvalidInput(
            f"recipient {recipient['external_id']} ({recipient['name']}) has no "
            f"{weight_basis} to weigh by"
        )
    return Claimant(
        key=str(recipient["id"]),
        weight=weight,
        cap=recipient["requested_units"],
        floor=recipient["floor_units"] or 0,
    )


def allocate_distribution(
    db: Database,
    distribution_id: int,
    now: datetime,
    actor: str,
    method: str | None = None,
) -> Allocation:
    """Divide the distribution's stock among its recipients and store the allotments.

    Live bookings take their new allotment. Refused once goods have been handed over:
    the ledger would no longer say who was owed what when they collected.
    """
    with storage.transaction(db):
        distribution = storage.get_distribution(db, distribution_id)
        if storage.count_handovers(db, distribution_id):
            raise BookingClosed(
                "goods have already been handed over; allotments can no longer change"
            )
        recipients = storage.list_recipients(db, distribution_id)
        if not recipients:
            raise InvalidInput("the distribution has no recipients yet; import a roster first")
        method = method or distribution["allocation_method"]
        claimants = [claimant_for(r, distribution["weight_basis"]) for r in recipients]
        allocation = allocate_units(distribution["stock_units"], claimants, method)
        record = allocation.as_record(claimants)
        record["weight_basis"] = distribution["weight_basis"]
        run_id = storage.insert_allocation_run(
            db,
            distribution_id,
            allocation.method,
            allocation.stock,
            allocation.allocated,
            record,
            now,
        )
        units = {r["id"]: u for r, u in zip(recipients, allocation.units, strict=True)}
        storage.replace_allotments(db, distribution_id, run_id, units)
        for recipient in recipients:
            booking = storage.live_booking_for(db, recipient["id"])
            if booking and booking["units"] != units[recipient["id"]]:
                storage.set_booking_units(db, booking["id"], units[recipient["id"]], now)
        storage.audit(
            db,
            actor,
            "allocate",
            f"distribution:{distribution_id}",
            now,
            {
                "method": allocation.method,
                "stock": allocation.stock,
                "allocated": allocation.allocated,
                "unallocated": allocation.unallocated,
                "run": run_id,
            },
        )
    return allocation


def ensure_slots(db: Database, distribution_id: int) -> int:
    """Cut every site's pickup windows into slots, once. Returns how many slots exist."""
    existing = storage.list_slots(db, distribution_id)
    if existing:
        return len(existing)
    distribution = storage.get_distribution(db, distribution_id)
    sites = storage.list_sites(db, distribution_id)
    if not sites:
        raise InvalidInput("the distribution has no pickup site yet")
    total = 0
    for site in sites:
        windows = [
            (storage.from_db_time(w["starts_at"]), storage.from_db_time(w["ends_at"]))
            for w in storage.list_windows(db, site["id"])
        ]
        if not windows:
            raise InvalidInput(f"site {site['name']} has no pickup window")
        specs = generate_slots(
            windows,
            distribution["slot_minutes"],
            distribution["capacity_people"],
            distribution["capacity_units"],
        )
        storage.insert_slots(db, distribution_id, site["id"], specs)
        total += len(specs)
    return total


def slot_specs(slots: list[dict[str, Any]]) -> list[SlotSpec]:
    """Stored slots as scheduling specs; the spec index is the position in ``slots``."""
    return [
        SlotSpec(
            index=i,
            start=storage.from_db_time(s["starts_at"]),
            end=storage.from_db_time(s["ends_at"]),
            capacity_people=s["capacity_people"],
            capacity_units=s["capacity_units"],
        )
        for i, s in enumerate(slots)
    ]


@dataclass(frozen=True)
class ScheduleResult:
    slots: int
    booked: int
    already_booked: int


def schedule_distribution(
    db: Database,
    distribution_id: int,
    now: datetime,
    actor: str,
    make_code: Callable[[int], str],
    progress: Callable[[int], None] | None = None,
) -> ScheduleResult:
    """Give every allotted recipient without a booking a slot and a voucher, atomically.

    Existing bookings stay where they are; newcomers are spread around them. Either
    everyone gets a slot or nobody does (the error says what capacity is missing).
    """
    with storage.transaction(db):
        storage.get_distribution(db, distribution_id)
        allotments = storage.allotments_by_recipient(db, distribution_id)
        if not allotments:
            raise InvalidInput("the distribution has no allotments yet; run allocate first")
        slot_count = ensure_slots(db, distribution_id)
        slots = storage.list_slots(db, distribution_id)
        specs = slot_specs(slots)
        loads = storage.slot_loads(db, distribution_id, now)
        taken = {i: loads.get(s["id"], (0, 0)) for i, s in enumerate(slots)}
        demands = []
        already = 0
        for recipient in storage.list_recipients(db, distribution_id):
            units = allotments.get(recipient["id"], 0)
            if units <= 0:
                continue
            if storage.live_booking_for(db, recipient["id"]):
                already += 1
                continue
            demands.append(
                Demand(
                    key=str(recipient["id"]),
                    units=units,
                    priority=recipient["priority"],
                    earliest=storage.from_db_time(recipient["earliest"]),
                    latest=storage.from_db_time(recipient["latest"]),
                )
            )
        assignment = assign_slots(demands, specs, taken)
        for n, demand in enumerate(demands, start=1):
            slot = slots[assignment[demand.key]]
            booking_id = storage.insert_booking(
                db, distribution_id, int(demand.key), slot["id"], demand.units, now
            )
            storage.insert_voucher(db, booking_id, make_code, now)
            if progress and n % 1000 == 0:
                progress(1000)
        if progress:
            progress(len(demands) % 1000)
        storage.audit(
            db,
            actor,
            "schedule",
            f"distribution:{distribution_id}",
            now,
            {"slots": slot_count, "booked": len(demands), "already_booked": already},
        )
    return ScheduleResult(slots=slot_count, booked=len(demands), already_booked=already)
