"""The Twilio webhooks: signatures, TwiML (parsed as XML), retries, callbacks and the IVR."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from gateway_support import demo_app
from support import DEMO_LOADED_AT
from twilio.request_validator import RequestValidator

from shared import storage
from shared.db import get_db
from shared.vouchers import format_code
from sms import ivr, texts
from sms.senders import FakeSender

TOKEN = "twilio-test-token"
BASE = "https://pickup.example.org"
EN_PHONE = "+8617000000009"
ZH_PHONE = "+8617000000001"
STRANGER = "+8613900000000"


def make_app(tmp_path, demo_template, **extra):
    config = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE, "SMS_SENDER": FakeSender()}
    return demo_app(tmp_path, demo_template, **{**config, **extra})


@pytest.fixture(autouse=True)
def demo_morning(monkeypatch):
    """Webhooks read the clock: put it at the demo's morning, before the pickup window."""
    monkeypatch.setattr(storage, "now_utc", lambda: DEMO_LOADED_AT)


@pytest.fixture
def phone_app(tmp_path, demo_template):
    return make_app(tmp_path, demo_template)


@pytest.fixture
def phone(phone_app):
    return phone_app.test_client()


def signed_post(client, url, data, token=TOKEN, base=BASE):
    """POST ``url`` (a path, or an absolute URL under ``base``) signed as Twilio would."""
    full = url if url.startswith("http") else base + url
    path = full[len(base) :] if full.startswith(base) else url
    signature = RequestValidator(token).compute_signature(full, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


def sms_form(body, sid, sender=EN_PHONE):
    return {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": sid}


def message_text(response) -> str:
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    messages = root.findall("Message")
    return messages[0].text if messages else ""


# -- signatures -----------------------------------------------------------------------------

WEBHOOKS = [
    ("/sms/inbound", sms_form("HELP", "SMsig")),
    ("/sms/status", {"MessageSid": "SMx", "MessageStatus": "delivered"}),
    ("/ivr/voice", {"CallSid": "CAsig", "From": EN_PHONE}),
    ("/ivr/menu?lang=en&rid=9", {"CallSid": "CAsig", "From": EN_PHONE}),
]


@pytest.mark.parametrize(("path", "data"), WEBHOOKS)
def test_signed_requests_are_answered(phone, path, data):
    assert signed_post(phone, path, data).status_code in (200, 204)


@pytest.mark.parametrize(("path", "data"), WEBHOOKS)
@pytest.mark.parametrize(
    "forge",
    ["missing", "other token", "other url", "tampered body", "garbage"],
)
def test_unsigned_or_forged_requests_get_403(phone, path, data, forge):
    headers = {}
    if forge == "other token":
        headers["X-Twilio-Signature"] = RequestValidator("nope").compute_signature(
            BASE + path, data
        )
    elif forge == "other url":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
            "https://evil.example.org" + path, data
        )
    elif forge == "tampered body":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(BASE + path, data)
        data = {**data, "From": STRANGER}
    elif forge == "garbage":
        headers["X-Twilio-Signature"] = "AAAA"
    response = phone.post(path, data=data, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize("debug", [True, False])
def test_no_auth_token_fails_closed(tmp_path, demo_template, debug):
    app = make_app(tmp_path, demo_template, TWILIO_AUTH_TOKEN=None, DEBUG=debug)
    client = app.test_client()
    for token in ("", TOKEN):
        response = signed_post(client, "/sms/inbound", sms_form("HELP", "SMnotoken"), token=token)
        assert response.status_code == 403


def test_debug_mode_still_checks(tmp_path, demo_template):
    app = make_app(tmp_path, demo_template, DEBUG=True, PICKUP_ENV="development")
    assert app.test_client().post("/sms/inbound", data=sms_form("HELP", "SMd")).status_code == 403


def test_without_public_base_url_the_request_url_is_checked(tmp_path, demo_template):
    app = make_app(tmp_path, demo_template, PUBLIC_BASE_URL=None)
    client = app.test_client()
    data = sms_form("HELP", "SMlocal")
    ok = signed_post(client, "http://localhost/sms/inbound", data, base="http://localhost")
    assert ok.status_code == 200
    assert signed_post(client, "/sms/inbound", data).status_code == 403  # signed for BASE


def test_missing_message_sid_is_a_bad_request(phone):
    data = {"From": EN_PHONE, "Body": "HELP"}
    assert signed_post(phone, "/sms/inbound", data).status_code == 400


# -- SMS over the webhook ---------------------------------------------------------------------


def test_inbound_sms_answers_with_twiml(phone):
    response = signed_post(phone, "/sms/inbound", sms_form("HELP", "SMhelp"))
    assert response.mimetype == "text/xml"
    assert message_text(response) == texts.sms_text("help", "en")


def test_opted_out_phone_gets_an_empty_response(phone):
    signed_post(phone, "/sms/inbound", sms_form("STOP", "SMstop"))
    response = signed_post(phone, "/sms/inbound", sms_form("STATUS", "SMafter"))
    root = ET.fromstring(response.data)
    assert root.tag == "Response" and list(root) == []


def test_retried_webhook_books_once_and_answers_the_same(phone_app, phone):
    signed_post(phone, "/sms/inbound", sms_form("CHANGE", "SMoffer"))
    first = signed_post(phone, "/sms/inbound", sms_form("1", "SMpick"))
    with phone_app.app_context():
        changes = len(storage.audit_entries(get_db()))
    second = signed_post(phone, "/sms/inbound", sms_form("1", "SMpick"))
    assert message_text(first) == message_text(second)
    assert message_text(first).startswith("Moved to")
    with phone_app.app_context():
        assert len(storage.audit_entries(get_db())) == changes


def test_a_message_id_replayed_from_another_phone_gets_nothing(phone_app, phone):
    """A signed SMS reusing a MessageSid from another phone used to get that phone's reply."""
    first = signed_post(phone, "/sms/inbound", sms_form("STATUS", "SMfirst", sender=EN_PHONE))
    code = message_text(first).partition("Voucher ")[2][:19]
    assert len(code.replace(" ", "")) == 16, message_text(first)
    with phone_app.app_context():
        before = {table: get_db()[table].count for table in get_db().table_names()}
    replayed = signed_post(phone, "/sms/inbound", sms_form("STATUS", "SMfirst", sender=STRANGER))
    assert replayed.status_code == 400
    assert code not in replayed.get_data(as_text=True)
    with phone_app.app_context():
        assert {table: get_db()[table].count for table in get_db().table_names()} == before
    again = signed_post(phone, "/sms/inbound", sms_form("STATUS", "SMfirst", sender=EN_PHONE))
    assert message_text(again) == message_text(first)  # Twilio's own retry still works


# -- delivery callbacks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),
        (["sent", "undelivered", "delivered"], "undelivered"),
        (["failed", "delivered"], "failed"),
        (["queued", "sending"], "sent"),
        (["bogus"], "sent"),
    ],
)
def test_status_callbacks_never_move_back_from_a_final_state(phone_app, phone, sequence, final):
    with phone_app.app_context():
        db = get_db()
        outbox_id = storage.enqueue_sms(db, EN_PHONE, "hi", "confirmation", storage.now_utc())
        storage.claim_outbox(db, outbox_id, storage.now_utc())
        storage.mark_outbox_sent(db, outbox_id, "SMcallback", storage.now_utc())
    for status in sequence:
        form = {"MessageSid": "SMcallback", "MessageStatus": status}
        assert signed_post(phone, "/sms/status", form).status_code == 204
    with phone_app.app_context():
        assert storage.get_outbox(get_db(), outbox_id)["status"] == final


