"""The pickup point without a browser: safety content, accounts, kiosk, staff station, API."""

from __future__ import annotations

import html
import json
import re
import threading
from datetime import timedelta

import pytest
from kiosk_support import AT, PASSWORD, build_pickup, csrf, login
from werkzeug.serving import make_server

from shared import accounts, safety, storage
from shared.db import get_db
from shared.errors import InvalidInput
from shared.messages import mask_name, mask_phone
from shared.safety_seed import SEED

ITEMS = ("hydrogen_peroxide", "sodium_hypochlorite", "ethanol_75", "masks", "thermometers")


@pytest.fixture
def pickup(demo_app):
    return build_pickup(demo_app)


# -- safety content ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("item_key", ITEMS)
def test_every_item_has_full_content_and_one_segment_sms(db, item_key, language):
    content = safety.content_for(db, item_key, language)
    assert content.language == language
    assert all(lines for _key, _heading, lines in content.sections())
    length, limit = safety.sms_length(safety.short_text(db, item_key, language))
    assert limit == (70 if language == "zh" else 160)
    assert 0 < length <= limit


@pytest.mark.parametrize(
    ("item_key", "pictograms", "never_mix"),
    [
        ("sodium_hypochlorite", ("GHS05", "GHS09"), "acids"),
        ("hydrogen_peroxide", ("GHS03", "GHS05", "GHS07"), "reducing agents"),
        ("ethanol_75", ("GHS02", "GHS07"), "bleach"),
    ],
)
def test_chemicals_name_pictograms_and_what_never_to_mix(db, item_key, pictograms, never_mix):
    content = safety.content_for(db, item_key, "en")
    assert content.pictograms == pictograms
    assert any(never_mix in line for line in content.never_mix)


def test_no_content_for_an_item_without_key(db):
    assert safety.content_for(db, None, "zh") is None
    assert safety.content_for(db, "plutonium", "zh") is None
    assert safety.short_text(db, "plutonium", "en") == ""


def test_sms_length_counts_gsm_extension_and_ucs2():
    assert safety.sms_length("a{b}") == (6, 160)
    assert safety.sms_length("口罩") == (2, 70)
    assert safety.sms_length("😷") == (2, 70)


def _entry(**changes):
    entry = {"item_key": "masks", "language": "en", **SEED["masks"]["en"], "pictograms": []}
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"language": "fr"}, "masks/fr: language must be one of zh, en"),
        ({"item_key": "no key"}, "no key/en: item_key must be a word such as sodium_hypochlorite"),
        ({"title": " "}, "masks/en: title must not be empty"),
        ({"hazards": []}, "masks/en: hazards must be a non-empty list of lines"),
        ({"first_aid": "call"}, "masks/en: first_aid must be a non-empty list of lines"),
        (
            {"pictograms": ["GHS99"]},
            "masks/en: pictograms must be a list drawn from GHS02, GHS03, GHS05, GHS07, GHS09",
        ),
        ({"sms": "x" * 161}, "masks/en: sms is 161 characters; one SMS holds 160"),
        ({"sms": "口" * 71}, "masks/en: sms is 71 characters; one SMS holds 70"),
    ],
)
def test_import_refuses_bad_content_and_writes_nothing(db, changes, message):
    good = _entry(title="Changed title")
    with pytest.raises(InvalidInput) as excinfo:
        safety.import_contents(db, [good, _entry(**changes)], AT, "test")
    assert str(excinfo.value) == message
    assert safety.content_for(db, "masks", "en").title == "Masks"


def test_operator_edits_content_by_export_and_import(runner, db, tmp_path):
    exported = runner.invoke(args=["safety-content", "export"])
    assert exported.exit_code == 0, exported.output
    entries = json.loads(exported.output)
    assert {(e["item_key"], e["language"]) for e in entries} == {
        (item, lang) for item in ITEMS for lang in ("zh", "en")
    }
    for entry in entries:
        if entry["item_key"] == "masks" and entry["language"] == "en":
            entry["storage"] = ["Keep them in the box they came in."]
    path = tmp_path / "safety.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["safety-content", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "Saved 10 safety instructions.\n"
    assert safety.content_for(db, "masks", "en").storage == ("Keep them in the box they came in.",)
    assert storage.audit_entries(db, "safety_contents")[0]["action"] == "edit_safety_content"


