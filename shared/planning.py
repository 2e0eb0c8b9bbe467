"""Turn a distribution and its roster into allotments, slots, bookings and vouchers.

``allocate_distribution`` divides the stock; ``schedule_distribution`` cuts the pickup
windows into slots and gives every recipient without a booking a staggered slot and a
voucher. Both record what they did in the audit log, with their inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared import storage
from shared.allocation import Allocation, Claimant, allocate_units
from shared.distributions import site_capacity
from shared.error_texts import Said, listing
from shared.errors import BookingClosed, InvalidInput, SchedulingInfeasible
from shared.roster import column_label
from shared.scheduling import Demand, SlotSpec, assign_slots, generate_slots

# Where a weight basis is in a row of storage.recipient_claims.
_WEIGHT_AT = {"headcount": 1, "population": 2, "requested": 3}


def claimants(db: Database, distribution_id: int, weight_basis: str) -> list[Claimant]:
    """Every recipient's allocation claim under the weight basis, in recipient id order.

    Read as tuples (storage.recipient_claims), one small Claimant each: at 1,000,000
    recipients a dict per roster row would be gigabytes.
    """
    weight_at = _WEIGHT_AT.get(weight_basis)
    found = []
    for claim in storage.recipient_claims(db, distribution_id):
        recipient_id, _headcount, _population, requested, floor = claim
        weight = 1 if weight_at is None else claim[weight_at]
        if weight is None:
            recipient = storage.get_recipient(db, recipient_id)
            column = "requested_units" if weight_basis == "requested" else weight_basis
            raise InvalidInput(
                "no_weight_value",
                external_id=recipient["external_id"],
                name=recipient["name"],
                basis=Said(column_label(column, "zh"), weight_basis),
            )
        found.append(Claimant(str(recipient_id), weight, requested, floor or 0))
    return found


@dataclass(frozen=True)
class AllocationPlan:
    """An allocation computed but not stored: what the operator previews. The claims are
    tuples read in roster order; recipients are read by name only where shown
    (:func:`summarise_allocation`'s few, :func:`allotment_csv_rows`' streamed labels)."""

    claimants: list[Claimant]
    allocation: Allocation


def plan_allocation(
    db: Database, distribution_id: int, method: str | None = None
) -> AllocationPlan:
    """Compute the allotments for the distribution without storing them."""
    distribution = storage.get_distribution(db, distribution_id)
    claims, allocation = _allocate(db, distribution, method)
    return AllocationPlan(claims, allocation)


def _allocate(
    db: Database, distribution: dict[str, Any], method: str | None
) -> tuple[list[Claimant], Allocation]:
    claims = claimants(db, distribution["id"], distribution["weight_basis"])
    if not claims:
        raise InvalidInput("no_recipients")
    method = method or distribution["allocation_method"]
    return claims, allocate_units(distribution["stock_units"], claims, method)


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
            raise BookingClosed("allotments_locked")
        claims, allocation = _allocate(db, distribution, method)
        record = allocation.as_record(claims)
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
        del record  # the largest thing held, once written
        storage.insert_allotments(
            db,
            distribution_id,
            run_id,
            ((int(c.key), n) for c, n in zip(claims, allocation.units, strict=True)),
        )
        storage.set_live_bookings_to_allotments(db, distribution_id, now)
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


def planned_slots(
    db: Database, distribution_id: int, site_id: int | None = None
) -> list[dict[str, Any]]:
    """The slots each site's pickup windows cut into (every site's, or one's), not yet stored."""
    distribution = storage.get_distribution(db, distribution_id)
    sites = storage.list_sites(db, distribution_id)
    if not sites:
        raise InvalidInput("no_sites")
    rows = []
    for site in sites:
        if site_id is not None and site["id"] != site_id:
            continue
        windows = [
            (storage.from_db_time(w["starts_at"]), storage.from_db_time(w["ends_at"]))
            for w in storage.list_windows(db, site["id"])
        ]
        if not windows:
            raise InvalidInput("site_without_window", site=site["name"])
        for spec in generate_slots(
            windows, distribution["slot_minutes"], *site_capacity(distribution, site)
        ):
            rows.append(
                {
                    "id": None,
                    "site_id": site["id"],
                    "starts_at": storage.to_db_time(spec.start),
                    "ends_at": storage.to_db_time(spec.end),
                    "capacity_people": spec.capacity_people,
                    "capacity_units": spec.capacity_units,
                }
            )
    rows.sort(key=lambda r: (r["starts_at"], r["site_id"]))
    return rows


