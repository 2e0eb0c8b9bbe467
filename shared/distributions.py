"""A distribution, its pickup sites and their windows: creating one, and the rules for editing it.

A distribution has one or more pickup sites (masks for twelve towns: one site per town), each
with its own name, address, pickup windows and, if it differs from the distribution's, its own
slot capacity; a removed site's scanner tokens are revoked with it.

An edit must not break what is already booked or handed over: once a site's
slots hold bookings its windows are fixed (the slots are cut from them), and so are the slot
length and time zone of the whole distribution; a site with bookings cannot be removed;
capacity may grow but not drop below any slot's bookings; stock may not drop below what is
allotted; the unit size is fixed once anything is handed over (the ledger is kept in it). A
refused edit raises :class:`~shared.errors.EditRefused` with a text key and its values, so
each channel can say why in its user's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import storage
from shared.error_texts import Said
from shared.errors import EditRefused, InvalidInput

# The fields the schedule is cut from: they cannot move under existing bookings.
SCHEDULE_FIELDS = ("timezone", "slot_minutes")

Window = tuple[datetime, datetime]

DAY_MINUTES = 24 * 60
# The range of each whole number of a distribution: wide enough for any real distribution,
# narrow enough that no sum, time or page made from it can overflow. (An early_minutes of
# 10**15 was once stored and made every later check of the distribution's vouchers fail.)
NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "stock_units": (0, 10_000_000),
    "slot_minutes": (1, DAY_MINUTES),
    "capacity_people": (1, 100_000),
    "capacity_units": (1, 10_000_000),
    "early_minutes": (0, DAY_MINUTES),
    "grace_minutes": (0, DAY_MINUTES),
}
UNIT_SIZE_MAX = 1_000_000  # a shipping unit's size in the item's measure (kg, boxes ...)
# The longest each text may be, in characters; each site's name and address too.
TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "item": 200,
    "item_key": 64,
    "unit_name": 60,
    "unit_name_en": 60,
    "measure": 30,
    "timezone": 64,
    "site_name": 200,
    "site_address": 500,
}
# Pickup windows fall in these years: far from the ends of what a datetime holds.
WINDOW_YEARS = (2000, 2099)


@dataclass(frozen=True)
class SiteSpec:
    """A pickup site as the operator gives it: a capacity of None takes the distribution's."""

    name: str
    address: str
    windows: list[Window] = field(default_factory=list)
    capacity_people: int | None = None
    capacity_units: int | None = None
    id: int | None = None  # the stored site this edits; None for a new one

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "capacity_people": self.capacity_people,
            "capacity_units": self.capacity_units,
        }


def site_capacity(
    distribution: Mapping[str, Any], site: Mapping[str, Any]
) -> tuple[int, int | None]:
    """People and units per slot at ``site``: its own, else the distribution's."""
    people = site["capacity_people"] or distribution["capacity_people"]
    units = site["capacity_units"]
    return people, units if units is not None else distribution["capacity_units"]


def field_problems(
    fields: Mapping[str, Any], sites: Sequence[SiteSpec]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every field out of its range or too long: ``{field: (text key, values)}``.

    The keys are texts of each channel's table (``number_range``, ``unit_size_range``,
    ``too_long``, ``window_year``), so the console can say them in the user's language. A
    site's fields are named with its position: ``site_name_0``, ``windows_1``.
    """
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, (low, high) in NUMBER_RANGES.items():
        value = fields.get(name)
        if value is not None and not low <= value <= high:
            problems[name] = ("number_range", {"min": low, "max": high})
    size = fields.get("unit_size")
    if size is not None and not 0 < size <= UNIT_SIZE_MAX:
        problems["unit_size"] = ("unit_size_range", {"max": UNIT_SIZE_MAX})
    for name, limit in TEXT_LIMITS.items():
        if not name.startswith("site_") and len(fields.get(name) or "") > limit:
            problems[name] = ("too_long", {"max": limit})
    for n, site in enumerate(sites):
        site_values = {"site_name": site.name, "site_address": site.address}
        for name, value in site_values.items():
            if len(value) > TEXT_LIMITS[name]:
                problems[f"{name}_{n}"] = ("too_long", {"max": TEXT_LIMITS[name]})
        for name in ("capacity_people", "capacity_units"):
            value = getattr(site, name)
            low, high = NUMBER_RANGES[name]
            if value is not None and not low <= value <= high:
                problems[f"{name}_{n}"] = ("number_range", {"min": low, "max": high})
        year = window_year_problem(site.windows)
        if year:
            problems[f"windows_{n}"] = year
    return problems


def window_year_problem(windows: list[Window]) -> tuple[str, dict[str, Any]] | None:
    """``("window_year", values)`` for the first window outside :data:`WINDOW_YEARS`."""
    low, high = WINDOW_YEARS
    for line, (start, end) in enumerate(windows, start=1):
        if not (low <= start.year <= high and low <= end.year <= high):
            return "window_year", {"line": line, "min": low, "max": high}
    return None


def check_fields(fields: Mapping[str, Any], sites: Sequence[SiteSpec]) -> None:
    """Raise InvalidInput naming every field out of range: nothing of the sort is stored."""
    problems = field_problems(fields, sites)
    if problems:
        described = ", ".join(
            f"{name} ({key}: {values})" for name, (key, values) in sorted(problems.items())
        )
        raise InvalidInput(
            "fields_out_of_range", fields=Said("、".join(sorted(problems)), described)
        )


def _check_sites(sites: Sequence[SiteSpec]) -> None:
    if not sites:
        raise InvalidInput("sites_missing")
    seen: set[str] = set()
    for site in sites:
        if not site.name.strip() or not site.address.strip():
            raise InvalidInput("site_name_address")
        if site.name.strip().casefold() in seen:
            raise InvalidInput("site_name_repeated", site=site.name.strip())
        seen.add(site.name.strip().casefold())
        if not site.windows:
            raise InvalidInput("site_without_windows", site=site.name.strip())


def create_distribution(
    db: Database,
    fields: dict[str, Any],
    sites: Sequence[SiteSpec],
    now: datetime,
    actor: str,
) -> int:
    """Store a distribution with its pickup sites and each site's windows."""
    _check_sites(sites)
    check_fields(fields, sites)
    with storage.transaction(db):
        distribution_id = storage.insert_distribution(db, fields, now)
        for site in sites:
            site_id = storage.insert_site(db, distribution_id, site.values())
            for start, end in site.windows:
                storage.insert_window(db, site_id, start, end)
        detail = {**fields, "sites": [site.name for site in sites]}
        storage.audit(
            db, actor, "create_distribution", f"distribution:{distribution_id}", now, detail
        )
    return distribution_id


