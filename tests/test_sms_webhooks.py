"""The Twilio webhooks: signatures, TwiML (parsed as XML), retries and callbacks.

The phone menu's walk through these webhooks is in ``test_ivr.py``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from phone_support import BASE, EN_PHONE, STRANGER, TOKEN, make_app, signed_post
from support import DEMO_LOADED_AT
from twilio.request_validator import RequestValidator

from shared import storage
from shared.db import get_db
from sms import texts


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


@pytest.mark.parametrize(
    ("public_base", "signed_base"),
    [
        (BASE, BASE),
        (BASE, "https://pickup.example.org:443"),  # Twilio signed with the port
        ("https://pickup.example.org:443", BASE),  # ... or without it, while we have it
    ],
)
def test_a_signature_with_or_without_the_port_is_accepted(
    tmp_path, demo_template, public_base, signed_base
):
    app = make_app(tmp_path, demo_template, PUBLIC_BASE_URL=public_base)
    data = sms_form("HELP", "SMport")
    signature = RequestValidator(TOKEN).compute_signature(signed_base + "/sms/inbound", data)
    client = app.test_client()
    response = client.post("/sms/inbound", data=data, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert message_text(response) == texts.sms_text("help", "en")


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
        before = _row_counts()
    replayed = signed_post(phone, "/sms/inbound", sms_form("STATUS", "SMfirst", sender=STRANGER))
    assert replayed.status_code == 400
    assert code not in replayed.get_data(as_text=True)
    with phone_app.app_context():
        assert _row_counts() == before
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


def _row_counts() -> dict[str, int]:
    db = get_db()
    return {table: storage.count_rows(db, table) for table in storage.table_names(db)}