def test_import_rejects_what_is_not_a_list(runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"item_key": "masks"}', encoding="utf-8")
    result = runner.invoke(args=["safety-content", "import", str(path)])
    assert result.exit_code == 1
    assert "Error: bad.json must hold a JSON list of objects" in result.output


def test_acknowledgement_is_recorded_once(pickup):
    with pickup.app.app_context():
        db = get_db()
        booking_id = storage.voucher_views_for_distribution(db, 1)[0]["booking_id"]
        assert safety.acknowledge(db, booking_id, "hydrogen_peroxide", "zh", "kiosk", AT)
        later = AT + timedelta(minutes=3)
        assert not safety.acknowledge(db, booking_id, "hydrogen_peroxide", "en", "kiosk", later)
        ack = safety.acknowledgement(db, booking_id)
        assert (ack["language"], ack["acknowledged_at"]) == ("zh", storage.to_db_time(AT))


# -- accounts and tokens --------------------------------------------------------------------


def test_user_login_checks_password(db):
    accounts.create_user(db, "carol", PASSWORD, "admin", AT, "test")
    assert accounts.authenticate(db, "carol", PASSWORD)["role"] == "admin"
    stored = storage.get_user_by_name(db, "carol")["password_hash"]
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    for name, password in (("carol", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(accounts.NotAuthenticated, match="^wrong user name or password$"):
            accounts.authenticate(db, name, password)


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("dave", PASSWORD, "root", "role must be one of admin, staff"),
        ("dave", "short", "staff", "a password has at least 8 characters"),
        ("da ve", PASSWORD, "staff", "a user name is 1 to 64 characters without spaces"),
        ("alice", PASSWORD, "staff", "the user 'alice' already exists"),
    ],
)
def test_create_user_refuses(db, name, password, role, message):
    accounts.create_user(db, "alice", PASSWORD, "staff", AT, "test")
    with pytest.raises(InvalidInput) as excinfo:
        accounts.create_user(db, name, password, role, AT, "test")
    assert str(excinfo.value) == message


def test_tokens_are_stored_only_as_hashes(db):
    token = accounts.create_token(db, "kiosk", "gate-1", AT, "test")
    assert token.startswith("pk_") and len(token) > 40
    row = storage.api_token_by_hash(db, accounts.token_hash(token))
    assert token not in json.dumps(row)
    principal = accounts.token_principal(db, token, AT + timedelta(hours=1))
    assert principal["role"] == "kiosk" and principal["device"] == "gate-1"
    row = storage.api_token_by_hash(db, accounts.token_hash(token))
    assert row["last_used_at"] == storage.to_db_time(AT + timedelta(hours=1))


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "missing or malformed token"), ("pk_nope", "unknown or revoked token")],
)
def test_bad_tokens_are_refused(db, token, message):
    with pytest.raises(accounts.NotAuthenticated) as excinfo:
        accounts.token_principal(db, token, AT)
    assert str(excinfo.value) == message


