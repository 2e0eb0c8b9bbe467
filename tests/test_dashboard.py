"""Previews before committing, the live dashboard's figures, and no-shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import DEMO_LOADED_AT, SECRET, make_code, small_distribution

from shared import booking, dashboard, planning, storage
from shared.handover import hand_over
from shared.verification import Reason, check_in, verify_voucher

KEY = SECRET.encode()


def test_previews_store_nothing(db):
    distribution_id = small_distribution(db, recipients=4, stock=10, capacity_people=1)
    plan = planning.plan_allocation(db, distribution_id, "largest_remainder")
    assert [int(c.key) for c in plan.claimants] == [
        r["id"] for r in storage.list_recipients(db, distribution_id)
    ]
    assert list(plan.allocation.units) == [1, 2, 3, 4]
    assert plan.allocation.method == "largest_remainder"
    schedule = planning.plan_schedule(db, distribution_id, DEMO_LOADED_AT)
    assert [people for people, _ in schedule.load_per_slot()] == [1, 1, 1, 1]
    assert storage.list_slots(db, distribution_id) == []
    assert storage.count_live_bookings(db, distribution_id) == 0
    assert storage.latest_allocation_run(db, distribution_id)["method"] == "sainte_lague"


def test_schedule_twice_books_newcomers_only(db):
    distribution_id = small_distribution(db, recipients=3, stock=6)
    first = planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    assert (first.booked, first.already_booked) == (3, 0)
    second = planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    assert (second.booked, second.already_booked) == (0, 3)


@pytest.fixture
def scheduled(db):
    # Four slots of three places, two bookings in each.
    distribution_id = small_distribution(db, recipients=8, stock=40, capacity_people=3)
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    views = storage.voucher_views_for_distribution(db, distribution_id)
    return distribution_id, views


def test_progress_through_the_day(db, scheduled):
    distribution_id, views = scheduled
    first, second = views[0], views[1]
    start = storage.from_db_time(first["starts_at"])
    check_in(db, first["code"], KEY, start + timedelta(minutes=1), "kiosk")
    check_in(db, second["code"], KEY, start + timedelta(minutes=2), "kiosk")
    hand_over(db, second["code"], KEY, start + timedelta(minutes=3), "li", "desk-1")
    progress = dashboard.distribution_progress(db, distribution_id, start + timedelta(minutes=5))
    assert progress.handed_units == second["units"]
    assert progress.states["checked_in"] == 1 and progress.states["collected"] == 1
    assert progress.states["booked"] == 6
    assert [row["id"] for row in progress.queue] == [first["booking_id"]]
    slot = progress.slots[0]
    assert (slot.booked, slot.arrived, slot.collected, slot.capacity_people) == (2, 2, 1, 3)
    assert progress.handed_share == pytest.approx(second["units"] / 40)


def test_no_shows_are_marked_once_and_can_rebook(db, scheduled):
    distribution_id, views = scheduled
    first = views[0]
    after = storage.from_db_time(first["ends_at"]) + timedelta(minutes=31)
    marked = booking.mark_no_shows(db, distribution_id, after, "sweeper")
    assert first["booking_id"] in [b["id"] for b in marked]
    assert booking.mark_no_shows(db, distribution_id, after, "sweeper") == []
    assert verify_voucher(db, first["code"], KEY, after).reason is Reason.MISSED
    progress = dashboard.distribution_progress(db, distribution_id, after)
    assert progress.states["missed"] == len(marked)
    # Offered the next free slot, they take it and the same voucher is good again.
    slot = booking.free_slots(db, first["recipient_id"], after)[0]
    moved = booking.book_slot(db, first["recipient_id"], slot["id"], after, "sms", make_code)
    assert moved["code"] == first["code"] and moved["status"] == "booked"
    when = storage.from_db_time(slot["starts_at"])
    assert verify_voucher(db, first["code"], KEY, when).reason is Reason.VALID


def test_waiting_list_is_who_has_an_allotment_but_no_booking(db, scheduled):
    distribution_id, views = scheduled
    booking.cancel_booking(db, views[0]["recipient_id"], DEMO_LOADED_AT, "sms")
    waiting = storage.unbooked_allotted_recipients(db, distribution_id)
    assert [r["id"] for r in waiting] == [views[0]["recipient_id"]]