def ensure_slots(db: Database, distribution_id: int) -> int:
    """Store the planned slots of every site that has none yet. Returns how many slots exist."""
    existing = storage.list_slots(db, distribution_id)
    stocked = {s["site_id"] for s in existing}
    added = 0
    for site in storage.list_sites(db, distribution_id):
        if site["id"] in stocked:
            continue
        rows = planned_slots(db, distribution_id, site["id"])
        storage.insert_slots(db, distribution_id, site["id"], slot_specs(rows))
        added += len(rows)
    return len(existing) + added


def slot_specs(slots: list[dict[str, Any]]) -> list[SlotSpec]:
    """Slot rows as scheduling specs; the spec index is the position in ``slots``."""
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
class SchedulePlan:
    """Who would go to which slot: stored slots if there are any, else the planned ones."""

    slots: list[dict[str, Any]]
    demands: list[Demand]
    assignment: dict[str, int]  # recipient id (as text) -> position in ``slots``
    taken: dict[int, tuple[int, int]]  # position -> people and units already booked
    already_booked: int

    def load_per_slot(self) -> list[tuple[int, int]]:
        """People and units per slot once the plan is carried out."""
        people = [self.taken.get(i, (0, 0))[0] for i in range(len(self.slots))]
        units = [self.taken.get(i, (0, 0))[1] for i in range(len(self.slots))]
        for demand in self.demands:
            position = self.assignment[demand.key]
            people[position] += 1
            units[position] += demand.units
        return list(zip(people, units, strict=True))


def plan_schedule(db: Database, distribution_id: int, now: datetime) -> SchedulePlan:
    """Place every allotted recipient without a booking, without storing anything.

    Each recipient goes to a slot at their own site (the roster's ``site``; the only site
    when there is one) that has not started at ``now``: a window partly past is used only
    from its next slot on.
    """
    if not storage.has_allotments(db, distribution_id):
        raise InvalidInput("no_allotments")
    sites = storage.list_sites(db, distribution_id)
    slots = storage.list_slots(db, distribution_id)
    stocked = {s["site_id"] for s in slots}
    if len(stocked) < len(sites):  # a site added since the slots were cut: plan its own
        slots += [r for r in planned_slots(db, distribution_id) if r["site_id"] not in stocked]
        slots.sort(key=lambda r: (r["starts_at"], r["site_id"]))
    loads = storage.slot_loads(db, distribution_id, now)
    taken = {i: loads[s["id"]] for i, s in enumerate(slots) if s["id"] in loads}
    already_booked = storage.count_live_bookings(db, distribution_id)
    by_site = demands_by_site(storage.waiting_recipients(db, distribution_id), sites)
    specs = slot_specs(slots)
    started = storage.to_db_time(now)
    assignment: dict[str, int] = {}
    demands: list[Demand] = []
    for site in sites:
        site_demands = by_site.get(site["id"], [])
        if not site_demands:
            continue
        future = [
            spec
            for spec, slot in zip(specs, slots, strict=True)
            if slot["site_id"] == site["id"] and slot["starts_at"] >= started
        ]
        if not future:
            raise SchedulingInfeasible("site_slots_started", site=site["name"])
        site_taken = {spec.index: taken[spec.index] for spec in future if spec.index in taken}
        assignment |= assign_slots(site_demands, future, site_taken)
        demands += site_demands
    if len(by_site) > 1:
        demands.sort(key=lambda d: int(d.key))  # recipient id order, as they were read
    return SchedulePlan(slots, demands, assignment, taken, already_booked)


