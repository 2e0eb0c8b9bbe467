"""The core's outreach as plain functions: which SMS is queued, to whom, in which words."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support import DEMO_LOADED_AT, DEMO_START

from shared import outreach, outreach_texts, storage
from shared.errors import BookingClosed
from shared.messages import DEFAULT_LANGUAGE

ZH_PHONE = "+8617000000001"  # the demo's Chinese-speaking contact
EN_PHONE = "+8617000000009"  # the demo's English-speaking contact
AFTER_THE_DAY = DEMO_START + timedelta(days=2)


def recipient_of(db, phone):
    (recipient,) = storage.find_recipients_by_phone(db, phone)
    return recipient


def outbox(db, phone):
    return storage.outbox_for_phone(db, phone)


# -- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "roster", "expected"),
    [
        ("en", "zh", "en"),  # what the phone asked for wins
        (None, "en", "en"),  # else the roster's
        (None, None, DEFAULT_LANGUAGE),  # else the default
    ],
)
def test_language_for(demo_db, asked, roster, expected):
    if asked:
        storage.set_phone_language(demo_db, ZH_PHONE, asked, DEMO_LOADED_AT)
    recipient = {"language": roster} if roster else None
    assert outreach.language_for(demo_db, ZH_PHONE, recipient) == expected


def test_phone_language_is_none_when_nothing_is_known(demo_db):
    assert outreach.phone_language(demo_db, "+8617099999999", None) is None


# -- slot offers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "language", "opening"),
    [
        ("offer", "en", "Reply 1, 2 or 3 within 5 min: 1) 4 Feb "),
        ("offer", "zh", "5分钟内回复序号选时段：1) 2月4日"),
        ("missed_offer", "en", "You missed your pickup time. Reply 1, 2 or 3 within 5 min"),
        ("missed_offer", "zh", "您错过了领取时段。5分钟内回复序号改约：1) 2月4日"),
        ("waiting_offer", "en", "A pickup time is free for you. Reply 1, 2 or 3 within 5 min"),
        ("waiting_offer", "zh", "有空余领取时段。5分钟内回复序号预约：1) 2月4日"),
    ],
)
def test_offer_holds_slots_and_waits_for_a_digit(demo_db, kind, language, opening):
    recipient = recipient_of(demo_db, EN_PHONE)
    offer = outreach.offer_slots(demo_db, recipient, EN_PHONE, DEMO_LOADED_AT, 5, language, kind)
    assert offer is not None and len(offer.slot_ids) == 3
    assert offer.text.startswith(opening)
    assert outreach_texts.within_budget(offer.text, language, carries_code=False)
    held = storage.held_slot_ids(demo_db, recipient["id"], DEMO_LOADED_AT)
    assert sorted(held) == sorted(offer.slot_ids)
    conversation = storage.get_conversation(demo_db, EN_PHONE)
    assert conversation["state"] == "choosing"
    assert json.loads(conversation["offered"]) == offer.slot_ids
    assert outbox(demo_db, EN_PHONE) == []  # offering is not sending


def test_offer_when_nothing_is_free(demo_db):
    recipient = recipient_of(demo_db, EN_PHONE)
    assert outreach.offer_slots(demo_db, recipient, EN_PHONE, AFTER_THE_DAY, 5, "en") is None
    assert storage.get_conversation(demo_db, EN_PHONE) is None


def test_offer_after_check_in_is_refused(demo_db):
    recipient = recipient_of(demo_db, EN_PHONE)
    live = storage.live_booking_for(demo_db, recipient["id"])
    storage.mark_checked_in(demo_db, live["id"], DEMO_LOADED_AT, 1)
    with pytest.raises(BookingClosed, match="already checked in"):
        outreach.offer_slots(demo_db, recipient, EN_PHONE, DEMO_LOADED_AT, 5, "en")


def test_queued_offer_is_sent_once_per_set_of_slots(demo_db):
    recipient = recipient_of(demo_db, ZH_PHONE)
    first = outreach.queue_slot_offer(demo_db, recipient["id"], DEMO_LOADED_AT, 5, "missed_offer")
    assert first is not None
    (message,) = outbox(demo_db, ZH_PHONE)
    assert message["kind"] == "offer"
    assert message["body"].startswith("您错过了领取时段。")
    # The same slots again: already offered, nothing new queued.
    again = outreach.queue_slot_offer(demo_db, recipient["id"], DEMO_LOADED_AT, 5, "missed_offer")
    assert again is None
    assert len(outbox(demo_db, ZH_PHONE)) == 1


@pytest.mark.parametrize("reason", ["opted_out", "no_phone", "nothing_free", "checked_in"])
def test_queued_offer_sends_nothing_when_it_cannot(demo_db, reason):
    recipient = recipient_of(demo_db, EN_PHONE)
    now = DEMO_LOADED_AT
    if reason == "opted_out":
        storage.set_phone_opt_out(demo_db, EN_PHONE, True, now)
    elif reason == "no_phone":
        demo_db.execute("UPDATE recipients SET phone = NULL WHERE id = ?", [recipient["id"]])
    elif reason == "nothing_free":
        now = AFTER_THE_DAY
    else:
        live = storage.live_booking_for(demo_db, recipient["id"])
        storage.mark_checked_in(demo_db, live["id"], now, 1)
    assert outreach.queue_slot_offer(demo_db, recipient["id"], now, 5, "waiting_offer") is None
    assert outbox(demo_db, EN_PHONE) == []
    assert storage.held_slot_ids(demo_db, recipient["id"], now) == []


# -- confirmations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "kind", "opening"),
    [
        (EN_PHONE, "booked", "Booked: 4 Feb "),
        (EN_PHONE, "changed", "Moved to 4 Feb "),
        (EN_PHONE, "cancelled", "Cancelled. Voucher "),
        (ZH_PHONE, "booked", "已预约2月4日"),
        (ZH_PHONE, "changed", "已改到2月4日"),
        (ZH_PHONE, "cancelled", "已取消预约，凭证号"),
    ],
)
def test_confirmation_in_the_phones_language(demo_db, phone, kind, opening):
    recipient = recipient_of(demo_db, phone)
    live = storage.live_booking_for(demo_db, recipient["id"])
    assert outreach.queue_confirmation(demo_db, live["id"], kind, DEMO_LOADED_AT) is not None
    (message,) = outbox(demo_db, phone)
    assert message["kind"] == "confirmation"
    assert message["body"].startswith(opening)
    voucher = storage.voucher_view_by_booking(demo_db, live["id"])
    assert outreach_texts.voucher_values(voucher, "en")["code"] in message["body"]


def test_confirmation_without_a_phone_is_not_queued(demo_db):
    recipient = recipient_of(demo_db, EN_PHONE)
    live = storage.live_booking_for(demo_db, recipient["id"])
    demo_db.execute("UPDATE recipients SET phone = NULL WHERE id = ?", [recipient["id"]])
    assert outreach.queue_confirmation(demo_db, live["id"], "booked", DEMO_LOADED_AT) is None


def test_failed_invitations_are_queued_again(demo_db):
    outreach.queue_invitations(demo_db, 1, DEMO_LOADED_AT)
    demo_db.execute(
        "UPDATE sms_outbox SET status = 'failed' WHERE phone IN (?, ?)", [EN_PHONE, ZH_PHONE]
    )
    assert outreach.retry_failed_invitations(demo_db, 1, DEMO_LOADED_AT) == 2
    assert outreach.retry_failed_invitations(demo_db, 1, DEMO_LOADED_AT) == 0


# -- the segment budget ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "carries_code", "fits"),
    [
        ("a" * 160, "en", False, True),
        ("a" * 161, "en", False, False),
        ("a" * 100 + "中", "en", False, False),  # English must stay GSM-7
        ("{" * 80, "en", True, True),
        ("中" * 70, "zh", False, True),
        ("中" * 71, "zh", False, False),
        ("中" * 134, "zh", True, True),
        ("中" * 135, "zh", True, False),
    ],
)
def test_within_budget(text, language, carries_code, fits):
    assert outreach_texts.within_budget(text, language, carries_code) is fits


@pytest.mark.parametrize(
    ("language", "carries_code", "units"),
    [("en", False, 160), ("en", True, 160), ("zh", False, 70), ("zh", True, 134)],
)
def test_segment_budget(language, carries_code, units):
    assert outreach_texts.segment_budget(language, carries_code) == units
