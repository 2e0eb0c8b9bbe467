"""SMS Gateway for Android: the sender against a loopback gateway, the signed webhook, the
outbox's order and outage behaviour, the daily invitation cap, and waking the worker."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from datetime import timedelta

import pytest
from gateway_support import (
    LOGIN,
    PASSWORD,
    SIGNING_KEY,
    LoopbackAndroidGateway,
    android_sender,
    basic_auth,
    demo_app,
    outbox_rows,
    post_android,
    sign,
    sms_event,
    status_event,
)
from support import DEMO_LOADED_AT

from shared import storage
from shared.db import get_db
from sms import cli, texts, wakeup, worker
from sms.senders import AndroidSender, ConsoleSender, SendError, make_sender

EN_PHONE = "+8617000000009"
ZH_PHONE = "+8617000000001"


@pytest.fixture
def gateway():
    server = LoopbackAndroidGateway()
    yield server
    server.stop()


@pytest.fixture
def clock():
    """The app's clock, at the demo's morning (before the pickup window); tests move it."""
    return [DEMO_LOADED_AT]


@pytest.fixture
def short_dir():
    """A short directory for UNIX sockets (their paths are limited to about 100 bytes)."""
    path = tempfile.mkdtemp(prefix="pk")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_app(tmp_path, demo_template, socket_dir, **extra):
    config = {
        "PICKUP_SMS_GATEWAY": "android",
        "ANDROID_SMS_GATEWAY_SIGNING_KEY": SIGNING_KEY,
        "PICKUP_OUTBOX_SOCKET": f"{socket_dir}/outbox.sock",
    }
    return demo_app(tmp_path, demo_template, **{**config, **extra})


@pytest.fixture
def android_app(tmp_path, demo_template, short_dir, clock):
    return make_app(tmp_path, demo_template, short_dir, CLOCK=lambda: clock[0])


@pytest.fixture
def client(android_app):
    return android_app.test_client()


@pytest.fixture
def adb(android_app):
    with android_app.app_context():
        yield get_db()


def counts(db) -> tuple[int, int, int]:
    """Rows written by webhooks: (events, incoming SMS, outbox messages)."""
    return tuple(
        db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("gateway_events", "sms_inbound", "sms_outbox")
    )


# -- outbound: the sender against a real HTTP server on loopback ------------------------------


def test_sender_posts_the_message_with_basic_auth(gateway):
    sender = android_sender(gateway)
    assert sender.send(EN_PHONE, "Your pickup: 12:00", "pk-7-abc") == "pk-7-abc"
    ((method, path, authorization),) = gateway.requests
    assert (method, path, authorization) == ("POST", "/messages", basic_auth(LOGIN, PASSWORD))
    (posted,) = gateway.posted
    assert posted["phoneNumbers"] == [EN_PHONE]
    assert posted["textMessage"] == {"text": "Your pickup: 12:00"}
    assert posted["id"] == "pk-7-abc"
    assert posted["withDeliveryReport"] is True


def test_a_cloud_url_with_a_path_keeps_it(gateway):
    sender = AndroidSender(gateway.url + "/3rdparty/v1/", LOGIN, PASSWORD)
    sender.send(EN_PHONE, "hi", "pk-1-a")
    assert gateway.requests[0][1] == "/3rdparty/v1/messages"


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (403, False), (404, False), (422, False)]
    + [(429, True), (500, True), (502, True), (503, True), (504, True)],
)
def test_sender_classifies_http_errors(gateway, status, retryable):
    gateway.script.append(status)
    with pytest.raises(SendError) as caught:
        android_sender(gateway).send(EN_PHONE, "hi", "pk-1-a")
    error = caught.value
    assert (error.status, error.retryable, error.unreachable) == (status, retryable, False)
    assert str(error) == f"Android gateway {status}: scripted {status}"


def test_refused_connection_and_timeout_are_unreachable(gateway):
    gateway.script.append(("slow", 2))
    with pytest.raises(SendError) as slow:
        android_sender(gateway, timeout=0.3).send(EN_PHONE, "hi", "pk-1-a")
    gateway.stop()
    with pytest.raises(SendError) as refused:
        android_sender(gateway).send(EN_PHONE, "hi", "pk-1-a")
    for caught in (slow, refused):
        assert caught.value.retryable and caught.value.unreachable
        assert str(caught.value).startswith("Android gateway unreachable: ")


def queue(db, messages, now=DEMO_LOADED_AT, kind="confirmation"):
    with storage.transaction(db):
        return [storage.enqueue_sms(db, phone, body, kind, now) for phone, body in messages]


def fast_pacer():
    return worker.Pacer(1000, lambda: 0.0, lambda _s: None)


def test_a_4xx_is_tried_once_and_fails(db, gateway):
    (outbox_id,) = queue(db, [(EN_PHONE, "hello")])
    gateway.script.extend([400] * 5)
    result = worker.drain(db, android_sender(gateway), lambda: DEMO_LOADED_AT, 5, 30, fast_pacer())
    assert result.counts == {"failed": 1}
    row = storage.get_outbox(db, outbox_id)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"] == "Android gateway 400: scripted 400"
    assert len(gateway.requests) == 1


def test_5xx_is_retried_with_backoff_then_sent(db, gateway):
    (outbox_id,) = queue(db, [(EN_PHONE, "hello")])
    gateway.script.extend([503, 500])
    sender = android_sender(gateway)
    now = DEMO_LOADED_AT
    for wait in (30, 60):
        assert worker.send_one(db, outbox_id, sender, now, 5, 30) == "queued"
        row = storage.get_outbox(db, outbox_id)
        assert storage.from_db_time(row["next_attempt_at"]) == now + timedelta(seconds=wait)
        now += timedelta(seconds=wait)
    assert worker.send_one(db, outbox_id, sender, now, 5, 30) == "sent"
    row = storage.get_outbox(db, outbox_id)
    assert (row["status"], row["attempts"]) == ("sent", 3)
    # The gateway's id for the message is recorded; every try used the same one.
    assert row["provider_id"] == row["send_key"] == gateway.posted[0]["id"]
    assert len(gateway.posted) == 1


def test_an_answer_lost_after_the_gateway_took_it_is_not_sent_twice(db, gateway):
    (outbox_id,) = queue(db, [(EN_PHONE, "hello")])
    gateway.script.append("accept-then-drop")
    sender = android_sender(gateway)
    assert worker.send_one(db, outbox_id, sender, DEMO_LOADED_AT, 5, 30) == "unreachable"
    assert worker.send_one(db, outbox_id, sender, DEMO_LOADED_AT, 5, 30) == "sent"
    assert gateway.texts_to(EN_PHONE) == ["hello"]  # the retry got 409: no second SMS
    row = storage.get_outbox(db, outbox_id)
    assert (row["status"], row["provider_id"]) == ("sent", gateway.posted[0]["id"])


class FakeTime:
    """The worker's clock and sleep: a minute passes without anyone waiting for it."""

    def __init__(self, gateway, outage_seconds):
        self.now = DEMO_LOADED_AT
        self.gateway = gateway
        self.back_at = DEMO_LOADED_AT + timedelta(seconds=outage_seconds)
        self.slept: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now >= self.back_at and not self.gateway.running:
            self.gateway.start()  # the phone is back, on the same address