def test_create_user_command_prompts_for_password_twice(runner, db):
    result = runner.invoke(
        args=["create-user", "erin", "--role", "staff"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created staff user erin." in result.output
    assert accounts.authenticate(db, "erin", PASSWORD)["username"] == "erin"


def test_create_user_command_refuses_mismatched_confirmation(runner, db):
    result = runner.invoke(
        args=["create-user", "erin", "--role", "staff"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert "Error: The two entered values do not match." in result.output
    assert result.exit_code == 0


def test_create_token_command_prints_the_token_once(runner, db):
    result = runner.invoke(args=["create-token", "--role", "staff", "--name", "gate-2"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert accounts.token_principal(db, token, AT)["device"] == "gate-2"
    assert "cannot be shown again" in result.stderr


def test_create_token_command_refuses_unknown_role(runner):
    result = runner.invoke(args=["create-token", "--role", "admin", "--name", "x"])
    assert result.exit_code == 2
    assert "'admin' is not one of 'staff', 'kiosk'" in result.output


# -- kiosk ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("", ""),
        ("王", "王"),
        ("王伟", "王*"),
        ("张小明", "张*明"),
        ("宁波恒达机械有限公司", "宁波恒*****公司"),
        ("\u2067王\u2069 \u202e伟", "王*伟"),  # bidi controls are not letters to mask
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_phone():
    assert mask_phone("+8617000000001") == "*** **** 0001"
    assert mask_phone(None) == ""


def _kiosk_post(client, path, code, lang="en"):
    token = csrf(client)
    return client.post(path, data={"code": code, "lang": lang, "csrf_token": token})


def _text(response, element_id):
    match = re.search(rf'id="{element_id}">([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else None


@pytest.mark.parametrize(
    ("state", "lang", "message", "advice"),
    [
        (
            "too_early",
            "en",
            "You are early: come back at 16:45 to 区企业服务中心 Enterprise Service Centre, "
            "宁波市奉化区岳林街道 (Yuelin, Fenghua).",
            "Please come back then",
        ),
        (
            "too_early",
            "zh",
            "您来早了：请于今天 16:45 到区企业服务中心 Enterprise Service Centre"
            "（宁波市奉化区岳林街道 (Yuelin, Fenghua)）领取。",
            "请按时返回",
        ),
        ("collected", "en", "Already collected at 12:55; it cannot be collected twice.", "once"),
        ("collected", "zh", "已于12:55领取，不能重复领取。", "只能领取一次"),
        ("cancelled", "en", "This booking was cancelled; the voucher is no longer valid.", "staff"),
        ("missed", "en", "You missed your pickup time. Reply by SMS or call to rebook.", "rebook"),
        ("mistyped", "en", "This code has a typo. Check the digits and try again.", "16 digits"),
        ("mistyped", "zh", "凭证号码有误，请核对数字后重新输入。", "16位数字"),
        ("unknown", "en", "We do not know this voucher. Please ask staff.", "help desk"),
        ("unknown", "zh", "查无此凭证。请向工作人员求助。", "服务台"),
    ],
)
def test_kiosk_refusal_screens(pickup, state, lang, message, advice):
    client = pickup.app.test_client()
    response = _kiosk_post(client, "/kiosk/1/check", pickup.codes[state], lang)
    assert response.status_code == 200
    assert _text(response, "message") == message
    assert advice in _text(response, "advice")
    assert "/kiosk/1/checkin" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "heading", "button"),
    [("en", "Never mix", "I have read and understood"), ("zh", "切勿混用", "我已阅读并了解")],
)
def test_kiosk_valid_voucher_shows_masked_summary_and_safety(pickup, lang, heading, button):
    client = pickup.app.test_client()
    response = _kiosk_post(client, "/kiosk/1/check", pickup.codes["valid"], lang)
    page = response.get_data(as_text=True)
    with pickup.app.app_context():
        serial = int(pickup.codes["valid"][:7])
        voucher = storage.voucher_view(get_db(), serial)
    assert voucher["recipient_name"] not in page and voucher["phone"] not in page
    assert _text(response, "recipient") == mask_name(voucher["recipient_name"])
    assert voucher["phone"][-4:] in page
    assert heading in page and button in page
    assert page.count('class="ghs"') == 3  # hydrogen peroxide: GHS03, GHS05, GHS07
    assert "Enterprise Service Centre" in page or "企业服务中心" in page


def test_kiosk_acknowledge_then_check_in_gives_a_queue_number_once(pickup):
    client = pickup.app.test_client()
    first = _kiosk_post(client, "/kiosk/1/checkin", pickup.codes["valid"])
    second = _kiosk_post(client, "/kiosk/1/checkin", pickup.codes["valid_2"])
    again = _kiosk_post(client, "/kiosk/1/check", pickup.codes["valid"], "zh")
    assert (_text(first, "queue-number"), _text(second, "queue-number")) == ("1", "2")
    assert _text(again, "queue-number") == "1"  # checked in and acknowledged: straight there
    assert "您已签到，排队号不变。" in again.get_data(as_text=True)
    with pickup.app.app_context():
        db = get_db()
        voucher = storage.voucher_view(db, int(pickup.codes["valid"][:7]))
        assert voucher["handed_units"] == 0  # the kiosk never hands over
        assert safety.acknowledgement(db, voucher["booking_id"])["channel"] == "kiosk"


def test_kiosk_refuses_a_post_without_csrf_token(pickup):
    client = pickup.app.test_client()
    response = client.post("/kiosk/1/check", data={"code": pickup.codes["valid"]})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_kiosk_start_screen_has_three_ways_in_and_idle_reset(pickup):
    page = pickup.app.test_client().get("/kiosk/1?lang=en").get_data(as_text=True)
    assert 'id="code"' in page and "autofocus" in page  # keyboard wedge
    assert page.count("data-key=") == 12  # keypad
    assert 'id="camera"' in page and "qr-scanner.min.js" in page  # loaded only on tap
    assert 'data-idle-seconds="45"' in page
    assert "<script src=" in page and 'qr-scanner.min.js" defer' not in page


def test_voucher_page_shows_safety_instructions(pickup):
    response = pickup.app.test_client().get(f"/v/{pickup.codes['valid']}?lang=en")
    page = response.get_data(as_text=True)
    assert "Hydrogen peroxide disinfectant" in page
    assert "Never mix with reducing agents, metals or metal salts (iron, copper)." in page
    assert 'aria-label="GHS03: Oxidiser"' in page


# -- staff station --------------------------------------------------------------------------


def test_staff_pages_need_a_login(pickup):
    client = pickup.app.test_client()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/staff/queue.json").status_code == 401


def test_staff_login_refuses_a_wrong_password(pickup):
    client = pickup.app.test_client()
    response = login(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True) or (
        "用户名或密码错误。" in response.get_data(as_text=True)
    )


def _staff_post(client, path, **data):
    token = csrf(client, "/staff/")
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)


def test_staff_counts_units_as_each_language_does(pickup):
    """Chinese counts with the unit's own name (9桶), English as 9 × 20 kg drum."""
    client = pickup.app.test_client()
    login(client)
    code = pickup.codes["valid"]
    with pickup.app.app_context():
        voucher = storage.voucher_view(get_db(), int(code[:7]))
    units, name_zh = voucher["units"], voucher["unit_name"]
    page = client.get(f"/staff/voucher?code={code}&lang=zh").get_data(as_text=True)
    assert f"全部发放{units}{name_zh}" in page and " × " not in page
    partial = _staff_post(client, "/staff/handover", code=code, units="1", lang="zh")
    assert f"已发放1{name_zh}，还剩{units - 1}。" in partial.get_data(as_text=True)


def test_staff_hands_over_part_then_rest_and_undoes(pickup):
    client = pickup.app.test_client()
    login(client)
    code = pickup.codes["valid"]
    page = client.get(f"/staff/voucher?code={code}&lang=en")
    assert page.status_code == 200 and "Hand over all" in page.get_data(as_text=True)
    with pickup.app.app_context():
        units = storage.voucher_view(get_db(), int(code[:7]))["units"]
    partial = _staff_post(client, "/staff/handover", code=code, units="1")
    assert f"Handed over 1 × 20 kg drum; {units - 1} still due." in partial.get_data(as_text=True)
    rest = _staff_post(client, "/staff/handover", code=code)
    assert f"Handed over {units - 1} × 20 kg drum; 0 still due." in rest.get_data(as_text=True)
    assert _text(rest, "remaining") == "0"
    with pickup.app.app_context():
        last = storage.last_handover(
            get_db(), storage.voucher_view(get_db(), int(code[:7]))["booking_id"]
        )
    assert (last["staff"], last["station"]) == ("alice", "Desk 1")
    undone = _staff_post(client, "/staff/undo", code=code, handover_id=str(last["id"]))
    assert "That handover was undone." in undone.get_data(as_text=True)
    assert _text(undone, "remaining") == str(units - 1)


def test_staff_undo_after_the_window_is_refused(pickup):
    client = pickup.app.test_client()
    login(client)
    code = pickup.codes["valid"]
    _staff_post(client, "/staff/handover", code=code)
    with pickup.app.app_context():
        booking = storage.voucher_view(get_db(), int(code[:7]))["booking_id"]
        handover_id = storage.last_handover(get_db(), booking)["id"]
    pickup.app.config["CLOCK"] = lambda: AT + timedelta(seconds=121)
    response = _staff_post(client, "/staff/undo", code=code, handover_id=str(handover_id))
    assert response.status_code == 400
    assert "发放只能在 120 秒内撤销；请改由管理员登记更正。" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "That handover was already undone; nothing changed."),
        ("zh", "该次发放已经撤销过，无需再撤销。"),
    ],
)
def test_staff_undo_twice_says_already_undone(pickup, lang, message):
    client = pickup.app.test_client()
    login(client)
    code = pickup.codes["valid"]
    client.get(f"/staff/voucher?code={code}&lang={lang}")
    _staff_post(client, "/staff/handover", code=code)
    with pickup.app.app_context():
        booking = storage.voucher_view(get_db(), int(code[:7]))["booking_id"]
        handover_id = storage.last_handover(get_db(), booking)["id"]
    first = _staff_post(client, "/staff/undo", code=code, handover_id=str(handover_id))
    assert first.status_code == 200
    again = _staff_post(client, "/staff/undo", code=code, handover_id=str(handover_id))
    assert again.status_code == 409
    assert message in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("units", "lang", "message"),
    [
        ("0", "en", "units must be between 1 and 2, the units still due"),
        ("3", "zh", "数量（units）须在 1 到 2 之间，即尚待发放的数量。"),
        ("x", "en", "units must be a whole number"),
        ("²", "zh", "数量（units）必须是整数。"),
        ("9" * 30, "zh", "数量（units）必须是整数。"),
    ],
)
def test_staff_partial_handover_refuses_bad_counts(pickup, units, lang, message):
    client = pickup.app.test_client()
    login(client)
    client.get(f"/staff/?lang={lang}")
    response = _staff_post(client, "/staff/handover", code=pickup.codes["valid"], units=units)
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    with pickup.app.app_context():
        assert storage.count_handovers(get_db(), 1) == 1  # only the 12:55 one