def demands_by_site(
    waiting: Iterable[tuple[Any, ...]], sites: list[dict[str, Any]]
) -> dict[int, list[Demand]]:
    """The scheduling demands of the ``waiting`` recipients (rows of
    storage.waiting_recipients), grouped by the site they collect at; InvalidInput if one
    has none. A small Demand each, never the recipient's whole row."""
    grouped: dict[int, list[Demand]] = {}
    homeless = []
    only_site = sites[0]["id"] if len(sites) == 1 else None
    from_db_time = storage.from_db_time
    for recipient_id, units, priority, earliest, latest, site_id, external_id in waiting:
        site_id = only_site or site_id
        if site_id is None:
            homeless.append(external_id)
            continue
        grouped.setdefault(site_id, []).append(
            Demand(
                key=str(recipient_id),
                units=units,
                priority=priority,
                earliest=from_db_time(earliest),
                latest=from_db_time(latest),
            )
        )
    if homeless:
        raise InvalidInput(
            "recipients_without_site",
            count=len(homeless),
            names=listing(homeless),
            sites=len(sites),
        )
    return grouped


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
        if not storage.has_allotments(db, distribution_id):
            raise InvalidInput("no_allotments")
        slot_count = ensure_slots(db, distribution_id)
        plan = plan_schedule(db, distribution_id, now)
        placements = [
            (int(demand.key), plan.slots[plan.assignment[demand.key]]["id"], demand.units)
            for demand in plan.demands
        ]
        storage.insert_bookings_with_vouchers(
            db, distribution_id, placements, make_code, now, progress
        )
        booked = len(plan.demands)
        storage.audit(
            db,
            actor,
            "schedule",
            f"distribution:{distribution_id}",
            now,
            {"slots": slot_count, "booked": booked, "already_booked": plan.already_booked},
        )
    return ScheduleResult(slots=slot_count, booked=booked, already_booked=plan.already_booked)


# -- previews at scale: summaries, and the full tables as CSV ------------------------------

SHOWN = 10  # rows a preview names at each end (largest and smallest, fullest and emptiest)
MAX_BUCKETS = 8


@dataclass(frozen=True)
class Bucket:
    """``count`` values from ``low`` to ``high`` (inclusive)."""

    low: int
    high: int
    count: int


def _step(span: int, buckets: int) -> int:
    """A round bucket width (1, 2, 5, 10, 20, 50 ...) that covers ``span`` in ``buckets``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * buckets >= span:
                return step * factor
        step *= 10


def spread(values: list[int], max_buckets: int = MAX_BUCKETS) -> list[Bucket]:
    """How ``values`` are spread: counts in at most ``max_buckets`` round, equal ranges."""
    if not values:
        return []
    low, high = min(values), max(values)
    width = _step(high - low + 1, max_buckets)
    start = low // width * width
    counts: dict[int, int] = {}
    for value in values:
        key = (value - start) // width
        counts[key] = counts.get(key, 0) + 1
    last = (high - start) // width
    return [
        Bucket(start + k * width, start + (k + 1) * width - 1, counts.get(k, 0))
        for k in range(last + 1)
    ]


@dataclass(frozen=True)
class AllocationSummary:
    """What an operator needs to judge an allocation without reading every row."""

    recipients: int
    with_units: int
    mean: float
    median: int
    buckets: list[Bucket]
    largest: list[dict[str, Any]]  # recipient, weight, cap, floor, units: most units first
    smallest: list[dict[str, Any]]  # fewest units first


def summarise_allocation(
    db: Database, plan: AllocationPlan, shown: int = SHOWN
) -> AllocationSummary:
    """Totals, the spread of units per recipient, and the largest and smallest allotments
    (by units, then weight): only those few recipients are read by name."""
    claims, units = plan.claimants, plan.allocation.units
    order = sorted(
        range(len(units)), key=lambda i: (units[i], claims[i].weight, int(claims[i].key))
    )
    largest, smallest = order[::-1][:shown], order[:shown]
    named = storage.recipients_by_ids(db, [int(claims[i].key) for i in {*largest, *smallest}])

    def row(i: int) -> dict[str, Any]:
        claim = claims[i]
        recipient = named[int(claim.key)]
        return {
            "recipient": recipient,
            "weight": claim.weight,
            "cap": claim.cap,
            "floor": claim.floor,
            "units": units[i],
        }

    ordered = sorted(units)
    return AllocationSummary(
        recipients=len(units),
        with_units=sum(1 for u in units if u > 0),
        mean=sum(units) / len(units) if units else 0.0,
        median=ordered[len(ordered) // 2] if ordered else 0,
        buckets=spread(ordered),
        largest=[row(i) for i in largest],
        smallest=[row(i) for i in smallest],
    )


ALLOTMENT_COLUMNS = (
    "recipient",
    "external_id",
    "town",
    "weight",
    "floor_units",
    "cap",
    "units",
    "amount",
)


def allotment_csv_rows(
    db: Database, distribution_id: int, plan: AllocationPlan, unit_size: float
) -> Iterator[dict[str, Any]]:
    """The previewed allotments, one row per recipient in roster (id) order, for the CSV."""
    by_id = {int(c.key): (c, u) for c, u in zip(plan.claimants, plan.allocation.units, strict=True)}
    for recipient_id, name, external_id, town in storage.iter_recipient_labels(db, distribution_id):
        claim, units = by_id[recipient_id]
        amount = units * unit_size
        yield {
            "recipient": name,
            "external_id": external_id,
            "town": town,
            "weight": claim.weight,
            "floor_units": claim.floor,
            "cap": claim.cap,
            "units": units,
            "amount": int(amount) if float(amount).is_integer() else amount,
        }


@dataclass(frozen=True)
class SlotLoad:
    """One slot of a schedule plan with who would come: stored or planned."""

    position: int
    slot: dict[str, Any]
    people: int
    units: int

    @property
    def share(self) -> float:
        """People against the slot's capacity (1.0 = full)."""
        return self.people / self.slot["capacity_people"]


