"""Hardening: CSRF on every form, session cookies, security headers, the sign-in limit,
the per-phone limits on SMS and calls, logs without secrets, and the landing page."""

from __future__ import annotations

import html
import json
import logging
import re
import urllib.request
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hardening_support import (
    CSRF,
    FORM_EXPIRED,
    TWILIO_TOKEN,
    accepted_spellings,
    build_site,
    client_for,
    row_counts,
    rules,
    signed_post,
    url_of,
)
from kiosk_support import AT, PASSWORD
from support import DEMO_LOADED_AT, SECRET, make_code

from auth.texts import t as auth_t
from shared import logsafe, ratelimit, storage
from shared.db import get_db
from shared.segments import count_segments
from shared.vouchers import format_code, normalise_code, qr_content
from sms import ivr, texts
from sms.conversation import ChannelConfig, handle_sms
from sms.senders import ConsoleSender
from web import security as web_security
from wsgi import create_app

ROOT = Path(__file__).resolve().parents[1]
EN_PHONE = "+8617000000009"  # demo enterprise 9 prefers English
ZH_PHONE = "+8617000000001"


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_sqlite_template):
    # Shared by the module's tests, so on one engine (SQLite).
    return build_site(tmp_path_factory.mktemp("hardening"), demo_sqlite_template)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- CSRF -----------------------------------------------------------------------------------

# POST routes without a CSRF token, by design: each has its own credential.
CSRF_EXEMPT = {
    "sms.sms_inbound": "Twilio signature",
    "sms.sms_status": "Twilio signature",
    "sms.ivr_voice": "Twilio signature",
    "sms.ivr_step": "Twilio signature",
    "sms.android_webhook": "Android gateway signature",
    "api.check": "bearer token",
    "api.checkin": "bearer token",
    "api.handover": "bearer token",
    "api.undo": "bearer token",
    # a signed-in station sends its session's token in X-CSRF-Token (test_offline_sync.py)
    "api.sync_upload": "bearer token, or the session's CSRF token in a header",
}
FORM_BLUEPRINTS = {"kiosk", "auth", "staff", "admin", "sms"}


def form_rules(app) -> list:
    """Every POST route that is an HTML form (all but the exempt ones)."""
    return [r for r in rules(app, "POST") if r.endpoint not in CSRF_EXEMPT]


def test_every_html_blueprint_has_forms_under_test(site):
    blueprints = {rule.endpoint.split(".")[0] for rule in form_rules(site.app)}
    assert blueprints == FORM_BLUEPRINTS
    assert {r.endpoint for r in rules(site.app, "POST")} >= CSRF_EXEMPT.keys()


