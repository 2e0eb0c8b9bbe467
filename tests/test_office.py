"""The office on the day: who did not come, the printed day list, changing one booking from
the console, the invitations page, and no-shows swept by the running worker."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from kiosk_support import AT, admin_client, csrf, page_text
from support import DEMO_START, TZ

from shared import booking, booking_states, day_list, storage
from shared.db import get_db
from shared.vouchers import format_code
from sms import worker
from sms.senders import FakeSender


def _admin(app, lang: str = "en"):
    return admin_client(app, lang)


_text = page_text


def _starting(app, hour: int, minute: int) -> list[dict]:
    with app.app_context():
        rows = storage.voucher_views_for_distribution(get_db(), 1)
    return [
        r
        for r in rows
        if storage.from_db_time(r["starts_at"]).astimezone(TZ).strftime("%H:%M")
        == f"{hour:02d}:{minute:02d}"
    ]


def _entry(app, recipient_id: int) -> booking_states.RecipientState:
    with app.app_context():
        entries = booking_states.recipient_states(get_db(), 1, AT)
    return next(e for e in entries if e.recipient["id"] == recipient_id)


# -- the dashboard: passed slots with people who did not arrive ----------------------------


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Passed slots: who did not arrive"), ("zh", "已过时段中未到场的")]
)
def test_dashboard_lists_passed_slots_with_who_did_not_arrive(office_day, lang, title):
    missed = _starting(office_day, 12, 0)
    page = _text(_admin(office_day, lang).get("/admin/d/1/dashboard"))
    assert f"{title} (1)" in page
    table = page[page.index('id="missed-slots"') :]
    table = table[: table.index("</table>")]
    assert "12:00" in table and "12:15" not in table
    assert sorted(re.findall(r"/recipients/(\d+)", table)) == sorted(
        str(r["recipient_id"]) for r in missed
    )


# -- the printed day list ------------------------------------------------------------------


def test_last_four():
    assert [day_list.last_four(t) for t in ("+86 170 0000 1234", "12", None)] == ["1234", "", ""]


def test_day_list_by_slot_with_last_digits_and_state(office_day):
    with office_day.app_context():
        db = get_db()
        site = storage.list_sites(db, 1)[0]
        listing = day_list.day_list(db, 1, site["id"], DEMO_START.date(), AT)
        views = storage.voucher_views_for_distribution(db, 1)
    assert listing.people == len(views) == 111  # 112 less the one who cancelled
    assert listing.units == sum(v["units"] for v in views)
    starts = [slot.starts_at.strftime("%H:%M") for slot in listing.slots]
    assert starts[0] == "12:00" and starts == sorted(starts) and len(starts) == 28
    partly = _starting(office_day, 12, 45)[1]
    row = next(
        r for slot in listing.slots for r in slot.rows if r["recipient"] == partly["recipient_name"]
    )
    assert row["phone_last4"] == partly["phone"][-4:]
    assert row["voucher_last4"] == partly["code"][-4:]
    assert (row["state"], row["handed_units"]) == ("partly_collected", 1)
    # A day without slots lists nobody; it is not an error.
    with office_day.app_context():
        empty = day_list.day_list(get_db(), 1, site["id"], date(2020, 2, 9), AT)
    assert empty.people == 0


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Phone, last 4", "Voucher, last 4", "Signature", "Partly collected 1/"]),
        ("zh", ["电话后4位", "凭证后4位", "签名", "部分领取 1/"]),
    ],
)
def test_day_list_page(office_day, lang, words):
    page = _text(_admin(office_day, lang).get("/admin/d/1/day-list"))
    for word in words:
        assert word in page
    assert page.count('<td class="sign"></td>') == 111
    assert page.count('<tbody class="slot">') == 28
    assert "2020-02-04" in page and "print.js" in page


@pytest.mark.parametrize(
    ("query", "status", "lang", "message"),
    [
        ("day=4.2.2020", 400, "en", "The day '4.2.2020' is not a date like 2020-02-04."),
        ("day=2020-13-01", 400, "zh", "日期“2020-13-01”无效，应如 2020-02-04。"),
        ("site=99", 404, "en", "Site '99' is not one of this distribution's."),
        ("site=x", 404, "zh", "领取点“x”不属于此批次。"),
    ],
)
def test_day_list_refuses_bad_choices(office_day, query, status, lang, message):
    response = _admin(office_day, lang).get(f"/admin/d/1/day-list?{query}")
    assert response.status_code == status
    assert message in _text(response)


def test_day_list_prints_on_a4():
    css = (Path(__file__).parent.parent / "admin/static/console.css").read_text("utf-8")
    assert "@page{size:A4" in css and "@media print{" in css


# -- changing one booking from the recipient page ------------------------------------------


def _post(client, path: str, data: dict | None = None):
    data = {"csrf_token": csrf(client, "/admin/"), **(data or {})}
    return client.post(path, data=data)


def _flash(client, response) -> str:
    assert response.status_code == 302, _text(response)[:300]
    page = _text(client.get(response.headers["Location"]))
    return re.search(r'class="flash (\w+)" role="status">([^<]+)<', page).groups()


def _recipient_url(recipient_id: int, action: str = "") -> str:
    return f"/admin/d/1/recipients/{recipient_id}" + (f"/{action}" if action else "")


def test_move_cancel_and_resend_from_the_recipient_page(office_day):
    client = _admin(office_day)
    booked = _starting(office_day, 16, 0)[0]
    rid, phone = booked["recipient_id"], booked["phone"]
    page = _text(client.get(_recipient_url(rid)))
    assert 'id="move"' in page and 'id="cancel"' in page and 'id="resend"' in page
    assert "<dd>English</dd>" in page or "<dd>Chinese</dd>" in page
    with office_day.app_context():
        free = booking.free_slots(get_db(), rid, AT, 60)
    target = free[-1]
    kind, text = _flash(
        client, _post(client, _recipient_url(rid, "move"), {"slot_id": target["id"]})
    )
    when = storage.from_db_time(target["starts_at"]).astimezone(TZ).strftime("%m-%d %H:%M")
    assert (kind, text) == ("notice", f"Moved to {when}; the SMS confirming it is queued.")
    kind, text = _flash(client, _post(client, _recipient_url(rid, "resend")))
    assert (kind, text) == ("notice", "The voucher SMS is queued again.")
    kind, text = _flash(client, _post(client, _recipient_url(rid, "cancel")))
    assert (kind, text) == ("notice", "Booking cancelled; the SMS telling them is queued.")
    assert _entry(office_day, rid).state == "cancelled"
    with office_day.app_context():
        db = get_db()
        sent = [m["body"] for m in reversed(storage.outbox_for_phone(db, phone))]
        actions = [
            a["action"]
            for a in reversed(storage.audit_entries(db, f"booking:{booked['booking_id']}"))
        ]
    spaced = format_code(booked["code"])
    assert sent[0].startswith("Moved to") and spaced in sent[0]
    assert "Voucher" in sent[1] and spaced in sent[1]
    assert sent[2].startswith("Cancelled.")
    assert actions[-3:] == ["change", "resend_voucher", "cancel"]
    assert all(
        a["actor"] == "admin:ada" for a in storage_audit(office_day, booked["booking_id"])[-3:]
    )
    # Cancelled: the page offers to book again, not to cancel or resend.
    page = _text(client.get(_recipient_url(rid)))
    assert 'id="move"' in page and 'id="cancel"' not in page and 'id="resend"' not in page


def storage_audit(app, booking_id: int) -> list[dict]:
    with app.app_context():
        return list(reversed(storage.audit_entries(get_db(), f"booking:{booking_id}")))


@pytest.mark.parametrize(
    ("who", "action", "data", "lang", "message"),
    [
        (
            "checked_in",
            "move",
            "free",
            "en",
            "Checked in or goods handed over: the booking can no longer change.",
        ),
        ("checked_in", "cancel", None, "zh", "已签到或已有物资发出，不能再改约或取消。"),
        ("booked", "move", {"slot_id": "abc"}, "en", "Choose a slot first."),
        ("booked", "move", {"slot_id": ""}, "zh", "请先选择一个时段。"),
        ("booked", "move", {"slot_id": "999999"}, "en", "Choose one of the options."),
        ("booked", "move", "past", "en", "That slot has already started; choose a later one."),
        ("gone", "resend", None, "en", "There is no live booking."),
        ("gone", "cancel", None, "zh", "没有有效预约。"),
        (
            "no_phone",
            "resend",
            None,
            "en",
            "No phone that takes SMS (none on the roster, or it opted out).",
        ),
    ],
)
def test_recipient_actions_refuse_with_the_reason(office_day, who, action, data, lang, message):
    with office_day.app_context():
        db = get_db()
        entries = booking_states.recipient_states(db, 1, AT)
        pick = {
            "checked_in": next(e for e in entries if e.state == "checked_in"),
            "booked": next(e for e in entries if e.state == "booked"),
            "gone": next(e for e in entries if e.state == "cancelled"),
        }
        if who == "no_phone":
            entry = pick["booked"]
            db.execute("UPDATE recipients SET phone = NULL WHERE id = ?", [entry.recipient["id"]])
            db.conn.commit()
        else:
            entry = pick[who]
        rid = entry.recipient["id"]
        if data == "free":
            data = {"slot_id": booking.free_slots(db, pick["booked"].recipient["id"], AT)[0]["id"]}
        elif data == "past":
            first = storage.list_slots(db, 1)[0]
            data = {"slot_id": first["id"]}
        before = storage.audit_entries(db, limit=1)[0]["id"]
    client = _admin(office_day, lang)
    kind, text = _flash(client, _post(client, _recipient_url(rid, action), data))
    assert (kind, text) == ("error", message)
    with office_day.app_context():
        assert storage.audit_entries(get_db(), limit=1)[0]["id"] == before  # nothing written


def test_booking_actions_of_another_distribution_are_404(office_day):
    with office_day.app_context():
        town = storage.list_recipients(get_db(), 2)[0]
    client = _admin(office_day)
    for action in ("move", "cancel", "resend"):
        response = _post(client, f"/admin/d/1/recipients/{town['id']}/{action}", {"slot_id": "1"})
        assert response.status_code == 404


# -- invitations: nothing to run by hand ---------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_invitations_page_names_no_command(office_day, lang):
    page = _text(_admin(office_day, lang).get("/admin/d/1/invite"))
    assert "flask" not in page and "send-outbox" not in page
    assert ("nothing else to run" if lang == "en" else "无需另行操作") in page


# -- no-shows swept by the running worker --------------------------------------------------


def _not_arrived_by(app, when) -> int:
    """Live bookings without a check-in or handover whose slot's grace ended before ``when``."""
    with app.app_context():
        rows = storage.voucher_views_for_distribution(get_db(), 1)
    return sum(
        1
        for v in rows
        if not v["checked_in_at"]
        and not v["handed_units"]
        and storage.from_db_time(v["ends_at"]) + timedelta(minutes=30) < when
    )


