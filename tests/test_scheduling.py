"""Tests for shared.scheduling: slot generation and the staggered slot assignment."""

import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import InvalidInput, SchedulingInfeasible
from shared.scheduling import Demand, SlotSpec, assign_slots, crowd_profile, generate_slots

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2025, 3, 1, tzinfo=TZ)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def day_slots(n: int, people: int, units: int | None = None, minutes: int = 10) -> list[SlotSpec]:
    return generate_slots(
        [(at(12), at(12) + timedelta(minutes=n * minutes))], minutes, people, units
    )


# --- generate_slots ---------------------------------------------------------------------


def test_one_window_cut_into_twenty_minute_slots():
    slots = generate_slots([(at(12), at(19))], 20, capacity_people=7, capacity_units=30)
    assert len(slots) == 21
    assert [s.index for s in slots] == list(range(21))
    assert slots[0].start == at(12) and slots[0].end == at(12, 20)
    assert slots[-1].start == at(18, 40) and slots[-1].end == at(19)
    assert all(s.end - s.start == timedelta(minutes=20) for s in slots)
    assert all(s.capacity_people == 7 and s.capacity_units == 30 for s in slots)
    assert slots[0].start.tzinfo == TZ


def test_two_windows_are_sorted_and_indexed_in_time_order():
    slots = generate_slots([(at(14), at(16)), (at(10), at(12))], 30, capacity_people=5)
    assert len(slots) == 8
    assert [s.index for s in slots] == list(range(8))
    assert [s.start for s in slots[:4]] == [at(10), at(10, 30), at(11), at(11, 30)]
    assert slots[4].start == at(14)  # the lunch break holds no slot
    assert all(s.capacity_units is None for s in slots)


def test_trailing_remainder_is_dropped():
    slots = generate_slots([(at(12), at(13, 50))], 25, capacity_people=1)
    assert len(slots) == 4
    assert slots[-1].end == at(13, 40)


def test_touching_windows_are_allowed():
    assert len(generate_slots([(at(12), at(13)), (at(13), at(14))], 30, 1)) == 4


NAIVE = datetime(2025, 3, 1, 12)


@pytest.mark.parametrize(
    ("windows", "minutes", "people", "units", "message"),
    [
        (
            [(at(12), at(19))],
            0,
            7,
            None,
            "slot length must be a whole number of minutes, at least 1, got 0",
        ),
        (
            [(at(12), at(19))],
            2.5,
            7,
            None,
            "slot length must be a whole number of minutes, at least 1, got 2.5",
        ),
        ([(at(12), at(19))], 20, 0, None, "capacity_people must be at least 1, got 0"),
        (
            [(at(12), at(19))],
            20,
            7,
            0,
            "capacity_units must be at least 1 or None for unlimited, got 0",
        ),
        ([], 20, 7, None, "at least one pickup window is needed"),
        (
            [(NAIVE, NAIVE + timedelta(hours=1))],
            20,
            7,
            None,
            "pickup window 2025-03-01 12:00:00 to 2025-03-01 13:00:00 is not timezone-aware; "
            "give its start and end a tzinfo",
        ),
        (
            [(at(19), at(12))],
            20,
            7,
            None,
            "pickup window 2025-03-01 19:00 to 2025-03-01 12:00 must start before it ends",
        ),
        (
            [(at(12), at(12))],
            20,
            7,
            None,
            "pickup window 2025-03-01 12:00 to 2025-03-01 12:00 must start before it ends",
        ),
        (
            [(at(14), at(19)), (at(12), at(15))],
            20,
            7,
            None,
            "pickup windows overlap: one ends at 2025-03-01 15:00 but the next starts at "
            "2025-03-01 14:00",
        ),
        (
            [(at(12), at(12, 15))],
            20,
            7,
            None,
            "no pickup window is long enough for one 20-minute slot",
        ),
    ],
)
def test_generate_slots_rejects_bad_input(windows, minutes, people, units, message):
    with pytest.raises(InvalidInput, match=f"^{re.escape(message)}$"):
        generate_slots(windows, minutes, people, units)