@pytest.mark.parametrize("sent", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
def test_every_form_refuses_a_post_without_the_session_token(site, sent):
    refused = []
    for rule in form_rules(site.app):
        client = client_for(site, "admin")  # an admin may use every form
        data = {"code": site.codes["valid_2"], "username": "ada", "password": PASSWORD}
        if sent is not None:
            data["csrf_token"] = sent
        before = row_counts(site.app)
        response = client.post(url_of(site, rule), data=data)
        if response.status_code == 400 and FORM_EXPIRED in text_of(response):
            refused.append(rule.endpoint)
        assert row_counts(site.app) == before, rule.rule
    assert sorted(refused) == sorted(r.endpoint for r in form_rules(site.app))


def test_the_forms_take_the_session_token(site):
    client = client_for(site, "anonymous")
    response = client.post("/kiosk/1/check", data={"code": site.codes["valid"], "csrf_token": CSRF})
    assert response.status_code == 200 and 'data-screen="safety"' in text_of(response)


def test_webhooks_and_api_are_exempt_but_need_their_own_credentials(site):
    client = client_for(site, "anonymous")
    webhooks = {
        "/sms/inbound": {"From": EN_PHONE, "To": "+1500", "Body": "HELP", "MessageSid": "SMx1"},
        "/sms/status": {"MessageSid": "SMnone", "MessageStatus": "delivered"},
        "/ivr/voice": {"CallSid": "CAx1", "From": EN_PHONE},
        "/ivr/bye": {"CallSid": "CAx1", "From": EN_PHONE},
    }
    for path, form in webhooks.items():
        assert client.post(path, data=form).status_code == 403, path
        assert signed_post(client, path, form).status_code in (200, 204), path
    code = site.codes["valid_2"]
    api = ["/api/v1/vouchers/{}/check", "/api/v1/vouchers/{}/checkin"]
    for path in (p.format(code) for p in api):
        assert client.post(path).status_code == 401, path
        assert client_for(site, "kiosk_token").post(path).status_code == 200, path
    staff = client_for(site, "staff_token")
    handed = staff.post(f"/api/v1/vouchers/{code}/handover", json={})
    assert handed.status_code == 200
    undone = staff.post(f"/api/v1/handovers/{handed.json['handover_id']}/undo")
    assert undone.status_code == 200


# -- session cookies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "testing", "secure"),
    [("production", False, True), ("development", False, False), ("production", True, False)],
)
def test_session_cookie_is_httponly_lax_and_secure_outside_development(
    tmp_path, env, testing, secure
):
    app = create_app(
        {"SECRET_KEY": SECRET, "PICKUP_DB": str(tmp_path / "db.sqlite3"), "PICKUP_ENV": env}
        | ({"TESTING": True} if testing else {})
    )
    with app.app_context():
        storage.migrate(get_db())  # the sign-in page lists the pickup sites
    response = app.test_client().get("/staff/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie.split("; ")) is secure


def test_cookie_policy_is_set_once_by_the_app_not_by_a_blueprint():
    for path in (ROOT / "kiosk", ROOT / "admin", ROOT / "sms"):
        for source in path.glob("*.py"):
            assert "SESSION_COOKIE" not in source.read_text(), source


# -- security headers -----------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def test_content_security_policy_allows_no_inline_script_or_style():
    policy = directives(web_security.CSP)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in web_security.CSP and "'unsafe-eval'" not in web_security.CSP
    assert policy["worker-src"] == ["'self'", "blob:"]  # qr-scanner's decoder worker
    for name, value in [
        ("frame-ancestors", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("form-action", ["'self'"]),
        ("object-src", ["'none'"]),
        ("default-src", ["'self'"]),
    ]:
        assert policy[name] == value, name


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "inline <script>"),
    (re.compile(r"<style\b"), "<style> block"),
    (re.compile(r"\sstyle="), "style attribute"),
    (re.compile(r"\son[a-z]+="), "event handler attribute"),
]


@pytest.mark.parametrize("template", sorted(ROOT.glob("*/templates/**/*.html")), ids=str)
def test_templates_have_no_inline_script_or_style(template):
    source = template.read_text()
    found = [what for pattern, what in INLINE if pattern.search(source)]
    assert found == []


@pytest.mark.parametrize(
    ("method", "path", "camera"),
    [
        ("get", "/", False),
        ("get", "/kiosk", True),
        ("get", "/kiosk/static/staff.js", True),
        ("get", "/static/web/screens.js", False),
        ("get", "/staff/login", True),
        ("get", "/staff/", True),
        ("get", "/admin/", False),
        ("get", "/v/1234", False),
        ("get", "/healthz", False),
        ("get", "/dev/phone", False),
        ("get", "/no/such/page", False),
        ("post", "/sms/inbound", False),
        ("post", "/api/v1/vouchers/1234/check", False),
    ],
)
def test_every_response_carries_the_security_headers(site, method, path, camera):
    response = getattr(client_for(site, "anonymous"), method)(path)
    headers = response.headers
    assert headers["Content-Security-Policy"] == web_security.CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    permissions = headers["Permissions-Policy"]
    assert permissions.startswith("camera=(self)," if camera else "camera=(),")
    assert "microphone=()" in permissions
    assert headers["Strict-Transport-Security"] == "max-age=31536000"  # BASE is https


@pytest.mark.parametrize(
    ("base", "hsts"),
    [("https://pickup.example.org", True), ("http://10.0.0.5", False), (None, False)],
)
def test_hsts_only_when_the_public_url_is_https(tmp_path, base, hsts):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "PICKUP_DB": str(tmp_path / "db.sqlite3"),
            "PUBLIC_BASE_URL": base,
        }
    )
    with app.app_context():
        storage.migrate(get_db())
    response = app.test_client().get("/staff/login")
    assert ("Strict-Transport-Security" in response.headers) is hsts


