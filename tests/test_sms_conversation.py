"""The SMS conversation on the demo: book, check, change and cancel, in both languages,
through either gateway (Twilio, SMS Gateway for Android) with the same replies."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from gateway_support import BASE, SIGNING_KEY, TWILIO_TOKEN, GatewayPhone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import DEMO_LOADED_AT, SECRET

from shared import booking, outreach_texts, storage
from shared.segments import count_segments
from shared.vouchers import format_code
from sms import conversation, texts
from sms.conversation import ChannelConfig, Reply, handle_sms

CHANNEL = ChannelConfig(SECRET.encode(), hold_minutes=5, sms_per_phone=0, calls_per_phone=0)
ZH_PHONE = "+8617000000001"  # demo enterprise 1 prefers Chinese
EN_PHONE = "+8617000000009"  # every ninth prefers English
_ids = itertools.count(1)


@pytest.fixture(params=["twilio", "android"])
def gateway(request, demo_app):
    """A phone texting through Twilio's webhook or the Android gateway's: the same replies.

    Twilio answers inline; the Android reply goes through the outbox and the worker to a
    loopback stand-in for the phone's API.
    """
    clock = [DEMO_LOADED_AT]
    demo_app.config.update(
        CLOCK=lambda: clock[0],
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        PUBLIC_BASE_URL=BASE,
        ANDROID_SMS_GATEWAY_SIGNING_KEY=SIGNING_KEY,
        PICKUP_SMS_PER_PHONE=0,  # as CHANNEL: these tests text more than ten times
    )
    phone = GatewayPhone(request.param, demo_app, clock)
    yield phone
    phone.close()


def sms(db, phone, text, now=DEMO_LOADED_AT, message_id=None):
    return handle_sms(
        db, phone, "+10000000000", text, message_id or f"SM{next(_ids)}", now, CHANNEL
    )


def live(db, phone):
    recipient = storage.find_recipients_by_phone(db, phone)[0]
    found = storage.live_booking_for(db, recipient["id"])
    return storage.voucher_view_by_booking(db, found["id"]) if found else None


def fits(reply) -> bool:
    count = count_segments(reply.text)
    if reply.language == "en":
        return count.encoding == "GSM-7" and count.units <= 160
    return count.units <= 134


WORDS = {
    "zh": {"status": "查询", "book": "预约", "change": "改期", "cancel": "取消"},
    "en": {"status": "STATUS", "book": "BOOK", "change": "CHANGE", "cancel": "QX"},
}


@pytest.mark.parametrize(("phone", "language"), [(ZH_PHONE, "zh"), (EN_PHONE, "en")])
def test_check_change_cancel_and_book_again(gateway, demo_db, phone, language):
    words = WORDS[language]
    before = live(demo_db, phone)
    code = format_code(before["code"])

    status = gateway.sms(phone, words["status"])
    assert status.language == language and code in status.text and fits(status)

    offer = gateway.sms(phone, words["change"])
    assert "1)" in offer.text and "3)" in offer.text and fits(offer)
    chosen = gateway.sms(phone, "2")
    after = live(demo_db, phone)
    assert after["slot_id"] != before["slot_id"]
    assert after["code"] == before["code"]  # a move keeps the voucher
    assert code in chosen.text and fits(chosen)
    when = outreach_texts.when(after["starts_at"], after["ends_at"], after["timezone"], language)
    assert when in gateway.sms(phone, words["status"]).text

    ask = gateway.sms(phone, words["cancel"])
    assert when in ask.text and live(demo_db, phone) is not None
    done = gateway.sms(phone, "1")
    assert live(demo_db, phone) is None
    assert code in done.text and fits(done)
    assert gateway.sms(phone, words["status"]).text == texts.sms_text(
        "no_booking", language, which=""
    )

    gateway.sms(phone, words["book"])
    booked = gateway.sms(phone, "1")
    fresh = live(demo_db, phone)
    assert fresh is not None and fresh["code"] != before["code"]
    assert format_code(fresh["code"]) in booked.text and fits(booked)


def test_cancel_with_code_asks_first_and_other_reply_keeps_it(gateway, demo_db):
    voucher = live(demo_db, EN_PHONE)
    ask = gateway.sms(EN_PHONE, f"CANCEL {voucher['code']}")
    assert ask.text.startswith("Cancel your pickup on")
    kept = gateway.sms(EN_PHONE, "no thanks")
    assert kept.text.startswith("Not cancelled")
    assert live(demo_db, EN_PHONE) is not None
    # The confirmation is gone: a later "1" does not cancel.
    assert gateway.sms(EN_PHONE, "1").text == texts.sms_text("not_offered", "en")
    assert live(demo_db, EN_PHONE) is not None


@pytest.mark.parametrize(
    ("code", "key"),
    [("1234", "code_mistyped"), ("0000000000000001", "code_mistyped"), (None, "code_not_yours")],
)
def test_cancel_with_a_wrong_code(gateway, demo_db, code, key):
    if code is None:  # somebody else's real code
        code = live(demo_db, ZH_PHONE)["code"]
    assert gateway.sms(EN_PHONE, f"CANCEL {code}").text == texts.sms_text(key, "en")
    assert live(demo_db, ZH_PHONE) is not None and live(demo_db, EN_PHONE) is not None


@pytest.mark.parametrize("word", ["CANCEL", "cancel", "STOP", "Stop.", "退订", "END", "QUIT"])
def test_bare_cancel_and_stop_opt_out_and_never_cancel(gateway, demo_db, word):
    reply = gateway.sms(EN_PHONE, word)
    assert reply.text == texts.sms_text("opted_out", "en")
    assert storage.is_opted_out(demo_db, EN_PHONE)
    assert live(demo_db, EN_PHONE) is not None
    # Opted out: nothing is sent back until START.
    assert gateway.sms(EN_PHONE, "STATUS").text == ""
    assert gateway.sms(EN_PHONE, "START").text == texts.sms_text("opted_in", "en")
    assert not storage.is_opted_out(demo_db, EN_PHONE)
    assert "Voucher" in gateway.sms(EN_PHONE, "STATUS").text


def test_language_is_remembered_per_phone(gateway, demo_db):
    assert gateway.sms(ZH_PHONE, "EN").text == texts.sms_text("language_set", "en")
    assert gateway.sms(ZH_PHONE, "STATUS").text.startswith("Pickup ")
    assert gateway.sms(ZH_PHONE, "中文").text == texts.sms_text("language_set", "zh")
    assert gateway.sms(ZH_PHONE, "STATUS").text.startswith("领取时间")


@pytest.mark.parametrize(
    ("text", "language"), [("hello", "en"), ("你好", "zh"), ("BOOK", "en"), ("123", "zh")]
)
def test_unknown_phone_is_told_how_to_register(gateway, demo_db, text, language):
    reply = gateway.sms("+8613900000000", text)
    assert reply.text == texts.sms_text("unknown_phone", language)


@pytest.mark.parametrize("text", ["hello", "", "   ", "😀", "12", "thanks a lot"])
def test_anything_else_gets_help(gateway, demo_db, text):
    assert gateway.sms(EN_PHONE, text).text == texts.sms_text("help", "en")


def test_choice_without_offer(gateway, demo_db):
    assert gateway.sms(EN_PHONE, "2").text == texts.sms_text("not_offered", "en")


def test_choice_out_of_range(gateway, demo_db):
    gateway.sms(EN_PHONE, "BOOK")
    assert gateway.sms(EN_PHONE, "7").text == texts.sms_text(
        "bad_choice", "en", choices="1, 2 or 3"
    )


def test_offered_slot_taken_after_hold_expired(gateway, demo_db):
    gateway.sms(EN_PHONE, "BOOK")
    conversation = storage.get_conversation(demo_db, EN_PHONE)
    slot_id = __import__("json").loads(conversation["offered"])[0]
    later = DEMO_LOADED_AT + timedelta(minutes=10)
    # Others fill the slot after the hold lapsed.
    slot = storage.get_slot(demo_db, slot_id)
    others = [
        r
        for r in storage.list_recipients(demo_db, slot["distribution_id"])
        if storage.live_booking_for(demo_db, r["id"])["slot_id"] != slot_id
    ]
    filled = 0
    for other in others:
        try:
            booking.book_slot(demo_db, other["id"], slot_id, later, "test", CHANNEL.make_code)
            filled += 1
        except Exception:  # noqa: BLE001 - capacity reached: stop filling
            break
    assert filled
    reply = gateway.sms(EN_PHONE, "1", now=later)
    assert reply.text == texts.sms_text("slot_taken", "en")


def test_phone_on_two_rosters_says_which(gateway, demo_db):
    first = storage.find_recipients_by_phone(demo_db, EN_PHONE)[0]
    with storage.transaction(demo_db):
        storage.insert_recipients(
            demo_db,
            2,
            [
                {
                    "name": "Extra",
                    "external_id": "X-1",
                    "phone": EN_PHONE,
                    "language": "en",
                    "population": 1000,
                }
            ],
        )
    reply = gateway.sms(EN_PHONE, "STATUS")
    # No booking in distribution 2: the one with a booking (disinfectant) is meant.
    assert reply.text.startswith("Disinfectant: Pickup ")
    assert live(demo_db, EN_PHONE)["recipient_id"] == first["id"]


def test_retried_message_books_once_and_answers_the_same(gateway, demo_db):
    gateway.sms(EN_PHONE, "CHANGE")
    first = gateway.sms(EN_PHONE, "1", message_id="SMretry")
    moved = storage.audit_entries(demo_db)
    again = gateway.sms(EN_PHONE, "1", message_id="SMretry")
    # Twilio gets the stored answer again inline; the Android gateway's retried event is
    # acknowledged and sends nothing: the answer went once, through the outbox.
    assert again == (first if gateway.kind == "twilio" else Reply("", "en"))
    assert storage.audit_entries(demo_db) == moved


def test_two_copies_at_once_book_once(demo_app, demo_db):
    recipient = storage.find_recipients_by_phone(demo_db, EN_PHONE)[0]
    storage.cancel_booking_row(
        demo_db, storage.live_booking_for(demo_db, recipient["id"])["id"], DEMO_LOADED_AT
    )
    sms(demo_db, EN_PHONE, "BOOK")
    path = demo_app.config["PICKUP_DB"]
    replies, errors = [], []
    barrier = threading.Barrier(2)

    def deliver():
        connection = storage.open_database(path)
        try:
            barrier.wait()
            replies.append(sms(connection, EN_PHONE, "1", message_id="SMtwin"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.conn.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert replies[0] == replies[1] and replies[0].text.startswith("Booked:")
    bookings = demo_db.execute(
        "SELECT count(*) FROM bookings WHERE recipient_id = ?", [recipient["id"]]
    ).fetchone()[0]
    assert bookings == 2  # the cancelled one and exactly one new one
    assert (
        demo_db.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'book' AND actor = ?",
            [f"sms:{EN_PHONE}"],
        ).fetchone()[0]
        == 1
    )


@pytest.mark.parametrize(
    ("meanwhile", "expected"),
    [
        ("1", "not_offered"),  # the other copy booked and closed the offer
        ("STOP", ""),  # the phone opted out: nothing more is said to it
        ("QX", "kept"),  # now it asks "cancel?", and "2" keeps the booking
    ],
)
def test_a_step_read_before_another_message_from_the_phone_is_read_again(
    demo_app, demo_db, monkeypatch, meanwhile, expected
):
    """Two messages from one phone at once: the step is read without the write lock, so
    the other may change the phone's conversation in between; under the lock the step is
    read again and answered as if the messages had come one after the other."""
    sms(demo_db, EN_PHONE, "CHANGE")
    other = storage.open_database(demo_app.config["PICKUP_DB"])
    read = conversation.read_phone_state
    others = [meanwhile]

    def read_then_the_other_message(db, phone, command, now):
        state = read(db, phone, command, now)
        if others:
            sms(other, EN_PHONE, others.pop())  # read and answered whole, in between
        return state

    monkeypatch.setattr(conversation, "read_phone_state", read_then_the_other_message)
    reply = sms(demo_db, EN_PHONE, "2" if meanwhile == "QX" else "1")
    other.conn.close()
    if expected == "kept":
        when = outreach_texts.voucher_values(live(demo_db, EN_PHONE), "en")["when"]
        assert reply.text == texts.sms_text("kept", "en", when=when)
    else:
        assert reply.text == (texts.sms_text(expected, "en") if expected else "")
    changes = demo_db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'change' AND actor = ?",
        [f"sms:{EN_PHONE}"],
    ).fetchone()[0]
    assert changes == (1 if meanwhile == "1" else 0)  # one move, by the other message


def test_the_same_message_answered_between_the_read_and_the_lock_counts_once(
    demo_app, demo_db, monkeypatch
):
    """A retried delivery answered whole while this one was reading: this one's work is
    rolled back and it gives the stored reply, so the booking moves once."""
    sms(demo_db, EN_PHONE, "CHANGE")
    other = storage.open_database(demo_app.config["PICKUP_DB"])
    read = conversation.read_phone_state
    first = []

    def read_then_the_retry(db, phone, command, now):
        state = read(db, phone, command, now)
        if not first:
            first.append(None)
            first.append(sms(other, EN_PHONE, "1", message_id="SMsame"))
        return state

    monkeypatch.setattr(conversation, "read_phone_state", read_then_the_retry)
    reply = sms(demo_db, EN_PHONE, "1", message_id="SMsame")
    other.conn.close()
    assert reply == first[1] and reply.text.startswith("Moved to ")
    changes = demo_db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'change' AND actor = ?",
        [f"sms:{EN_PHONE}"],
    ).fetchone()[0]
    assert changes == 1


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=200))
def test_any_text_gets_a_reply_within_limits(demo_db, text):
    reply = sms(demo_db, EN_PHONE, text)
    if storage.is_opted_out(demo_db, EN_PHONE):
        assert reply.text in ("", texts.sms_text("opted_out", reply.language))
        sms(demo_db, EN_PHONE, "START")
        return
    assert reply.text
    assert fits(reply), reply
