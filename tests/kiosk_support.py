"""Shared set-up for the pickup-point tests: a demo voucher in every state, at a fixed clock."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from support import DEMO_LOADED_AT, SECRET, TZ

from shared import accounts, storage
from shared.booking import cancel_booking
from shared.db import get_db
from shared.handover import hand_over
from shared.vouchers import voucher_code

# The kiosk's "now" in these tests: 13:00 on the article's day, one hour into the window.
AT = datetime(2020, 2, 4, 13, 0, tzinfo=TZ)
PASSWORD = "correct horse battery"


def _starting_at(rows: list[dict], hour: int, minute: int) -> list[dict]:
    return [
        r
        for r in rows
        if storage.from_db_time(r["starts_at"]).astimezone(TZ).time()
        == datetime(2020, 1, 1, hour, minute).time()
    ]


def _mistype(code: str) -> str:
    last = str((int(code[-1]) + 1) % 10)
    return code[:-1] + last


def voucher_codes(db) -> dict[str, str]:
    """A demo voucher code (distribution 1) for each kiosk outcome at :data:`AT`.

    ``valid`` and ``valid_2`` are in the 13:00 slot; ``collected`` was handed over at 12:55
    by ``alice`` at ``Desk 1``; ``cancelled`` was cancelled in the morning.
    """
    rows = storage.voucher_views_for_distribution(db, 1)
    at_one = _starting_at(rows, 13, 0)
    codes = {
        "valid": at_one[0]["code"],
        "valid_2": at_one[1]["code"],
        "collected": at_one[2]["code"],
        "too_early": _starting_at(rows, 17, 0)[0]["code"],
        "missed": _starting_at(rows, 12, 0)[0]["code"],
    }
    cancelled = _starting_at(rows, 15, 0)[0]
    cancel_booking(db, cancelled["recipient_id"], DEMO_LOADED_AT, "test")
    codes["cancelled"] = cancelled["code"]
    hand_over(db, codes["collected"], SECRET.encode(), AT - timedelta(minutes=5), "alice", "Desk 1")
    codes["mistyped"] = _mistype(codes["valid"])
    codes["unknown"] = voucher_code(1234567, b"another district's secret")
    return codes


def add_staff(db, name: str = "alice", role: str = "staff") -> None:
    accounts.create_user(db, name, PASSWORD, role, DEMO_LOADED_AT, "test")


@dataclass
class Pickup:
    """The demo app at :data:`AT` with a voucher per state, two staff users and two tokens."""

    app: Any
    codes: dict[str, str]
    kiosk_token: str
    staff_token: str


def build_pickup(app) -> Pickup:
    app.config["CLOCK"] = lambda: AT
    with app.app_context():
        db = get_db()
        codes = voucher_codes(db)
        add_staff(db, "alice")
        add_staff(db, "bob")
        kiosk_token = accounts.create_token(db, "kiosk", "kiosk-1", DEMO_LOADED_AT, "test")
        staff_token = accounts.create_token(db, "staff", "handheld-1", DEMO_LOADED_AT, "test")
    return Pickup(app, codes, kiosk_token, staff_token)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path: str = "/kiosk/1") -> str:
    """Open ``path`` and return the session's CSRF token from its form."""
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, name: str = "alice", station: str = "Desk 1", password: str = PASSWORD):
    token = csrf(client, "/staff/login")
    return client.post(
        "/staff/login",
        data={"username": name, "password": password, "station": station, "csrf_token": token},
    )


def admin_client(app, lang: str = "en"):
    """A test client signed in as the admin ``ada``, the console in ``lang``."""
    client = app.test_client()
    login(client, "ada")
    client.get(f"/admin/?lang={lang}")
    return client


def page_text(response) -> str:
    """A response's HTML with entities unescaped, as a reader sees the words."""
    return html.unescape(response.get_data(as_text=True))