# -- sign-in limit: per (user name, address) and per address, never per name alone --------

WRONG = "Wrong user name or password."
PAUSED = {
    "en": "Too many failed sign-ins from this device or network. Sign-in from here is paused; "
    "try again in {minutes} min.",
    "zh": "这台设备或网络登录失败次数过多，已暂停从这里登录。请{minutes}分钟后再试。",
}
ATTACKER, OPERATOR = "203.0.113.66", "198.51.100.20"


@pytest.fixture
def signin(tmp_path, demo_template):
    """A fresh demo site at 13:00 whose clock the test moves; 5 free failures per name and
    address, 8 per address, a first pause of 1 minute."""
    site = build_site(tmp_path, demo_template, PICKUP_LOGIN_MAX_FAILURES_PER_ADDRESS=8)
    clock = {"now": AT}
    site.app.config["CLOCK"] = lambda: clock["now"]
    site.clock = clock
    return site


def sign_in(site, username, password, address="192.0.2.1", lang="en"):
    client = client_for(site, "anonymous", lang)
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "station": "Desk 9", "csrf_token": CSRF},
        environ_base={"REMOTE_ADDR": address},
    )


def wait_out_pause(site, username: str, address: str) -> None:
    """Move the clock just past the pause on this name and address (not a minute more)."""
    counts = [(username, address), (ratelimit.WHOLE_ADDRESS, address)]
    with site.app.app_context():
        until = storage.login_paused_until(get_db(), counts, site.clock["now"])
    site.clock["now"] = until + timedelta(seconds=1)


def lock_audit(site, subject: str) -> list[dict]:
    with site.app.app_context():
        entries = storage.audit_entries(get_db(), subject)
    return [json.loads(e["detail"]) for e in reversed(entries) if e["action"] == "login_locked"]


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [
        (1, None),
        (4, None),
        (5, 1),
        (6, 2),
        (7, 4),
        (12, 128),
        (16, 1440),
        (50, 1440),
        (10**6, 1440),
    ],
)
def test_pauses_start_after_the_free_failures_and_double(failures, minutes):
    limits = ratelimit.LoginLimits()
    pause = limits.pause_after(failures, limits.max_failures)
    assert pause == (timedelta(minutes=minutes) if minutes else None)


def test_no_limit_when_free_failures_is_zero():
    assert ratelimit.LoginLimits().pause_after(1000, 0) is None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_attacker_failing_50_times_does_not_lock_out_the_admin(signin, lang):
    """Issue 10, Medium 3: five wrong passwords for a name no longer lock its owner out."""
    for n in range(50):
        response = sign_in(signin, "ada", f"guess {n}", ATTACKER, lang)
        if response.status_code == 429:  # paused: the attacker waits it out, then goes on
            wait_out_pause(signin, "ada", ATTACKER)
            response = sign_in(signin, "ada", f"guess {n}", ATTACKER, lang)
        assert response.status_code in (401, 429), n
    # The real admin, from their own address, signs in at once.
    assert sign_in(signin, "ada", "an admin password", OPERATOR).status_code == 302
    # The attacker is paused, even with the right password, and told so in their language.
    refused = sign_in(signin, "ada", "an admin password", ATTACKER, lang)
    assert refused.status_code == 429
    assert re.search(re.escape(PAUSED[lang]).replace(r"\{minutes\}", r"\d+"), text_of(refused))
    # Each pause of the pair was longer than the one before, up to the longest.
    pauses = [d["failures"] for d in lock_audit(signin, f"login:ada@{ATTACKER}")]
    assert pauses == sorted(pauses) and len(pauses) >= 3


