"""Pickup sites: several per distribution, the roster's site, scheduling per site and only
into slots still ahead, the edit rules, and the "come back" wording that says when and where."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support import DEMO_LOADED_AT, DEMO_START, SECRET, TZ, make_code

from shared import distributions, messages, planning, storage
from shared.db import get_db
from shared.distributions import SiteSpec
from shared.errors import EditRefused, InvalidInput, SchedulingInfeasible
from shared.verification import Reason, verify_voucher

KEY = SECRET.encode()
TOMORROW = DEMO_START + timedelta(days=1) - timedelta(hours=3)  # 5 Feb 09:00
FIELDS = {
    "name": "Masks for towns",
    "item": "Masks",
    "item_key": "masks",
    "unit_name": "box of 50",
    "unit_size": 50,
    "measure": "masks",
    "stock_units": 40,
    "timezone": "Asia/Shanghai",
    "slot_minutes": 30,
    "capacity_people": 2,
    "capacity_units": None,
    "weight_basis": "population",
}
SITES = [
    SiteSpec("Town Hall", "3 Main St", [(DEMO_START, DEMO_START + timedelta(hours=2))]),
    SiteSpec(
        "Xiwu depot", "8 Quay Rd", [(TOMORROW, TOMORROW + timedelta(hours=1))], capacity_people=3
    ),
]


def two_sites(db, recipients: int = 4, sites=SITES) -> int:
    """Masks for ``recipients`` towns at two sites: odd ones at Town Hall, even at the depot."""
    distribution_id = distributions.create_distribution(db, FIELDS, sites, DEMO_LOADED_AT, "t")
    stored = storage.list_sites(db, distribution_id)
    rows = [
        {
            "name": f"Town {i}",
            "external_id": f"T{i}",
            "population": 1000 * i,
            "language": "en",
            "site_id": stored[(i - 1) % len(stored)]["id"],
        }
        for i in range(1, recipients + 1)
    ]
    with storage.transaction(db):
        storage.insert_recipients(db, distribution_id, rows)
    planning.allocate_distribution(db, distribution_id, DEMO_LOADED_AT, "t")
    return distribution_id


def _bookings(db, distribution_id: int) -> dict[str, tuple[str, str]]:
    """External id -> (site name, local slot start)."""
    found = {}
    for v in storage.voucher_views_for_distribution(db, distribution_id):
        start = storage.from_db_time(v["starts_at"]).astimezone(TZ)
        found[v["external_id"]] = (v["site_name"], f"{start:%m-%d %H:%M}")
    return found


# -- create and schedule ---------------------------------------------------------------------


def test_each_recipient_is_scheduled_at_their_own_site(db):
    distribution_id = two_sites(db)
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    booked = _bookings(db, distribution_id)
    assert {k: site for k, (site, _) in booked.items()} == {
        "T1": "Town Hall",
        "T2": "Xiwu depot",
        "T3": "Town Hall",
        "T4": "Xiwu depot",
    }
    assert all(when.startswith("02-05") for site, when in booked.values() if site == "Xiwu depot")
    slots = storage.list_slots(db, distribution_id)
    by_site = {s["site_id"]: s["capacity_people"] for s in slots}
    assert sorted(by_site.values()) == [2, 3]  # the depot's own capacity, the distribution's


def test_with_several_sites_a_recipient_without_one_is_not_scheduled(db):
    distribution_id = two_sites(db)
    with storage.transaction(db):
        storage.insert_recipients(
            db, distribution_id, [{"name": "Town 9", "external_id": "T9", "population": 5000}]
        )
    planning.allocate_distribution(db, distribution_id, DEMO_LOADED_AT, "t")
    with pytest.raises(InvalidInput) as info:
        planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    assert str(info.value) == (
        "1 recipients have no pickup site (T9); this distribution has 2 sites, so the "
        "roster's site column must name one for every row"
    )
    assert storage.count_live_bookings(db, distribution_id) == 0


def test_schedule_at_10_28_uses_only_slots_still_ahead(db):
    """A run at 10:28 in a 08:00-12:00 window of 15-minute slots starts at 10:30."""
    day = datetime(2020, 2, 4, 8, 0, tzinfo=TZ)
    fields = {**FIELDS, "slot_minutes": 15, "capacity_people": 1}
    sites = [SiteSpec("Town Hall", "3 Main St", [(day, day + timedelta(hours=4))])]
    distribution_id = distributions.create_distribution(db, fields, sites, DEMO_LOADED_AT, "t")
    rows = [{"name": f"Town {i}", "external_id": f"T{i}", "population": 10 + i} for i in range(6)]
    with storage.transaction(db):
        storage.insert_recipients(db, distribution_id, rows)
    planning.allocate_distribution(db, distribution_id, DEMO_LOADED_AT, "t")
    at = day.replace(hour=10, minute=28)
    planning.schedule_distribution(db, distribution_id, at, "t", make_code)
    starts = sorted(when for _, when in _bookings(db, distribution_id).values())
    assert starts == ["02-04 10:30", "02-04 10:45", "02-04 11:00", "02-04 11:15",
                      "02-04 11:30", "02-04 11:45"]  # fmt: skip


def test_schedule_when_every_slot_has_started_says_so(db):
    distribution_id = two_sites(db)
    late = TOMORROW + timedelta(minutes=31)  # the depot's last slot started at 09:30
    with pytest.raises(SchedulingInfeasible) as info:
        planning.schedule_distribution(db, distribution_id, late, "t", make_code)
    assert "every slot at Town Hall has already started; add a later pickup window there" in str(
        info.value
    )
    assert storage.count_live_bookings(db, distribution_id) == 0


# -- edits -----------------------------------------------------------------------------------


def _stored_specs(db, distribution_id: int) -> list[SiteSpec]:
    specs = []
    for site in storage.list_sites(db, distribution_id):
        windows = [
            (storage.from_db_time(w["starts_at"]), storage.from_db_time(w["ends_at"]))
            for w in storage.list_windows(db, site["id"])
        ]
        specs.append(
            SiteSpec(
                site["name"],
                site["address"],
                windows,
                site["capacity_people"],
                site["capacity_units"],
                site["id"],
            )
        )
    return specs


def test_a_site_with_bookings_cannot_be_removed(db):
    distribution_id = two_sites(db)
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    town_hall, _ = _stored_specs(db, distribution_id)
    with pytest.raises(EditRefused) as info:
        distributions.update_distribution(
            db, distribution_id, FIELDS, [town_hall], DEMO_LOADED_AT, "t"
        )
    assert (info.value.key, info.value.values) == (
        "site_has_bookings",
        {"site": "Xiwu depot", "bookings": 2},
    )
    assert len(storage.list_sites(db, distribution_id)) == 2


def test_sites_are_added_edited_and_removed_before_booking(db):
    distribution_id = two_sites(db)
    town_hall, depot = _stored_specs(db, distribution_id)
    later = DEMO_START + timedelta(days=2)
    sites = [
        SiteSpec("Town Hall", "5 Main St", town_hall.windows, 4, None, town_hall.id),
        SiteSpec("Jiangkou school", "1 School Ln", [(later, later + timedelta(hours=1))]),
    ]
    changed = distributions.update_distribution(
        db, distribution_id, FIELDS, sites, DEMO_LOADED_AT, "t"
    )
    assert changed == ["sites"]
    stored = storage.list_sites(db, distribution_id)
    assert [(s["name"], s["address"], s["capacity_people"]) for s in stored] == [
        ("Town Hall", "5 Main St", 4),
        ("Jiangkou school", "1 School Ln", None),
    ]
    assert "Xiwu depot" not in {s["name"] for s in storage.sites_open_after(db, None)}
    entry = storage.audit_entries(db, f"distribution:{distribution_id}")[0]
    assert '"sites": ["Town Hall", "Jiangkou school"]' in entry["detail"]


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        ([], "a distribution needs at least one pickup site"),
        (
            [SITES[0], SiteSpec("town hall", "9 Elm", SITES[0].windows)],
            "two pickup sites are called 'town hall'",
        ),
        ([SiteSpec("Depot", "8 Quay Rd", [])], "pickup site 'Depot' needs at least one window"),
        (
            [SiteSpec("Depot", " ", SITES[0].windows)],
            "every pickup site needs a name and an address",
        ),
    ],
)
def test_bad_site_lists_are_refused(db, sites, message):
    with pytest.raises(InvalidInput) as info:
        distributions.create_distribution(db, FIELDS, sites, DEMO_LOADED_AT, "t")
    assert str(info.value) == message
    assert storage.list_distributions(db) == []


# -- when and where --------------------------------------------------------------------------


EN_PLACE, ZH_PLACE = "Town Hall, 3 Main St.", "Town Hall（3 Main St）领取。"


@pytest.mark.parametrize(
    ("key", "language", "today", "expected"),
    [
        ("too_early", "en", "2020-12-01", f"You are early: come back at 09:45 to {EN_PLACE}"),
        ("too_early", "en", "2020-11-30",
         f"You are early: come back on 1 Dec at 09:45 to {EN_PLACE}"),
        ("too_early", "zh", "2020-12-01", f"您来早了：请于今天 09:45 到{ZH_PLACE}"),
        ("too_early", "zh", "2020-11-30", f"您来早了：请于12月1日 09:45 到{ZH_PLACE}"),
        ("wrong_site", "en", "2020-11-30",
         f"This voucher is for another pickup site: come on 1 Dec at 09:45 to {EN_PLACE}"),
        ("wrong_site", "zh", "2020-12-01", f"此凭证不在本领取点使用：请于今天 09:45 到{ZH_PLACE}"),
    ],
)  # fmt: skip
def test_come_back_says_when_and_where(key, language, today, expected):
    moment = datetime(2020, 12, 1, 9, 45, tzinfo=TZ)
    day = datetime.fromisoformat(today).date()
    assert messages.come_back(key, moment, day, "Town Hall", "3 Main St", language) == expected


def test_a_voucher_for_tomorrow_at_another_site_names_both(db):
    """The issue's case: a masks voucher for tomorrow at another site, scanned today."""
    distribution_id = two_sites(db)
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    town_hall, depot = storage.list_sites(db, distribution_id)
    voucher = next(
        v
        for v in storage.voucher_views_for_distribution(db, distribution_id)
        if v["site_id"] == depot["id"]
    )
    today = DEMO_START + timedelta(minutes=30)
    here = verify_voucher(db, voucher["code"], KEY, today, site_id=town_hall["id"])
    start = storage.from_db_time(voucher["starts_at"]).astimezone(TZ)
    assert here.reason is Reason.WRONG_SITE
    assert messages.verdict_message(here, "en") == (
        f"This voucher is for another pickup site: come on 5 Feb at {start:%H:%M} to "
        "Xiwu depot, 8 Quay Rd."
    )
    there = verify_voucher(db, voucher["code"], KEY, today, site_id=depot["id"])
    early = start - timedelta(minutes=15)
    assert there.reason is Reason.TOO_EARLY
    assert messages.verdict_message(there, "zh") == (
        f"您来早了：请于2月5日 {early:%H:%M} 到Xiwu depot（8 Quay Rd）领取。"
    )


