"""Offline stations: the copy a station keeps, and the upload of what it did offline.

The core (:mod:`shared.offline`) is tested as plain functions over the demo at 13:00 on the
article's day; ``/api/v1/sync`` for its credentials, its exact errors and its idempotency.
The browser side (service worker, IndexedDB, going offline) is in test_offline_browser.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from kiosk_support import (
    AT,
    PASSWORD,
    Pickup,
    add_staff,
    admin_client,
    build_pickup,
    csrf,
    page_text,
)
from support import SECRET, TZ

from shared import offline, pickup_queue, storage
from shared.booking import cancel_booking
from shared.db import get_db
from shared.exports import ledger_rows
from shared.handover import Ledger, reconcile
from shared.vouchers import parse_code

KEY = SECRET.encode()
DESK_1 = offline.Station("alice", "Desk 1", 1)
DESK_2 = offline.Station("bob", "Desk 2", 1)


@pytest.fixture
def pickup(demo_app) -> Pickup:
    return build_pickup(demo_app)


@pytest.fixture
def db(pickup):
    with pickup.app.app_context():
        yield get_db()


def _voucher(db, code: str) -> dict:
    return storage.voucher_view(db, parse_code(code, KEY))


def _hash(db, code: str) -> str:
    v = _voucher(db, code)
    day = storage.from_db_time(v["starts_at"]).astimezone(TZ).date()
    return offline.code_hash(offline.day_key(KEY, v["site_id"], day), v["code"])


def action(db, code: str, kind: str = "handover", at=AT, **fields) -> dict:
    """An action as a station queues it: its own UUID, the booking, the code's hash."""
    v = _voucher(db, code)
    made = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "booking": v["booking_id"],
        "hash": _hash(db, code),
        "at": at.isoformat(),
    }
    if kind == "handover":
        made["units"] = fields.pop("units", v["units"])
    return made | fields


def _standing(db, code: str) -> list[dict]:
    return [
        h
        for h in storage.handovers_for_booking(db, _voucher(db, code)["booking_id"])
        if not h["undone_at"]
    ]


# -- the copy -------------------------------------------------------------------------------


def test_the_copy_holds_what_the_screens_show_and_never_a_code(db, pickup):
    copy = offline.station_copy(db, 1, KEY, AT)
    assert copy["full"] and copy["site"]["id"] == 1
    assert [k["day"] for k in copy["keys"]] == ["2020-02-04", "2020-02-05"]
    by_id = {v["id"]: v for v in copy["vouchers"]}
    assert sorted(by_id) == copy["ids"]
    valid = _voucher(db, pickup.codes["valid"])
    held = by_id[valid["booking_id"]]
    assert held["hash"] == _hash(db, pickup.codes["valid"])
    assert set(held) == {
        "id", "hash", "day", "name", "contact", "phone", "start", "end",
        "units", "handed", "status", "checked_in", "queue",
    }  # fmt: skip
    assert held["name"] != valid["recipient_name"] and "*" in held["name"]
    assert held["phone"].startswith("*** ****")
    text = json.dumps(copy, ensure_ascii=False)
    for code in pickup.codes.values():
        assert code not in text
    assert by_id[_voucher(db, pickup.codes["cancelled"])["booking_id"]]["status"] == "cancelled"
    assert by_id[_voucher(db, pickup.codes["collected"])["booking_id"]]["handed"] > 0


def test_keys_differ_by_site_and_day():
    day = AT.date()
    keys = {
        offline.day_key(KEY, 1, day),
        offline.day_key(KEY, 2, day),
        offline.day_key(KEY, 1, day + timedelta(days=1)),
        offline.day_key(b"another secret", 1, day),
    }
    assert len(keys) == 4