def test_second_station_is_told_who_handed_over(pickup):
    alice, bob = pickup.app.test_client(), pickup.app.test_client()
    login(alice, "alice", "Desk 1")
    login(bob, "bob", "Desk 2")
    bob.get("/staff/?lang=en")
    code = pickup.codes["valid"]
    assert _staff_post(alice, "/staff/handover", code=code).status_code == 200
    response = _staff_post(bob, "/staff/handover", code=code)
    assert response.status_code == 409
    assert _text(response, "alert") == (
        "Already handed over by alice at Desk 1 at 13:00; not again."
    )


def test_staff_checks_in_records_explained_safety_and_sees_queue(pickup):
    client = pickup.app.test_client()
    login(client)
    code = pickup.codes["valid"]
    _staff_post(client, "/staff/checkin", code=code)
    page = _staff_post(client, "/staff/acknowledge", code=code)
    assert "staff:alice" in _text(page, "ack")
    queue = client.get("/staff/queue.json").json["queue"]
    assert [(e["queue_number"], e["code"]) for e in queue] == [(1, code)]
    assert pickup.codes["valid"] in client.get("/staff/").get_data(as_text=True)


@pytest.mark.parametrize("field", ["recipient_name", "phone", "code"])
def test_staff_search_by_name_phone_or_code(pickup, field):
    code = pickup.codes["valid"]
    with pickup.app.app_context():
        voucher = storage.voucher_view(get_db(), int(code[:7]))
    query = voucher[field][:6] if field == "recipient_name" else voucher[field][-8:]
    client = pickup.app.test_client()
    login(client)
    page = client.get("/staff/search", query_string={"q": query}).get_data(as_text=True)
    assert f"/staff/voucher?code={code}" in page