def test_an_outage_of_a_minute_then_each_message_once_in_order_per_phone(db, gateway):
    phones = [EN_PHONE, ZH_PHONE]
    messages = [(phones[i % 2], f"message {i}") for i in range(6)]
    queue(db, messages)
    gateway.stop()
    time = FakeTime(gateway, outage_seconds=60)
    config = {
        "PICKUP_SMS_MAX_ATTEMPTS": 2,
        "PICKUP_SMS_RETRY_SECONDS": 30,
        "PICKUP_REMINDER_MINUTES": 120,
        "PICKUP_SMS_INVITATIONS_PER_DAY": 0,
        "PICKUP_HOLD_MINUTES": 5,
    }

    def done():
        return all(row["status"] == "sent" for row in outbox_rows(db))

    cli.work_loop(
        db,
        android_sender(gateway),
        fast_pacer(),
        config,
        True,
        2.0,
        wakeup.Doorbell("unused"),
        done,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert time.slept == [30, 30]  # tried at 0 s and 30 s, sent at 60 s
    assert time.now == DEMO_LOADED_AT + timedelta(seconds=60)
    for phone in phones:
        assert gateway.texts_to(phone) == [body for p, body in messages if p == phone]
    rows = outbox_rows(db)
    # Waiting for the gateway counted no tries: max 2 tries, yet nothing failed.
    assert {(row["status"], row["attempts"]) for row in rows} == {("sent", 1)}
    assert len({row["provider_id"] for row in rows}) == 6


def test_a_retry_holds_back_later_messages_to_that_phone_only(db, gateway):
    first, second, other = queue(
        db, [(EN_PHONE, "first"), (EN_PHONE, "second"), (ZH_PHONE, "other")]
    )
    gateway.script.append(503)
    sender = android_sender(gateway)
    worker.drain(db, sender, lambda: DEMO_LOADED_AT, 5, 30, fast_pacer())
    assert [r["status"] for r in outbox_rows(db)] == ["queued", "queued", "sent"]
    later = DEMO_LOADED_AT + timedelta(seconds=30)
    for _ in range(2):  # the worker's rounds: "second" is due once "first" is out
        worker.drain(db, sender, lambda: later, 5, 30, fast_pacer())
    assert gateway.texts_to(EN_PHONE) == ["first", "second"]
    assert [r["status"] for r in outbox_rows(db)] == ["sent", "sent", "sent"]


def test_answers_go_before_invitations(db, gateway):
    queue(db, [(f"+86170000011{i:02d}", f"invitation {i}") for i in range(3)], kind="invitation")
    queue(db, [(EN_PHONE, "reply")], kind="reply")
    worker.drain(db, android_sender(gateway), lambda: DEMO_LOADED_AT, 5, 30, fast_pacer())
    assert gateway.posted[0]["textMessage"]["text"] == "reply"


# -- the daily invitation cap ----------------------------------------------------------------


def test_invitations_stop_at_the_daily_cap_and_go_on_the_next_day(db, gateway):
    invitations = [(f"+86170000011{i:02d}", f"invitation {i}") for i in range(5)]
    queue(db, invitations, kind="invitation")
    sender = android_sender(gateway)
    result = worker.drain(
        db, sender, lambda: DEMO_LOADED_AT, 5, 30, fast_pacer(), invitations_per_day=3
    )
    assert result.counts == {"sent": 3} and result.held == 2
    # A confirmation still goes; the held invitations do not.
    queue(db, [(EN_PHONE, "confirmation")])
    later = DEMO_LOADED_AT + timedelta(hours=23, minutes=59)
    result = worker.drain(db, sender, lambda: later, 5, 30, fast_pacer(), invitations_per_day=3)
    assert result.counts == {"sent": 1}
    assert len(gateway.posted) == 4
    next_day = DEMO_LOADED_AT + timedelta(hours=24)
    result = worker.drain(db, sender, lambda: next_day, 5, 30, fast_pacer(), invitations_per_day=3)
    assert result.counts == {"sent": 2}
    sent = sorted(m["textMessage"]["text"] for m in gateway.posted)
    assert sent == ["confirmation"] + [body for _, body in invitations]


# -- inbound: the signed webhook ---------------------------------------------------------------


def test_a_signed_sms_is_answered_through_the_outbox(client, adb):
    response = post_android(client, sms_event(EN_PHONE, "HELP"), DEMO_LOADED_AT)
    assert response.status_code == 200
    (row,) = outbox_rows(adb)
    assert (row["phone"], row["kind"], row["status"]) == (EN_PHONE, "reply", "queued")
    assert row["body"] == texts.sms_text("help", "en")


def _unsigned(client, event, now):
    return client.post("/sms/android", data=json.dumps(event), content_type="application/json")


def _wrong_key(client, event, now):
    return post_android(client, event, now, key="not-the-key")


def _tampered(client, event, now):
    raw = json.dumps(event).encode()
    stamp = int(now.timestamp())
    forged = raw.replace(b"HELP", b"QX")
    headers = {"X-Signature": sign(raw, stamp), "X-Timestamp": str(stamp)}
    return client.post(
        "/sms/android", data=forged, content_type="application/json", headers=headers
    )


def _other_timestamp(client, event, now):
    raw = json.dumps(event).encode()
    stamp = int(now.timestamp())
    headers = {"X-Signature": sign(raw, stamp), "X-Timestamp": str(stamp + 1)}
    return client.post("/sms/android", data=raw, content_type="application/json", headers=headers)


def _garbage_signature(client, event, now):
    stamp = str(int(now.timestamp()))
    headers = {"X-Signature": "zz" * 32, "X-Timestamp": stamp}
    return client.post("/sms/android", json=event, headers=headers)


def _no_timestamp(client, event, now):
    raw = json.dumps(event).encode()
    headers = {"X-Signature": sign(raw, "")}
    return client.post("/sms/android", data=raw, content_type="application/json", headers=headers)


def _stale(client, event, now):
    return post_android(client, event, now - timedelta(seconds=301))


def _future(client, event, now):
    return post_android(client, event, now + timedelta(seconds=301))


@pytest.mark.parametrize(
    "forge",
    [
        _unsigned,
        _wrong_key,
        _tampered,
        _other_timestamp,
        _garbage_signature,
        _no_timestamp,
        _stale,
        _future,
    ],
)
def test_unsigned_forged_or_stale_requests_get_401_and_write_nothing(client, adb, forge):
    response = forge(client, sms_event(EN_PHONE, "HELP"), DEMO_LOADED_AT)
    assert response.status_code == 401
    assert counts(adb) == (0, 0, 0)


@pytest.mark.parametrize("skew", [-300, 300])
def test_five_minutes_of_clock_difference_are_accepted(client, adb, skew):
    event = sms_event(EN_PHONE, "HELP")
    response = post_android(client, event, DEMO_LOADED_AT + timedelta(seconds=skew))
    assert response.status_code == 200
    assert counts(adb) == (1, 1, 1)


@pytest.mark.parametrize("key", [None, ""])
def test_no_signing_key_fails_closed(tmp_path, demo_template, short_dir, clock, key):
    app = make_app(
        tmp_path,
        demo_template,
        short_dir,
        ANDROID_SMS_GATEWAY_SIGNING_KEY=key,
        CLOCK=lambda: clock[0],
    )
    client = app.test_client()
    for signing_key in ("", SIGNING_KEY):
        response = post_android(client, sms_event(EN_PHONE, "HELP"), DEMO_LOADED_AT, signing_key)
        assert response.status_code == 401
    with app.app_context():
        assert counts(get_db()) == (0, 0, 0)


def test_a_retried_event_gets_200_and_changes_nothing(client, adb):
    event = sms_event(EN_PHONE, "BOOK")
    assert post_android(client, event, DEMO_LOADED_AT).status_code == 200
    before = (counts(adb), outbox_rows(adb), storage.get_conversation(adb, EN_PHONE))
    later = DEMO_LOADED_AT + timedelta(seconds=10)
    assert post_android(client, event, later).status_code == 200
    assert (counts(adb), outbox_rows(adb), storage.get_conversation(adb, EN_PHONE)) == before


def test_identical_sms_with_different_event_ids_are_two_messages(client, adb):
    first, second = sms_event(EN_PHONE, "STATUS"), sms_event(EN_PHONE, "STATUS")
    assert first["payload"]["messageId"] == second["payload"]["messageId"]
    for event in (first, second):
        assert post_android(client, event, DEMO_LOADED_AT).status_code == 200
    rows = outbox_rows(adb)
    assert len(rows) == 2 and rows[0]["body"] == rows[1]["body"]
    assert "Voucher" in rows[0]["body"]


@pytest.mark.parametrize("sender", ["17000000009", "+8617000000009", "008617000000009"])
def test_sender_numbers_in_the_phones_format_find_the_roster_phone(client, adb, sender):
    assert post_android(client, sms_event(sender, "STATUS"), DEMO_LOADED_AT).status_code == 200
    (row,) = outbox_rows(adb)
    assert row["phone"] == EN_PHONE
    assert row["body"].startswith("Pickup ") and "Voucher" in row["body"]
    assert storage.inbound_for_phone(adb, EN_PHONE)[0]["body"] == "STATUS"


def test_an_sms_from_a_service_code_is_not_answered(client, adb):
    assert post_android(client, sms_event("10086", "余额提醒"), DEMO_LOADED_AT).status_code == 200
    assert counts(adb) == (1, 0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not JSON"),
        (b"\xff\xfe\x00", "the body is not JSON"),
        (b"[1, 2]", "the body is not a JSON object"),
        (b'{"event": "sms:received", "payload": {}}', "the event has no id"),
        (b'{"id": "  ", "event": "sms:received", "payload": {}}', "the event has no id"),
        (b'{"id": "e1", "payload": {}}', "the event has no event name or payload"),
        (
            b'{"id": "e1", "event": "sms:received", "payload": "x"}',
            "the event has no event name or payload",
        ),
    ],
)
def test_garbage_gets_400_with_the_reason_and_writes_nothing(client, adb, body, message):
    response = post_android(client, None, DEMO_LOADED_AT, body=body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(adb) == (0, 0, 0)


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_of_a_megabyte_is_refused_unread(client, adb, signed):
    event = sms_event(EN_PHONE, "x" * (1024 * 1024))
    if signed:
        response = post_android(client, event, DEMO_LOADED_AT)
    else:
        response = client.post("/sms/android", json=event)
    assert response.status_code == 413
    assert counts(adb) == (0, 0, 0)


def test_other_events_are_acknowledged_and_ignored(client, adb):
    event = {"id": "ping1", "event": "system:ping", "deviceId": "d", "payload": {"health": {}}}
    assert post_android(client, event, DEMO_LOADED_AT).status_code == 200
    assert counts(adb) == (1, 0, 0)


def test_delivery_events_move_a_message_forward_only(client, adb, gateway):
    (outbox_id,) = queue(adb, [(EN_PHONE, "hello")])
    worker.send_one(adb, outbox_id, android_sender(gateway), DEMO_LOADED_AT, 5, 30)
    gateway_id = storage.get_outbox(adb, outbox_id)["provider_id"]

    def state():
        return storage.get_outbox(adb, outbox_id)["status"]

    for kind, expected in [
        ("sms:delivered", "delivered"),
        ("sms:sent", "delivered"),  # late: never backward
        ("sms:failed", "delivered"),  # out of a final state: never
    ]:
        assert (
            post_android(client, status_event(kind, gateway_id), DEMO_LOADED_AT).status_code == 200
        )
        assert state() == expected


def test_a_failed_event_records_the_reason(client, adb, gateway):
    (outbox_id,) = queue(adb, [(EN_PHONE, "hello")])
    worker.send_one(adb, outbox_id, android_sender(gateway), DEMO_LOADED_AT, 5, 30)
    gateway_id = storage.get_outbox(adb, outbox_id)["provider_id"]
    post_android(client, status_event("sms:sent", gateway_id), DEMO_LOADED_AT)
    post_android(client, status_event("sms:failed", gateway_id), DEMO_LOADED_AT)
    row = storage.get_outbox(adb, outbox_id)
    assert (row["status"], row["last_error"]) == ("failed", "RESULT_ERROR_GENERIC_FAILURE")


def test_stop_is_answered_once_and_then_nothing_goes(client, adb, gateway):
    post_android(client, sms_event(EN_PHONE, "STOP"), DEMO_LOADED_AT)
    post_android(client, sms_event(EN_PHONE, "STATUS"), DEMO_LOADED_AT)
    queue(adb, [(EN_PHONE, "a reminder")], kind="reminder")
    for _ in range(2):
        worker.drain(adb, android_sender(gateway), lambda: DEMO_LOADED_AT, 5, 30, fast_pacer())
    assert gateway.texts_to(EN_PHONE) == [texts.sms_text("opted_out", "en")]
    assert [r["status"] for r in outbox_rows(adb)] == ["sent", "opted_out"]


# -- the worker, woken by the webhook ----------------------------------------------------------


def test_the_reply_wakes_the_waiting_worker(android_app, client, gateway):
    """The worker waits with a one-minute poll; the reply still reaches the gateway at once."""
    arrived = threading.Event()
    stop = threading.Event()
    original = gateway.answer

    def answer(handler, data):
        original(handler, data)
        arrived.set()

    gateway.answer = answer
    config = android_app.config
    database = storage.open_database(config["PICKUP_DB"])
    doorbell = wakeup.Doorbell(config["PICKUP_OUTBOX_SOCKET"])

    def run():
        with doorbell.listening():
            listening.set()
            cli.work_loop(
                database,
                android_sender(gateway),
                fast_pacer(),
                config,
                True,
                60.0,
                doorbell,
                stop.is_set,
                clock=lambda: DEMO_LOADED_AT,
            )

    listening = threading.Event()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert listening.wait(10)
    assert post_android(client, sms_event(EN_PHONE, "HELP"), DEMO_LOADED_AT).status_code == 200
    # Far less than the 60 s poll: only the doorbell can have woken it. (A generous bound,
    # not a timing: bench/ measures how fast.)
    assert arrived.wait(20)
    stop.set()
    wakeup.ring(config["PICKUP_OUTBOX_SOCKET"])
    worker.join(10)
    assert not worker.is_alive()
    assert gateway.texts_to(EN_PHONE) == [texts.sms_text("help", "en")]


def test_ringing_with_no_worker_listening_is_harmless(short_dir):
    assert wakeup.ring(f"{short_dir}/nobody.sock") is False


# -- settings ---------------------------------------------------------------------------------


def test_the_android_gateway_is_chosen_by_setting():
    config = {
        "PICKUP_ENV": "production",
        "PICKUP_SMS_GATEWAY": "android",
        "ANDROID_SMS_GATEWAY_URL": "http://192.168.1.20:8080",
        "ANDROID_SMS_GATEWAY_LOGIN": LOGIN,
        "ANDROID_SMS_GATEWAY_PASSWORD": PASSWORD,
        # Twilio settings do not matter once the Android gateway is chosen.
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_FROM": "+15005550006",
    }
    sender = make_sender(config)
    assert isinstance(sender, AndroidSender) and sender.url == "http://192.168.1.20:8080"


def test_without_the_android_settings_development_logs_and_production_refuses():
    config = {"PICKUP_SMS_GATEWAY": "android", "ANDROID_SMS_GATEWAY_URL": "http://x"}
    assert isinstance(make_sender({**config, "PICKUP_ENV": "development"}), ConsoleSender)
    with pytest.raises(ValueError) as caught:
        make_sender({**config, "PICKUP_ENV": "production"})
    assert str(caught.value).startswith(
        "The Android SMS gateway is not configured: set ANDROID_SMS_GATEWAY_URL, "
        "ANDROID_SMS_GATEWAY_LOGIN and ANDROID_SMS_GATEWAY_PASSWORD."
    )


@pytest.mark.parametrize(("raw", "expected"), [("android", "android"), (" Twilio ", "twilio")])
def test_gateway_setting_is_read(tmp_path, raw, expected):
    from shared.settings import load_settings

    assert load_settings({"PICKUP_SMS_GATEWAY": raw}, tmp_path)["PICKUP_SMS_GATEWAY"] == expected


def test_an_unknown_gateway_setting_is_refused(tmp_path):
    from shared.settings import load_settings

    with pytest.raises(ValueError) as caught:
        load_settings({"PICKUP_SMS_GATEWAY": "nexmo"}, tmp_path)
    assert str(caught.value) == (
        "setting PICKUP_SMS_GATEWAY: expected one of twilio, android, got 'nexmo'"
    )


def test_the_gateway_password_and_signing_key_never_reach_a_log(
    tmp_path, demo_template, short_dir, caplog
):
    password, key = "gateway-password-8c1f", "signing-key-77e0a2b9"
    make_app(
        tmp_path,
        demo_template,
        short_dir,
        ANDROID_SMS_GATEWAY_PASSWORD=password,
        ANDROID_SMS_GATEWAY_SIGNING_KEY=key,
    )
    caplog.set_level(logging.INFO)
    logging.getLogger("sms.senders").info("calling with %s and %s", password, key)
    (record,) = [r for r in caplog.records if r.name == "sms.senders"]
    assert record.getMessage() == "calling with [secret] and [secret]"
