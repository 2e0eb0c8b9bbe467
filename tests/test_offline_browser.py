"""The staff station and the kiosk without a network, in Debian's Chromium (Playwright).

Playwright's ``context.set_offline(True)`` cuts the browser off as a failed uplink would:
pages reload from the service worker, scans are decided from the copy in IndexedDB, and
what was done waits there until the network is back. The sync core itself is tested as
plain functions in test_offline_sync.py.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from kiosk_support import AT, PASSWORD, Pickup, add_staff, build_pickup
from support import DEMO_LOADED_AT, TZ
from werkzeug.serving import make_server

from shared import accounts, storage
from shared.booking_states import booking_state
from shared.db import get_db
from shared.vouchers import qr_content

pytestmark = pytest.mark.browser

WAIT = 15_000  # ms: a sync or a reload from the service worker


@pytest.fixture
def pickup(demo_app) -> Pickup:
    pickup = build_pickup(demo_app)
    with demo_app.app_context():
        db = get_db()
        add_staff(db, "ada", "admin")
        rows = storage.voucher_views_for_distribution(db, 1)
        at_one = [
            r
            for r in rows
            if storage.from_db_time(r["starts_at"]).astimezone(TZ).strftime("%H:%M") == "13:00"
        ]
        pickup.codes["valid_3"] = at_one[3]["code"]
        pickup.codes["kiosk_token"] = accounts.create_token(
            db, "kiosk", "kiosk-1", DEMO_LOADED_AT, "test", site_id=1
        )
    return pickup


@pytest.fixture
def base_url(pickup) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, pickup.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _context(browser, csp, **options):
    context = browser.new_context(**options)
    csp.attach(context)
    return context


def _ready(page) -> None:
    """Wait until the page holds the site's copy and the worker keeps the page."""
    page.wait_for_selector(
        "body[data-sync-copy][data-sync-kept='yes']", state="attached", timeout=WAIT
    )


def _station(context, base_url: str, name: str, station: str, clock=False):
    page = context.new_page()
    if clock:
        page.clock.install()
    page.goto(f"{base_url}/staff/login?lang=en")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.fill("#station", station)
    page.select_option("#site_id", "1")
    page.click("form button[type=submit]")
    page.wait_for_selector("#queue-section")
    _ready(page)
    return page


def _kiosk(context, base_url: str, token: str):
    page = context.new_page()
    page.goto(f"{base_url}/kiosk/1?lang=en#device={token}")
    _ready(page)
    return page


def _sync_state(page, state: str, pending: int) -> None:
    page.wait_for_selector(
        f"body[data-sync-state='{state}'][data-sync-pending='{pending}']",
        state="attached",
        timeout=WAIT,
    )


def _scan(page, code: str) -> None:
    page.fill("#code", qr_content(code))
    page.press("#code", "Enter")


def _hand_over_offline(page, code: str, units: int | None = None) -> None:
    _scan(page, code)
    page.wait_for_selector("#offline-verdict[data-reason='valid']", timeout=WAIT)
    if units is None:
        page.click("#offline-hand-over-all")
    else:
        page.fill("#offline-units", str(units))
        page.click("#offline-part button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('offline-message').textContent.startsWith('Handed over')"
    )


def _ledger(pickup) -> list[dict]:
    result = pickup.app.test_cli_runner().invoke(args=["export", "ledger", "--distribution", "1"])
    assert result.exit_code == 0, result.output
    text = result.stdout if hasattr(result, "stdout") else result.output
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_a_station_and_a_kiosk_work_offline_and_the_ledger_gets_exactly_that(
    pickup, browser, base_url, csp
):
    before = {(r["voucher_code"], r["units"], r["station"]) for r in _ledger(pickup)}
    context = _context(browser, csp, viewport={"width": 1280, "height": 800})
    try:
        staff = _station(context, base_url, "alice", "Desk 1")
        kiosk = _kiosk(context, base_url, pickup.codes["kiosk_token"])
        _sync_state(staff, "online", 0)
        context.set_offline(True)
        _sync_state(staff, "offline", 0)
        _hand_over_offline(staff, pickup.codes["valid"])
        _hand_over_offline(staff, pickup.codes["valid_2"], units=1)
        _sync_state(staff, "offline", 2)
        assert staff.inner_text("#sync-status") == "Offline · 2 waiting to sync"
        # the same voucher again: collected here, decided from what waits on this device
        _scan(staff, pickup.codes["valid"])
        staff.wait_for_selector("#offline-verdict[data-reason='collected']")

        _scan(kiosk, pickup.codes["valid_3"])
        kiosk.wait_for_selector("#offline-safety section.safety", timeout=WAIT)
        assert kiosk.locator("#offline-safety svg.ghs").count() > 0  # pictograms, offline
        kiosk.click("#acknowledge")
        kiosk.wait_for_selector("#queue-number")
        label = kiosk.inner_text("#queue-number")
        assert label.startswith("K") and label.endswith("-1")
        _sync_state(kiosk, "offline", 1)

        # a reload while still offline: the worker serves the pages, IndexedDB the queue
        staff.reload()
        kiosk.reload()
        _sync_state(staff, "offline", 2)
        _sync_state(kiosk, "offline", 1)
        assert staff.inner_text("#sync-status") == "Offline · 2 waiting to sync"
        assert {(r["voucher_code"], r["units"], r["station"]) for r in _ledger(pickup)} == before

        context.set_offline(False)
        _sync_state(staff, "online", 0)
        _sync_state(kiosk, "online", 0)
    finally:
        context.close()
    after = {(r["voucher_code"], r["units"], r["station"]) for r in _ledger(pickup)}
    with pickup.app.app_context():
        db = get_db()
        units = {
            key: storage.voucher_view(db, int(pickup.codes[key][:7]))["units"]
            for key in ("valid", "valid_2")
        }
        checked = storage.voucher_view(db, int(pickup.codes["valid_3"][:7]))
        booking = storage.get_booking(db, checked["booking_id"])
    assert after - before == {
        (pickup.codes["valid"], str(units["valid"]), "Desk 1"),
        (pickup.codes["valid_2"], "1", "Desk 1"),
    }
    assert before <= after and len(after) == len(before) + 2
    assert booking["queue_label"] == label and booking["checked_in_at"]