def test_a_refresh_with_the_cursor_brings_only_what_changed(db, pickup):
    first = offline.station_copy(db, 1, KEY, AT)
    later = AT + timedelta(minutes=5)
    assert offline.station_copy(db, 1, KEY, later, first["cursor"])["vouchers"] == []
    outcome = offline.apply_action(db, action(db, pickup.codes["valid"]), KEY, later, DESK_1)
    assert outcome.outcome == "applied"
    changed = offline.station_copy(db, 1, KEY, later, first["cursor"])
    assert not changed["full"]
    assert [v["id"] for v in changed["vouchers"]] == [outcome.booking_id]
    assert changed["vouchers"][0]["handed"] == changed["vouchers"][0]["units"]
    # the next day's copy starts again from nothing
    tomorrow = offline.station_copy(db, 1, KEY, AT + timedelta(days=1), first["cursor"])
    assert tomorrow["full"]


@pytest.mark.parametrize(
    "cursor", ["", "v1|x|y|1|2", "v2|2020-02-04|2020-02-04T05:00:00+00:00|1|1"]
)
def test_a_cursor_it_cannot_read_gets_a_full_copy(db, cursor):
    assert offline.station_copy(db, 1, KEY, AT, cursor)["full"]


# -- uploads --------------------------------------------------------------------------------


def test_a_handover_is_applied_when_it_happened_by_whom_did_it(db, pickup):
    then = AT - timedelta(minutes=2)
    made = action(db, pickup.codes["valid"], at=then, units=1)
    outcome = offline.apply_action(db, made, KEY, AT, DESK_1)
    assert (outcome.outcome, outcome.duplicate) == ("applied", False)
    [h] = _standing(db, pickup.codes["valid"])
    assert (h["staff"], h["station"], h["units"]) == ("alice", "Desk 1", 1)
    assert storage.from_db_time(h["handed_at"]) == then


def test_an_upload_applied_twice_changes_nothing_the_second_time(db, pickup):
    made = [action(db, pickup.codes["valid"]), action(db, pickup.codes["valid_2"], units=1)]
    first = offline.apply_actions(db, made, KEY, AT, DESK_1)
    rows = ledger_rows(db, 1)
    second = offline.apply_actions(db, made, KEY, AT + timedelta(minutes=1), DESK_1)
    assert [o.outcome for o in second] == [o.outcome for o in first] == ["applied", "applied"]
    assert [o.duplicate for o in second] == [True, True]
    assert [o.handover_id for o in second] == [o.handover_id for o in first]
    assert ledger_rows(db, 1) == rows


def test_actions_apply_in_order(db, pickup):
    v = _voucher(db, pickup.codes["valid"])
    assert v["units"] >= 2
    made = [
        action(db, pickup.codes["valid"], units=1, at=AT - timedelta(minutes=2)),
        action(db, pickup.codes["valid"], units=v["units"] - 1, at=AT - timedelta(minutes=1)),
    ]
    outcomes = offline.apply_actions(db, made, KEY, AT, DESK_1)
    assert [o.outcome for o in outcomes] == ["applied", "applied"]
    assert [h["units"] for h in _standing(db, pickup.codes["valid"])] == [1, v["units"] - 1]
    assert not any(h["conflict"] for h in _standing(db, pickup.codes["valid"]))


def test_two_stations_beyond_the_units_both_stand_flagged_as_one_conflict(db, pickup):
    code = pickup.codes["valid"]
    units = _voucher(db, code)["units"]
    a = offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=3)), KEY, AT, DESK_1)
    b = offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=2)), KEY, AT, DESK_2)
    assert (a.outcome, b.outcome) == ("applied", "conflict")
    standing = _standing(db, code)
    assert [(h["staff"], h["station"], h["conflict"]) for h in standing] == [
        ("alice", "Desk 1", 1),
        ("bob", "Desk 2", 1),
    ]
    [conflict] = offline.conflicts(db, 1)
    assert conflict.handed_units == 2 * units and conflict.units == units
    ledger = reconcile(db, 1)
    assert (ledger.unresolved_conflicts, ledger.unresolved_conflict_units) == (1, 2 * units)
    assert ledger.beyond_allotments == units and ledger.balanced
    flags = [r["conflict"] for r in ledger_rows(db, 1) if r["voucher_code"] == code]
    assert flags == ["conflict", "conflict"]