# -- the IVR --------------------------------------------------------------------------------


class Call:
    """Walks a call through the webhooks, as Twilio would, checking every TwiML answer."""

    def __init__(self, client, caller, sid="CAwalk"):
        self.client, self.caller, self.sid = client, caller, sid
        self.root = None
        self.spoken: list[tuple[str, str]] = []

    def post(self, url, digits=None):
        data = {"CallSid": self.sid, "From": self.caller}
        if digits is not None:
            data["Digits"] = digits
        response = signed_post(self.client, url, data)
        assert response.status_code == 200 and response.mimetype == "text/xml"
        self.root = ET.fromstring(response.data)
        self._check()
        self.spoken = [(say.get("language"), say.text) for say in self.root.iter("Say")]
        return self

    def _check(self):
        children = list(self.root)
        for index, child in enumerate(children):
            if child.tag == "Gather":
                # A Gather without keys falls through: something must follow it.
                after = children[index + 1 :]
                assert after and after[0].tag in ("Redirect", "Hangup")
                assert child.get("action").startswith(BASE + "/ivr/")
                assert child.get("timeout")
        for say in self.root.iter("Say"):
            assert say.get("language") in ("zh-CN", "en-US")

    @property
    def gather(self):
        return self.root.find("Gather")

    @property
    def redirect(self):
        return self.root.find("Redirect")

    @property
    def hung_up(self):
        return self.root.find("Hangup") is not None

    def start(self):
        return self.post(BASE + "/ivr/voice")

    def press(self, digits):
        return self.post(self.gather.get("action"), digits)

    def wait(self):
        """No key pressed: Twilio follows the Redirect after the Gather."""
        return self.post(self.redirect.text)

    def follow(self):
        while self.gather is None and self.redirect is not None and not self.hung_up:
            self.post(self.redirect.text)
        return self

    def text(self):
        return " ".join(text for _, text in self.spoken)


