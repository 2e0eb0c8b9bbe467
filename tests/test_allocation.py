"""Tests for shared.allocation: exact totals, bounds, ties, monotonicity, reference methods."""

from __future__ import annotations

import json
import math
import random
import re
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.allocation import (
    DEFAULT_METHOD,
    METHODS,
    Allocation,
    Claimant,
    allocate_units,
)
from shared.errors import InfeasibleAllocation, InvalidInput

BOTH = ["sainte_lague", "largest_remainder"]

# -- references -------------------------------------------------------------------------------


def naive_webster(stock: int, claimants: list[Claimant]) -> list[int]:
    """Unit by unit: the next unit goes to the highest w / (units + 0.5), earlier on a tie."""
    units = [c.floor for c in claimants]
    for _ in range(stock - sum(units)):
        best, best_key = None, None
        for i, c in enumerate(claimants):
            if c.weight > 0 and (c.cap is None or units[i] < c.cap):
                key = float(c.weight) / (units[i] + 0.5)
                if best_key is None or key > best_key:  # strict: the earlier claimant keeps a tie
                    best, best_key = i, key
        if best is None:
            break  # everyone with a weight is capped
        units[best] += 1
    return units


def reference_hamilton(stock: int, claimants: list[Claimant]) -> list[int]:
    """Water-fill exact quotas clamp(lambda * w, floor, cap) summing to the stock, then round
    by largest remainder. Solves for lambda on the piecewise-linear total, in Fractions."""
    w = [Fraction(c.weight) for c in claimants]

    def quota(lam: Fraction, i: int) -> Fraction:
        c = claimants[i]
        if w[i] == 0:
            return Fraction(c.floor)
        q = max(lam * w[i], Fraction(c.floor))
        return q if c.cap is None else min(q, Fraction(c.cap))

    def total(lam: Fraction) -> Fraction:
        return sum((quota(lam, i) for i in range(len(claimants))), Fraction(0))

    points = {Fraction(0)}
    for c, wi in zip(claimants, w, strict=True):
        if wi:
            points.add(c.floor / wi)
            if c.cap is not None:
                points.add(c.cap / wi)
    prev = Fraction(0)
    for point in sorted(points):
        if total(point) >= stock:
            break
        prev = point
    else:  # past the last breakpoint the total grows with the uncapped weights
        slope = sum(wi for c, wi in zip(claimants, w, strict=True) if c.cap is None)
        point = prev + (stock - total(prev)) / slope
    if total(point) == stock:
        lam = point
    else:
        lam = prev + (stock - total(prev)) * (point - prev) / (total(point) - total(prev))
    quotas = [quota(lam, i) for i in range(len(claimants))]
    assert sum(quotas) == stock
    units = [math.floor(q) for q in quotas]
    order = sorted(range(len(claimants)), key=lambda i: (-(quotas[i] - units[i]), i))
    for i in order[: stock - sum(units)]:
        units[i] += 1
    return units


def is_top_prefix(units: tuple[int, ...], claimants: list[Claimant]) -> bool:
    """The units above the floors are exactly a prefix of the claims ordered by
    (w / (k + 0.5) descending, claimant index ascending) -- checked in one pass."""
    worst_taken = None  # the last claim taken, as an order key (smaller is earlier)
    best_left = None  # the first claim not taken
    for i, (c, u) in enumerate(zip(claimants, units, strict=True)):
        if not c.weight > 0:
            if u != c.floor:
                return False
            continue
        if u > c.floor:
            key = (-(float(c.weight) / (u - 1 + 0.5)), i)
            worst_taken = key if worst_taken is None else max(worst_taken, key)
        if c.cap is None or u < c.cap:
            key = (-(float(c.weight) / (u + 0.5)), i)
            best_left = key if best_left is None else min(best_left, key)
    return worst_taken is None or best_left is None or worst_taken < best_left


# -- strategies -------------------------------------------------------------------------------


@st.composite
def claimant_lists(draw, max_size: int = 8, float_weights: bool = True) -> list[Claimant]:
    weights = st.integers(0, 30)
    if float_weights:
        weights = weights | st.floats(0, 30, allow_nan=False, allow_infinity=False)
    out = []
    for i in range(draw(st.integers(0, max_size))):
        floor = draw(st.integers(0, 3))
        cap = draw(st.none() | st.integers(floor, floor + 8))
        out.append(Claimant(f"c{i}", draw(weights), cap, floor))
    return out