# --- assign_slots: examples -------------------------------------------------------------


def test_highest_priority_gets_the_first_slot():
    slots = day_slots(5, people=3)
    demands = [Demand(f"r{i}", 1) for i in range(4)] + [Demand("vip", 1, priority=5)]
    assert assign_slots(demands, slots)["vip"] == 0


def test_spreads_evenly_and_breaks_ties_by_input_order():
    slots = day_slots(3, people=5)
    result = assign_slots([Demand(k, 1) for k in "abcdefg"], slots)
    assert result == {"a": 0, "b": 1, "c": 2, "d": 0, "e": 1, "f": 2, "g": 0}
    assert list(result) == list("abcdefg")  # input order
    assert crowd_profile(result, slots) == [3, 2, 2]


def test_taken_bookings_are_scheduled_around():
    slots = day_slots(3, people=2, units=10)
    taken = {0: (2, 4), 1: (1, 9)}  # slot 0 full of people, slot 1 has room for 1 unit
    result = assign_slots([Demand("a", 5), Demand("c", 5), Demand("b", 1)], slots, taken)
    assert result == {"a": 2, "c": 2, "b": 1}


def test_units_tie_break_balances_the_crew_load():
    slots = day_slots(2, people=5)
    result = assign_slots([Demand("big", 9), Demand("small", 1), Demand("next", 1)], slots)
    assert result == {"big": 0, "small": 1, "next": 1}


def test_earliest_and_latest_are_honoured():
    slots = day_slots(6, people=5)  # 12:00 .. 13:00, ten-minute slots
    demands = [
        Demand("late", 1, earliest=at(12, 35)),
        Demand("early", 1, latest=at(12, 25)),
        Demand("mid", 1, earliest=at(12, 20), latest=at(12, 30)),
    ]
    assert assign_slots(demands, slots) == {"late": 4, "early": 0, "mid": 2}


def test_narrowest_ranges_go_first_so_they_are_not_crowded_out():
    slots = day_slots(3, people=1)
    demands = [
        Demand("free", 1, priority=9),
        Demand("wide", 1, priority=5, latest=at(12, 20)),
        Demand("tight", 1, latest=at(12, 10)),
    ]
    assert assign_slots(demands, slots) == {"free": 2, "wide": 1, "tight": 0}


def test_overlapping_ranges_see_each_others_bookings():
    # "a" and "c" share slots 0-1, "b" shares slot 1; when "c" comes, slot 1 already holds
    # "b", so slots 0 and 1 are equally loaded and "c" takes the earlier one.
    slots = day_slots(3, people=2)
    demands = [
        Demand("a", 1, priority=2, latest=at(12, 20)),
        Demand("b", 1, priority=1, earliest=at(12, 10)),
        Demand("c", 1, priority=0, latest=at(12, 20)),
    ]
    assert assign_slots(demands, slots) == {"a": 0, "b": 1, "c": 0}


def test_dst_change_keeps_slots_the_same_real_length():
    berlin = ZoneInfo("Europe/Berlin")  # clocks jump from 02:00 to 03:00 on this night
    start, end = datetime(2025, 3, 30, 1, tzinfo=berlin), datetime(2025, 3, 30, 4, tzinfo=berlin)
    slots = generate_slots([(start, end)], 60, 1)
    assert [(s.start.hour, s.end.hour) for s in slots] == [(1, 3), (3, 4)]


def test_total_people_shortfall_message_and_keys():
    slots = generate_slots([(at(12), at(16))], 20, capacity_people=7)
    demands = [Demand(f"r{i}", 1) for i in range(112)]
    message = (
        "112 recipients but the slots hold only 84 (12 slots × 7); "
        "lengthen the windows, shorten the slots or raise capacity"
    )
    with pytest.raises(SchedulingInfeasible, match=f"^{re.escape(message)}$") as info:
        assign_slots(demands, slots)
    assert info.value.keys == [f"r{i}" for i in range(84, 112)]