def outbox_bodies(app, phone_number):
    with app.app_context():
        return [m["body"] for m in storage.outbox_for_phone(get_db(), phone_number)]


def test_ivr_walk_in_english_with_keypad_code(phone_app, phone):
    with phone_app.app_context():
        recipient = storage.find_recipients_by_phone(get_db(), EN_PHONE)[0]
    call = Call(phone, STRANGER).start()
    assert {lang for lang, _ in call.spoken} == {"zh-CN", "en-US"}
    assert call.gather.get("numDigits") == "1"
    call.press("2")
    assert call.spoken == [("en-US", texts.spoken("enter_code", "en"))]
    assert call.gather.get("finishOnKey") == "#"
    call.press(ivr.keypad_digits(recipient["external_id"]))
    assert call.text() == texts.spoken("menu", "en")

    call.press("1").follow()
    with phone_app.app_context():
        code = storage.voucher_view_by_booking(
            get_db(), storage.live_booking_for(get_db(), recipient["id"])["id"]
        )["code"]
    groups = texts.spoken_code(code)
    assert [t for _, t in call.spoken if t in groups] == groups
    assert call.root.find("Gather/Pause") is not None
    assert "press 9" in call.text()
    call.press("9").follow()
    assert [t for _, t in call.spoken if t in groups] == groups
    call.press("0").follow()
    assert call.text() == texts.spoken("menu", "en")

    call.press("2").follow()
    assert "press 3" in call.text()
    call.press("1")
    assert call.text().startswith("Done. Your pickup is on")
    call.follow()
    assert [t for _, t in call.spoken if t in groups] == groups  # read out after booking
    bodies = outbox_bodies(phone_app, EN_PHONE)
    assert bodies and bodies[0].startswith("Moved to") and format_code(code) in bodies[0]

    call.press("0").follow()
    call.press("3").follow()
    assert "To confirm, press 1" in call.text()
    call.press("5")
    assert call.text().startswith(texts.spoken("kept", "en"))
    call.press("3").follow().press("1")
    assert call.text().startswith(texts.spoken("cancelled", "en"))
    with phone_app.app_context():
        assert storage.live_booking_for(get_db(), recipient["id"]) is None
    assert outbox_bodies(phone_app, EN_PHONE)[0].startswith("Cancelled.")

    call.press("2").follow().press("2")
    assert call.text().startswith("Done.")
    with phone_app.app_context():
        assert storage.live_booking_for(get_db(), recipient["id"]) is not None
    assert outbox_bodies(phone_app, EN_PHONE)[0].startswith("Booked:")