def feasible(claimants: list[Claimant], stock: int) -> bool:
    above = stock - sum(c.floor for c in claimants)
    return above >= 0 and (above == 0 or any(c.weight > 0 for c in claimants))


def check_bounds(a: Allocation, claimants: list[Claimant], stock: int) -> None:
    assert len(a.units) == len(claimants)
    assert a.allocated == sum(a.units)
    assert a.unallocated == stock - a.allocated >= 0
    for c, u in zip(claimants, a.units, strict=True):
        assert c.floor <= u
        assert c.cap is None or u <= c.cap
        if not c.weight > 0:
            assert u == c.floor
    if a.unallocated:  # only when every weighted claimant is at its cap
        assert all(c.cap == u for c, u in zip(claimants, a.units, strict=True) if c.weight > 0)


# -- both methods -----------------------------------------------------------------------------


def test_methods_and_default() -> None:
    assert DEFAULT_METHOD == "sainte_lague"
    assert set(METHODS) == {"sainte_lague", "webster", "largest_remainder", "hamilton"}
    assert METHODS["webster"] is METHODS["sainte_lague"]
    assert METHODS["hamilton"] is METHODS["largest_remainder"]


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("webster", "sainte_lague"),
        ("sainte_lague", "sainte_lague"),
        ("hamilton", "largest_remainder"),
        ("largest_remainder", "largest_remainder"),
    ],
)
def test_aliases_record_canonical_name(alias: str, canonical: str) -> None:
    claimants = [Claimant("a", 3), Claimant("b", 1)]
    a = allocate_units(7, claimants, alias)
    assert a.method == canonical
    assert a.units == allocate_units(7, claimants, canonical).units


@settings(max_examples=300)
@given(claimant_lists(), st.integers(0, 60), st.sampled_from(BOTH))
def test_bounds_and_exact_total(claimants: list[Claimant], extra: int, method: str) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock))
    a = allocate_units(stock, claimants, method)
    check_bounds(a, claimants, stock)
    weighted = [c for c in claimants if c.weight > 0]
    if any(c.cap is None for c in weighted):
        assert a.unallocated == 0
    else:
        room = sum(c.cap for c in weighted) + sum(c.floor for c in claimants if c not in weighted)
        assert a.unallocated == max(0, stock - room)


@given(claimant_lists(), st.integers(0, 40), st.sampled_from(BOTH))
def test_deterministic_and_independent_of_keys(
    claimants: list[Claimant], extra: int, method: str
) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock))
    first = allocate_units(stock, claimants, method)
    assert allocate_units(stock, list(claimants), method) == first
    # Only position and numbers matter, never the key (so never a hash).
    renamed = [Claimant(f"z{999 - i}", c.weight, c.cap, c.floor) for i, c in enumerate(claimants)]
    assert allocate_units(stock, renamed, method).units == first.units


@pytest.mark.parametrize("method", BOTH)
@pytest.mark.parametrize(
    ("weights", "stock", "units"),
    [
        ([1, 1], 1, (1, 0)),
        ([1, 1, 1], 2, (1, 1, 0)),
        ([5, 5, 5, 5], 3, (1, 1, 1, 0)),
        ([2.5, 2.5], 1, (1, 0)),
        ([2, 2, 1], 4, (2, 1, 1)),
    ],
)
def test_ties_go_to_the_earlier_claimant(
    method: str, weights: list[float], stock: int, units: tuple[int, ...]
) -> None:
    claimants = [Claimant(str(i), w) for i, w in enumerate(weights)]
    assert allocate_units(stock, claimants, method).units == units


@pytest.mark.parametrize("method", BOTH)
def test_caps_bind_and_rest_is_unallocated(method: str) -> None:
    claimants = [Claimant("a", 10, cap=3), Claimant("b", 1, cap=2), Claimant("z", 0, floor=1)]
    a = allocate_units(10, claimants, method)
    assert a.units == (3, 2, 1)
    assert (a.allocated, a.unallocated) == (6, 4)


@pytest.mark.parametrize("method", BOTH)
def test_caps_push_units_to_others(method: str) -> None:
    claimants = [Claimant("a", 100, cap=2), Claimant("b", 1), Claimant("c", 1)]
    assert allocate_units(10, claimants, method).units == (2, 4, 4)


@pytest.mark.parametrize("method", BOTH)
def test_floors_are_met_first(method: str) -> None:
    claimants = [Claimant("a", 100), Claimant("b", 1, floor=3), Claimant("c", 0, floor=2)]
    a = allocate_units(10, claimants, method)
    assert a.units == (5, 3, 2)
    assert a.unallocated == 0