def test_shortfall_counts_existing_bookings():
    slots = day_slots(2, people=3)
    message = (
        "5 recipients but the slots hold only 4 more (2 slots × 3, 2 places already booked); "
        "lengthen the windows, shorten the slots or raise capacity"
    )
    with pytest.raises(SchedulingInfeasible, match=f"^{re.escape(message)}$"):
        assign_slots([Demand(f"r{i}", 1) for i in range(5)], slots, {1: (2, 0)})


def test_total_units_shortfall():
    slots = day_slots(2, people=5, units=10)
    message = (
        "recipients need 24 units but the slots hand out only 20 (2 slots × 10); "
        "lengthen the windows, shorten the slots or raise capacity"
    )
    with pytest.raises(SchedulingInfeasible, match=f"^{re.escape(message)}$") as info:
        assign_slots([Demand("a", 8), Demand("b", 8), Demand("c", 8)], slots)
    assert info.value.keys == ["c"]


def test_demand_bigger_than_any_slot():
    slots = day_slots(3, people=5, units=30)
    with pytest.raises(
        SchedulingInfeasible, match="^recipient X needs 40 units but a slot hands out at most 30$"
    ) as info:
        assign_slots([Demand("ok", 3), Demand("X", 40)], slots)
    assert info.value.keys == ["X"]


def test_demand_with_no_slot_in_its_range():
    slots = day_slots(6, people=5)
    message = (
        "recipient late can only come between 2025-03-01 12:55 and 2025-03-01 13:30, "
        "which holds no whole slot; widen the range or add a pickup window"
    )
    with pytest.raises(SchedulingInfeasible, match=f"^{re.escape(message)}$") as info:
        assign_slots([Demand("late", 1, earliest=at(12, 55), latest=at(13, 30))], slots)
    assert info.value.keys == ["late"]


def test_no_fitting_slot_left():
    slots = day_slots(6, people=1)
    demands = [Demand(k, 1, latest=at(12, 10)) for k in ("a", "b")] + [Demand("c", 1)]
    message = (
        "no slot has room left for recipient b (1 unit, until 2025-03-01 12:10); "
        "widen its earliest/latest range, lengthen the windows, shorten the slots "
        "or raise capacity"
    )
    with pytest.raises(SchedulingInfeasible, match=f"^{re.escape(message)}$") as info:
        assign_slots(demands, slots)
    assert info.value.keys == ["b"]


@pytest.mark.parametrize(
    ("demands", "taken", "message"),
    [
        ([Demand("a", 1), Demand("a", 2)], None, "recipient a appears more than once"),
        ([Demand("a", 1)], {9: (1, 0)}, "taken refers to slot 9, which is not in the list"),
        ([Demand("a", 1)], {0: (-1, 0)}, "taken for slot 0 must not be negative"),
    ],
)
def test_assign_slots_rejects_bad_input(demands, taken, message):
    with pytest.raises(InvalidInput, match=f"^{re.escape(message)}$"):
        assign_slots(demands, day_slots(3, people=2), taken)


def test_demand_rejects_bad_fields():
    with pytest.raises(InvalidInput, match="^recipient a has negative units"):
        Demand("a", -1)
    with pytest.raises(InvalidInput, match="^recipient a needs timezone-aware"):
        Demand("a", 1, earliest=NAIVE)
    with pytest.raises(InvalidInput, match="^recipient a has earliest at or after latest$"):
        Demand("a", 1, earliest=at(13), latest=at(12))


def test_no_demands_gives_empty_schedule():
    assert assign_slots([], day_slots(2, people=1)) == {}


def test_two_hundred_thousand_demands_over_five_hundred_slots():
    slots = day_slots(500, people=400, minutes=1)
    demands = [Demand(f"r{i}", 1 + i % 10, priority=i % 3) for i in range(200_000)]
    result = assign_slots(demands, slots)
    profile = crowd_profile(result, slots)
    assert sum(profile) == 200_000
    assert set(profile) == {400}


# --- assign_slots: properties -----------------------------------------------------------

SLOT_MINUTES = 10


