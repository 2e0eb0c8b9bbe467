"""The console's distribution form: read it, and fill it from a stored distribution.

:func:`read_form` turns the submitted strings into typed fields or a :class:`FormInvalid`
listing every field's problem (as text keys of :mod:`admin.texts`, so the page can say it in
either language). Creating and editing, and the rules an edit must keep, are the core's:
:mod:`shared.distributions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared import messages, storage
from shared.distributions import (
    NUMBER_RANGES,
    TEXT_LIMITS,
    UNIT_SIZE_MAX,
    SiteSpec,
    window_year_problem,
)
from shared.errors import PickupError

WEIGHT_BASES = ("headcount", "population", "requested", "equal")
# The methods offered (``shared.allocation.METHODS`` also knows them as webster, hamilton).
METHOD_CHOICES = ("sainte_lague", "largest_remainder")

_MOMENT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
WINDOWS_TEXT_LIMIT = 2000  # characters of the windows box: dozens of windows


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a field: a text key and the values it is filled with."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


class FormInvalid(PickupError):
    """The distribution form has fields to correct; ``problems`` maps field to problem."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__("form_invalid", fields=", ".join(sorted(problems)))
        self.problems = problems


@dataclass(frozen=True)
class DistributionForm:
    fields: dict[str, Any]
    sites: list[SiteSpec]


# Each site is a block of fields named ``<field>_<n>``; ``n`` only orders the blocks.
SITE_INPUTS = ("site_name", "site_address", "windows", "site_people", "site_units")
MAX_SITES = 50
_SITE_KEY = re.compile(r"site_name_(\d{1,3})", re.ASCII)


def site_numbers(values: Mapping[str, str]) -> list[int]:
    """The numbers of the site blocks in a submitted form, in order."""
    keys = (k for k in values if isinstance(k, str))
    numbers = sorted({int(m.group(1)) for k in keys if (m := _SITE_KEY.fullmatch(k))})
    return numbers[:MAX_SITES]


def add_site_block(values: dict[str, str]) -> dict[str, str]:
    """The form with one more, empty, site block (the "add a site" button)."""
    numbers = site_numbers(values)
    n = numbers[-1] + 1 if numbers else 0
    return {**values, **{f"{name}_{n}": "" for name in SITE_INPUTS}, f"site_id_{n}": ""}


def remove_site_block(values: dict[str, str], n: int) -> dict[str, str]:
    """The form without site block ``n`` (its "remove" button); the last one stays."""
    if len(site_numbers(values)) <= 1:
        return values
    names = {f"{name}_{n}" for name in (*SITE_INPUTS, "site_id")}
    return {k: v for k, v in values.items() if k not in names}


def form_values(
    distribution: Mapping[str, Any], sites: list[tuple[Mapping[str, Any], list]]
) -> dict:
    """The form's strings for a stored distribution and its (site, windows) pairs."""
    tz = ZoneInfo(distribution["timezone"])
    values = {
        k: "" if distribution[k] is None else str(distribution[k])
        for k in storage.DISTRIBUTION_FIELDS
    }
    values["unit_size"] = f"{distribution['unit_size']:g}"
    for n, (site, windows) in enumerate(sites):
        values[f"site_id_{n}"] = str(site["id"])
        values[f"site_name_{n}"] = site["name"]
        values[f"site_address_{n}"] = site["address"]
        values[f"site_people_{n}"] = (
            "" if site["capacity_people"] is None else str(site["capacity_people"])
        )
        values[f"site_units_{n}"] = (
            "" if site["capacity_units"] is None else str(site["capacity_units"])
        )
        lines = []
        for w in windows:
            start = storage.from_db_time(w["starts_at"]).astimezone(tz)
            end = storage.from_db_time(w["ends_at"]).astimezone(tz)
            same_day = end.date() == start.date()
            end_text = end.strftime("%H:%M") if same_day else f"{end:%Y-%m-%d %H:%M}"
            lines.append(f"{start:%Y-%m-%d %H:%M} / {end_text}")
        values[f"windows_{n}"] = "\n".join(lines)
    return values