def test_staff_search_without_match(pickup):
    client = pickup.app.test_client()
    login(client)
    page = client.get("/staff/search?q=zzzz&lang=en").get_data(as_text=True)
    assert "Nothing found." in page


def test_login_redirect_stays_on_site(pickup):
    client = pickup.app.test_client()
    token = csrf(client, "/staff/login")
    response = client.post(
        "/staff/login?next=https://evil.example/",
        data={"username": "alice", "password": PASSWORD, "station": "D", "csrf_token": token},
    )
    assert response.headers["Location"] == "/staff/"


# -- scanner API ----------------------------------------------------------------------------


def _api(client, token, code, action, **json_body):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(f"/api/v1/vouchers/{code}/{action}", headers=headers, json=json_body or None)


@pytest.mark.parametrize(
    ("header", "lang", "body"),
    [
        (None, "en", {"message": "send Authorization: Bearer <token>"}),
        ("Basic abc", "en", {"message": "send Authorization: Bearer <token>"}),
        ("Bearer pk_forged", "en", {"message": "unknown or revoked token", "key": "token_unknown"}),
        ("Bearer pk_forged", "zh", {"message": "令牌未知或已撤销。", "key": "token_unknown"}),
    ],
)
def test_api_refuses_missing_or_bad_tokens(pickup, header, lang, body):
    client = pickup.app.test_client()
    headers = {"Authorization": header} if header else {}
    url = f"/api/v1/vouchers/{pickup.codes['valid']}/check?lang={lang}"
    response = client.post(url, headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "unauthorized", **body}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pickup"'