def _stored_windows(db: Database, site_id: int) -> list[tuple[str, str]]:
    return [(w["starts_at"], w["ends_at"]) for w in storage.list_windows(db, site_id)]


def update_distribution(
    db: Database,
    distribution_id: int,
    fields: dict[str, Any],
    sites: Sequence[SiteSpec],
    now: datetime,
    actor: str,
) -> list[str]:
    """Apply an edit in one transaction, or raise EditRefused; returns the names changed.

    ``sites`` is the whole new list: a stored site missing from it is removed, one without
    an id is added.
    """
    _check_sites(sites)
    check_fields(fields, sites)
    with storage.transaction(db):
        current = storage.get_distribution(db, distribution_id)
        stored = {s["id"]: s for s in storage.list_sites(db, distribution_id)}
        unknown = [s.id for s in sites if s.id is not None and s.id not in stored]
        if unknown:
            raise InvalidInput("site_not_ours", site=unknown[0])
        changed = [k for k, v in fields.items() if current[k] != v]
        slots = storage.list_slots(db, distribution_id)
        loads = storage.slot_loads(db, distribution_id, now)
        booked = [s for s in slots if loads.get(s["id"], (0, 0))[0] > 0]
        if booked and set(changed) & set(SCHEDULE_FIELDS):
            raise EditRefused("locked_schedule", slots=len(booked))
        kept = {s.id for s in sites if s.id is not None}
        for site_id, site in stored.items():
            if site_id not in kept and (count := storage.count_site_bookings(db, site_id)):
                raise EditRefused("site_has_bookings", site=site["name"], bookings=count)
        new_windows = {
            s.id: [(storage.to_db_time(a), storage.to_db_time(b)) for a, b in s.windows]
            for s in sites
            if s.id is not None
        }
        moved = {i for i in kept if _stored_windows(db, i) != new_windows[i]}
        for site_id in moved:
            site_booked = [s for s in booked if s["site_id"] == site_id]
            if site_booked:
                raise EditRefused("locked_schedule", slots=len(site_booked))
        for site in sites:
            if site.id is not None:
                capacity = site_capacity(fields, site.values())
                site_slots = [s for s in slots if s["site_id"] == site.id]
                _check_capacity(capacity, site_slots, loads, current["timezone"])
        allotted = sum(storage.allotments_by_recipient(db, distribution_id).values())
        if fields["stock_units"] < allotted:
            raise EditRefused("stock_below_allotted", allotted=allotted)
        if "unit_size" in changed and storage.count_handovers(db, distribution_id):
            raise EditRefused("unit_size_locked")

        storage.update_distribution(db, distribution_id, fields)
        if slots and set(changed) & set(SCHEDULE_FIELDS):
            # Slots cut from the old length or zone, none booked: cut again on schedule.
            storage.delete_unbooked_slots(db, distribution_id)
        sites_changed = False
        for site_id in stored.keys() - kept:
            storage.delete_unbooked_slots(db, distribution_id, site_id)
            storage.delete_site(db, site_id, now)
            sites_changed = True
        for site in sites:
            if site.id is None:
                site_id = storage.insert_site(db, distribution_id, site.values())
                storage.replace_windows(db, site_id, site.windows)
                sites_changed = True
                continue
            before = stored[site.id]
            if {k: before[k] for k in storage.SITE_FIELDS} != site.values():
                storage.update_site(db, site.id, site.values())
                sites_changed = True
            if site.id in moved:
                # The site's slots were cut from the old windows, none booked: cut again.
                storage.delete_unbooked_slots(db, distribution_id, site.id)
                storage.replace_windows(db, site.id, site.windows)
                changed.append("windows")
            capacity = site_capacity(fields, site.values())
            if slots and capacity != site_capacity(current, before):
                storage.set_slot_capacities(db, site.id, *capacity)
        if sites_changed:
            changed.append("sites")
        if changed:
            detail: dict[str, Any] = {k: fields[k] for k in changed if k in fields}
            detail["changed"] = changed
            detail["sites"] = [site.name for site in sites]
            storage.audit(
                db, actor, "edit_distribution", f"distribution:{distribution_id}", now, detail
            )
    return changed


def _check_capacity(
    capacity: tuple[int, int | None],
    slots: list[dict[str, Any]],
    loads: Mapping[int, tuple[int, int]],
    timezone: str,
) -> None:
    capacity_people, capacity_units = capacity
    for slot in slots:
        people, units = loads.get(slot["id"], (0, 0))
        too_few_units = capacity_units is not None and units > capacity_units
        if people > capacity_people or too_few_units:
            start = storage.from_db_time(slot["starts_at"]).astimezone(ZoneInfo(timezone))
            raise EditRefused(
                "capacity_below_load",
                time=f"{start:%Y-%m-%d %H:%M}",
                people=people,
                units=units,
            )