def test_a_pause_is_for_that_name_from_that_address_and_grows(signin):
    for _ in range(4):
        response = sign_in(signin, "alice", "wrong password")
        assert response.status_code == 401 and WRONG in text_of(response)
    fifth = sign_in(signin, "alice", "wrong password")
    assert fifth.status_code == 429 and PAUSED["en"].format(minutes=1) in text_of(fifth)
    right = sign_in(signin, "alice", PASSWORD)  # from the paused address: refused
    assert right.status_code == 429 and PAUSED["en"].format(minutes=1) in text_of(right)
    assert sign_in(signin, "alice", PASSWORD, "192.0.2.2").status_code == 302  # elsewhere: in
    assert sign_in(signin, "bob", PASSWORD).status_code == 302  # other names: in
    # Waiting out the pause does not reset the count: the next failure pauses for longer.
    signin.clock["now"] = AT + timedelta(minutes=1, seconds=1)
    sixth = sign_in(signin, "alice", "wrong password")
    assert sixth.status_code == 429 and PAUSED["en"].format(minutes=2) in text_of(sixth)
    signin.clock["now"] += timedelta(minutes=2, seconds=1)
    assert sign_in(signin, "alice", PASSWORD).status_code == 302
    details = lock_audit(signin, "login:alice@192.0.2.1")
    assert [d["failures"] for d in details] == [5, 6]
    assert lock_audit(signin, "user:alice") == []  # nothing is counted per name alone


def test_the_pause_message_is_in_the_users_language(signin):
    for _ in range(5):
        response = sign_in(signin, "alice", "wrong password", lang="zh")
    assert response.status_code == 429
    assert auth_t("login_locked", "zh", minutes=1) == PAUSED["zh"].format(minutes=1)
    assert PAUSED["zh"].format(minutes=1) in text_of(response)


def test_a_successful_sign_in_clears_the_pairs_count(signin):
    for _ in range(4):
        sign_in(signin, "alice", "wrong password")
    assert sign_in(signin, "alice", PASSWORD).status_code == 302
    # Without the reset the pair would be paused at its next failure (the fifth).
    for _ in range(3):
        assert sign_in(signin, "alice", "wrong password").status_code == 401
    # The address keeps its count (now 7 of 8): a success must not reset an address's count.
    assert sign_in(signin, "guess", "wrong password").status_code == 429


def test_old_failures_are_forgotten_after_the_window(signin):
    for _ in range(4):
        sign_in(signin, "alice", "wrong password")
    signin.clock["now"] = AT + timedelta(minutes=16)
    for _ in range(4):
        assert sign_in(signin, "alice", "wrong password").status_code == 401
    with signin.app.app_context():
        rows = get_db().execute("SELECT username, failures FROM login_throttle ORDER BY 1")
        assert [tuple(r) for r in rows] == [("", 4), ("alice", 4)]


def test_one_address_trying_many_names_is_paused(signin):
    for n in range(7):
        assert sign_in(signin, f"guess{n}", "x").status_code == 401
    eighth = sign_in(signin, "guess7", "x")
    assert eighth.status_code == 429 and PAUSED["en"].format(minutes=1) in text_of(eighth)
    assert sign_in(signin, "alice", PASSWORD).status_code == 429  # from that address
    assert sign_in(signin, "alice", PASSWORD, address="192.0.2.2").status_code == 302
    assert [d["failures"] for d in lock_audit(signin, "address:192.0.2.1")] == [8]