def test_the_worker_sweeps_no_shows_once_a_minute(office_day):
    later = AT + timedelta(minutes=10)  # 13:10: the 12:00 and 12:15 slots' grace has passed
    due = _not_arrived_by(office_day, later)
    assert due == len(_starting(office_day, 12, 0)) + len(_starting(office_day, 12, 15))
    with office_day.app_context():
        db = get_db()
        first, marked = worker.sweep_no_shows_if_due(db, later, None, 5)
        assert (first, marked) == (later, due)
        missed = [
            v for v in storage.voucher_views_for_distribution(db, 1) if v["status"] == "missed"
        ]
        assert len(missed) == due
        offers = [a for a in storage.audit_entries(db) if a["action"] == "offer_missed"]
        assert len(offers) == 1 and offers[0]["actor"] == "worker"
        # Within the minute it does not sweep again; after it, it does (and marks nobody twice).
        within = later + timedelta(seconds=59)
        assert worker.sweep_no_shows_if_due(db, within, first, 5) == (first, 0)
        again = later + timedelta(minutes=1)
        assert worker.sweep_no_shows_if_due(db, again, first, 5) == (again, 0)


def test_send_outbox_sweeps_before_sending(office_day):
    later = AT + timedelta(minutes=10)
    office_day.config["CLOCK"] = lambda: later
    office_day.config["SMS_SENDER"] = sender = FakeSender()
    due = _not_arrived_by(office_day, later)
    result = office_day.test_cli_runner().invoke(args=["send-outbox", "--once"])
    assert result.exit_code == 0, result.output
    assert f"No-shows: {due} bookings marked missed and offered new slots." in result.output
    with office_day.app_context():
        kinds = [m[0] for m in get_db().execute("SELECT kind FROM sms_outbox").fetchall()]
    assert kinds.count("offer") >= 1  # queued by the sweep, then sent in the same round
    assert any("You missed your pickup time" in body for _, body, _ in sender.sent)