def read_form(form: Mapping[str, str]) -> DistributionForm:
    """Typed fields, site and windows from the submitted form, or FormInvalid."""
    problems: dict[str, Problem] = {}
    fields: dict[str, Any] = {}

    def text(name: str, required: bool = True, limit: str | None = None) -> str | None:
        value = messages.without_bidi_controls(form.get(name) or "").strip()
        most = TEXT_LIMITS[limit or name]
        if not value and required:
            problems[name] = Problem("required")
        elif len(value) > most:
            problems[name] = Problem("too_long", {"max": most})
        return value or None

    def whole(name: str, required: bool = True, bounds: str | None = None) -> int | None:
        # Full-width digits from a Chinese IME are digits; "²", "³" or "٣" are not.
        raw = (form.get(name) or "").strip().translate(_FULLWIDTH_DIGITS)
        if not raw:
            if required:
                problems[name] = Problem("required")
            return None
        low, high = NUMBER_RANGES[bounds or name]
        if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > len(str(high)):
            problems[name] = Problem("number_range", {"min": low, "max": high})
            return None
        if not low <= int(raw) <= high:
            problems[name] = Problem("number_range", {"min": low, "max": high})
            return None
        return int(raw)

    for name in ("name", "item", "unit_name", "unit_name_en", "measure"):
        fields[name] = text(name)
    fields["item_key"] = text("item_key", required=False)
    raw_size = (form.get("unit_size") or "").strip().translate(_FULLWIDTH_DIGITS)
    try:
        if not raw_size.isascii():
            raise ValueError(raw_size)
        fields["unit_size"] = float(raw_size)
        if not 0 < fields["unit_size"] <= UNIT_SIZE_MAX:  # also refuses nan and inf
            raise ValueError(raw_size)
    except ValueError:
        problems["unit_size"] = (
            Problem("unit_size_range", {"max": UNIT_SIZE_MAX}) if raw_size else Problem("required")
        )
    fields["stock_units"] = whole("stock_units")
    fields["slot_minutes"] = whole("slot_minutes")
    fields["capacity_people"] = whole("capacity_people")
    fields["capacity_units"] = whole("capacity_units", required=False)
    fields["early_minutes"] = whole("early_minutes")
    fields["grace_minutes"] = whole("grace_minutes")
    for name, options in (("weight_basis", WEIGHT_BASES), ("allocation_method", METHOD_CHOICES)):
        fields[name] = form.get(name, "")
        if fields[name] not in options:
            problems[name] = Problem("bad_choice")
    timezone = (form.get("timezone") or "").strip()
    fields["timezone"] = timezone
    zone = None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = Problem("required" if not timezone else "unknown_timezone")
    sites = []
    names: set[str] = set()
    for n in site_numbers(form):
        name = text(f"site_name_{n}", limit="site_name") or ""
        if name and name.casefold() in names:
            problems[f"site_name_{n}"] = Problem("site_twice")
        names.add(name.casefold())
        address = text(f"site_address_{n}", limit="site_address") or ""
        windows: list[tuple[datetime, datetime]] = []
        raw = form.get(f"windows_{n}") or ""
        if len(raw) > WINDOWS_TEXT_LIMIT:
            problems[f"windows_{n}"] = Problem("too_long", {"max": WINDOWS_TEXT_LIMIT})
        elif zone is not None:
            windows, problem = read_windows(raw, zone, fields["slot_minutes"])
            if problem:
                problems[f"windows_{n}"] = problem
            elif year := window_year_problem(windows):
                problems[f"windows_{n}"] = Problem(*year)
        raw_id = (form.get(f"site_id_{n}") or "").strip()
        sites.append(
            SiteSpec(
                name=name,
                address=address,
                windows=windows,
                capacity_people=whole(f"site_people_{n}", False, "capacity_people"),
                capacity_units=whole(f"site_units_{n}", False, "capacity_units"),
                id=int(raw_id) if raw_id.isdigit() else None,
            )
        )
    if not sites:
        problems["sites"] = Problem("no_site")
    if problems:
        raise FormInvalid(problems)
    return DistributionForm(fields, sites)


def read_windows(
    text: str, zone: ZoneInfo, slot_minutes: int | None
) -> tuple[list[tuple[datetime, datetime]], Problem | None]:
    """Windows, one a line: ``2020-02-04 12:00 / 19:00`` or with a full end."""
    windows = []
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        return [], Problem("windows_empty")
    for n, line in lines:
        start_text, sep, end_text = (part.strip() for part in line.partition("/"))
        if not sep or not _MOMENT.fullmatch(start_text):
            return [], Problem("window_format", {"line": n})
        try:
            start = datetime.fromisoformat(_iso(start_text)).replace(tzinfo=zone)
            if _CLOCK.fullmatch(end_text):
                end = datetime.fromisoformat(f"{start:%Y-%m-%d}T{end_text:0>5}").replace(
                    tzinfo=zone
                )
            elif _MOMENT.fullmatch(end_text):
                end = datetime.fromisoformat(_iso(end_text)).replace(tzinfo=zone)
            else:
                return [], Problem("window_format", {"line": n})
        except ValueError:
            return [], Problem("window_format", {"line": n})
        if end <= start:
            return [], Problem("window_order", {"line": n})
        if slot_minutes and end - start < timedelta(minutes=slot_minutes):
            return [], Problem("window_short", {"line": n})
        for other_start, other_end in windows:
            if start < other_end and other_start < end:
                return [], Problem("window_overlap", {"line": n})
        windows.append((start, end))
    return windows, None


def _iso(text: str) -> str:
    day, _, clock = text.replace("T", " ").partition(" ")
    year, month, date = day.split("-")
    hour, minute = clock.split(":")
    return f"{year}-{int(month):02d}-{int(date):02d}T{int(hour):02d}:{minute}"