@pytest.mark.parametrize("method", BOTH)
def test_zero_weight_gets_only_its_floor(method: str) -> None:
    claimants = [Claimant("a", 0, floor=2), Claimant("b", 1), Claimant("c", 0)]
    assert allocate_units(9, claimants, method).units == (2, 7, 0)


@pytest.mark.parametrize("method", BOTH)
def test_stock_exactly_floors_and_empty(method: str) -> None:
    claimants = [Claimant("a", 0, floor=2), Claimant("b", 0, floor=1)]
    assert allocate_units(3, claimants, method).units == (2, 1)
    empty = allocate_units(0, [], method)
    assert (empty.units, empty.allocated, empty.unallocated) == ((), 0, 0)


@pytest.mark.parametrize("method", BOTH)
def test_source_scenarios(method: str) -> None:
    rng = random.Random(614)
    households = [Claimant(f"hh{i}", rng.randint(1, 9)) for i in range(112)]
    drums = allocate_units(614, households, method)
    assert drums.allocated == 614 and drums.unallocated == 0
    populations = [48211, 30507, 27315, 19904, 15026, 12388, 9710, 8045, 6123, 4870, 3302, 1499]
    towns = [Claimant(f"town{i}", p) for i, p in enumerate(populations)]
    boxes = allocate_units(3848, towns, method)
    assert boxes.allocated == 3848 and boxes.unallocated == 0
    total = sum(populations)
    for p, u in zip(populations, boxes.units, strict=True):
        assert abs(u - Fraction(3848 * p, total)) < 1
    if method == "sainte_lague":
        assert is_top_prefix(drums.units, households)
        assert is_top_prefix(boxes.units, towns)


@pytest.mark.parametrize("method", BOTH)
def test_as_record_is_json_and_round_trips(method: str) -> None:
    claimants = [
        Claimant("r1", 3, cap=4, floor=1),
        Claimant("r2", 2.5),
        Claimant("r3", 0, floor=2),
        Claimant("r4", 7, cap=None),
    ]
    a = allocate_units(20, claimants, method)
    record = json.loads(json.dumps(a.as_record(claimants)))
    assert record["method"] == method
    assert (record["stock"], record["allocated"], record["unallocated"]) == (20, 20, 0)
    columns = record["claimants"]  # a list per field, in claimant order
    fields = (columns["key"], columns["weight"], columns["cap"], columns["floor"])
    rebuilt = [Claimant(*values) for values in zip(*fields, strict=True)]
    assert rebuilt == claimants
    assert tuple(columns["units"]) == a.units
    assert allocate_units(record["stock"], rebuilt, record["method"]) == a


def test_as_record_refuses_other_claimants() -> None:
    a = allocate_units(3, [Claimant("a", 1)])
    with pytest.raises(InvalidInput, match="^the allocation has 1 claimants but 2 were given$"):
        a.as_record([Claimant("a", 1), Claimant("b", 1)])


# -- Sainte-Laguë -----------------------------------------------------------------------------


@settings(max_examples=400)
@given(claimant_lists(), st.integers(0, 60))
def test_sainte_lague_equals_naive_greedy(claimants: list[Claimant], extra: int) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock))
    assert list(allocate_units(stock, claimants).units) == naive_webster(stock, claimants)


@settings(max_examples=300)
@given(claimant_lists(max_size=10), st.integers(0, 50))
def test_sainte_lague_is_house_monotone(claimants: list[Claimant], extra: int) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock) and feasible(claimants, stock + 1))
    before = allocate_units(stock, claimants).units
    after = allocate_units(stock + 1, claimants).units
    assert all(b <= a for b, a in zip(before, after, strict=True))
    assert sum(after) - sum(before) in (0, 1)


@given(claimant_lists(float_weights=False), st.integers(0, 60))
def test_sainte_lague_is_a_divisor_apportionment(claimants: list[Claimant], extra: int) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock))
    units = allocate_units(stock, claimants).units
    weighted = [(c, u) for c, u in zip(claimants, units, strict=True) if c.weight > 0]
    # Exact: the best claim left out is no better than the worst claim taken.
    can_take = [
        Fraction(2 * c.weight, 2 * u + 1) for c, u in weighted if c.cap is None or u < c.cap
    ]
    can_give = [Fraction(2 * c.weight, 2 * u - 1) for c, u in weighted if u > c.floor]
    if can_take and can_give:
        assert max(can_take) <= min(can_give)


