"""Divide a stock of whole shipping units among claimants by weight, with caps and floors.

``allocate_units(stock, claimants, method)`` returns one whole number of units per claimant
so that every claimant gets at least its floor and at most its cap, the whole stock is handed
out (unless every claimant with a weight is at its cap: the rest is ``unallocated``), and the
units follow the weights as closely as the method allows. Two methods:

* ``sainte_lague`` (alias ``webster``), the default: a divisor method. It is house-monotone,
  so adding a unit of stock never takes a unit away from anyone (no Alabama paradox).
* ``largest_remainder`` (alias ``hamilton``): proportional quotas, rounded down, the leftover
  units to the largest fractional remainders. Every claimant stays within one unit of its
  quota, but it can show the Alabama paradox.

A claimant with weight 0 gets exactly its floor. Ties always go to the earlier claimant.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared import error_texts
from shared.errors import InfeasibleAllocation, InvalidInput


@dataclass(frozen=True, slots=True)  # one per recipient: no __dict__ each
class Claimant:
    """One recipient's claim on the stock. Validated by :func:`allocate_units`."""

    key: str  # recipient id, opaque
    weight: int | float  # >= 0: headcount, population, requested amount, or 1 for equal
    cap: int | None = None  # never more than this; None means no cap
    floor: int = 0  # at least this


@dataclass(frozen=True)
class Allocation:
    """The units of each claimant, in claimant order, and how the stock was used."""

    units: tuple[int, ...]
    method: str  # canonical name: aliases are resolved
    stock: int
    allocated: int  # sum(units)
    unallocated: int  # stock - allocated; > 0 only when every weighted claimant is capped

    def as_record(self, claimants: Sequence[Claimant]) -> dict[str, Any]:
        """A JSON-serialisable audit record of the method, the inputs and the result."""
        if len(claimants) != len(self.units):
            raise InvalidInput("claimant_count", units=len(self.units), given=len(claimants))
        # By column, a list per field: an allocation of 1,000,000 claimants keeps its
        # record in a few lists, where a dict per claimant would take gigabytes.
        return {
            "method": self.method,
            "stock": self.stock,
            "allocated": self.allocated,
            "unallocated": self.unallocated,
            "claimants": {
                "key": [c.key for c in claimants],
                "weight": [c.weight for c in claimants],
                "cap": [c.cap for c in claimants],
                "floor": [c.floor for c in claimants],
                "units": list(self.units),
            },
        }


def _sainte_lague(stock: int, claimants: Sequence[Claimant]) -> list[int]:
    """Sainte-Laguë / Webster with floors and caps; house-monotone by construction.

    Claimant i's k-th unit (k from its floor up to its cap) is a "claim" with priority
    ``w_i / (k + 0.5)``. The result for a stock is exactly the best ``stock - floors`` claims
    under one fixed total order: priority descending, then claimant index ascending. A larger
    stock takes a longer prefix of the same order, so nobody ever loses a unit.

    Priorities are floats computed by the one expression ``w / (k + 0.5)`` everywhere. Float
    division is correctly rounded, so priorities never cross: equal true ratios give equal
    floats, and a claimant's priorities never rise with k. The order is a fixed function of
    (i, k) and identical to the naive unit-by-unit greedy.

    Fast path ("jump and step"): pick a threshold priority p and give every claimant all of its
    claims with priority > p -- that set is a prefix of the order, whatever p is. Then add the
    next best claims, or drop the worst, one at a time from a heap until the count is right;
    each step keeps the set a prefix.
    """
    # Only weighted claimants take units above their floor. No one can take more than the
    # stock, so that stands in for a missing cap and keeps the bounds plain ints.
    idx = [i for i, c in enumerate(claimants) if c.weight > 0]
    w = [float(claimants[i].weight) for i in idx]
    lo = [claimants[i].floor for i in idx]
    hi = [stock if claimants[i].cap is None else min(claimants[i].cap, stock) for i in idx]
    target = stock - sum(c.floor for c in claimants if not c.weight > 0)

    s = _jump(w, lo, hi, target)
    gap = target - sum(s)
    if gap > 0:
        # Add the best claims outside the prefix. Only claimants whose next claim is among the
        # `gap` best next claims can win any of them, so the heap needs no more than those.
        nxt = ((-(w[j] / (s[j] + 0.5)), j) for j in range(len(w)) if s[j] < hi[j])
        heap = heapq.nsmallest(gap, nxt)  # sorted, hence already a heap
        for _ in range(gap):
            j = heap[0][1]
            s[j] += 1
            if s[j] < hi[j]:
                heapq.heapreplace(heap, (-(w[j] / (s[j] + 0.5)), j))
            else:
                heapq.heappop(heap)
    elif gap < 0:
        # Drop the worst claims inside the prefix: lowest priority, then the later claimant.
        last = ((w[j] / (s[j] - 1 + 0.5), -j) for j in range(len(w)) if s[j] > lo[j])
        heap = heapq.nsmallest(-gap, last)
        for _ in range(-gap):
            j = -heap[0][1]
            s[j] -= 1
            if s[j] > lo[j]:
                heapq.heapreplace(heap, (w[j] / (s[j] - 1 + 0.5), -j))
            else:
                heapq.heappop(heap)

    units = [c.floor for c in claimants]
    for i, n in zip(idx, s, strict=True):
        units[i] = n
    return units