def test_counts_are_shared_by_every_app_node(signin):
    """Two apps on one database (two nodes, or two gunicorn workers) count together."""
    other = create_app({**signin.app.config, "CLOCK": signin.app.config["CLOCK"]})
    twin = type(signin)(type(signin.pickup)(other, signin.codes, "", ""), signin.token_handover_id)
    for node in (signin, twin, signin, twin):
        assert sign_in(node, "alice", "wrong password").status_code == 401
    assert sign_in(twin, "alice", "wrong password").status_code == 429
    assert sign_in(signin, "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize(("hops", "counted_address"), [(1, "198.51.100.7"), (0, "127.0.0.1")])
def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    tmp_path, demo_template, hops, counted_address
):
    site = build_site(
        tmp_path, demo_template, PICKUP_TRUSTED_PROXIES=hops, PICKUP_LOGIN_MAX_FAILURES=2
    )
    site.app.config["CLOCK"] = lambda: AT
    client = client_for(site, "anonymous")
    for _ in range(2):
        client.post(
            "/staff/login",
            data={"username": "alice", "password": "nope", "csrf_token": CSRF},
            headers={"X-Forwarded-For": "198.51.100.7"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
    with site.app.app_context():
        counted = get_db().execute("SELECT DISTINCT address FROM login_throttle")
        assert [row[0] for row in counted] == [counted_address]


# -- per-phone limits -----------------------------------------------------------------------

LIMITED = ChannelConfig(SECRET.encode(), hold_minutes=5, sms_per_phone=3, calls_per_phone=2)


def test_sms_over_the_limit_get_one_notice_then_silence(demo_db):
    def send(text, sid, now=DEMO_LOADED_AT, phone=EN_PHONE):
        return handle_sms(demo_db, phone, "+1500", text, sid, now, LIMITED)

    answers = [send("STATUS", f"SMa{n}").text for n in range(3)]
    assert all(a.startswith("Pickup ") for a in answers)
    notice = send("STATUS", "SMa3")
    assert notice.text == texts.sms_text("rate_limited", "en")
    assert send("STATUS", "SMa4").text == ""
    assert send("STATUS", "SMa3").text == notice.text  # a retried webhook: same answer
    assert send("STATUS", "SMa1").text == answers[1]
    assert send("STATUS", "SMz0", phone=ZH_PHONE).text.startswith("领取时间")  # others unaffected
    later = DEMO_LOADED_AT + timedelta(minutes=10, seconds=1)
    assert send("STATUS", "SMa5", now=later).text.startswith("Pickup ")


def test_stop_and_start_always_work_when_limited(demo_db):
    for n in range(4):
        handle_sms(demo_db, EN_PHONE, None, "HELP", f"SMb{n}", DEMO_LOADED_AT, LIMITED)
    stop = handle_sms(demo_db, EN_PHONE, None, "STOP", "SMb9", DEMO_LOADED_AT, LIMITED)
    assert stop.text == texts.sms_text("opted_out", "en")
    assert storage.is_opted_out(demo_db, EN_PHONE)


@pytest.mark.parametrize(
    ("asks", "answer", "done"),
    [
        ("CHANGE", "1", lambda text: text.startswith("Moved to")),
        ("QX", "1", lambda text: text.startswith("Cancelled.")),
        ("QX", "YES", lambda text: text.startswith("Cancelled.")),
        ("QX", "no thanks", lambda text: text.startswith("Not cancelled")),
    ],
)
def test_the_sms_limit_never_cuts_a_pending_step(demo_db, asks, answer, done):
    """Over the limit, the reply that completes a choice or a cancel question still counts."""

    def send(text, sid):
        return handle_sms(demo_db, EN_PHONE, None, text, sid, DEMO_LOADED_AT, LIMITED)

    send("STATUS", "SMp0")
    send("STATUS", "SMp1")
    assert not send(asks, "SMp2").text.startswith("Too many")  # the third: still allowed
    reply = send(answer, "SMp3")  # the fourth is over the limit, but answers the question
    assert done(reply.text), reply.text
    # The conversation is over: the next message is limited again, silently.
    assert send(answer, "SMp4").text in ("", texts.sms_text("rate_limited", "en"))
    assert send("STATUS", "SMp5").text == ""


def test_over_the_limit_a_reply_with_no_question_open_is_limited(demo_db):
    def send(text, sid):
        return handle_sms(demo_db, EN_PHONE, None, text, sid, DEMO_LOADED_AT, LIMITED)

    for n in range(3):
        send("HELP", f"SMq{n}")
    assert send("1", "SMq3").text == texts.sms_text("rate_limited", "en")


@pytest.mark.parametrize(("phone", "language"), [(EN_PHONE, "en"), (ZH_PHONE, "zh")])
def test_the_notice_is_in_the_phones_language_and_fits_one_segment(demo_db, phone, language):
    for n in range(3):
        handle_sms(demo_db, phone, None, "HELP", f"SMc{n}{phone}", DEMO_LOADED_AT, LIMITED)
    notice = handle_sms(demo_db, phone, None, "HELP", f"SMc9{phone}", DEMO_LOADED_AT, LIMITED)
    assert notice.language == language
    assert notice.text == texts.sms_text("rate_limited", language)
    count = count_segments(notice.text)
    assert count.segments == 1
    assert count.encoding == ("GSM-7" if language == "en" else "UCS-2")


def test_a_webhook_retried_over_the_limit_is_one_message(tmp_path, demo_template, monkeypatch):
    monkeypatch.setattr(storage, "now_utc", lambda: DEMO_LOADED_AT)
    site = build_site(tmp_path, demo_template, env="test", PICKUP_SMS_PER_PHONE=2)
    client = site.app.test_client()

    def deliver(sid):
        form = {"From": EN_PHONE, "To": "+1500", "Body": "STATUS", "MessageSid": sid}
        root = ET.fromstring(signed_post(client, "/sms/inbound", form).data)
        return [m.text for m in root.findall("Message")]

    assert len(deliver("SMd1")) == 1 and deliver("SMd1") == deliver("SMd1")
    assert len(deliver("SMd2")) == 1
    notice = [deliver("SMd3") for _ in range(3)]  # Twilio retries the third one
    assert notice == [[texts.sms_text("rate_limited", "en")]] * 3
    assert deliver("SMd4") == []
    with site.app.app_context():
        rows = storage.count_inbound_since(get_db(), EN_PHONE, DEMO_LOADED_AT - timedelta(1))
    assert rows == 4


def test_calls_over_the_limit_hear_one_notice_then_are_hung_up(demo_db):
    def call(call_id, caller=EN_PHONE, now=DEMO_LOADED_AT):
        return ivr.call_step(demo_db, call_id, caller, "start", {}, "", now, LIMITED)

    assert call("CA1").gather is not None and call("CA2").gather is not None
    notice = call("CA3")
    assert notice.hangup and notice.gather is None
    assert [s.text for s in notice.speech] == [texts.spoken("calls_limited", "en")]
    assert call("CA3") == notice  # a retried webhook: the same turn
    silent = call("CA4")
    assert silent.hangup and silent.speech == []
    assert call("CA5", caller=None).gather is not None  # no caller ID: not limited
    assert call("CA6", now=DEMO_LOADED_AT + timedelta(hours=1, seconds=1)).gather is not None
    # a later step of an allowed call is not a new call
    later = ivr.call_step(
        demo_db, "CA1", EN_PHONE, "start", {"n": "1"}, "", DEMO_LOADED_AT, LIMITED
    )
    assert later.gather is not None


def test_a_limited_call_is_hung_up_in_twiml(tmp_path, demo_template, monkeypatch):
    monkeypatch.setattr(storage, "now_utc", lambda: DEMO_LOADED_AT)
    site = build_site(tmp_path, demo_template, env="test", PICKUP_CALLS_PER_PHONE=1)
    client = site.app.test_client()
    answers = []
    for sid in ("CAt1", "CAt2", "CAt3"):
        root = ET.fromstring(
            signed_post(client, "/ivr/voice", {"CallSid": sid, "From": ZH_PHONE}).data
        )
        answers.append([(child.tag, child.text) for child in root])
    assert answers[0][0][0] == "Gather"
    assert answers[1] == [("Say", texts.spoken("calls_limited", "zh")), ("Hangup", None)]
    assert answers[2] == [("Hangup", None)]


def test_limits_off_with_zero(demo_db):
    channel = ChannelConfig(SECRET.encode(), hold_minutes=5, sms_per_phone=0, calls_per_phone=0)
    for n in range(30):
        reply = handle_sms(demo_db, EN_PHONE, None, "HELP", f"SMe{n}", DEMO_LOADED_AT, channel)
        assert reply.text == texts.sms_text("help", "en")
    assert ratelimit.call_allowance(demo_db, "CAx", EN_PHONE, 0, DEMO_LOADED_AT) == "allow"


# -- logs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("SMS to +8617000000001: hi", "SMS to …0001: hi"),
        ("From=%2B8617000000009&Body=STATUS", "From=…0009&Body=STATUS"),
        ("call 17000000001", "call …0001"),
        ("+86 170 0000 0001", "…0001"),
        ("GET /v/1234567890123456 HTTP/1.1", "GET /v/[voucher] HTTP/1.1"),
        ("Voucher 1234 5678 9012 3456.", "Voucher [voucher]."),
        ("scan PV11234567890123456", "scan [voucher]"),
        ("Authorization: Bearer pk_abc-DEF_123", "Authorization: Bearer pk_[token]"),
        ("key=test-secret-key-not-for-production", "key=[secret]"),
        ("127.0.0.1 at 2020-02-04 12:00:00+00:00 took 12 ms", None),
    ],
)
def test_redact(line, redacted):
    assert logsafe.redact(line, [SECRET]) == (line if redacted is None else redacted)


