"""Fixtures: `app`, `client`, `runner` on a database in tmp_path; `demo_app` with the demo."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from browser_support import ARGS, CHROMIUM, CspWatch
from kiosk_support import AT, PASSWORD
from support import DEMO_LOADED_AT, DEMO_START, SECRET, app_settings, make_code, require

from shared import accounts, booking, demo, storage
from shared.db import get_db
from shared.handover import hand_over
from shared.verification import check_in
from wsgi import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app(app_settings(tmp_path / "test.sqlite3"))
    with app.app_context():
        storage.migrate(get_db())
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    with app.app_context():
        yield get_db()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo database, built once per session and copied for each test that needs it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = storage.open_database(path)
    storage.migrate(database)
    demo.load_demo(database, DEMO_LOADED_AT, make_code, DEMO_START)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.conn.close()
    return path


@pytest.fixture
def demo_app(tmp_path, demo_template):
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    return create_app(app_settings(path))


@pytest.fixture
def demo_db(demo_app):
    with demo_app.app_context():
        yield get_db()


@pytest.fixture
def live_server():
    """Serve an app on a free local port for a real browser: ``base_url = live_server(app)``.

    Threaded like gunicorn's workers, so a page's parallel requests are served; every
    server started is shut down after the test.
    """
    import threading

    from werkzeug.serving import make_server

    servers = []

    def start(flask_app) -> str:
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def _starting(rows, hour, minute):
    return [
        r
        for r in rows
        if storage.from_db_time(r["starts_at"]).astimezone(DEMO_START.tzinfo).strftime("%H:%M")
        == f"{hour:02d}:{minute:02d}"
    ]


@pytest.fixture
def office_day(demo_app):
    """The demo at 13:00 with a booking in every state (:func:`set_up_office_day`)."""
    return set_up_office_day(demo_app)


def set_up_office_day(demo_app):
    """The demo at 13:00 with a booking in every state, as the article's day would have it.

    At 12:00 nobody came (missed); at 12:45 one collected all, one part; at 13:00 one
    checked in; one cancelled and has no booking; another cancelled and booked again;
    one more recipient joined the roster after scheduling and has no booking.
    """
    demo_app.config["CLOCK"] = lambda: AT
    key = SECRET.encode()
    with demo_app.app_context():
        db = get_db()
        accounts.create_user(db, "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
        accounts.create_user(db, "sam", PASSWORD, "staff", DEMO_LOADED_AT, "test")
        rows = storage.voucher_views_for_distribution(db, 1)
        quarter = _starting(rows, 12, 45)
        hand_over(db, quarter[0]["code"], key, AT - timedelta(minutes=10), "sam", "Desk 1")
        hand_over(db, quarter[1]["code"], key, AT - timedelta(minutes=9), "sam", "Desk 1", 1)
        check_in(db, _starting(rows, 13, 0)[0]["code"], key, AT, "kiosk")
        gone, back = _starting(rows, 15, 0)[:2]
        booking.cancel_booking(db, gone["recipient_id"], DEMO_LOADED_AT, "sms")
        booking.cancel_booking(db, back["recipient_id"], DEMO_LOADED_AT, "sms")
        later = booking.free_slots(db, back["recipient_id"], DEMO_LOADED_AT)[0]
        booking.book_slot(db, back["recipient_id"], later["id"], DEMO_LOADED_AT, "sms", make_code)
        with storage.transaction(db):
            storage.insert_recipients(
                db, 1, [{"name": "Latecomer Ltd", "external_id": "L1", "headcount": 5}]
            )
    return demo_app


# -- the browser tests: Debian's Chromium under Playwright ----------------------------------
@pytest.fixture
def csp():
    """A :class:`CspWatch`; the test fails if any attached context saw a violation."""
    watch = CspWatch()
    yield watch
    assert watch.violations == []


@pytest.fixture(scope="module")
def playwright():
    require(CHROMIUM.exists(), "Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()