def _jump(w: list[float], lo: list[int], hi: list[int], target: int) -> list[int]:
    """Units per claimant when each takes its claims with priority above a threshold.

    The threshold is estimated like a Webster divisor (total weight / units) and refined a
    few times if the count is far off; the exact count is left to the heap steps.
    """
    s = lo[:]
    p = sum(w) / target  # may overflow to inf: handled below
    for _ in range(4):
        if not (0.0 < p < math.inf):  # degenerate weights: let the heap steps do it all
            return lo[:]
        s = []
        for wj, f, c in zip(w, lo, hi, strict=True):
            y = wj / p + 0.5  # round-half-up of the quotient: only an estimate of the count
            x = c if y >= c else f if y < f else int(y)
            # Settle the count exactly with the real priorities, so the set is a prefix.
            while x > f and wj / (x - 1 + 0.5) <= p:
                x -= 1
            while x < c and wj / (x + 0.5) > p:
                x += 1
            s.append(x)
        gap = target - sum(s)
        if abs(gap) <= max(1000, len(w) // 256):
            break  # cheaper to step than to take another pass
        # Re-aim the threshold at the claimants not held by their floor or cap.
        free_w, bound = 0.0, 0
        for wj, x, f, c in zip(w, s, lo, hi, strict=True):
            if f < x < c:
                free_w += wj
            else:
                bound += x
        if free_w <= 0.0 or target - bound <= 0:
            break
        p = free_w / (target - bound)
    return s


def _largest_remainder(stock: int, claimants: Sequence[Claimant]) -> list[int]:
    """Hamilton / largest remainder with floors and caps, in exact integer arithmetic.

    Quotas are ``R * w_i / W`` over the claimants not yet held at a bound, R being the stock
    left for them. Claimants whose quota passes their cap are held at the cap, or those below
    their floor at the floor -- only one side per round, the side with the larger total
    violation, since holding that side can only push the quotas further the same way. Then
    everyone gets the whole part of their quota and the leftover units go to the largest
    remainders, earlier claimant first on a tie.

    Not house-monotone: one more unit of stock can take a unit from someone (the Alabama
    paradox). That is why it is not the default.
    """
    # Weights become exact integers: floats are dyadic, so one power of two clears them all.
    ratios = [
        (c.weight, 1) if isinstance(c.weight, int) else c.weight.as_integer_ratio()
        for c in claimants
    ]
    scale = max((d for _, d in ratios), default=1)
    w = [num * (scale // den) for num, den in ratios]

    floors = [c.floor for c in claimants]
    caps = [c.cap for c in claimants]
    units = floors[:]
    free = [i for i in range(len(claimants)) if w[i] > 0]
    rest = stock - sum(f for f, wi in zip(floors, w, strict=True) if wi == 0)
    while free:  # each round holds at least one claimant; in practice there are a handful
        total = sum(w[i] for i in free)
        over, under, excess, shortfall = [], [], 0, 0
        for i in free:
            quota = rest * w[i]  # the quota times `total`, to stay in integers
            cap = caps[i]
            if cap is not None and quota > cap * total:
                over.append(i)
                excess += quota - cap * total
            elif quota < floors[i] * total:
                under.append(i)
                shortfall += floors[i] * total - quota
        if not over and not under:
            break
        held = set()
        if excess >= shortfall:
            for i in over:
                units[i] = caps[i]
            held.update(over)
        if shortfall >= excess:
            held.update(under)  # already at their floor
        rest -= sum(units[i] for i in held)
        free = [i for i in free if i not in held]

    if not free:
        return units
    total = sum(w[i] for i in free)
    remainders = []
    for i in free:
        units[i], r = divmod(rest * w[i], total)
        remainders.append(r)
    leftover = rest - sum(units[i] for i in free)
    # sorted() is stable (reverse=True too) and `free` is in claimant order, so ties go to
    # the earlier claimant.
    order = sorted(range(len(free)), key=remainders.__getitem__, reverse=True)
    for j in order[:leftover]:
        units[free[j]] += 1
    return units


# Each method expects what allocate_units has checked: valid inputs, stock above the floors,
# and a stock the weighted claimants' caps cannot all absorb. Call allocate_units instead.
METHODS: dict[str, Callable[[int, Sequence[Claimant]], list[int]]] = {
    "sainte_lague": _sainte_lague,
    "webster": _sainte_lague,
    "largest_remainder": _largest_remainder,
    "hamilton": _largest_remainder,
}
_CANONICAL = {"webster": "sainte_lague", "hamilton": "largest_remainder"}
DEFAULT_METHOD = "sainte_lague"


def allocate_units(
    stock: int, claimants: Sequence[Claimant], method: str = DEFAULT_METHOD
) -> Allocation:
    """Divide ``stock`` whole units among ``claimants`` by weight with ``method``.

    Raises InvalidInput for malformed arguments and InfeasibleAllocation when the floors
    need more than the stock, or there is stock above the floors but no weight to divide it.
    """
    if not isinstance(method, str) or method not in METHODS:
        known = ", ".join(sorted(METHODS))
        raise InvalidInput("allocation_method_unknown", method=method, known=known)
    _validate(stock, claimants)

    floors = sum(c.floor for c in claimants)
    if floors > stock:
        raise InfeasibleAllocation(
            "floors_above_stock", floors=error_texts.units(floors), stock=error_texts.units(stock)
        )
    above = stock - floors
    weighted = [c for c in claimants if c.weight > 0]
    if above and not weighted:
        raise InfeasibleAllocation("no_weights", above=error_texts.units(above))
    room = None if any(c.cap is None for c in weighted) else sum(c.cap - c.floor for c in weighted)
    if above == 0:
        units = [c.floor for c in claimants]
    elif room is not None and room <= above:
        # Everyone with a weight is capped; what is left over stays in the store.
        units = [c.cap if c.weight > 0 else c.floor for c in claimants]
    else:
        units = METHODS[method](stock, claimants)

    allocated = sum(units)
    return Allocation(
        units=tuple(units),
        method=_CANONICAL.get(method, method),
        stock=stock,
        allocated=allocated,
        unallocated=stock - allocated,
    )


def _is_whole(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _validate(stock: object, claimants: Sequence[Claimant]) -> None:
    if not _is_whole(stock):
        raise InvalidInput("stock_not_whole", stock=stock)
    if stock < 0:
        raise InvalidInput("stock_negative", stock=stock)
    keys = [c.key for c in claimants]
    if len(set(keys)) != len(keys):
        seen = set()
        for key in keys:
            if key in seen:
                raise InvalidInput("claimant_repeated", key=key)
            seen.add(key)
    # A quick pass that only plain valid values pass; anything else gets the full check,
    # which says what is wrong. This keeps a million claimants cheap to validate.
    big = sys.float_info.max
    for c in claimants:
        w, floor, cap = c.weight, c.floor, c.cap
        if not (
            (type(w) is int or type(w) is float)
            and 0 <= w <= big
            and type(floor) is int
            and floor >= 0
            and (cap is None or (type(cap) is int and cap >= floor))
        ):
            _check_claimant(c)


def _check_claimant(c: Claimant) -> None:
    key, weight, cap, floor = c.key, c.weight, c.cap, c.floor
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidInput("weight_not_number", key=key, weight=weight)
    if isinstance(weight, float) and not math.isfinite(weight):
        raise InvalidInput("weight_not_finite", key=key, weight=weight)
    if weight < 0:
        raise InvalidInput("weight_negative", key=key, weight=weight)
    try:
        float(weight)  # Sainte-Laguë priorities are floats, so a weight must fit in one
    except OverflowError:
        raise InvalidInput("weight_too_large", key=key, weight=weight) from None
    if not _is_whole(floor):
        raise InvalidInput("floor_not_whole", key=key, floor=floor)
    if floor < 0:
        raise InvalidInput("floor_negative", key=key, floor=floor)
    if cap is not None:
        if not _is_whole(cap):
            raise InvalidInput("cap_not_whole", key=key, cap=cap)
        if cap < 0:
            raise InvalidInput("cap_negative", key=key, cap=cap)
        if floor > cap:
            raise InvalidInput("floor_above_cap", key=key, floor=floor, cap=cap)