@pytest.mark.parametrize("index", range(12))
@pytest.mark.parametrize("encode", ["raw", "path", "form"])
def test_redact_every_spelling_of_a_voucher_code(index, encode):
    code = make_code(4821993)
    spelling = accepted_spellings(code)[index]
    assert normalise_code(spelling) == code
    written = {
        "raw": spelling,
        "path": quote(spelling),
        "form": urlencode({"code": spelling}).removeprefix("code="),
    }[encode]
    line = logsafe.redact(f"GET /v/{written} HTTP/1.1 code={written}&lang=en")
    assert line == "GET /v/[voucher] HTTP/1.1 code=[voucher]&lang=en", written


@pytest.mark.parametrize(
    ("message", "logged"),
    [
        ("GET /v/x\n127.0.0.1 - forged", "GET /v/x\\n127.0.0.1 - forged"),
        ("a\rb\x1b[31mc\x00", "a\\rb\\x1b[31mc\\x00"),
        ("name \u202eevil\u2028line", "name \\u202eevil\\u2028line"),
        ("宁波 tab\tok", "宁波 tab\\tok"),
        ("plain line", "plain line"),
    ],
)
def test_control_characters_are_escaped_in_every_log_record(caplog, message, logged):
    logsafe.install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("pickup.test").info("%s", message)
    assert [record.getMessage() for record in caplog.records] == [logged]


