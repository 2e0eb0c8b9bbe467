"""The console at province scale, shown on a few hundred rows: the recipients list paged,
searched and filtered in SQL with the dashboard's counts; the previews' summaries and their
CSV downloads; staff search by what an index serves. (Size is bench/scale.py's job.)"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from kiosk_support import AT, PASSWORD, login
from support import DEMO_LOADED_AT, DEMO_START, SECRET, make_code

from admin import charts
from shared import (
    accounts,
    booking,
    booking_states,
    dashboard,
    distributions,
    planning,
    recipient_list,
    storage,
)
from shared.db import get_db
from shared.handover import hand_over
from shared.recipient_list import RecipientFilter
from shared.search import MIN_DIGITS, search_terms, typed_digits
from shared.verification import check_in

RECIPIENTS = 300
TOWNS = ("Yuelin", "Jinping", "Xikou")
FORMULA_NAME = "=1+2 Chemicals"  # a spreadsheet would run it as a formula


def _name(i: int) -> str:
    if i == 7:
        return FORMULA_NAME
    return f"Acme {i:03d} Trading" if i % 2 else f"宁波测试{i:03d}有限公司"


def _province(db) -> int:
    """Two sites, 300 recipients in three towns, scheduled; at :data:`AT` some missed, some
    collected, partly collected, checked in, cancelled, and one never booked."""
    window = [(DEMO_START, DEMO_START + timedelta(hours=4))]
    distribution_id = distributions.create_distribution(
        db,
        {
            "name": "Province masks",
            "item": "Masks",
            "item_key": "hydrogen_peroxide",
            "unit_name": "箱",
            "unit_name_en": "box",
            "unit_size": 50,
            "measure": "masks",
            "stock_units": 1500,
            "timezone": "Asia/Shanghai",
            "slot_minutes": 15,
            "capacity_people": 10,
            "weight_basis": "headcount",
        },
        [
            distributions.SiteSpec("North hall", "1 North Road", window),
            distributions.SiteSpec("South hall", "2 South Road", window),
        ],
        DEMO_LOADED_AT,
        "test",
    )
    north, south = (s["id"] for s in storage.list_sites(db, distribution_id))
    rows = [
        {
            "name": _name(i),
            "external_id": f"ID{i:04d}",
            "town": TOWNS[i % 3],
            "headcount": 5 + i % 40,
            "contact_name": f"Contact {i}",
            "phone": f"+86139{i:08d}",
            "language": "en",
            "site_id": north if i % 2 else south,
        }
        for i in range(1, RECIPIENTS + 1)
    ]
    with storage.transaction(db):
        storage.insert_recipients(db, distribution_id, rows)
    planning.allocate_distribution(db, distribution_id, DEMO_LOADED_AT, "test")
    planning.schedule_distribution(db, distribution_id, DEMO_LOADED_AT, "test", make_code)
    views = storage.voucher_views_for_distribution(db, distribution_id)
    key = SECRET.encode()
    at = {v["starts_at"]: [] for v in views}
    for v in views:
        at[v["starts_at"]].append(v)
    starts = sorted(at)
    quarter = at[starts[1]]  # 12:15, ended 12:30: within the grace at 13:00
    hand_over(db, quarter[0]["code"], key, AT - timedelta(minutes=40), "sam", "Desk 1")
    hand_over(db, quarter[1]["code"], key, AT - timedelta(minutes=39), "sam", "Desk 1", 1)
    check_in(db, quarter[2]["code"], key, AT - timedelta(minutes=38), "kiosk")
    for v in at[starts[-1]][:3]:
        booking.cancel_booking(db, v["recipient_id"], DEMO_LOADED_AT, "sms")
    with storage.transaction(db):
        storage.insert_recipients(
            db, distribution_id, [{"name": "Latecomer Ltd", "external_id": "LATE", "headcount": 5}]
        )
    accounts.create_user(db, "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
    accounts.create_user(db, "sam", PASSWORD, "staff", DEMO_LOADED_AT, "test")
    return distribution_id


@pytest.fixture
def province(app):
    app.config["CLOCK"] = lambda: AT
    with app.app_context():
        app.distribution_id = _province(get_db())
    return app


def _client(app, lang: str, name: str = "ada"):
    client = app.test_client()
    login(client, name)
    client.get(f"/admin/?lang={lang}" if name == "ada" else f"/staff/?lang={lang}")
    return client


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _listed(page: str) -> list[int]:
    """The recipient ids a recipients page lists, in order."""
    return [int(n) for n in re.findall(r"/recipients/(\d+)\"", page)]


def _all_states(app) -> dict[int, str]:
    with app.app_context():
        entries = booking_states.recipient_states(get_db(), app.distribution_id, AT)
    return {e.recipient["id"]: e.state for e in entries}


# -- one state vocabulary, counted in SQL ---------------------------------------------------


def test_sql_states_agree_with_python_on_every_recipient(province):
    expected = _all_states(province)
    with province.app_context():
        db = get_db()
        before = booking_states.missed_before(AT, 30)
        rows = storage.recipient_state_rows(
            db, province.distribution_id, before, limit=1000, offset=0
        )
        states = booking_states.distribution_states(db, province.distribution_id, AT)
        waiting = storage.unbooked_allotted_recipients(db, province.distribution_id)
    assert {r["id"]: r["state"] for r in rows} == expected
    tally = Counter(expected.values())
    assert dict(states.counts) == {s: tally[s] for s in booking_states.RECIPIENT_STATES}
    assert states.waiting == len(waiting) == 3  # the three who cancelled
    # Every state occurs, so the agreement above covers each branch of the SQL.
    assert set(expected.values()) == set(booking_states.RECIPIENT_STATES)


def test_sql_states_agree_on_the_demo_day(office_day):
    with office_day.app_context():
        db = get_db()
        entries = booking_states.recipient_states(db, 1, AT)
        rows = storage.recipient_state_rows(
            db, 1, booking_states.missed_before(AT, 30), limit=1000, offset=0
        )
        states = booking_states.distribution_states(db, 1, AT)
    assert {r["id"]: r["state"] for r in rows} == {e.recipient["id"]: e.state for e in entries}
    assert states.counts == booking_states.count_states(entries)


# -- the recipients list: paged, filtered, searched ----------------------------------------


@pytest.mark.parametrize(
    ("lang", "shown"), [("en", "301 found, showing 1–50"), ("zh", "共 301 个，显示第 1–50 个")]
)
def test_recipients_list_is_paged(province, lang, shown):
    client = _client(province, lang)
    url = f"/admin/d/{province.distribution_id}/recipients"
    first = _text(client.get(url))
    assert shown in first
    assert len(_listed(first)) == recipient_list.PER_PAGE
    seen = []
    for page in range(1, 8):
        seen += _listed(_text(client.get(url, query_string={"page": page})))
    assert len(seen) == len(set(seen)) == 301 and seen == sorted(seen)
    last = _text(client.get(url, query_string={"page": 7}))
    assert ("Page 7 of 7" if lang == "en" else "第 7 / 7 页") in last
    # Past the end: the last page; not a number: the first.
    assert _listed(_text(client.get(url, query_string={"page": 99}))) == _listed(last)
    assert _listed(_text(client.get(url, query_string={"page": "x"}))) == _listed(first)


def test_recipients_page_stays_small(province):
    client = _client(province, "en")
    response = client.get(f"/admin/d/{province.distribution_id}/recipients")
    assert len(_listed(_text(response))) == 50
    assert len(response.get_data()) < 40_000  # 50 rows, whatever the roster's size


@pytest.mark.parametrize("state", [*booking_states.RECIPIENT_STATES, "waiting"])
def test_recipients_filtered_by_state_with_the_dashboards_counts(province, state):
    expected = _all_states(province)
    client = _client(province, "en")
    d = province.distribution_id
    live = client.get(f"/admin/d/{d}/dashboard/live").get_data(as_text=True)
    dashboard_count = int(re.search(rf'<b id="state-{state}">(\d+)</b>', live).group(1))
    page = _text(client.get(f"/admin/d/{d}/recipients", query_string={"state": state}))
    ids = _listed(page)
    if state == "waiting":
        assert len(ids) == dashboard_count == 3
        assert all(expected[i] == "cancelled" for i in ids)
    else:
        assert dashboard_count == sum(1 for s in expected.values() if s == state)
        assert sorted(ids) == sorted(i for i, s in expected.items() if s == state)[:50]
    chip = "Waiting list" if state == "waiting" else booking_states_label(state)
    assert f">{chip} ({dashboard_count})<" in page


def booking_states_label(state: str) -> str:
    from shared.messages import state_label

    return state_label(state, "en")


def test_recipients_filtered_by_town_and_site(province):
    client = _client(province, "en")
    d = province.distribution_id
    with province.app_context():
        north = storage.list_sites(get_db(), d)[0]
    page = _text(
        client.get(f"/admin/d/{d}/recipients", query_string={"town": "Xikou", "site": north["id"]})
    )
    # Xikou: i % 3 == 2; North hall: odd i. Both: i = 5, 11, 17 ... (one in six).
    expected = [i for i in range(1, RECIPIENTS + 1) if i % 3 == 2 and i % 2]
    assert f"{len(expected)} found" in page
    assert "<option selected>Xikou</option>" in page
    with province.app_context():
        names = storage.recipients_by_ids(get_db(), _listed(page))
    assert {r["external_id"] for r in names.values()} == {f"ID{i:04d}" for i in expected}
    # With a state as well, the state's chips keep the whole distribution's counts.
    missed = _text(
        client.get(f"/admin/d/{d}/recipients", query_string={"town": "Xikou", "state": "missed"})
    )
    assert all("s-missed" in row for row in re.findall(r"<tr><td><a.*?</tr>", missed))


@pytest.mark.parametrize(
    ("args", "lang", "message"),
    [
        ({"state": "lost"}, "en", "Choose one of the options."),
        ({"state": "lost"}, "zh", "请从选项中选择。"),
        ({"site": "999"}, "en", "Site '999' is not one of this distribution's."),
        ({"site": "999"}, "zh", "领取点“999”不属于此批次。"),
        ({"q": "x" * 101}, "en", "A search is at most 100 characters."),
        ({"q": "x" * 101}, "zh", "搜索内容最多 100 个字。"),
    ],
)
def test_recipients_list_refuses_bad_filters(province, args, lang, message):
    client = _client(province, lang)
    response = client.get(f"/admin/d/{province.distribution_id}/recipients", query_string=args)
    assert response.status_code == 400
    assert message in _text(response)


def _voucher_of(app, i: int) -> dict:
    with app.app_context():
        db = get_db()
        recipient = next(
            r
            for r in storage.list_recipients(db, app.distribution_id)
            if r["external_id"] == f"ID{i:04d}"
        )
        live = storage.live_booking_for(db, recipient["id"])
        return {**recipient, **storage.voucher_view_by_booking(db, live["id"])}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        (
            "Acme 01",
            [
                "ID0010",
                "ID0011",
                "ID0012",
                "ID0013",
                "ID0014",
                "ID0015",
                "ID0016",
                "ID0017",
                "ID0018",
                "ID0019",
            ][1::2],
        ),  # odd ones are Acme
        ("acme 011", ["ID0011"]),  # Latin letters in any case
        ("宁波测试012", ["ID0012"]),
        ("contact 123", ["ID0123"]),
        ("id0042", ["ID0042"]),  # an external id's beginning, in capitals or not
        ("ID029", [f"ID{i:04d}" for i in range(290, 300)]),
        ("00000042", ["ID0042"]),  # a phone's last digits
        ("0042", ["ID0042"]),
        ("1390000004", []),  # a phone's middle: not found
        ("测试012", []),  # a name's middle: not found
        ("004", []),  # too few digits for a phone
    ],
)
def test_recipients_search(province, query, found):
    client = _client(province, "en")
    page = _text(
        client.get(f"/admin/d/{province.distribution_id}/recipients", query_string={"q": query})
    )
    with province.app_context():
        names = storage.recipients_by_ids(get_db(), _listed(page))
    found = sorted({*found, *_codes_matching(province, query)})
    assert sorted(r["external_id"] for r in names.values()) == found
    if not found:
        assert "No recipient matches." in page


def _codes_matching(app, query: str) -> set[str]:
    """External ids of recipients whose voucher code begins or ends with the typed digits.

    Serials are random, so four digits like ``0042`` also find the vouchers that happen to
    begin or end with them (in about one run in twenty).
    """
    digits = typed_digits(query)
    if len(digits) < MIN_DIGITS:
        return set()
    with app.app_context():
        cursor = get_db().execute(
            "SELECT r.external_id, v.code FROM vouchers v JOIN bookings b ON b.id = v.booking_id"
            " JOIN recipients r ON r.id = b.recipient_id WHERE r.distribution_id = ?",
            [app.distribution_id],
        )
        return {row[0] for row in cursor if row[1].startswith(digits) or row[1].endswith(digits)}


@pytest.mark.parametrize("part", ["last4", "last6", "first7", "whole"])
def test_recipients_search_by_voucher_code(province, part):
    voucher = _voucher_of(province, 42)
    code = voucher["code"]
    query = {"last4": code[-4:], "last6": code[-6:], "first7": code[:7], "whole": code}[part]
    client = _client(province, "zh")
    page = _text(
        client.get(f"/admin/d/{province.distribution_id}/recipients", query_string={"q": query})
    )
    assert voucher["recipient_id"] in _listed(page)


# -- the previews: summaries on the page, the full tables as CSV ---------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "301 recipients, 301 of them allotted units",
                "The 10 largest allotments",
                "The 10 smallest allotments",
                "Units per recipient",
                "Download the allotments of all 301 recipients (CSV)",
            ],
        ),
        (
            "zh",
            [
                "301 个领取单位，301 个分到货物",
                "分得最多的 10 个",
                "分得最少的 10 个",
                "每个领取单位的件数",
                "下载全部 301 个领取单位的分配表（CSV）",
            ],
        ),
    ],
)
def test_allocation_preview_summarises(province, lang, words):
    with province.app_context():
        plan = planning.plan_allocation(get_db(), province.distribution_id)
    client = _client(province, lang)
    page = _text(client.get(f"/admin/d/{province.distribution_id}/allocate"))
    for word in words:
        assert word in page
    units = plan.allocation.units
    largest = max(units)
    tables = dict(re.findall(r'<table class="data[^"]*" id="([\w-]+)">(.*?)</table>', page, re.S))
    assert f'<td class="num">{largest}</td>' in tables["largest"]
    assert f'<td class="num">{min(units)}</td>' in tables["smallest"]
    assert "Latecomer Ltd" in tables["smallest"]  # the smallest weight
    buckets = re.findall(
        r'<td class="num">([\d–]+)</td><td class="num">(\d+)</td>', tables["allotment-buckets"]
    )
    assert sum(int(n) for _, n in buckets) == 301
    assert page.count("<tr><td>") < 40  # no row per recipient


def test_allocation_csv_has_every_recipient_and_neutralises_formulas(province):
    client = _client(province, "en")
    d = province.distribution_id
    response = client.get(f"/admin/d/{d}/allocate.csv?method=largest_remainder")
    assert response.mimetype == "text/csv"
    assert "allocation-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 301
    with province.app_context():
        plan = planning.plan_allocation(get_db(), d, "largest_remainder")
    assert sum(int(r["units"]) for r in rows) == plan.allocation.allocated
    assert [r["external_id"] for r in rows][:3] == ["ID0001", "ID0002", "ID0003"]
    formula = next(r for r in rows if r["external_id"] == "ID0007")
    assert formula["recipient"] == "'" + FORMULA_NAME
    assert int(formula["units"]) * 50 == int(formula["amount"])


def test_allocation_csv_refuses_an_unknown_method_in_the_users_language(province):
    client = _client(province, "zh")
    response = client.get(f"/admin/d/{province.distribution_id}/allocate.csv?method=dice")
    assert response.status_code == 400
    assert "请从选项中选择。" in _text(response)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "32 slots take 300 people",
                "The 10 fullest slots",
                "The 10 emptiest slots",
                "People per slot, spread",
                "Download the plan of all 32 slots (CSV)",
            ],
        ),
        (
            "zh",
            [
                "32 个时段共 300 人",
                "最满的 10 个时段",
                "最空的 10 个时段",
                "每时段人数分布",
                "下载全部 32 个时段的安排表（CSV）",
            ],
        ),
    ],
)
def test_schedule_preview_summarises(province, lang, words):
    client = _client(province, lang)
    page = _text(client.get(f"/admin/d/{province.distribution_id}/schedule"))
    for word in words:
        assert word in page
    tables = dict(re.findall(r'<table class="data[^"]*" id="([\w-]+)">(.*?)</table>', page, re.S))
    # Each table names its site: two sites share every time.
    assert "North hall" in tables["fullest"] + tables["emptiest"]


def test_schedule_preview_names_slots_over_capacity(province):
    d = province.distribution_id
    with province.app_context():
        db = get_db()
        planning.schedule_distribution(db, d, AT, "test", make_code)  # nobody left to place
        north = storage.list_sites(db, d)[0]
        with storage.transaction(db):
            storage.set_slot_capacities(db, north["id"], 2, None)
    page = _text(_client(province, "en").get(f"/admin/d/{d}/schedule"))
    match = re.search(r"(\d+) slots are over their capacity", page)
    assert match and int(match.group(1)) > 0


def test_schedule_csv_has_every_slot(province):
    client = _client(province, "en")
    d = province.distribution_id
    text = client.get(f"/admin/d/{d}/schedule.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 32
    assert {r["site"] for r in rows} == {"North hall", "South hall"}
    assert sum(int(r["people"]) for r in rows) == 300  # 297 booked, 3 placed again
    assert rows[0]["starts_at"] == "2020-02-04 12:00"


def test_previews_without_a_plan_send_the_download_back_with_the_reason(app):
    app.config["CLOCK"] = lambda: AT
    with app.app_context():
        db = get_db()
        accounts.create_user(db, "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
        window = [(DEMO_START, DEMO_START + timedelta(hours=1))]
        d = distributions.create_distribution(
            db,
            {
                "name": "Empty",
                "item": "Masks",
                "item_key": "hydrogen_peroxide",
                "unit_name": "箱",
                "unit_size": 1,
                "measure": "masks",
                "stock_units": 10,
                "timezone": "Asia/Shanghai",
                "slot_minutes": 15,
                "capacity_people": 5,
            },
            [distributions.SiteSpec("Hall", "1 Road", window)],
            DEMO_LOADED_AT,
            "test",
        )
    client = _client(app, "en")
    for path, page in (("allocate.csv", "allocate"), ("schedule.csv", "schedule")):
        response = client.get(f"/admin/d/{d}/{path}")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admin/d/{d}/{page}")
        assert "Not done:" in _text(client.get(response.headers["Location"]))


# -- the dashboard: bounded lists, a chart per day when slots are many ---------------------


def test_dashboard_names_only_a_few_no_shows_per_slot(province):
    late = AT + timedelta(hours=3)  # every slot before 15:30 has passed its grace
    with province.app_context():
        progress = dashboard.distribution_progress(get_db(), province.distribution_id, late)
    missed = progress.missed_slots
    assert missed and all(len(s.missed) <= dashboard.MISSED_NAMED for s in missed)
    assert sum(s.missed_count for s in missed) == progress.states["missed"]
    assert any(s.missed_count > len(s.missed) for s in missed)
    province.config["CLOCK"] = lambda: late
    page = _text(_client(province, "en").get(f"/admin/d/{province.distribution_id}/dashboard"))
    assert re.search(r"and \d+ more", page)


def test_charts_sum_many_slots_per_day():
    rows = [
        {"label": f"{d:02d} {h}", "day": f"03-{d:02d}", "people": 2, "capacity_people": 5}
        for d in range(1, 11)
        for h in range(51)
    ]
    days = charts.by_day(rows, ("people", "capacity_people"))
    assert [d["label"] for d in days] == [f"03-{d:02d}" for d in range(1, 11)]
    assert {(d["people"], d["capacity_people"]) for d in days} == {(102, 255)}
    assert charts.by_day(rows[:40], ("people",)) == rows[:40]


# -- staff search: what an index serves ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("Acme 011", True),
        ("ACME 011 trading", True),
        ("contact 11", True),
        ("00000011", True),  # the phone's last digits
        ("cme 011", False),  # the middle of a name
    ],
)
def test_staff_search_by_beginning_of_name_or_last_digits(province, query, hit):
    voucher = _voucher_of(province, 11)
    client = _client(province, "en", "sam")
    page = client.get("/staff/search", query_string={"q": query}).get_data(as_text=True)
    assert (f"/staff/voucher?code={voucher['code']}" in page) is hit


@pytest.mark.parametrize("part", ["last4", "last5", "first4", "first7"])
def test_staff_search_by_voucher_code_ends(province, part):
    voucher = _voucher_of(province, 11)
    code = voucher["code"]
    query = {"last4": code[-4:], "last5": code[-5:], "first4": code[:4], "first7": code[:7]}[part]
    client = _client(province, "zh", "sam")
    page = client.get("/staff/search", query_string={"q": query}).get_data(as_text=True)
    assert f"/staff/voucher?code={code}" in page


# -- what a typed search means -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "digits"),
    [("１３９ ００００ ００１１", "13900000011"), ("x²³4", "4"), ("0057", "0057"), ("", "")],
)
def test_typed_digits(typed, digits):
    assert typed_digits(typed) == digits


def test_search_terms_escape_like_and_bound_the_range():
    terms = search_terms("  50%_off\\  ")
    assert terms.text == "50%_off\\"
    assert terms.name_like == "50\\%\\_off\\\\%"
    assert terms.name_from < terms.name_until
    assert terms.digits is None  # two digits: no phone or code lookup
    assert search_terms("   ") is None
    coded = search_terms("4821 9930")
    assert (coded.digits, coded.last4, coded.ends_like) == ("48219930", "9930", "%48219930")
    assert coded.code_until == "48219931"
    assert search_terms("ABC").name_from == "abc"


def test_recipient_filter_narrowed():
    assert not RecipientFilter().narrowed
    assert RecipientFilter(query=" x ").narrowed and RecipientFilter(town="Xikou").narrowed
