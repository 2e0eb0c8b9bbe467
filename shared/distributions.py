"""A distribution, its pickup site and windows: creating one, and the rules for editing it.

An edit must not break what is already booked or handed over: once slots hold bookings the
windows, slot length and time zone are fixed (the slots are cut from them); capacity may
grow but not drop below any slot's bookings; stock may not drop below what is allotted;
the unit size is fixed once anything is handed over (the ledger is kept in it). A refused
edit raises :class:`~shared.errors.EditRefused` with a text key and its values, so each
channel can say why in its user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import storage
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
# The longest each text may be, in characters; the site's name and address too.
TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "item": 200,
    "item_key": 64,
    "unit_name": 60,
    "measure": 30,
    "timezone": 64,
    "site_name": 200,
    "site_address": 500,
}
# Pickup windows fall in these years: far from the ends of what a datetime holds.
WINDOW_YEARS = (2000, 2099)


def field_problems(
    fields: Mapping[str, Any], site: tuple[str, str], windows: list[Window]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every field out of its range or too long: ``{field: (text key, values)}``.

    The keys are texts of each channel's table (``number_range``, ``unit_size_range``,
    ``too_long``, ``window_year``), so the console can say them in the user's language.
    """
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, (low, high) in NUMBER_RANGES.items():
        value = fields.get(name)
        if value is not None and not low <= value <= high:
            problems[name] = ("number_range", {"min": low, "max": high})
    size = fields.get("unit_size")
    if size is not None and not 0 < size <= UNIT_SIZE_MAX:
        problems["unit_size"] = ("unit_size_range", {"max": UNIT_SIZE_MAX})
    texts = {**fields, "site_name": site[0], "site_address": site[1]}
    for name, limit in TEXT_LIMITS.items():
        if len(texts.get(name) or "") > limit:
            problems[name] = ("too_long", {"max": limit})
    year = window_year_problem(windows)
    if year:
        problems["windows"] = year
    return problems


def window_year_problem(windows: list[Window]) -> tuple[str, dict[str, Any]] | None:
    """``("window_year", values)`` for the first window outside :data:`WINDOW_YEARS`."""
    low, high = WINDOW_YEARS
    for line, (start, end) in enumerate(windows, start=1):
        if not (low <= start.year <= high and low <= end.year <= high):
            return "window_year", {"line": line, "min": low, "max": high}
    return None


def check_fields(fields: Mapping[str, Any], site: tuple[str, str], windows: list[Window]) -> None:
    """Raise InvalidInput naming every field out of range: nothing of the sort is stored."""
    problems = field_problems(fields, site, windows)
    if problems:
        described = ", ".join(
            f"{name} ({key}: {values})" for name, (key, values) in sorted(problems.items())
        )
        raise InvalidInput(f"out of range or too long: {described}")


def create_distribution(
    db: Database,
    fields: dict[str, Any],
    site: tuple[str, str],
    windows: list[Window],
    now: datetime,
    actor: str,
) -> int:
    """Store a distribution with one site (name, address) and its pickup windows."""
    check_fields(fields, site, windows)
    with storage.transaction(db):
        distribution_id = storage.insert_distribution(db, fields, now)
        site_id = storage.insert_site(db, distribution_id, *site)
        for start, end in windows:
            storage.insert_window(db, site_id, start, end)
        storage.audit(
            db, actor, "create_distribution", f"distribution:{distribution_id}", now, fields
        )
    return distribution_id


def _stored_windows(db: Database, site_id: int) -> list[tuple[str, str]]:
    return [(w["starts_at"], w["ends_at"]) for w in storage.list_windows(db, site_id)]


def update_distribution(
    db: Database,
    distribution_id: int,
    fields: dict[str, Any],
    site: tuple[str, str],
    windows: list[Window],
    now: datetime,
    actor: str,
) -> list[str]:
    """Apply an edit in one transaction, or raise EditRefused; returns the names changed."""
    check_fields(fields, site, windows)
    with storage.transaction(db):
        current = storage.get_distribution(db, distribution_id)
        sites = storage.list_sites(db, distribution_id)
        stored_site = sites[0] if sites else None
        new_windows = [(storage.to_db_time(s), storage.to_db_time(e)) for s, e in windows]
        changed = [k for k, v in fields.items() if current[k] != v]
        windows_changed = (
            stored_site is None or _stored_windows(db, stored_site["id"]) != new_windows
        )
        slots = storage.list_slots(db, distribution_id)
        loads = storage.slot_loads(db, distribution_id, now)
        booked_slots = [s for s in slots if loads.get(s["id"], (0, 0))[0] > 0]
        if booked_slots and (windows_changed or set(changed) & set(SCHEDULE_FIELDS)):
            raise EditRefused("locked_schedule", slots=len(booked_slots))
        _check_capacity(fields, slots, loads, current["timezone"])
        allotted = sum(storage.allotments_by_recipient(db, distribution_id).values())
        if fields["stock_units"] < allotted:
            raise EditRefused("stock_below_allotted", allotted=allotted)
        if "unit_size" in changed and storage.count_handovers(db, distribution_id):
            raise EditRefused("unit_size_locked")
        storage.update_distribution(db, distribution_id, fields)
        if stored_site is None:
            site_id = storage.insert_site(db, distribution_id, *site)
        else:
            site_id = stored_site["id"]
            if (stored_site["name"], stored_site["address"]) != site:
                storage.update_site(db, site_id, *site)
                changed.append("site")
        if slots and (windows_changed or set(changed) & set(SCHEDULE_FIELDS)):
            # Slots cut from the old windows, none booked: cut them again on schedule.
            storage.delete_unbooked_slots(db, distribution_id)
        if windows_changed:
            storage.replace_windows(db, site_id, windows)
            changed.append("windows")
        if slots and {"capacity_people", "capacity_units"} & set(changed):
            storage.set_slot_capacities(
                db, distribution_id, fields["capacity_people"], fields["capacity_units"]
            )
        if changed:
            detail = {k: fields[k] for k in changed if k in fields}
            detail["changed"] = changed
            storage.audit(
                db, actor, "edit_distribution", f"distribution:{distribution_id}", now, detail
            )
    return changed


def _check_capacity(
    fields: Mapping[str, Any],
    slots: list[dict[str, Any]],
    loads: Mapping[int, tuple[int, int]],
    timezone: str,
) -> None:
    for slot in slots:
        people, units = loads.get(slot["id"], (0, 0))
        too_few_people = people > fields["capacity_people"]
        too_few_units = fields["capacity_units"] is not None and units > fields["capacity_units"]
        if too_few_people or too_few_units:
            start = storage.from_db_time(slot["starts_at"]).astimezone(ZoneInfo(timezone))
            raise EditRefused(
                "capacity_below_load",
                time=f"{start:%Y-%m-%d %H:%M}",
                people=people,
                units=units,
            )