def test_logs_hold_no_phone_voucher_token_or_secret(
    tmp_path, demo_template, monkeypatch, caplog, live_server
):
    monkeypatch.setattr(storage, "now_utc", lambda: DEMO_LOADED_AT)
    site = build_site(tmp_path, demo_template, PICKUP_LOG_SQL=True, SMS_SENDER=ConsoleSender())
    caplog.set_level(logging.DEBUG)
    app, phone = site.app, site.app.test_client()
    # An SMS booking (change to the first free slot), with the confirmation sent by console.
    for body, sid in (("CHANGE", "SMf1"), ("1", "SMf2")):
        form = {"From": EN_PHONE, "To": "+1500", "Body": body, "MessageSid": sid}
        reply = signed_post(phone, "/sms/inbound", form)
    assert reply.status_code == 200 and "Moved to " in text_of(reply)  # booked by SMS
    runner = app.test_cli_runner()
    assert runner.invoke(args=["send-invitations", "--distribution", "2"]).exit_code == 0
    sent = runner.invoke(args=["send-outbox", "--once", "--per-second", "1000"])
    assert sent.exit_code == 0 and "0 tried" not in sent.output
    # A kiosk check-in, by the code typed and by the QR content.
    kiosk = client_for(site, "anonymous")
    code = site.codes["valid"]
    for form_code in (code, qr_content(code)):
        kiosk.post("/kiosk/1/check", data={"code": form_code, "csrf_token": CSRF})
    assert "queue-number" in text_of(
        kiosk.post("/kiosk/1/checkin", data={"code": code, "csrf_token": CSRF})
    )
    # A staff handover after a real sign-in; an API check with a token.
    staff = client_for(site, "anonymous")
    login = staff.post(
        "/staff/login",
        data={"username": "alice", "password": PASSWORD, "station": "Desk 1", "csrf_token": CSRF},
    )
    assert login.status_code == 302
    with staff.session_transaction() as session:
        session["csrf"] = CSRF
    handed = staff.post("/staff/handover", data={"code": code, "csrf_token": CSRF})
    assert handed.status_code == 302
    scanner = client_for(site, "kiosk_token")
    assert scanner.post(f"/api/v1/vouchers/{site.codes['valid_2']}/check").status_code == 200
    # Real request lines, as the server logs them (the path holds the code).
    base = live_server(app)
    for path in (f"/v/{code}", f"/v/{code}/qr.svg"):
        with urllib.request.urlopen(base + path) as answer:
            assert answer.status == 200

    logged = caplog.text
    with app.app_context():
        db = get_db()
        codes = [row[0] for row in db.execute("SELECT code FROM vouchers")]
        phones = [r["phone"] for r in storage.roster_phones(db)]
    forbidden = {
        *codes,
        *(format_code(c) for c in codes),
        *phones,
        *(p.removeprefix("+86") for p in phones),
        site.pickup.kiosk_token,
        site.pickup.staff_token,
        SECRET,
        TWILIO_TOKEN,
    }
    assert len(codes) == 112 + 12 and len(phones) > 100
    assert sorted(s for s in forbidden if s in logged) == []
    # The lines were logged, masked: the SMS sent, the server's request lines, the SQL.
    assert "SMS to …0901: " in logged and "[voucher]" in logged
    assert "GET /v/[voucher] HTTP/1.1" in logged
    assert "INSERT INTO handovers" in logged