def test_ivr_in_chinese_by_caller_id_and_language_remembered(phone_app, phone):
    call = Call(phone, ZH_PHONE, "CAzh").start().press("1")
    assert call.spoken == [("zh-CN", texts.spoken("menu", "zh"))]
    call.press("1").follow()
    assert call.spoken[0][0] == "zh-CN" and "您的领取时间是" in call.spoken[0][1]
    # The next call skips the language question.
    again = Call(phone, ZH_PHONE, "CAzh2").start()
    assert again.spoken == [("zh-CN", texts.spoken("menu", "zh"))]


def test_ivr_voucher_code_on_keypad_identifies_the_caller(phone_app, phone):
    with phone_app.app_context():
        voucher = storage.voucher_views_for_distribution(get_db(), 1)[0]
    call = Call(phone, STRANGER, "CAcode").start().press("2").press(voucher["code"])
    assert call.text() == texts.spoken("menu", "en")
    assert f"rid={voucher['recipient_id']}" in call.gather.get("action")


@pytest.mark.parametrize("how", ["silence", "wrong keys"])
def test_ivr_caps_retries_and_hangs_up_politely(phone, how):
    call = Call(phone, EN_PHONE, f"CAcap{how}").start().press("2")
    assert call.text() == texts.spoken("menu", "en")
    for _ in range(ivr.MAX_TRIES - 1):
        call.wait() if how == "silence" else call.press("7")
        assert call.gather is not None
    call.wait() if how == "silence" else call.press("7")
    assert call.hung_up and call.gather is None
    assert call.text() == texts.spoken("too_many", "en")


def test_ivr_unknown_code_caps_and_hangs_up(phone):
    call = Call(phone, STRANGER, "CAbad").start().press("2")
    for _ in range(ivr.MAX_TRIES - 1):
        call.press("123")
        assert call.text().startswith(texts.spoken("code_unknown", "en"))
    call.press("123")
    assert call.hung_up


def test_ivr_language_question_times_out_politely(phone):
    call = Call(phone, STRANGER, "CAlang").start()
    for _ in range(ivr.MAX_TRIES):
        call.wait()
    assert call.hung_up
    assert {lang for lang, _ in call.spoken} == {"zh-CN", "en-US"}


def test_ivr_hear_times_out_with_goodbye(phone):
    call = Call(phone, EN_PHONE, "CAbye").start().press("2").press("1").follow()
    call.wait()
    assert call.hung_up and call.text() == texts.spoken("goodbye", "en")


def test_ivr_retried_step_books_once_and_answers_the_same(phone_app, phone):
    call = Call(phone, EN_PHONE, "CAretry").start().press("2").press("2").follow()
    action = call.gather.get("action")
    first = signed_post(phone, action, {"CallSid": "CAretry", "From": EN_PHONE, "Digits": "1"})
    with phone_app.app_context():
        entries = len(storage.audit_entries(get_db()))
    second = signed_post(phone, action, {"CallSid": "CAretry", "From": EN_PHONE, "Digits": "1"})
    assert first.data == second.data
    with phone_app.app_context():
        assert len(storage.audit_entries(get_db())) == entries
    assert len(outbox_bodies(phone_app, EN_PHONE)) == 1


def test_unknown_ivr_step_is_404(phone):
    assert (
        signed_post(phone, "/ivr/nowhere", {"CallSid": "CA", "From": EN_PHONE}).status_code == 404
    )