@pytest.mark.parametrize(
    ("state", "valid", "reason"),
    [
        ("valid", True, "valid"),
        ("too_early", False, "too_early"),
        ("collected", False, "already_collected"),
        ("unknown", False, "unknown"),
    ],
)
def test_api_check(pickup, state, valid, reason):
    response = _api(pickup.app.test_client(), pickup.kiosk_token, pickup.codes[state], "check")
    assert response.status_code == 200
    assert (response.json["valid"], response.json["reason"]) == (valid, reason)
    assert (response.json["booking"] is None) == (state == "unknown")


def test_api_check_in_with_kiosk_token_is_idempotent(pickup):
    client = pickup.app.test_client()
    first = _api(client, pickup.kiosk_token, pickup.codes["valid"], "checkin")
    again = _api(client, pickup.staff_token, pickup.codes["valid"], "checkin")
    assert first.status_code == again.status_code == 200
    assert (first.json["queue_number"], first.json["first_time"]) == (1, True)
    assert (again.json["queue_number"], again.json["first_time"]) == (1, False)
    refused = _api(client, pickup.kiosk_token, pickup.codes["too_early"], "checkin")
    assert refused.status_code == 409
    assert refused.json["error"] == "too_early"
    assert refused.json["message"] == (
        "您来早了：请于今天 16:45 到区企业服务中心 Enterprise Service Centre"
        "（宁波市奉化区岳林街道 (Yuelin, Fenghua)）领取。"
    )


def test_api_kiosk_token_cannot_hand_over(pickup):
    response = _api(pickup.app.test_client(), pickup.kiosk_token, pickup.codes["valid"], "handover")
    assert response.status_code == 403
    assert response.json == {"error": "forbidden", "message": "a kiosk token cannot do this"}


def test_api_handover_once_then_409_with_who_and_when(pickup):
    client = pickup.app.test_client()
    code = pickup.codes["valid"]
    first = _api(client, pickup.staff_token, code, "handover")
    assert first.status_code == 200
    assert first.json["remaining_units"] == 0 and first.json["booking"]["remaining_units"] == 0
    repeat = _api(client, pickup.staff_token, code, "handover")
    assert repeat.status_code == 409
    assert repeat.json["error"] == "already_handed_over"
    assert (repeat.json["staff"], repeat.json["station"]) == ("api:handheld-1", "handheld-1")
    assert repeat.json["at"] == storage.to_db_time(AT)


def _handovers_and_audit(pickup) -> tuple[int, int]:
    with pickup.app.app_context():
        db = get_db()
        return storage.count_rows(db, "handovers"), storage.count_rows(db, "audit_log")