def test_sainte_lague_worked_example() -> None:
    # Claims 12, 12, 4, 4, 4, 2.4, 2.4, 1.71, 1.71, then a tie at 1.33 that "a" wins.
    claimants = [Claimant("a", 6), Claimant("b", 6), Claimant("c", 2)]
    assert allocate_units(10, claimants).units == (5, 4, 1)
    assert allocate_units(10, claimants, "largest_remainder").units == (4, 4, 2)


def test_sainte_lague_whole_range_is_monotone() -> None:
    rng = random.Random(7)
    claimants = [
        Claimant(f"c{i}", rng.choice([1, 2, 3, 10, 0.5]), rng.choice([None, 5, 20]), i % 3)
        for i in range(40)
    ]
    floors = sum(c.floor for c in claimants)
    prev = None
    for stock in range(floors, floors + 400):
        units = allocate_units(stock, claimants).units
        if prev is not None:
            assert all(p <= u for p, u in zip(prev, units, strict=True))
        prev = units


@pytest.mark.parametrize("seed", range(4))
def test_sainte_lague_large_skewed_inputs_take_the_exact_prefix(seed: int) -> None:
    # Large enough that the threshold estimate misses by thousands of units, in both
    # directions, so the re-aimed threshold and both heap directions are exercised.
    rng = random.Random(seed)
    claimants = []
    for i in range(20_000):
        weight = rng.choice([0, 1, 3, 7.5, 1000, 123456])
        floor = rng.choice([0, 0, 2, 9])
        cap = rng.choice([None, floor, floor + 1, floor + 40])
        claimants.append(Claimant(f"c{i}", weight, cap, floor))
    floors = sum(c.floor for c in claimants)
    for stock in (floors, floors + 1, floors + 12_345, floors + 150_000):
        a = allocate_units(stock, claimants)
        check_bounds(a, claimants, stock)
        assert a.unallocated == 0
        assert is_top_prefix(a.units, claimants)


def test_two_hundred_thousand_claimants() -> None:
    rng = random.Random(200_000)
    claimants = [
        Claimant(f"r{i}", rng.randint(1, 1000), rng.choice([None, 2, 50]), rng.choice([0, 1]))
        for i in range(200_000)
    ]
    for method in BOTH:
        a = allocate_units(1_000_000, claimants, method)
        assert a.allocated == 1_000_000 and a.unallocated == 0
        check_bounds(a, claimants, 1_000_000)
        if method == "sainte_lague":
            assert is_top_prefix(a.units, claimants)


# -- largest remainder ------------------------------------------------------------------------


@settings(max_examples=300)
@given(claimant_lists(), st.integers(0, 60))
def test_largest_remainder_equals_water_filling_reference(
    claimants: list[Claimant], extra: int
) -> None:
    stock = sum(c.floor for c in claimants) + extra
    assume(feasible(claimants, stock))
    a = allocate_units(stock, claimants, "largest_remainder")
    assume(a.unallocated == 0)  # the all-capped case has no quotas to compare
    assert list(a.units) == reference_hamilton(stock, claimants)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=10), st.integers(0, 200))
def test_largest_remainder_stays_within_one_of_quota(weights: list[int], stock: int) -> None:
    assume(sum(weights) > 0)
    claimants = [Claimant(str(i), w) for i, w in enumerate(weights)]
    units = allocate_units(stock, claimants, "hamilton").units
    for w, u in zip(weights, units, strict=True):
        quota = Fraction(stock * w, sum(weights))
        assert math.floor(quota) <= u <= math.ceil(quota)


def test_largest_remainder_holds_caps_and_floors_on_the_right_side() -> None:
    # Holding both sides at once would cap "a" at 1 (quota 1.5 at first) and leave "c" with
    # nothing; the true quotas are a 1/3, b 5 (its floor), c 2/3.
    claimants = [Claimant("a", 1, cap=1), Claimant("b", 1, floor=5), Claimant("c", 2)]
    assert allocate_units(6, claimants, "largest_remainder").units == (0, 5, 1)
    assert allocate_units(6, claimants, "sainte_lague").units == (0, 5, 1)


