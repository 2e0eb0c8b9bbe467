"""The printed day list: the paper fallback for one site and one day when the network fails.

By slot, each expected recipient with what staff need to hand over without the service:
the contact's and the voucher's last four digits to check against what the person shows,
the units, the state when printed, and room for a signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import storage
from shared.booking_states import CANCELLED, booking_state
from shared.errors import NotFound


def last_four(text: str | None) -> str:
    """The last four digits of a phone number or a voucher code ("" with fewer than four)."""
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


@dataclass
class DayListSlot:
    starts_at: datetime  # local time of the site's distribution
    ends_at: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DayList:
    distribution: dict[str, Any]
    site: dict[str, Any]
    day: date
    slots: list[DayListSlot]

    @property
    def people(self) -> int:
        return sum(len(slot.rows) for slot in self.slots)

    @property
    def units(self) -> int:
        return sum(row["units"] for slot in self.slots for row in slot.rows)


def site_days(db: Database, distribution_id: int) -> list[tuple[dict[str, Any], list[date]]]:
    """Each site of a distribution with the local days it has slots on, earliest first."""
    tz = ZoneInfo(storage.get_distribution(db, distribution_id)["timezone"])
    days: dict[int, set[date]] = {}
    for slot in storage.list_slots(db, distribution_id):
        local = storage.from_db_time(slot["starts_at"]).astimezone(tz).date()
        days.setdefault(slot["site_id"], set()).add(local)
    return [
        (site, sorted(days.get(site["id"], ()))) for site in storage.list_sites(db, distribution_id)
    ]


def day_list(db: Database, distribution_id: int, site_id: int, day: date, now: datetime) -> DayList:
    """Every live booking at ``site_id`` on the local ``day``, by slot, with its state at
    ``now``. NotFound when the site is not one of the distribution's."""
    distribution = storage.get_distribution(db, distribution_id)
    site = next((s for s in storage.list_sites(db, distribution_id) if s["id"] == site_id), None)
    if site is None:
        raise NotFound("site_not_in_distribution", site=site_id, distribution=distribution_id)
    tz = ZoneInfo(distribution["timezone"])
    slots: dict[int, DayListSlot] = {}
    for slot in storage.list_slots(db, distribution_id):
        starts = storage.from_db_time(slot["starts_at"]).astimezone(tz)
        if slot["site_id"] == site_id and starts.date() == day:
            ends = storage.from_db_time(slot["ends_at"]).astimezone(tz)
            slots[slot["id"]] = DayListSlot(starts, ends)
    for voucher in storage.voucher_views_for_distribution(db, distribution_id):
        slot = slots.get(voucher["slot_id"])
        if slot is None:
            continue
        state = booking_state(voucher, now, voucher["grace_minutes"])
        if state == CANCELLED:
            continue
        slot.rows.append(
            {
                "recipient": voucher["recipient_name"],
                "contact": voucher["contact_name"],
                "phone_last4": last_four(voucher["phone"]),
                "units": voucher["units"],
                "handed_units": voucher["handed_units"],
                "voucher_last4": last_four(voucher["code"]),
                "state": state,
            }
        )
    return DayList(distribution, site, day, list(slots.values()))