JSON = "application/json"
NOT_JSON = 'The body is not valid JSON; send one like {"units": 2}.'
ONLY_UNITS = (
    'The body can only be an object like {"units": 2}, with an optional "override_reason" '
    'and "override_note".'
)
NOT_WHOLE = "units must be a whole number"
WRONG_TYPE = "Send the body with Content-Type: application/json."


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        # a truncated body used to hand over everything (200, units 4)
        (b'{"units": 1', JSON, NOT_JSON),
        (b"units=1", "application/x-www-form-urlencoded", WRONG_TYPE),
        (b'{"units": 1}', "text/plain", WRONG_TYPE),
        (b'{"units": 1}', None, WRONG_TYPE),
        (b"\xff\xfe{", JSON, NOT_JSON),
        (b"[" * 60_000, JSON, NOT_JSON),  # nested past the parser's depth, under 64 KB
        (b'{"units": ' + b"9" * 5000 + b"}", JSON, NOT_JSON),
        (b"NaN", JSON, ONLY_UNITS),
        (b"[1]", JSON, ONLY_UNITS),
        (b'{"units": 1, "staff": "bob"}', JSON, ONLY_UNITS),
        (b'{"units": "two"}', JSON, NOT_WHOLE),
        (b'{"units": 1.0}', JSON, NOT_WHOLE),
        (b'{"units": 1e400}', JSON, NOT_WHOLE),
        (b'{"units": true}', JSON, NOT_WHOLE),
        (b'{"units": 0}', JSON, "units must be between 1 and"),
        (b'{"units": -1}', JSON, "units must be between 1 and"),
        (b'{"units": 100000000000000000000000000000}', JSON, "units must be between 1 and 2,"),
    ],
)
def test_api_handover_refuses_a_bad_body_and_writes_nothing(pickup, body, content_type, message):
    client = pickup.app.test_client()
    before = _handovers_and_audit(pickup)
    headers = {"Authorization": f"Bearer {pickup.staff_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post(
        f"/api/v1/vouchers/{pickup.codes['valid']}/handover?lang=en", data=body, headers=headers
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_input"
    assert response.json["message"].startswith(message)
    assert _handovers_and_audit(pickup) == before


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh", '请求正文不是有效的 JSON，应如 {"units": 2}。'), ("en", NOT_JSON)],
)
def test_api_bad_body_is_told_in_the_callers_language(pickup, language, message):
    response = pickup.app.test_client().post(
        f"/api/v1/vouchers/{pickup.codes['valid']}/handover",
        data=b'{"units": 1',
        headers={
            "Authorization": f"Bearer {pickup.staff_token}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept-Language": language,
        },
    )
    assert (response.status_code, response.json["message"]) == (400, message)


@pytest.mark.parametrize("body", [None, {}, {"units": None}, {"units": 1}])
def test_api_handover_takes_an_empty_or_good_body(pickup, body):
    client = pickup.app.test_client()
    headers = {"Authorization": f"Bearer {pickup.staff_token}"}
    code = pickup.codes["valid"]
    response = client.post(f"/api/v1/vouchers/{code}/handover", headers=headers, json=body)
    assert response.status_code == 200
    units = response.json["booking"]["units"]
    assert response.json["units"] == (1 if body and body.get("units") else units)


def test_api_partial_handover_and_undo(pickup):
    client = pickup.app.test_client()
    first = _api(client, pickup.staff_token, pickup.codes["valid"], "handover", units=1)
    assert first.status_code == 200 and first.json["units"] == 1
    headers = {"Authorization": f"Bearer {pickup.staff_token}"}
    undo = client.post(f"/api/v1/handovers/{first.json['handover_id']}/undo", headers=headers)
    assert undo.json == {"handover_id": first.json["handover_id"], "undone": True}
    again = client.post(f"/api/v1/handovers/{first.json['handover_id']}/undo", headers=headers)
    assert again.status_code == 409 and again.json["error"] == "already_undone"