@st.composite
def cases(draw, constrained: bool = True, unit_limits: bool = True, with_taken: bool = True):
    n = draw(st.integers(1, 12))
    people = draw(st.integers(1, 6))
    units = draw(st.none() | st.integers(1, 25)) if unit_limits else None
    slots = day_slots(n, people, units, SLOT_MINUTES)
    # Bounds mostly on slot edges (so ranges overlap and share slots), some between
    # edges, a little beyond either end of the day.
    edge = st.integers(-1, n + 1).map(lambda k: k * SLOT_MINUTES)
    bound = st.none() | (edge | st.integers(-1, n * SLOT_MINUTES + 1)).map(
        lambda m: at(12) + timedelta(minutes=m)
    )
    demands = []
    for i in range(draw(st.integers(0, n * people + 5))):
        earliest = draw(bound) if constrained else None
        latest = draw(bound) if constrained else None
        if earliest is not None and latest is not None and earliest >= latest:
            earliest, latest = latest, earliest + timedelta(minutes=1)
        demands.append(
            Demand(f"r{i}", draw(st.integers(0, 12)), draw(st.integers(-2, 2)), earliest, latest)
        )
    taken = {}
    if with_taken:
        for s in draw(st.lists(st.sampled_from(slots), unique=True)):
            taken[s.index] = (draw(st.integers(0, people)), draw(st.integers(0, units or 20)))
    return demands, slots, taken


def check_valid(demands, slots, taken, result):
    assert set(result) == {d.key for d in demands}
    by_index = {s.index: s for s in slots}
    people, units = Counter(), Counter()
    for d in demands:
        slot = by_index[result[d.key]]
        people[slot.index] += 1
        units[slot.index] += d.units
        assert d.earliest is None or slot.start >= d.earliest
        assert d.latest is None or slot.end <= d.latest
    for s in slots:
        booked_people, booked_units = taken.get(s.index, (0, 0))
        if people[s.index]:
            assert booked_people + people[s.index] <= s.capacity_people
            if s.capacity_units is not None:
                assert booked_units + units[s.index] <= s.capacity_units


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_capacity_and_ranges_are_never_violated(case):
    demands, slots, taken = case
    try:
        result = assign_slots(demands, slots, taken)
    except SchedulingInfeasible as err:
        assert err.keys and set(err.keys) <= {d.key for d in demands}
        assert str(err)
    else:
        check_valid(demands, slots, taken, result)


@settings(max_examples=300)
@given(cases(constrained=False, unit_limits=False))
def test_unconstrained_fails_only_when_people_capacity_is_short(case):
    demands, slots, taken = case
    room = sum(max(0, s.capacity_people - taken.get(s.index, (0, 0))[0]) for s in slots)
    try:
        result = assign_slots(demands, slots, taken)
    except SchedulingInfeasible as err:
        assert len(demands) > room
        assert len(err.keys) == len(demands) - room
    else:
        assert len(demands) <= room
        check_valid(demands, slots, taken, result)


@settings(max_examples=300)
@given(cases(constrained=False, unit_limits=False, with_taken=False))
def test_crowd_is_flat_without_constraints(case):
    demands, slots, _ = case
    if len(demands) > sum(s.capacity_people for s in slots):
        return
    profile = crowd_profile(assign_slots(demands, slots), slots)
    assert max(profile) - min(profile) <= 1


@settings(max_examples=200)
@given(cases())
def test_same_input_same_output(case):
    demands, slots, taken = case

    def run():
        try:
            return assign_slots(demands, slots, taken)
        except SchedulingInfeasible as err:
            return str(err), err.keys

    assert run() == run()


@settings(max_examples=200)
@given(cases(constrained=False, unit_limits=False, with_taken=False))
def test_priority_gets_earlier_slots_among_equal_loads(case):
    demands, slots, _ = case
    if not demands or len(demands) > sum(s.capacity_people for s in slots):
        return
    result = assign_slots(demands, slots)
    top = max(d.priority for d in demands)
    first_top = next(d for d in demands if d.priority == top)
    assert result[first_top.key] == 0