@pytest.mark.parametrize("resolution", ["accept", "return"])
def test_the_operator_resolves_a_conflict(db, pickup, resolution):
    code = pickup.codes["valid"]
    offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=3)), KEY, AT, DESK_1)
    offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=2)), KEY, AT, DESK_2)
    [conflict] = offline.conflicts(db, 1)
    later = conflict.handovers[1]
    offline.resolve_conflict(
        db, conflict.booking_id, resolution, "admin:ada", AT, later["handover_id"]
    )
    assert offline.conflicts(db, 1) == []
    ledger = reconcile(db, 1)
    assert ledger.unresolved_conflicts == 0 and ledger.balanced
    standing = _standing(db, code)
    flags = [r["conflict"] for r in ledger_rows(db, 1) if r["voucher_code"] == code]
    if resolution == "accept":
        assert len(standing) == 2 and flags == ["accepted", "accepted"]
        assert ledger.beyond_allotments == conflict.units
    else:
        assert [h["station"] for h in standing] == ["Desk 1"] and flags == ["accepted"]
        assert ledger.beyond_allotments == 0
    [entry] = storage.audit_entries(db, f"booking:{conflict.booking_id}", limit=1)
    assert (entry["actor"], entry["action"]) == ("admin:ada", "resolve_conflict")
    with pytest.raises(offline.NotFound):
        offline.resolve_conflict(db, conflict.booking_id, "accept", "admin:ada", AT)


@pytest.mark.parametrize(
    ("code_key", "at", "reason"),
    [
        ("cancelled", AT, "cancelled"),
        ("too_early", AT, "too_early"),
        ("missed", AT, "missed"),
    ],
)
def test_what_the_voucher_did_not_allow_then_is_refused(db, pickup, code_key, at, reason):
    outcome = offline.apply_action(db, action(db, pickup.codes[code_key], at=at), KEY, AT, DESK_1)
    assert (outcome.outcome, outcome.reason) == ("refused", reason)
    assert _standing(db, pickup.codes[code_key]) == []


def test_a_voucher_cancelled_while_the_station_was_offline_comes_back_refused(db, pickup):
    code = pickup.codes["valid"]
    made = action(db, code, at=AT - timedelta(minutes=10))
    cancel_booking(db, _voucher(db, code)["recipient_id"], AT - timedelta(minutes=5), "test")
    outcome = offline.apply_action(db, made, KEY, AT, DESK_1)
    assert (outcome.outcome, outcome.reason) == ("refused", "cancelled")
    assert outcome.as_json("zh")["message"] == "未被接受：离线期间该凭证已被取消。"
    assert outcome.as_json("en")["message"] == (
        "Not accepted: the voucher was cancelled while the station was offline."
    )
    again = offline.apply_action(db, made, KEY, AT, DESK_1)
    assert (again.outcome, again.reason, again.duplicate) == ("refused", "cancelled", True)


def test_a_booking_swept_as_missed_later_was_not_missed_when_handed_over(db, pickup):
    code = pickup.codes["valid"]
    v = _voucher(db, code)
    storage.mark_missed(db, v["booking_id"], AT + timedelta(hours=2))
    outcome = offline.apply_action(db, action(db, code), KEY, AT + timedelta(hours=2), DESK_1)
    assert outcome.outcome == "applied"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hash": "0" * 32}, "unknown"),
        ({"booking": 999_999}, "unknown"),
        ({"booking": 2**40}, "unknown"),  # beyond PostgreSQL's INTEGER: no booking, not an error
        ({"at": (AT + timedelta(minutes=11)).isoformat()}, "clock_ahead"),
        ({"kind": "refund"}, "invalid_action"),
        ({"units": 0}, "invalid_action"),
        ({"units": True}, "invalid_action"),
        ({"at": "yesterday"}, "invalid_action"),
        ({"at": "2020-02-04T13:00:00"}, "invalid_action"),
        ({"id": "not-a-uuid"}, "invalid_action"),
        ({"code": "4821993017345562"}, "invalid_action"),
        ({"queue_label": "K1 7"}, "invalid_action"),
    ],
)
def test_an_action_it_cannot_apply_is_refused_alone(db, pickup, change, reason):
    made = action(db, pickup.codes["valid"]) | change
    good = action(db, pickup.codes["valid_2"])
    outcomes = offline.apply_actions(db, [made, good], KEY, AT, DESK_1)
    assert [(o.outcome, o.reason) for o in outcomes] == [("refused", reason), ("applied", "")]