def test_api_token_undoes_only_its_own_handovers(pickup):
    """Another token, even with the same device name, and the staff page's handovers: 403."""
    with pickup.app.app_context():
        twin = accounts.create_token(get_db(), "staff", "handheld-1", AT, "test")
    client = pickup.app.test_client()
    mine = _api(client, pickup.staff_token, pickup.codes["valid"], "handover", units=1)
    assert mine.status_code == 200
    for token, handover_id in ((twin, mine.json["handover_id"]), (pickup.staff_token, 1)):
        response = client.post(
            f"/api/v1/handovers/{handover_id}/undo?lang=en",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 403
        assert response.json == {
            "error": "not_your_handover",
            "message": "A token can only undo the handovers it made.",
        }
    with pickup.app.app_context():
        assert storage.get_handover(get_db(), 1)["undone_at"] is None  # alice's, at Desk 1
        assert storage.get_handover(get_db(), mine.json["handover_id"])["undone_at"] is None
    own = client.post(
        f"/api/v1/handovers/{mine.json['handover_id']}/undo",
        headers={"Authorization": f"Bearer {pickup.staff_token}"},
    )
    assert own.json == {"handover_id": mine.json["handover_id"], "undone": True}


@pytest.mark.parametrize(
    ("case", "lang", "status", "body"),
    [
        (
            "undone_before",
            "en",
            409,
            {
                "error": "already_undone",
                "message": "That handover was already undone; nothing changed.",
            },
        ),
        (
            "undone_before",
            "zh",
            409,
            {"error": "already_undone", "message": "该次发放已经撤销过，无需再撤销。"},
        ),
        (
            "too_late",
            "en",
            409,
            {
                "error": "undo_window_passed",
                "key": "undo_window_passed",
                "message": "a handover can only be undone within 120 seconds; "
                "record a correction with the operator instead",
            },
        ),
        (
            "too_late",
            "zh",
            409,
            {
                "error": "undo_window_passed",
                "key": "undo_window_passed",
                "message": "发放只能在 120 秒内撤销；请改由管理员登记更正。",
            },
        ),
        (
            "unknown",
            "en",
            404,
            {
                "error": "not_found",
                "key": "handover_missing",
                "message": "handover 999999 does not exist",
            },
        ),
        (
            "unknown",
            "zh",
            404,
            {
                "error": "not_found",
                "key": "handover_missing",
                "message": "发放记录 999999 不存在。",
            },
        ),
    ],
)
def test_api_undo_refusals_each_have_their_own_error(pickup, case, lang, status, body):
    client = pickup.app.test_client()
    headers = {"Authorization": f"Bearer {pickup.staff_token}"}
    made = _api(client, pickup.staff_token, pickup.codes["valid"], "handover", units=1)
    handover_id = made.json["handover_id"] if case != "unknown" else 999999
    if case == "undone_before":
        client.post(f"/api/v1/handovers/{handover_id}/undo", headers=headers)
    if case == "too_late":
        pickup.app.config["CLOCK"] = lambda: AT + timedelta(seconds=121)
    response = client.post(f"/api/v1/handovers/{handover_id}/undo?lang={lang}", headers=headers)
    assert (response.status_code, response.json) == (status, body)


def test_api_concurrent_handovers_give_exactly_one_success(pickup):
    """Eight threads against a real threaded server: one 200, seven 409 naming the first."""
    server = make_server("127.0.0.1", 0, pickup.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        import http.client

        start = threading.Barrier(8)
        results: list[tuple[int, dict]] = []

        def hand_over_once() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
            start.wait()
            connection.request(
                "POST",
                f"/api/v1/vouchers/{pickup.codes['valid']}/handover",
                headers={"Authorization": f"Bearer {pickup.staff_token}"},
            )
            response = connection.getresponse()
            results.append((response.status, json.loads(response.read())))

        workers = [threading.Thread(target=hand_over_once) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        server.shutdown()
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 7
    assert {body["station"] for status, body in results if status == 409} == {"handheld-1"}
    with pickup.app.app_context():
        voucher = storage.voucher_view(get_db(), int(pickup.codes["valid"][:7]))
        assert storage.count_handovers(get_db(), 1) == 2  # this one and the 12:55 one
        assert voucher["handed_units"] == voucher["units"]