# -- the command -----------------------------------------------------------------------------

CREATE = [
    "create-distribution", "--name", "Masks", "--item", "Masks", "--unit-name", "box",
    "--unit-size", "50", "--measure", "masks", "--stock", "100", "--weight-basis", "population",
]  # fmt: skip


def test_create_distribution_pairs_sites_addresses_and_windows_by_order(app, runner):
    result = runner.invoke(
        args=[
            *CREATE,
            "--site", "Town Hall", "--address", "3 Main St",
            "--window", "2020-02-04T09:00/2020-02-04T12:00",
            "--site", "Depot", "--address", "8 Quay Rd",
            "--window", "2020-02-05T09:00/2020-02-05T11:30,2020-02-05T13:00/2020-02-05T17:00",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == "Created distribution 1: Masks (sites 1: Town Hall, 2: Depot)\n"
    with app.app_context():
        db = get_db()
        sites = storage.list_sites(db, 1)
        windows = {s["name"]: storage.list_windows(db, s["id"]) for s in sites}
    assert [(s["name"], s["address"]) for s in sites] == [
        ("Town Hall", "3 Main St"),
        ("Depot", "8 Quay Rd"),
    ]
    assert [(w["starts_at"], w["ends_at"]) for w in windows["Depot"]] == [
        ("2020-02-05T01:00:00+00:00", "2020-02-05T03:30:00+00:00"),
        ("2020-02-05T05:00:00+00:00", "2020-02-05T09:00:00+00:00"),
    ]
    assert len(windows["Town Hall"]) == 1


def test_one_site_may_repeat_window(app, runner):
    result = runner.invoke(
        args=[
            *CREATE, "--site", "Town Hall", "--address", "3 Main St",
            "--window", "2020-02-04T09:00/2020-02-04T12:00",
            "--window", "2020-02-04T13:00/2020-02-04T15:00",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert len(storage.list_windows(get_db(), 1)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "A", "--site", "B", "--address", "1 Rd",
          "--window", "2020-02-04T09:00/2020-02-04T12:00"],
         "give one --address per --site: 2 sites but 1 addresses"),
        (["--site", "A", "--address", "1 Rd", "--site", "B", "--address", "2 Rd",
          "--window", "2020-02-04T09:00/2020-02-04T12:00"],
         "give one --window per --site, in the same order: 2 sites but 1 --window options "
         "(separate a site's windows with commas)"),
        (["--site", "A", "--address", "1 Rd", "--site", "a", "--address", "2 Rd",
          "--window", "2020-02-04T09:00/2020-02-04T12:00",
          "--window", "2020-02-05T09:00/2020-02-05T12:00"],
         "two pickup sites are called 'a'"),
    ],
)  # fmt: skip
def test_create_distribution_site_mistakes(runner, args, message):
    result = runner.invoke(args=[*CREATE, *args])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())


def test_create_distribution_help_says_how_the_options_pair(runner):
    output = runner.invoke(args=["create-distribution", "--help"]).output
    assert "Give --site, --address and --window once per site, in the same order" in output


def test_free_slots_offered_are_at_the_recipients_own_site(db):
    from shared import booking

    distribution_id = two_sites(db)
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "t", make_code)
    sites = {s["id"]: s["name"] for s in storage.list_sites(db, distribution_id)}
    for recipient in storage.list_recipients(db, distribution_id):
        offered = booking.free_slots(db, recipient["id"], DEMO_LOADED_AT, limit=10)
        assert offered, recipient["external_id"]
        assert {sites[s["site_id"]] for s in offered} == {sites[recipient["site_id"]]}


def test_the_voucher_page_says_when_and_where_to_come_back(demo_app):
    from kiosk_support import build_pickup

    pickup = build_pickup(demo_app)
    page = pickup.app.test_client().get(f"/v/{pickup.codes['too_early']}?lang=en")
    assert (
        "You are early: come back at 16:45 to 区企业服务中心 Enterprise Service Centre, "
        "宁波市奉化区岳林街道 (Yuelin, Fenghua)." in page.get_data(as_text=True)
    )
