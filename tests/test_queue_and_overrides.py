"""The counter on the day: the queue (call next, recall, skip, the board) and staff
handing over to someone early or late with an explicit override."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from kiosk_support import AT, build_pickup, csrf, login
from support import SECRET

from shared import exports, pickup_queue, storage
from shared.db import get_db
from shared.errors import AlreadyHandedOver, BadHandoverRequest, NotFound, VoucherRefused
from shared.handover import Override, hand_over, handover_request, make_override
from shared.search import search_terms
from shared.verification import check_in

KEY = SECRET.encode()


@pytest.fixture
def pickup(demo_app):
    return build_pickup(demo_app)


@pytest.fixture
def pdb(pickup):
    with pickup.app.app_context():
        yield get_db()


def _queued(db, *codes: str) -> list[int]:
    """Check ``codes`` in at :data:`AT`, in order; their booking ids."""
    return [check_in(db, code, KEY, AT, "kiosk").verdict.voucher["booking_id"] for code in codes]


def _site(db, code: str) -> int:
    return check_in(db, code, KEY, AT, "kiosk").verdict.voucher["site_id"]


# -- the queue, as plain functions -----------------------------------------------------------


def test_call_next_calls_each_number_once_in_order_then_says_nobody(pickup, pdb):
    first, second = _queued(pdb, pickup.codes["valid"], pickup.codes["valid_2"])
    site = _site(pdb, pickup.codes["valid"])
    called = [pickup_queue.call_next(pdb, site, AT + timedelta(minutes=i), "alice") for i in (1, 2)]
    assert [(e.booking_id, e.queue_number, e.state) for e in called] == [
        (first, 1, "called"),
        (second, 2, "called"),
    ]
    assert pickup_queue.call_next(pdb, site, AT + timedelta(minutes=3), "alice") is None
    board = pickup_queue.board(pdb, site, AT + timedelta(minutes=3))
    assert (board.calling, board.waiting) == ([2, 1], 0)  # the latest call first
    actions = [e["action"] for e in storage.audit_entries(pdb, f"booking:{first}")]
    assert actions[0] == "queue_call"


def test_a_served_number_leaves_the_board_and_the_queue(pickup, pdb):
    _queued(pdb, pickup.codes["valid"], pickup.codes["valid_2"])
    site = _site(pdb, pickup.codes["valid"])
    pickup_queue.call_next(pdb, site, AT, "alice")
    hand_over(pdb, pickup.codes["valid"], KEY, AT + timedelta(minutes=1), "alice", "Desk 1")
    board = pickup_queue.board(pdb, site, AT + timedelta(minutes=1))
    assert (board.calling, board.waiting) == ([], 1)
    assert [e.queue_number for e in pickup_queue.waiting(pdb, site, AT)] == [2]


def test_an_unanswered_call_is_flagged_then_skipped_and_recalled(pickup, pdb):
    (booking,) = _queued(pdb, pickup.codes["valid"])
    site = _site(pdb, pickup.codes["valid"])
    pickup_queue.call_next(pdb, site, AT, "alice")
    (soon,) = pickup_queue.waiting(pdb, site, AT + pickup_queue.CALL_OVERDUE)
    (later,) = pickup_queue.waiting(
        pdb, site, AT + pickup_queue.CALL_OVERDUE + timedelta(seconds=1)
    )
    assert (soon.overdue, later.overdue) == (False, True)

    pickup_queue.skip(pdb, site, booking, AT + timedelta(minutes=4), "alice")
    (skipped,) = pickup_queue.waiting(pdb, site, AT + timedelta(minutes=4))
    assert (skipped.state, pickup_queue.board(pdb, site, AT).calling) == ("skipped", [])
    # skipped is not "waiting": call next does not call it again by itself
    assert pickup_queue.call_next(pdb, site, AT + timedelta(minutes=5), "alice") is None

    again = pickup_queue.recall(pdb, site, booking, AT + timedelta(minutes=9), "alice")
    assert (again.state, again.overdue) == ("called", False)
    assert pickup_queue.board(pdb, site, AT + timedelta(minutes=9)).calling == [1]
    actions = [e["action"] for e in storage.audit_entries(pdb, f"booking:{booking}")]
    assert actions[:3] == ["queue_recall", "queue_skip", "queue_call"]


def test_recall_and_skip_refuse_a_number_not_in_this_sites_queue(pickup, pdb):
    (booking,) = _queued(pdb, pickup.codes["valid"])
    site = _site(pdb, pickup.codes["valid"])
    hand_over(pdb, pickup.codes["valid"], KEY, AT, "alice", "Desk 1")
    with pytest.raises(NotFound, match="no longer in the queue"):
        pickup_queue.recall(pdb, site, booking, AT, "alice")
    (other,) = _queued(pdb, pickup.codes["valid_2"])
    with pytest.raises(NotFound):
        pickup_queue.skip(pdb, site + 1, other, AT, "alice")


def test_the_station_site_is_the_chosen_one_else_the_only_one_queueing(pickup, pdb):
    assert pickup_queue.station_site(pdb, 7, AT) == 7
    assert pickup_queue.station_site(pdb, None, AT) is None  # two demo sites, nobody queueing
    site = _site(pdb, pickup.codes["valid"])
    assert pickup_queue.station_site(pdb, None, AT) == site


def test_the_board_of_an_unknown_site_is_not_found(pdb):
    with pytest.raises(NotFound):
        pickup_queue.board(pdb, 999, AT)


# -- overrides, as plain functions -----------------------------------------------------------


@pytest.mark.parametrize("state", ["too_early", "missed"])
def test_an_override_hands_over_an_early_or_missed_voucher_and_is_recorded(pickup, pdb, state):
    code = pickup.codes[state]
    with pytest.raises(VoucherRefused) as refused:
        hand_over(pdb, code, KEY, AT, "alice", "Desk 1")
    assert refused.value.verdict.reason.value == state
    override = Override("elderly_or_ill", "came with a walking frame")
    result = hand_over(pdb, code, KEY, AT, "alice", "Desk 1", override=override)
    assert (result.override, result.remaining_units) == (override, 0)
    (row,) = [r for r in exports.ledger_rows(pdb, 1) if r["voucher_code"] == code]
    assert (row["overridden"], row["override_reason"], row["override_note"]) == (
        state,
        "elderly_or_ill",
        "came with a walking frame",
    )
    audit = storage.audit_entries(pdb, f"booking:{result.booking_id}")[0]
    detail = json.loads(audit["detail"])
    assert (audit["action"], detail["overridden"], detail["override_reason"]) == (
        "hand_over",
        state,
        "elderly_or_ill",
    )
    assert "override_reason" in exports.LEDGER_COLUMNS


def test_an_override_on_a_good_voucher_is_not_recorded(pickup, pdb):
    result = hand_over(
        pdb, pickup.codes["valid"], KEY, AT, "alice", "Desk 1", override=Override("came_from_far")
    )
    assert result.override is None
    (row,) = [r for r in exports.ledger_rows(pdb, 1) if r["voucher_code"] == pickup.codes["valid"]]
    assert (row["overridden"], row["override_reason"]) == ("", "")


@pytest.mark.parametrize(
    ("state", "error"),
    [("cancelled", VoucherRefused), ("collected", AlreadyHandedOver)],
)
def test_an_override_never_lifts_other_refusals(pickup, pdb, state, error):
    before = storage.count_rows(pdb, "handovers")
    with pytest.raises(error):
        hand_over(
            pdb,
            pickup.codes[state],
            KEY,
            AT,
            "alice",
            "Desk 1",
            override=Override("staff_decision"),
        )
    assert storage.count_rows(pdb, "handovers") == before


@pytest.mark.parametrize(
    ("reason", "note", "key"),
    [
        ("because", "", "override_reason_unknown"),
        (3, "", "override_reason_unknown"),
        ("came_from_far", "x" * 201, "override_note_bad"),
        ("came_from_far", "bell\x07", "override_note_bad"),
        ("came_from_far", ["a"], "override_note_bad"),
    ],
)
def test_a_bad_override_is_refused_with_its_reason(reason, note, key):
    with pytest.raises(BadHandoverRequest) as exc:
        make_override(reason, note)
    assert exc.value.key == key


def test_an_override_note_is_one_line():
    assert make_override(" staff_decision ", "from\n the  hills\t") == Override(
        "staff_decision", "from the hills"
    )
    assert make_override("", "ignored") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", (None, None)),
        (b'{"units": 2}', (2, None)),
        (b'{"override_reason": "came_from_far"}', (None, Override("came_from_far"))),
        (
            b'{"units": 1, "override_reason": "elderly_or_ill", "override_note": "ill"}',
            (1, Override("elderly_or_ill", "ill")),
        ),
    ],
)
def test_the_handover_request_reads_units_and_override(body, expected):
    asked = handover_request(body, "application/json")
    assert (asked.units, asked.override) == expected


def test_an_override_note_without_a_reason_is_refused():
    with pytest.raises(BadHandoverRequest) as exc:
        handover_request(b'{"override_note": "far"}', "application/json")
    assert exc.value.key == "override_note_without_reason"


# -- the scanner API -------------------------------------------------------------------------


def _api_handover(pickup, state: str, body: dict | None, language: str = "en"):
    headers = {"Authorization": f"Bearer {pickup.staff_token}"}
    data = b""
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    return pickup.app.test_client().post(
        f"/api/v1/vouchers/{pickup.codes[state]}/handover?lang={language}",
        data=data,
        headers=headers,
    )


@pytest.mark.parametrize("state", ["too_early", "missed"])
def test_api_hands_over_early_or_missed_only_with_an_override_reason(pickup, state):
    refused = _api_handover(pickup, state, None)
    assert (refused.status_code, refused.json["error"]) == (409, state)
    done = _api_handover(pickup, state, {"override_reason": "came_from_far"})
    assert done.status_code == 200
    assert (done.json["overridden"], done.json["override_reason"]) == (state, "came_from_far")
    assert done.json["remaining_units"] == 0


@pytest.mark.parametrize(
    ("state", "status", "error"),
    [
        ("cancelled", 409, "cancelled"),
        ("collected", 409, "already_handed_over"),
        ("unknown", 422, "unknown"),
    ],
)
def test_api_override_never_lifts_other_refusals(pickup, state, status, error):
    response = _api_handover(pickup, state, {"override_reason": "staff_decision"})
    assert (response.status_code, response.json["error"]) == (status, error)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "override_reason must be came_from_far, elderly_or_ill or staff_decision."),
        ("zh", "override_reason 须为 came_from_far（远道而来）"),
    ],
)
def test_api_refuses_an_unknown_override_reason_in_the_callers_language(pickup, language, message):
    response = _api_handover(pickup, "too_early", {"override_reason": "vip"}, language)
    assert (response.status_code, response.json["error"]) == (400, "invalid_input")
    assert response.json["message"].startswith(message)


# -- the staff station -----------------------------------------------------------------------


def _station(pickup):
    client = pickup.app.test_client()
    login(client)
    client.get("/staff/?lang=en")  # the station speaks English from here on
    return client


def _post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf(client, "/staff/"), **data})


def test_station_shows_the_queue_first_numbered_once_and_calls_next(pickup):
    with pickup.app.app_context():
        _queued(get_db(), pickup.codes["valid"], pickup.codes["valid_2"])
    client = _station(pickup)
    page = client.get("/staff/").get_data(as_text=True)
    assert page.index('id="queue-section"') < page.index('id="scan-form"')
    assert "<ol" not in page.split('id="queue-section"')[1].split("</section>")[0]
    assert '<th scope="row" class="number">1</th>' in page

    called = _post(client, "/staff/call-next")
    assert called.status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    assert "Calling number 1" in page
    board = pickup.app.test_client().get("/kiosk/1/board.json")
    assert board.json == {"site": board.json["site"], "calling": [1], "waiting": 1}


def test_station_recall_and_skip_by_form(pickup):
    with pickup.app.app_context():
        (booking,) = _queued(get_db(), pickup.codes["valid"])
    client = _station(pickup)
    _post(client, "/staff/call-next")
    _post(client, "/staff/skip", booking_id=str(booking))
    assert pickup.app.test_client().get("/kiosk/1/board.json").json["calling"] == []
    _post(client, "/staff/recall", booking_id=str(booking))
    assert pickup.app.test_client().get("/kiosk/1/board.json").json["calling"] == [1]
    gone = _post(client, "/staff/skip", booking_id="999999")
    assert gone.status_code == 302
    page = client.get("/staff/?lang=en").get_data(as_text=True)
    assert "That number is no longer in the queue" in page


def test_station_without_a_site_asks_to_choose_one(pickup):
    client = _station(pickup)  # nobody queueing, two demo sites, no site chosen
    page = client.get("/staff/?lang=en").get_data(as_text=True)
    assert 'id="call-next"' not in page and 'id="choose-site"' in page
    _post(client, "/staff/call-next")
    assert "This station has no site yet" in client.get("/staff/").get_data(as_text=True)


def test_the_queue_fragment_answers_304_when_unchanged(pickup):
    client = _station(pickup)
    first = client.get("/staff/queue.html")
    assert first.status_code == 200 and 'id="queue-section"' in first.get_data(as_text=True)
    again = client.get("/staff/queue.html", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_board_answers_304_when_unchanged_and_404_for_no_site(pickup):
    client = pickup.app.test_client()
    first = client.get("/kiosk/1/board.json")
    again = client.get("/kiosk/1/board.json", headers={"If-None-Match": first.headers["ETag"]})
    assert (first.status_code, again.status_code, again.data) == (200, 304, b"")
    assert client.get("/kiosk/999/board").status_code == 404
    page = client.get("/kiosk/1/board?lang=en").get_data(as_text=True)
    assert "Now calling" in page and "<script>" not in page


@pytest.mark.parametrize("state", ["too_early", "missed"])
def test_station_override_form_hands_over_with_the_reason_shown(pickup, state):
    client = _station(pickup)
    page = client.get(f"/staff/voucher?code={pickup.codes[state]}&lang=en").get_data(as_text=True)
    assert 'id="override"' in page and "came from far" in page
    response = _post(
        client,
        "/staff/handover",
        code=pickup.codes[state],
        override_reason="came_from_far",
        override_note="two hours by bus",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "exception: came from far: two hours by bus" in page
    assert 'class="handed"' in page and 'id="message"' not in page  # success only


def test_station_without_a_reason_still_refuses_early(pickup):
    client = _station(pickup)
    response = _post(client, "/staff/handover", code=pickup.codes["too_early"])
    assert response.status_code == 409
    bad = _post(client, "/staff/handover", code=pickup.codes["too_early"], override_reason="x")
    assert bad.status_code == 400
    assert "override_reason must be" in bad.get_data(as_text=True)


def test_after_a_full_handover_the_page_shows_success_only(pickup):
    client = _station(pickup)
    response = _post(client, "/staff/handover", code=pickup.codes["valid"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="handed"' in page
    assert 'class="verdict' not in page and 'role="alert"' not in page
    # seen again later, the voucher says it is collected
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="verdict no"' in again


# -- staff search ----------------------------------------------------------------------------


def test_search_says_how_many_matched_shows_slots_and_pages_past_20(pickup):
    client = _station(pickup)
    with pickup.app.app_context():
        total = storage.count_vouchers_found(get_db(), search_terms("宁波").as_params())
    assert total > 40  # the demo's enterprises are mostly 宁波…
    first = client.get("/staff/search", query_string={"q": "宁波"}).get_data(as_text=True)
    assert f"{total} found; showing 1–20." in first
    assert first.count('<td class="slot">') == 20
    assert "4 Feb 1" in first  # each hit's slot, in the distribution's time zone
    assert 'id="next-page"' in first and 'id="prev-page"' not in first
    pages = -(-total // 20)
    last = client.get("/staff/search", query_string={"q": "宁波", "page": pages}).get_data(
        as_text=True
    )
    assert f"Page {pages} of {pages}" in last and 'id="next-page"' not in last
    assert last.count('<td class="slot">') == total - 20 * (pages - 1)
    # every hit is on exactly one page
    seen = set()
    for number in range(1, pages + 1):
        page = client.get("/staff/search", query_string={"q": "宁波", "page": number})
        seen |= set(re.findall(r"code=(\d{16})", page.get_data(as_text=True)))
    assert len(seen) == total


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999", "²", "9999"])
def test_search_with_a_bad_page_shows_a_page(pickup, page):
    client = _station(pickup)
    response = client.get("/staff/search", query_string={"q": "宁波", "page": page})
    assert response.status_code == 200
    assert "found; showing" in response.get_data(as_text=True)