def test_largest_remainder_shows_the_alabama_paradox() -> None:
    # Found by searching small weight lists: one more unit takes a unit from "c".
    claimants = [Claimant("a", 3), Claimant("b", 3), Claimant("c", 1)]
    assert allocate_units(3, claimants, "largest_remainder").units == (1, 1, 1)
    assert allocate_units(4, claimants, "largest_remainder").units == (2, 2, 0)
    # Sainte-Laguë never takes a unit back.
    assert allocate_units(3, claimants).units == (2, 1, 0)
    assert allocate_units(4, claimants).units == (2, 2, 0)


def test_largest_remainder_exact_with_float_weights() -> None:
    # Remainders of float weights compare exactly, so a true tie goes by order.
    claimants = [Claimant("a", 0.25), Claimant("b", 0.25), Claimant("c", 0.5)]
    assert allocate_units(2, claimants, "hamilton").units == (1, 0, 1)
    claimants = [Claimant("a", 0.1), Claimant("b", 0.2), Claimant("c", 0.3)]
    assert allocate_units(6, claimants, "hamilton").units == (1, 2, 3)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stock", "claimants", "method", "error", "message"),
    [
        (
            5,
            [Claimant("a", 1, floor=3), Claimant("b", 1, floor=4)],
            DEFAULT_METHOD,
            InfeasibleAllocation,
            "the floors add up to 7 units but only 5 units are in stock",
        ),
        (
            0,
            [Claimant("a", 1, floor=1)],
            "hamilton",
            InfeasibleAllocation,
            "the floors add up to 1 unit but only 0 units are in stock",
        ),
        (
            5,
            [Claimant("a", 1)],
            None,
            InvalidInput,
            "unknown allocation method None; known methods: "
            "hamilton, largest_remainder, sainte_lague, webster",
        ),
        (
            5,
            [Claimant("a", 0, floor=1), Claimant("b", 0.0)],
            DEFAULT_METHOD,
            InfeasibleAllocation,
            "no weights to divide by: every weight is 0 but the floors leave 4 units to share",
        ),
        (
            1,
            [],
            "largest_remainder",
            InfeasibleAllocation,
            "no weights to divide by: every weight is 0 but the floors leave 1 unit to share",
        ),
        (
            5,
            [Claimant("a", 1)],
            "dhondt",
            InvalidInput,
            "unknown allocation method 'dhondt'; known methods: "
            "hamilton, largest_remainder, sainte_lague, webster",
        ),
        (
            -1,
            [Claimant("a", 1)],
            DEFAULT_METHOD,
            InvalidInput,
            "stock must not be negative, got -1",
        ),
        (
            2.5,
            [Claimant("a", 1)],
            DEFAULT_METHOD,
            InvalidInput,
            "stock must be a whole number of units, got 2.5",
        ),
        (
            True,
            [Claimant("a", 1)],
            DEFAULT_METHOD,
            InvalidInput,
            "stock must be a whole number of units, got True",
        ),
        (
            5,
            [Claimant("a", 1), Claimant("b", 1), Claimant("a", 2)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a' appears more than once",
        ),
        (
            5,
            [Claimant("a", -1)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': weight must not be negative, got -1",
        ),
        (
            5,
            [Claimant("a", 1), Claimant("b", math.nan)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'b': weight must be finite, got nan",
        ),
        (
            5,
            [Claimant("a", math.inf)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': weight must be finite, got inf",
        ),
        (
            5,
            [Claimant("a", "3")],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': weight must be a number, got '3'",
        ),
        (
            5,
            [Claimant("a", True)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': weight must be a number, got True",
        ),
        (
            5,
            [Claimant("a", 10**400)],
            DEFAULT_METHOD,
            InvalidInput,
            f"claimant 'a': weight is too large, got {10**400!r}",
        ),
        (
            5,
            [Claimant("a", 1, floor=-1)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': floor must not be negative, got -1",
        ),
        (
            5,
            [Claimant("a", 1, floor=1.5)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': floor must be a whole number, got 1.5",
        ),
        (
            5,
            [Claimant("a", 1, cap=-2)],
            DEFAULT_METHOD,
            InvalidInput,
            "claimant 'a': cap must not be negative, got -2",
        ),
        (
            5,
            [Claimant("a", 1, cap=2.0)],
            "hamilton",
            InvalidInput,
            "claimant 'a': cap must be a whole number or None, got 2.0",
        ),
        (
            5,
            [Claimant("x", 1), Claimant("a", 1, cap=2, floor=3)],
            "webster",
            InvalidInput,
            "claimant 'a': floor 3 is above cap 2",
        ),
    ],
)
def test_errors(
    stock: int,
    claimants: list[Claimant],
    method: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        allocate_units(stock, claimants, method)