# -- bidi controls in names -----------------------------------------------------------------

OVERRIDE_NAME = "Acme \u202eexe.txt\u202c Ltd"
OVERRIDE_CONTACT = "\u2067Li\u2069 \u200fLei"
BIDI = ("\u202e", "\u202c", "\u2067", "\u2069", "\u200f")


@pytest.fixture(scope="module")
def overridden(tmp_path_factory, demo_sqlite_template):
    """A site whose voucher holder's stored name and contact carry bidi controls (written
    before they were refused, or by any other way into the database)."""
    site = build_site(tmp_path_factory.mktemp("bidi"), demo_sqlite_template)
    with site.app.app_context():
        db = get_db()
        voucher = storage.voucher_view(db, int(site.codes["valid"][:7]))
        db.execute(
            "UPDATE recipients SET name = ?, contact_name = ? WHERE id = ?",
            [OVERRIDE_NAME, OVERRIDE_CONTACT, voucher["recipient_id"]],
        )
        site.recipient_id = voucher["recipient_id"]
    checked_in = client_for(site, "staff").post(
        "/staff/checkin", data={"code": site.codes["valid"], "csrf_token": CSRF}
    )
    assert checked_in.status_code == 302  # the name is in the queue and on the dashboard
    return site


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("anonymous", "get", "/v/{code}"),
        ("anonymous", "post", "/kiosk/1/check"),
        ("staff", "get", "/staff/voucher?code={code}"),
        ("staff", "get", "/staff/search?q=Acme"),
        ("staff", "get", "/staff/queue.json"),
        ("admin", "get", "/admin/d/1/recipients/{rid}"),
        ("admin", "get", "/admin/d/1/recipients"),
        ("admin", "get", "/admin/d/1/dashboard"),
        ("kiosk_token", "post", "/api/v1/vouchers/{code}/check"),
    ],
)
def test_names_are_shown_without_bidi_controls(overridden, role, method, path):
    code = overridden.codes["valid"]
    client = client_for(overridden, role)
    url = path.format(code=code, rid=overridden.recipient_id)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data={"code": code, "csrf_token": CSRF})
    assert response.status_code == 200, url
    shown = response.get_data(as_text=True)
    assert not [c for c in BIDI if c in shown], url
    if role != "anonymous":  # the kiosk and the public page mask the name
        assert "Acme exe.txt Ltd" in html.unescape(shown), url


# -- landing page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "lang", "heading", "links"),
    [
        (
            "development",
            "en",
            "Supplies pickup",
            ["/kiosk", "/staff/", "/admin/", "/dev/phone", "/healthz"],
        ),
        ("production", "en", "Supplies pickup", ["/kiosk", "/staff/", "/admin/", "/healthz"]),
        ("production", "zh", "物资分批领取", ["/kiosk", "/staff/", "/admin/", "/healthz"]),
    ],
)
def test_landing_page_links_every_door(tmp_path, demo_template, env, lang, heading, links):
    site = build_site(tmp_path, demo_template, env=env)
    response = site.app.test_client().get(f"/?lang={lang}")
    page = text_of(response)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in page
    assert re.findall(r'<li><a href="([^"]+)"', page) == links
    other = "中文" if lang == "en" else "English"
    assert f'href="?lang={"zh" if lang == "en" else "en"}"' in page and other in page


def test_landing_page_follows_the_browser_language(site):
    client = client_for(site, "anonymous")
    page = text_of(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert "Self-service kiosk" in page and "development only" in page
    assert "自助领取机" in text_of(client.get("/", headers={"Accept-Language": "zh-CN"}))