def test_two_stations_offline_hand_over_one_voucher_and_the_console_shows_one_conflict(
    pickup, browser, base_url, csp
):
    alice_context = _context(browser, csp)
    bob_context = _context(browser, csp)
    try:
        alice = _station(alice_context, base_url, "alice", "Desk 1")
        bob = _station(bob_context, base_url, "bob", "Desk 2")
        for context in (alice_context, bob_context):
            context.set_offline(True)
        _hand_over_offline(alice, pickup.codes["valid"])
        _hand_over_offline(bob, pickup.codes["valid"])
        for context, page in ((alice_context, alice), (bob_context, bob)):
            context.set_offline(False)
            _sync_state(page, "online", 0)
        # the second upload comes back as a conflict, and the station says so
        bob.wait_for_selector("#offline-notices li[data-outcome='conflict']", timeout=WAIT)
    finally:
        alice_context.close()
        bob_context.close()
    context = _context(browser, csp)
    try:
        page = context.new_page()
        page.goto(f"{base_url}/staff/login?next=/admin/conflicts&lang=en")
        page.fill("#username", "ada")
        page.fill("#password", PASSWORD)
        page.fill("#station", "Office")
        page.click("form button[type=submit]")
        page.wait_for_url(f"{base_url}/admin/conflicts")
        assert page.locator("section.conflict").count() == 1
        rows = page.locator("section.conflict tbody tr")
        assert rows.count() == 2
        text = page.inner_text("section.conflict")
        assert "alice" in text and "bob" in text and "Desk 1" in text and "Desk 2" in text
        page.click("section.conflict form button.primary")
        page.wait_for_selector("#no-conflicts")
    finally:
        context.close()


def test_the_upload_sent_twice_changes_nothing_the_second_time(pickup, browser, base_url, csp):
    context = _context(browser, csp)
    try:
        staff = _station(context, base_url, "alice", "Desk 1")
        uploads: list[str] = []
        staff.on(
            "request",
            lambda r: (
                uploads.append(r.post_data)
                if r.method == "POST" and r.url.startswith(f"{base_url}/api/v1/sync")
                else None
            ),
        )
        context.set_offline(True)
        _hand_over_offline(staff, pickup.codes["valid"])
        _hand_over_offline(staff, pickup.codes["valid_2"], units=1)
        context.set_offline(False)
        _sync_state(staff, "online", 0)
        assert len(uploads) == 1 and len(json.loads(uploads[0])["actions"]) == 2
        ledger = _ledger(pickup)
        # the station's own upload again, with its session and CSRF token, as a retry would
        answer = staff.evaluate(
            """body => fetch('/api/v1/sync?lang=en', {method: 'POST', body,
                 headers: {'Content-Type': 'application/json',
                           'X-CSRF-Token': document.body.dataset.csrf}}).then(r => r.json())""",
            uploads[0],
        )
    finally:
        context.close()
    assert [r["outcome"] for r in answer["results"]] == ["applied", "applied"]
    assert [r["duplicate"] for r in answer["results"]] == [True, True]
    assert _ledger(pickup) == ledger


def test_a_station_offline_for_a_whole_slot_shows_every_vouchers_state(
    pickup, browser, base_url, csp
):
    context = _context(browser, csp, viewport={"width": 1280, "height": 800})
    try:
        staff = _station(context, base_url, "alice", "Desk 1", clock=True)
        context.set_offline(True)
        _hand_over_offline(staff, pickup.codes["valid_2"], units=1)
        # almost two hours pass without a network: the 13:00 slot and its grace period are
        # over (the page's clock keeps running: away from any slot's edge)
        staff.clock.fast_forward("01:50:00")
        later = AT + timedelta(hours=1, minutes=50)
        staff.wait_for_selector("#offline-list tbody tr", state="attached", timeout=WAIT)
        staff.wait_for_function(
            "() => document.querySelector('#offline-list tbody tr[data-state=\"missed\"]')"
        )
        shown = dict(
            staff.eval_on_selector_all(
                "#offline-list tbody tr",
                "rows => rows.map(r => [Number(r.dataset.id), r.dataset.state])",
            )
        )
    finally:
        context.close()
    with pickup.app.app_context():
        db = get_db()
        start = AT.replace(hour=0, minute=0)
        rows = storage.station_vouchers(db, 1, start, start + timedelta(days=2))
        grace = storage.get_distribution(db, 1)["grace_minutes"]
        valid_2 = storage.voucher_view(db, int(pickup.codes["valid_2"][:7]))["booking_id"]
        expected = {}
        for row in rows:
            facts = {**row, "handed_units": row["handed_units"] + (row["booking_id"] == valid_2)}
            expected[row["booking_id"]] = booking_state(facts, later, grace)
    assert shown == expected
    assert expected[valid_2] in {"partly_collected", "collected"}  # handed over offline
    assert {"missed", "collected", "booked", "cancelled"} <= set(expected.values())