def test_a_kiosk_cannot_hand_over_but_checks_in_with_its_own_number(db, pickup):
    kiosk = offline.Station("api:kiosk-1", "kiosk-1", 1, role="kiosk", label_prefix="K1")
    code = pickup.codes["valid"]
    refused = offline.apply_action(db, action(db, code), KEY, AT, kiosk)
    assert (refused.outcome, refused.reason) == ("refused", "kiosk_hand_over")
    made = action(db, code, "checkin", queue_label="K1-1", acknowledged=True, language="en")
    outcome = offline.apply_action(db, made, KEY, AT, kiosk)
    assert (outcome.outcome, outcome.queue_label) == ("applied", "K1-1")
    booking = storage.get_booking(db, outcome.booking_id)
    assert (booking["queue_label"], booking["queue_number"]) == ("K1-1", outcome.queue_number)
    assert storage.get_acknowledgement(db, outcome.booking_id)["channel"] == "api:kiosk-1"
    again = offline.apply_action(db, made, KEY, AT, kiosk)
    assert again.duplicate and again.queue_label == "K1-1"
    # the queue and the board call its holder by the number the kiosk gave
    [entry] = [e for e in pickup_queue.waiting(db, 1, AT) if e.booking_id == outcome.booking_id]
    assert (entry.ticket, entry.queue_number) == ("K1-1", outcome.queue_number)
    called = pickup_queue.call_next(db, 1, AT, "staff:alice")
    assert called.ticket == "K1-1"
    assert pickup_queue.board(db, 1, AT).calling == ["K1-1"]


# -- the endpoint -----------------------------------------------------------------------------


def _post(client, body, csrf: str | None = None, lang: str = "en", **headers):
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/api/v1/sync?lang={lang}", data=data, content_type="application/json", headers=headers
    )


def _signed_in(pickup) -> tuple:
    client = pickup.app.test_client()
    client.post(
        "/staff/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "station": "Desk 1",
            "site_id": "1",
            "csrf_token": csrf(client, "/staff/login"),
        },
    )
    return client, csrf(client, "/staff/")


def test_a_signed_in_station_gets_its_copy_and_uploads_with_its_csrf_token(pickup):
    client, token = _signed_in(pickup)
    copy = client.get("/api/v1/sync").get_json()
    assert copy["station"]["name"] == "Desk 1" and copy["site"]["id"] == 1
    with pickup.app.app_context():
        made = action(get_db(), pickup.codes["valid"])
    refused = _post(client, {"actions": [made]})
    assert refused.status_code == 400 and refused.get_json()["error"] == "form_expired"
    answer = _post(client, {"actions": [made]}, csrf=token)
    assert answer.status_code == 200
    [result] = answer.get_json()["results"]
    assert (result["outcome"], result["message"]) == ("applied", "Synced.")
    [result] = _post(client, {"actions": [made]}, csrf=token).get_json()["results"]
    assert result["duplicate"] is True


def test_a_device_token_syncs_as_the_scanner_api_does(pickup):
    client = pickup.app.test_client()
    bearer = {"Authorization": f"Bearer {pickup.staff_token}"}
    assert client.get("/api/v1/sync").status_code == 401
    # a token made without --site: the only site anyone queues at, or the only one there is
    copy = client.get("/api/v1/sync", headers=bearer)
    assert copy.status_code in (200, 409)
    with pickup.app.app_context():
        made = action(get_db(), pickup.codes["valid"])
    [result] = _post(client, {"actions": [made]}, **bearer).get_json()["results"]
    assert result["outcome"] == "applied"
    with pickup.app.app_context():
        [h] = _standing(get_db(), pickup.codes["valid"])
    assert (h["staff"], h["station"]) == ("api:handheld-1", "handheld-1")


JSON = "application/json"
NOT_AN_OBJECT = 'The upload can only be an object like {"actions": [...]}.'
NOT_JSON = "The upload must be JSON (Content-Type: application/json)."
TOO_MANY = json.dumps({"actions": [{}] * 201}).encode()


