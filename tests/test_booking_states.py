"""One state word for a booking, and every place that shows or counts it agrees."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from datetime import datetime

import pytest
from kiosk_support import AT, login
from support import TZ

from shared import booking_states, dashboard, exports, storage
from shared.db import get_db
from shared.messages import LANGUAGES, state_label

ENDS = "2020-02-04T04:15:00+00:00"  # 12:15 in Fenghua
BEFORE_END = datetime(2020, 2, 4, 12, 10, tzinfo=TZ)
IN_GRACE = datetime(2020, 2, 4, 12, 45, tzinfo=TZ)
PAST_GRACE = datetime(2020, 2, 4, 12, 46, tzinfo=TZ)


def _row(**changes):
    row = {"status": "booked", "units": 4, "handed_units": 0, "checked_in_at": None}
    return {**row, "ends_at": ENDS, **changes}


@pytest.mark.parametrize(
    ("row", "now", "state"),
    [
        (_row(), BEFORE_END, "booked"),
        (_row(), IN_GRACE, "booked"),
        (_row(), PAST_GRACE, "missed"),  # not swept yet: missed all the same
        (_row(status="missed"), BEFORE_END, "missed"),
        (_row(checked_in_at="2020-02-04T04:05:00+00:00"), PAST_GRACE, "checked_in"),
        (_row(handed_units=1), BEFORE_END, "partly_collected"),
        (_row(handed_units=3, status="missed"), PAST_GRACE, "partly_collected"),
        (_row(handed_units=4), BEFORE_END, "collected"),  # `booked` in the export before
        (_row(handed_units=4, checked_in_at="2020-02-04T04:05:00+00:00"), PAST_GRACE, "collected"),
        (_row(status="cancelled"), BEFORE_END, "cancelled"),
        (_row(status="cancelled", handed_units=4), PAST_GRACE, "cancelled"),
    ],
)
def test_booking_state(row, now, state):
    assert booking_states.booking_state(row, now, 30) == state


@pytest.mark.parametrize(
    ("state", "zh", "en"),
    [
        ("booked", "已预约", "Booked"),
        ("checked_in", "已签到", "Checked in"),
        ("partly_collected", "部分领取", "Partly collected"),
        ("collected", "已领取", "Collected"),
        ("missed", "已错过", "Missed"),
        ("cancelled", "已取消", "Cancelled"),
        ("no_booking", "未预约", "No booking"),
    ],
)
def test_every_state_has_a_label_in_both_languages(state, zh, en):
    assert state in booking_states.RECIPIENT_STATES
    assert (state_label(state, "zh"), state_label(state, "en")) == (zh, en)


def _at(rows, hour, minute):
    return [
        r
        for r in rows
        if storage.from_db_time(r["starts_at"]).astimezone(TZ).strftime("%H:%M")
        == f"{hour:02d}:{minute:02d}"
    ]


EXPECTED = {
    "collected": 1,
    "partly_collected": 1,
    "checked_in": 1,
    "cancelled": 1,
    "no_booking": 1,
}


def test_counts_agree_everywhere(office_day):
    with office_day.app_context():
        db = get_db()
        entries = booking_states.recipient_states(db, 1, AT)
        counts = booking_states.count_states(entries)
        progress = dashboard.distribution_progress(db, 1, AT)
        waiting = storage.unbooked_allotted_recipients(db, 1)
        rows = exports.booking_rows(db, 1, AT)
    # The 12:00 slot (5 people) ended with its 30 minutes' grace by 12:45: missed.
    assert {s: counts[s] for s in EXPECTED} == EXPECTED
    assert counts["missed"] == 5
    assert sum(counts.values()) == 113  # 112 enterprises and the latecomer
    assert counts["booked"] == 113 - sum(EXPECTED.values()) - 5
    # The dashboard counts recipients, as the recipients page does.
    assert progress.states == counts
    # Waiting list: allotted without a live booking (the latecomer has no allotment).
    assert progress.waiting == len(waiting) == 1
    # The export lists live bookings, each with the same word.
    exported = Counter(row["status"] for row in rows)
    live = {s: n for s, n in counts.items() if s not in ("cancelled", "no_booking") and n}
    assert exported == live
    client = office_day.test_client()
    login(client, "ada")
    for lang in LANGUAGES:
        page = html.unescape(client.get(f"/admin/d/1/recipients?lang={lang}").get_data(True))
        for state in booking_states.RECIPIENT_STATES:
            assert f">{state_label(state, lang)} ({counts[state]})<" in page
        live_html = client.get("/admin/d/1/dashboard/live").get_data(as_text=True)
        for state in booking_states.RECIPIENT_STATES:
            assert f'<b id="state-{state}">{counts[state]}</b>' in live_html
        assert '<b id="state-waiting">1</b>' in live_html
    csv_export = client.get("/admin/d/1/bookings.csv").get_data(as_text=True).lstrip("\ufeff")
    assert Counter(r["status"] for r in csv.DictReader(io.StringIO(csv_export))) == exported


def test_recipients_page_filters_by_state_and_waiting(office_day):
    client = office_day.test_client()
    login(client, "ada")
    client.get("/admin/?lang=en")
    page = html.unescape(client.get("/admin/d/1/recipients?state=partly_collected").get_data(True))
    assert page.count('class="state s-partly_collected">Partly collected<') == 1
    page = html.unescape(client.get("/admin/d/1/recipients?state=waiting").get_data(True))
    assert page.count('class="state s-cancelled">Cancelled<') == 1
    assert "Latecomer Ltd" not in page


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_command_says_collected(office_day, fmt):
    result = office_day.test_cli_runner().invoke(
        args=["export", "bookings", "--distribution", "1", "--format", fmt]
    )
    assert result.exit_code == 0, result.output
    if fmt == "json":
        states = Counter(row["status"] for row in json.loads(result.stdout))
    else:
        states = Counter(row["status"] for row in csv.DictReader(io.StringIO(result.stdout)))
    assert states["collected"] == 1 and states["partly_collected"] == 1
    assert states["missed"] == 5 and "cancelled" not in states


@pytest.mark.parametrize(("lang", "label"), [("zh", "部分领取"), ("en", "Partly collected")])
def test_staff_search_shows_the_same_word(office_day, lang, label):
    with office_day.app_context():
        rows = storage.voucher_views_for_distribution(get_db(), 1)
        name = _at(rows, 12, 45)[1]["recipient_name"]
    client = office_day.test_client()
    login(client, "sam")
    client.get(f"/staff/?lang={lang}")
    page = html.unescape(client.get("/staff/search", query_string={"q": name}).get_data(True))
    found = re.findall(r'class="state s-(\w+)">([^<]+)<', page)
    assert found == [("partly_collected", label)]
