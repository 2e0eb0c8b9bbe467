"""Pickup slots: cut pickup windows into slots and give every recipient one of them.

``generate_slots`` turns pickup windows (say 12:00-19:00, or two windows around a lunch
break) into consecutive fixed-length slots, each with a cap on recipients and optionally
on the shipping units the crew can hand out in it. ``assign_slots`` then places every
recipient in a slot so that no cap is exceeded, each recipient's earliest/latest range is
honoured, arrivals are spread as evenly as possible over the day, and higher-priority
recipients are placed first and get the earlier of equally loaded slots. The result is
deterministic: the same input always gives the same output, ties going by input order.
``crowd_profile`` counts the recipients per slot, for charts and benchmarks.

Pure functions, no storage. Bad arguments raise :class:`InvalidInput`; a schedule that
cannot be made raises :class:`SchedulingInfeasible` with the offending recipient keys on
its ``keys`` attribute.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.error_texts import Said, listing
from shared.error_texts import units as units_text
from shared.errors import InvalidInput, SchedulingInfeasible

__all__ = ["Demand", "SlotSpec", "assign_slots", "crowd_profile", "generate_slots"]

_WIDEN_ONE = Said("可放宽其最早/最晚时间范围；", "widen its earliest/latest range, ")
_WIDEN_MANY = Said("可放宽他们的最早/最晚时间范围；", "widen their earliest/latest ranges, ")


@dataclass(frozen=True)
class SlotSpec:
    """One pickup slot: [start, end) with its caps on recipients and on units."""

    index: int
    start: datetime
    end: datetime
    capacity_people: int
    capacity_units: int | None  # None = unlimited

    def __post_init__(self) -> None:
        if not (_is_aware(self.start) and _is_aware(self.end)):
            raise InvalidInput("slot_not_aware", index=self.index)
        if self.start >= self.end:
            raise InvalidInput("slot_ends_first", index=self.index)
        _check_capacities(self.capacity_people, self.capacity_units)


@dataclass(frozen=True, slots=True)  # one per recipient: no __dict__ each
class Demand:
    """One recipient to schedule: their key, the load they add and when they can come."""

    key: str
    units: int
    priority: int = 0  # higher = placed first, and earlier among equally loaded slots
    earliest: datetime | None = None  # the slot must start at or after this
    latest: datetime | None = None  # the slot must end at or before this

    def __post_init__(self) -> None:
        if self.units < 0:
            raise InvalidInput("demand_negative", key=self.key, units=self.units)
        for bound in (self.earliest, self.latest):
            if bound is not None and not _is_aware(bound):
                raise InvalidInput("demand_not_aware", key=self.key)
        if self.earliest is not None and self.latest is not None and self.earliest >= self.latest:
            raise InvalidInput("demand_range_empty", key=self.key)


def generate_slots(
    windows: Sequence[tuple[datetime, datetime]],
    slot_minutes: int,
    capacity_people: int,
    capacity_units: int | None = None,
) -> list[SlotSpec]:
    """Cut each pickup window into consecutive slots of ``slot_minutes``.

    A remainder at the end of a window shorter than one slot is dropped. Windows may come in
    any order but must not overlap; slots are indexed 0..n-1 in time order.
    """
    if isinstance(slot_minutes, bool) or not isinstance(slot_minutes, int) or slot_minutes < 1:
        raise InvalidInput("slot_minutes_invalid", minutes=slot_minutes)
    _check_capacities(capacity_people, capacity_units)
    if not windows:
        raise InvalidInput("no_windows")
    for start, end in windows:
        if not (_is_aware(start) and _is_aware(end)):
            raise InvalidInput("window_not_aware", start=start, end=end)
        if start >= end:
            raise InvalidInput("window_ends_first", start=_fmt(start), end=_fmt(end))
    ordered = sorted(windows, key=lambda w: w[0])
    for (_, prev_end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < prev_end:
            raise InvalidInput("windows_overlap", end=_fmt(prev_end), start=_fmt(start))

    step = timedelta(minutes=slot_minutes)
    slots: list[SlotSpec] = []
    for start, end in ordered:
        # Count and step in UTC: subtracting two datetimes with the same tzinfo uses wall
        # clock time, which would make slots across a DST change an hour too long or short.
        first = start.astimezone(UTC)
        for i in range((end.astimezone(UTC) - first) // step):
            slots.append(
                SlotSpec(
                    index=len(slots),
                    start=(first + i * step).astimezone(start.tzinfo),
                    end=(first + (i + 1) * step).astimezone(start.tzinfo),
                    capacity_people=capacity_people,
                    capacity_units=capacity_units,
                )
            )
    if not slots:
        raise InvalidInput("windows_too_short", minutes=slot_minutes)
    return slots


def assign_slots(
    demands: Sequence[Demand],
    slots: Sequence[SlotSpec],
    taken: Mapping[int, tuple[int, int]] | None = None,
) -> dict[str, int]:
    """Give every demand a slot; return ``{demand.key: slot.index}`` in input order.

    ``taken`` maps a slot index to the (people, units) already booked there, so newcomers
    can be scheduled around existing bookings.

    Greedy and deterministic: demands with a narrow earliest/latest range go first (fewest
    eligible slots first), then by priority (higher first), then by input order. Each takes
    the least loaded eligible slot it fits in, comparing people, then units, then time.
    """
    board = _Board(slots, taken or {})
    if len({d.key for d in demands}) != len(demands):
        dup = next(k for k, n in Counter(d.key for d in demands).items() if n > 1)
        raise InvalidInput("demand_repeated", key=dup)
    if not demands:
        return {}

    # Eligible slots form a contiguous run of positions, because slots are sorted and
    # don't overlap, so an earliest/latest range is just (lo, hi).
    full = (0, board.n - 1)
    narrow: dict[int, tuple[int, int]] = {}
    free: list[int] = []
    stranded: list[Demand] = []
    for i, d in enumerate(demands):
        if d.earliest is None and d.latest is None:
            free.append(i)
            continue
        lo = 0 if d.earliest is None else bisect_left(board.starts, d.earliest)
        hi = board.n - 1 if d.latest is None else bisect_right(board.ends, d.latest) - 1
        if lo > hi:
            stranded.append(d)
        elif (lo, hi) == full:
            free.append(i)
        else:
            narrow[i] = (lo, hi)
    if stranded:
        raise _stranded(stranded)

    unit_cap = board.max_unit_capacity()
    if unit_cap is not None:
        too_big = [d for d in demands if d.units > unit_cap]
        if too_big:
            raise _too_big(too_big, unit_cap)

    # sorted() is stable, so equal keys keep input order.
    narrow_order = sorted(narrow, key=lambda i: (narrow[i][1] - narrow[i][0], -demands[i].priority))
    free_order = sorted(free, key=lambda i: -demands[i].priority)
    board.check_totals(demands, narrow_order + free_order)

    placed = [-1] * len(demands)
    failed: list[str] = []
    # One heap per distinct range, dropped once its last demand is placed so that many
    # one-off ranges don't pile up memory.
    heaps: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    pending = Counter(narrow.values())
    # Once a demand of u units finds no room in a range, nothing of u or more ever will
    # (loads only grow), so later ones fail fast instead of scanning the heap again.
    fail_from: dict[tuple[int, int], float] = {}
    for i in narrow_order:
        rng, units = narrow[i], demands[i].units
        if rng not in heaps:
            heaps[rng] = board.heap(*rng)
        heap = heaps[rng]
        if units < fail_from.get(rng, math.inf) and (pos := board.take(heap, units)) >= 0:
            placed[i] = pos
        else:
            fail_from[rng] = min(units, fail_from.get(rng, math.inf))
            failed.append(demands[i].key)
        pending[rng] -= 1
        if not pending[rng]:
            del heaps[rng]

    # The unconstrained majority: one heap over all slots, built after the narrow demands
    # are in, so it is never stale. O(log slots) per demand.
    heap, fail_at = board.heap(*full), math.inf
    for i in free_order:
        units = demands[i].units
        if units < fail_at and (pos := board.take(heap, units)) >= 0:
            placed[i] = pos
        else:
            fail_at = min(units, fail_at)
            failed.append(demands[i].key)
    if failed:
        raise _no_room(failed, demands, narrow)

    index_at = [s.index for s in board.slots]
    return {d.key: index_at[pos] for d, pos in zip(demands, placed, strict=True)}


def crowd_profile(assignment: Mapping[str, int], slots: Sequence[SlotSpec]) -> list[int]:
    """Recipients per slot, aligned with ``slots`` (ignores earlier bookings)."""
    position = {s.index: p for p, s in enumerate(slots)}
    counts = [0] * len(slots)
    for key, index in assignment.items():
        if index not in position:
            raise InvalidInput("demand_slot_unknown", key=key, index=index)
        counts[position[index]] += 1
    return counts


class _Board:
    """Live people and unit load of every slot, by position in time order."""

    def __init__(self, slots: Sequence[SlotSpec], taken: Mapping[int, tuple[int, int]]):
        self.slots = sorted(slots, key=lambda s: s.start)
        self.n = len(self.slots)
        self.starts = [s.start for s in self.slots]
        self.ends = [s.end for s in self.slots]
        position: dict[int, int] = {}
        for p, s in enumerate(self.slots):
            if s.index in position:
                raise InvalidInput("slot_repeated", index=s.index)
            position[s.index] = p
            if p and s.start < self.ends[p - 1]:
                raise InvalidInput("slots_overlap", first=self.slots[p - 1].index, second=s.index)
        self.cap_people = [s.capacity_people for s in self.slots]
        self.cap_units: list[float] = [
            math.inf if s.capacity_units is None else s.capacity_units for s in self.slots
        ]
        self.people = [0] * self.n
        self.units = [0] * self.n
        for index, (people, units) in taken.items():
            if index not in position:
                raise InvalidInput("taken_slot_unknown", index=index)
            if people < 0 or units < 0:
                raise InvalidInput("taken_negative", index=index)
            self.people[position[index]] = people
            self.units[position[index]] = units

    def max_unit_capacity(self) -> int | None:
        """The largest unit cap of any slot, or None if some slot is unlimited."""
        cap = max(self.cap_units, default=math.inf)
        return None if cap == math.inf else int(cap)

    def check_totals(self, demands: Sequence[Demand], order: list[int]) -> None:
        """Fail early, and say by how much, if the slots can't hold everyone in total."""
        total = sum(self.cap_people)
        booked = sum(min(p, c) for p, c in zip(self.people, self.cap_people, strict=True))
        room = total - booked
        if len(order) > room:
            short = [demands[i].key for i in order[room:]]  # the last in line miss out
            raise _infeasible(
                short,
                "too_few_places",
                count=len(order),
                room=room,
                more=_more(booked),
                sizes=self._sizes(booked, "places"),
            )
        if self.max_unit_capacity() is None:
            return
        booked = sum(min(u, int(c)) for u, c in zip(self.units, self.cap_units, strict=True))
        room = int(sum(self.cap_units)) - booked
        need = sum(d.units for d in demands)
        if need > room:
            short, missing = [], need - room
            for i in reversed(order):
                if missing <= 0:
                    break
                short.append(demands[i].key)
                missing -= demands[i].units
            raise _infeasible(
                short[::-1],
                "too_few_units",
                need=need,
                room=room,
                more=_more(booked),
                sizes=self._sizes(booked, "units", units=True),
            )

    def _sizes(self, booked: int, what: str, units: bool = False) -> Said:
        caps = self.cap_units if units else self.cap_people
        same = len(set(caps)) == 1
        zh = f"{self.n} 个时段 × {int(caps[0])}" if same else f"{self.n} 个时段"
        en = f"{self.n} slots × {int(caps[0])}" if same else f"{self.n} slots"
        if not booked:
            return Said(zh, en)
        zh_what = "件" if units else "个位置"
        return Said(f"{zh}，已预约 {booked} {zh_what}", f"{en}, {booked} {what} already booked")

    def heap(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """A min-heap of (people, units, position) over the open slots in lo..hi."""
        people, units, cap = self.people, self.units, self.cap_people
        heap = [(people[p], units[p], p) for p in range(lo, hi + 1) if people[p] < cap[p]]
        heapq.heapify(heap)
        return heap

    def take(self, heap: list[tuple[int, int, int]], need: int) -> int:
        """Book the least loaded slot in ``heap`` that fits ``need`` units; its position or -1.

        Heaps over different ranges share slots, so an entry may be stale: a booking made
        through another heap raised that slot's load. Loads only grow, so a stale entry
        underestimates and is simply refreshed when it reaches the top; the first fresh
        entry on top is then the true minimum.
        """
        people, units, cap_people, cap_units = (
            self.people,
            self.units,
            self.cap_people,
            self.cap_units,
        )
        unfit = []  # fresh entries too full in units for this demand; restored afterwards
        pos = -1
        while heap:
            p, u, at = heap[0]
            if p != people[at] or u != units[at]:
                if people[at] < cap_people[at]:
                    heapq.heapreplace(heap, (people[at], units[at], at))
                else:
                    heapq.heappop(heap)
            elif u + need > cap_units[at]:
                unfit.append(heapq.heappop(heap))
            else:
                pos = at
                people[at] = p + 1
                units[at] = u + need
                if p + 1 < cap_people[at]:
                    heapq.heapreplace(heap, (p + 1, u + need, at))
                else:
                    heapq.heappop(heap)
                break
        for entry in unfit:
            heapq.heappush(heap, entry)
        return pos


def _check_capacities(capacity_people: int, capacity_units: int | None) -> None:
    if capacity_people < 1:
        raise InvalidInput("capacity_people_invalid", capacity=capacity_people)
    if capacity_units is not None and capacity_units < 1:
        raise InvalidInput("capacity_units_invalid", capacity=capacity_units)


def _is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _more(booked: int) -> Said:
    return Said("还", " more") if booked else Said("", "")


def _range_text(d: Demand) -> Said:
    if d.earliest is not None and d.latest is not None:
        a, b = _fmt(d.earliest), _fmt(d.latest)
        return Said(f"{a} 至 {b} 之间", f"between {a} and {b}")
    if d.earliest is not None:
        return Said(f"{_fmt(d.earliest)} 之后", f"from {_fmt(d.earliest)}")
    return Said(f"{_fmt(d.latest)} 之前", f"until {_fmt(d.latest)}")  # type: ignore[arg-type]


def _infeasible(keys: list[str], key: str, /, **values: object) -> SchedulingInfeasible:
    err = SchedulingInfeasible(key, **values)
    err.keys = keys  # type: ignore[attr-defined]
    return err


def _stranded(demands: list[Demand]) -> SchedulingInfeasible:
    keys = [d.key for d in demands]
    if len(demands) == 1:
        d = demands[0]
        return _infeasible(keys, "demand_without_slot", key=d.key, range=_range_text(d))
    return _infeasible(keys, "demands_without_slot", count=len(keys), names=listing(keys))


def _too_big(demands: list[Demand], unit_cap: int) -> SchedulingInfeasible:
    keys = [d.key for d in demands]
    if len(demands) == 1:
        return _infeasible(
            keys, "demand_too_big", key=keys[0], units=demands[0].units, cap=unit_cap
        )
    return _infeasible(keys, "demands_too_big", count=len(keys), cap=unit_cap, names=listing(keys))


def _no_room(
    failed: list[str], demands: Sequence[Demand], narrow: Mapping[int, tuple[int, int]]
) -> SchedulingInfeasible:
    if len(failed) == 1:
        i = next(i for i, d in enumerate(demands) if d.key == failed[0])
        d = demands[i]
        span = _range_text(d)
        return _infeasible(
            failed,
            "demand_no_room",
            key=d.key,
            units=units_text(d.units),
            range=Said(f"，{span.zh}", f", {span.en}") if i in narrow else Said("", ""),
            hint=_WIDEN_ONE if i in narrow else Said("", ""),
        )
    return _infeasible(
        failed,
        "demands_no_room",
        count=len(failed),
        names=listing(failed),
        hint=_WIDEN_MANY if narrow else Said("", ""),
    )