@dataclass(frozen=True)
class ScheduleSummary:
    slots: int
    people: int  # everyone the plan has in a slot (booked already and newly placed)
    units: int
    full: int  # slots at or over their capacity in people (or units, when it has one)
    over: int  # slots over it (capacity lowered after they were booked)
    empty: int
    buckets: list[Bucket]  # people per slot
    fullest: list[SlotLoad]
    emptiest: list[SlotLoad]


def slot_loads_of(plan: SchedulePlan) -> list[SlotLoad]:
    return [
        SlotLoad(i, slot, people, units)
        for i, (slot, (people, units)) in enumerate(
            zip(plan.slots, plan.load_per_slot(), strict=True)
        )
    ]


def _over(load: SlotLoad) -> bool:
    cap_units = load.slot["capacity_units"]
    return load.people > load.slot["capacity_people"] or bool(cap_units and load.units > cap_units)


def _full(load: SlotLoad) -> bool:
    cap_units = load.slot["capacity_units"]
    return load.people >= load.slot["capacity_people"] or bool(
        cap_units and load.units >= cap_units
    )


def summarise_schedule(plan: SchedulePlan, shown: int = SHOWN) -> ScheduleSummary:
    loads = slot_loads_of(plan)
    ranked = sorted(loads, key=lambda x: (x.share, x.units, x.slot["starts_at"], x.position))
    return ScheduleSummary(
        slots=len(loads),
        people=sum(x.people for x in loads),
        units=sum(x.units for x in loads),
        full=sum(1 for x in loads if _full(x)),
        over=sum(1 for x in loads if _over(x)),
        empty=sum(1 for x in loads if x.people == 0),
        buckets=spread([x.people for x in loads]),
        fullest=ranked[::-1][:shown],
        emptiest=ranked[:shown],
    )


SLOT_COLUMNS = (
    "site",
    "starts_at",
    "ends_at",
    "people",
    "units",
    "capacity_people",
    "capacity_units",
)


def slot_csv_rows(
    plan: SchedulePlan, site_names: dict[int, str], local: Callable[[str], str]
) -> Iterator[dict[str, Any]]:
    """The planned load of every slot, in time order, for the CSV (times via ``local``)."""
    for load in slot_loads_of(plan):
        slot = load.slot
        yield {
            "site": site_names.get(slot["site_id"], ""),
            "starts_at": local(slot["starts_at"]),
            "ends_at": local(slot["ends_at"]),
            "people": load.people,
            "units": load.units,
            "capacity_people": slot["capacity_people"],
            "capacity_units": slot["capacity_units"],
        }