@pytest.mark.parametrize(
    ("body", "content_type", "lang", "message"),
    [
        (b"{", JSON, "en", 'The upload is not valid JSON; send one like {"actions": [...]}.'),
        (b"{", JSON, "zh", '上传内容不是有效的 JSON，应如 {"actions": [...]}。'),
        (b'{"actions": {}}', JSON, "en", NOT_AN_OBJECT),
        (b'{"actions": [], "x": 1}', JSON, "zh", '上传内容只能是 {"actions": [...]} 这样的对象。'),
        (b'{"actions": []}', "text/plain", "en", NOT_JSON),
        (TOO_MANY, JSON, "zh", "一次最多上传200条记录，请分批上传。"),
        (TOO_MANY, JSON, "en", "At most 200 actions per upload; send the rest in another."),
    ],
)  # fmt: skip
def test_a_body_it_cannot_read_is_refused_in_the_stations_language(
    pickup, body, content_type, lang, message
):
    client = pickup.app.test_client()
    answer = client.post(
        f"/api/v1/sync?lang={lang}",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {pickup.staff_token}"},
    )
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "invalid_input", "message": message}


def test_the_console_lists_and_resolves_conflicts(pickup):
    with pickup.app.app_context():
        db = get_db()
        code = pickup.codes["valid"]
        offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=3)), KEY, AT, DESK_1)
        offline.apply_action(db, action(db, code, at=AT - timedelta(minutes=2)), KEY, AT, DESK_2)
        booking_id = _voucher(db, code)["booking_id"]
        add_staff(db, "ada", "admin")
    admin = admin_client(pickup.app)
    overview = page_text(admin.get("/admin/d/1/"))
    assert "− beyond allotments" in overview and ": balanced" in overview
    assert "Unresolved offline conflicts: vouchers 1, units handed over in them" in overview
    cli = pickup.app.test_cli_runner().invoke(args=["export", "ledger", "--distribution", "1"])
    assert "- beyond allotments" in cli.stderr and "Unresolved offline conflicts: 1" in cli.stderr
    page = page_text(admin.get("/admin/conflicts"))
    assert "Desk 1" in page and "Desk 2" in page and "alice" in page and "bob" in page
    assert page.count('class="conflict"') == 1
    done = admin.post(
        f"/admin/conflicts/{booking_id}",
        data={"csrf_token": csrf(admin, "/admin/conflicts"), "resolution": "accept"},
        follow_redirects=True,
    )
    assert "Conflict resolved" in page_text(done)
    assert 'class="conflict"' not in page_text(admin.get("/admin/conflicts"))
    assert "Unresolved offline conflicts" not in page_text(admin.get("/admin/d/1/"))


def test_the_ledger_figures_with_a_conflict(db, pickup):
    """Every figure of the demo's ledger pinned: one voucher handed in full at two stations
    (beyond its allotment, clamped out of what is outstanding), one handed in full, one
    collected before; the rest outstanding, part of it booked."""
    before = reconcile(db, 1)
    valid, other = pickup.codes["valid"], pickup.codes["valid_2"]
    units, other_units = _voucher(db, valid)["units"], _voucher(db, other)["units"]
    offline.apply_action(db, action(db, valid, at=AT - timedelta(minutes=3)), KEY, AT, DESK_1)
    offline.apply_action(db, action(db, valid, at=AT - timedelta(minutes=2)), KEY, AT, DESK_2)
    offline.apply_action(db, action(db, other, at=AT - timedelta(minutes=1)), KEY, AT, DESK_1)
    ledger = reconcile(db, 1)
    assert ledger == Ledger(
        stock=614,
        handed_over=7,
        outstanding=609,
        outstanding_booked=601,
        unallocated=0,
        beyond_allotments=2,
        unresolved_conflicts=1,
        unresolved_conflict_units=4,
    )
    assert ledger.handed_over == before.handed_over + 2 * units + other_units
    assert ledger.outstanding == before.outstanding - units - other_units
    assert ledger.beyond_allotments == units and ledger.balanced
