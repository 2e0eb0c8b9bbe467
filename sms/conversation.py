"""The SMS conversation: text in, reply out. Knows nothing of Twilio or of HTTP.

A provider adapter turns its request into ``(from, to, text, message id)``, calls
:func:`handle_sms` and turns the :class:`Reply` back into its own format. The message id
makes a retried delivery harmless: the first answer is stored with it, in the same
transaction as any booking it made, and a retry (even one arriving at the same moment)
gets that answer back and books nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import booking, outreach, ratelimit, storage
from shared.errors import (
    BookingClosed,
    HoldExpired,
    InvalidInput,
    MistypedCode,
    NotFound,
    SlotFull,
    UnknownCode,
)
from shared.messages import DEFAULT_LANGUAGE
from shared.outreach_texts import choices, item_label, voucher_values
from shared.vouchers import parse_code, voucher_code
from sms import texts

CONFIRM_MINUTES = 30  # how long a "reply 1 to cancel" stays answerable


@dataclass(frozen=True)
class ChannelConfig:
    """What the phone channels need from the app's settings (declared in shared/settings.py)."""

    secret: bytes
    hold_minutes: int  # PICKUP_HOLD_MINUTES
    sms_per_phone: int  # PICKUP_SMS_PER_PHONE: incoming SMS per 10 minutes; 0: no limit
    calls_per_phone: int  # PICKUP_CALLS_PER_PHONE: calls per hour; 0: no limit
    code_tries: int = 5  # PICKUP_IVR_CODE_TRIES: wrong codes per hour and scope; 0: no limit

    def make_code(self, serial: int) -> str:
        return voucher_code(serial, self.secret)


def channel_config(config: Mapping[str, Any]) -> ChannelConfig:
    """The channel's settings from a Flask config (or any mapping with the same keys)."""
    return ChannelConfig(
        config["VOUCHER_SECRET"],
        config["PICKUP_HOLD_MINUTES"],
        config["PICKUP_SMS_PER_PHONE"],
        config["PICKUP_CALLS_PER_PHONE"],
        config["PICKUP_IVR_CODE_TRIES"],
    )


@dataclass(frozen=True)
class Reply:
    """The answer to one SMS. An empty ``text`` means: send nothing back."""

    text: str
    language: str


@dataclass(frozen=True)
class Command:
    kind: str  # see parse_command
    arg: str = ""


# One-word messages that opt a phone out at Twilio (and so here too). A bare CANCEL is one
# of them, which is why cancelling a booking takes QX, 取消 or "CANCEL <code>".
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "退订", "TD"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
YES_WORDS = frozenset({"YES", "Y", "是", "确认", "确定"})
WORDS = {
    "help": {"HELP", "H", "?", "INFO", "帮助", "菜单", "BZ"},
    "status": {"STATUS", "查询", "CX"},
    "book": {"BOOK", "预约", "YY"},
    "change": {"CHANGE", "改期", "GQ"},
    "cancel": {"CANCEL", "QX", "取消"},
    "english": {"EN", "ENGLISH", "英文"},
    "chinese": {"ZH", "CN", "中文", "CHINESE", "汉语", "普通话"},
}
_KIND_OF_WORD = {word: kind for kind, words in WORDS.items() for word in words}
# Chinese keywords are often typed straight before a code, with no space.
_CHINESE_HEADS = sorted((w for w in _KIND_OF_WORD if not w.isascii()), key=len, reverse=True)
# Punctuation NFKC leaves alone (or that people put around a command): read as spaces.
_PUNCTUATION = re.compile(r"[。、，,；;：:！!“”‘’\"'《》【】\[\]（）()…~·.\-_/]+")


def normalise_text(text: str) -> str:
    """Upper case, half-width, punctuation as spaces, single spaces, trimmed."""
    folded = unicodedata.normalize("NFKC", text or "")
    if folded.strip() in {"?", "？"}:
        return "?"
    folded = _PUNCTUATION.sub(" ", folded.replace("?", " "))
    return " ".join(folded.upper().split())


def parse_command(text: str) -> Command:
    """Read one SMS as a command. Never raises; anything unknown is ``unknown``.

    Kinds: help, status, book, change, cancel (arg: the code, maybe empty), choose (arg:
    one digit), yes, opt_out, opt_in, english, chinese, unknown.
    """
    clean = normalise_text(text)
    if not clean:
        return Command("unknown")
    if clean in OPT_OUT_WORDS:
        return Command("opt_out")
    if clean in OPT_IN_WORDS:
        return Command("opt_in")
    if clean in YES_WORDS:
        return Command("yes")
    if len(clean) == 1 and clean.isdigit():
        return Command("choose", clean)
    head, _, rest = clean.partition(" ")
    if head not in _KIND_OF_WORD:
        for word in _CHINESE_HEADS:
            if clean.startswith(word):
                head, rest = word, clean[len(word) :]
                break
    kind = _KIND_OF_WORD.get(head)
    if kind is None:
        return Command("unknown")
    if kind == "cancel":
        return Command("cancel", "".join(rest.split()) if any(c.isdigit() for c in rest) else "")
    if rest and kind in {"english", "chinese"}:
        return Command("unknown")
    return Command(kind)


def guess_language(text: str) -> str:
    """Chinese if the text has a Chinese character, English if it has a Latin letter."""
    if re.search(r"[\u4e00-\u9fff]", text or ""):
        return "zh"
    if re.search(r"[A-Za-z]", text or ""):
        return "en"
    return DEFAULT_LANGUAGE


def choose_recipient(db: Database, recipients: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The recipient a phone speaks for: one with a live booking, else the latest list.

    A phone can be on several distributions' rosters (an enterprise's contact for both
    disinfectant and masks); the most recent distribution with a booking wins.
    """
    if len(recipients) == 1:
        return recipients[0]
    booked = [r for r in recipients if storage.live_booking_for(db, r["id"])]
    pool = booked or list(recipients)
    return max(pool, key=lambda r: (r["distribution_id"], r["id"]))


@dataclass(frozen=True)
class PhoneState:
    """What a step of the conversation reads about the phone, before the write lock.

    :func:`handle_sms` reads it without the lock, then under the lock checks that the
    phone's own rows (its preferences and its conversation) are as read, and reads it
    again if not. What a change depends on beyond the phone (a slot's room, a booking's
    state, the allotment) the booking functions check again under the lock themselves.
    """

    prefs: dict[str, Any] | None  # the phone's language and opt-out
    conversation: dict[str, Any] | None  # as stored: maybe expired
    recipients: list[dict[str, Any]]  # every roster entry with this phone
    recipient: dict[str, Any] | None  # the one the phone speaks for
    booking: dict[str, Any] | None  # that recipient's live booking
    offer: outreach.OfferDraft | None  # BOOK or CHANGE: the slots free when read

    def language(self, text: str) -> str:
        """The phone's chosen language, else the roster's, else the text's."""
        if self.prefs and self.prefs["language"]:
            return self.prefs["language"]
        if self.recipient and self.recipient["language"]:
            return self.recipient["language"]
        return guess_language(text)

    @property
    def opted_out(self) -> bool:
        return bool(self.prefs and self.prefs["opted_out_at"])

    def live_conversation(self, now: datetime) -> dict[str, Any] | None:
        """The conversation if it has not expired at ``now``."""
        if self.conversation is None:
            return None
        if self.conversation["expires_at"] <= storage.to_db_time(now):
            return None
        return self.conversation

    def is_current(self, db: Database, phone: str) -> bool:
        """Whether the phone's own rows are still as read (call under the write lock)."""
        return (
            storage.get_conversation(db, phone) == self.conversation
            and storage.get_phone_prefs(db, phone) == self.prefs
        )


def read_phone_state(db: Database, phone: str, command: Command, now: datetime) -> PhoneState:
    """Everything :func:`respond` reads about ``phone`` for ``command``; writes nothing."""
    recipients = storage.find_recipients_by_phone(db, phone)
    recipient = choose_recipient(db, recipients) if recipients else None
    live = storage.live_booking_for(db, recipient["id"]) if recipient else None
    offer = None
    if recipient is not None and command.kind in {"book", "change"}:
        offer = outreach.draft_offer(db, recipient, now)
    return PhoneState(
        storage.get_phone_prefs(db, phone),
        storage.get_conversation(db, phone),
        recipients,
        recipient,
        live,
        offer,
    )


def handle_sms(
    db: Database,
    from_phone: str,
    to_phone: str | None,
    text: str,
    message_id: str,
    now: datetime,
    channel: ChannelConfig,
) -> Reply:
    """Answer one incoming SMS, once: a repeated ``message_id`` gets the stored reply.

    The stored reply may hold a voucher, so it goes back only to the phone it was made for:
    the same ``message_id`` from another phone raises :class:`InvalidInput` (a provider never
    reuses an id, so this is a forged or broken request) and nothing is answered or stored.

    What the step reads is read before the write lock (:class:`PhoneState`); the write
    transaction holds the check that the phone's rows did not change meanwhile, the
    per-phone limit, the change itself and the stored reply, whose message id must still
    be new (else all of it is rolled back), so that writers queue as briefly as possible.
    """
    if not message_id:
        raise InvalidInput("sms_message_id_missing")
    text = text or ""
    seen = storage.get_inbound(db, message_id)
    if seen is None:
        sms = Incoming(from_phone, text, parse_command(text), now)
        state = read_phone_state(db, from_phone, sms.command, now)
        try:
            with storage.transaction(db):
                # PostgreSQL: one node at a time answers a phone (SQLite's write lock does).
                storage.lock_phone(db, from_phone)
                if not state.is_current(db, from_phone):
                    state = read_phone_state(db, from_phone, sms.command, now)
                reply = _limited(db, sms, state, channel) or respond(db, sms, state, channel)
                stored = storage.record_inbound(
                    db, message_id, from_phone, to_phone, text, reply.text, reply.language, now
                )
                if not stored:
                    raise _AnsweredMeanwhile
            return reply
        except _AnsweredMeanwhile:
            seen = storage.get_inbound(db, message_id)
    if seen["phone"] != from_phone:
        raise InvalidInput("sms_message_id_reused")
    return Reply(seen["reply"], seen["language"])


class _AnsweredMeanwhile(Exception):
    """Another delivery of the same message was answered between the first look and the
    write lock: this answer is rolled back, and the stored one given."""


@dataclass(frozen=True)
class Incoming:
    """One SMS as the conversation reads it: who sent what, read as which command, when."""

    phone: str
    text: str
    command: Command
    now: datetime


def _limited(
    db: Database, sms: Incoming, state: PhoneState, channel: ChannelConfig
) -> Reply | None:
    """The reply to a phone over its SMS limit (a notice once, then silence), else None.

    STOP and START always go through: the provider acts on them whatever we answer. So does
    a reply that completes a step the service asked for (a choice among offered times, the
    answer to "cancel?"): the limit never cuts a conversation in the middle.
    """
    if sms.command.kind in {"opt_out", "opt_in"} or _completes_pending_step(state, sms):
        return None
    allowance = ratelimit.sms_allowance(db, sms.phone, channel.sms_per_phone, sms.now)
    if allowance == ratelimit.ALLOW:
        return None
    language = state.language(sms.text)
    if allowance == ratelimit.NOTICE:
        return _reply("rate_limited", language)
    return Reply("", language)


def _completes_pending_step(state: PhoneState, sms: Incoming) -> bool:
    """True if the SMS answers the question the phone's open conversation asked."""
    conversation = state.live_conversation(sms.now)
    if conversation is None:
        return False
    if conversation["state"] == "choosing":
        return sms.command.kind == "choose"
    if conversation["state"] == "confirm_cancel":
        return sms.command.kind in {"yes", "choose", "unknown"}
    return False


def respond(db: Database, sms: Incoming, state: PhoneState, channel: ChannelConfig) -> Reply:
    """The reply to an SMS, with its effects (bookings, preferences).

    Call under the write lock, with a ``state`` that is current.
    """
    phone, command, now = sms.phone, sms.command, sms.now
    recipients, recipient = state.recipients, state.recipient
    language = state.language(sms.text)

    if command.kind == "opt_out":
        storage.set_phone_opt_out(db, phone, True, now)
        storage.clear_conversation(db, phone)
        return _reply("opted_out", language)
    if command.kind == "opt_in" or (command.kind == "yes" and state.opted_out):
        storage.set_phone_opt_out(db, phone, False, now)
        return _reply("opted_in", language)
    if state.opted_out:
        # The provider would refuse to deliver it anyway; say nothing until START.
        return Reply("", language)
    if command.kind in {"english", "chinese"}:
        language = "en" if command.kind == "english" else "zh"
        storage.set_phone_language(db, phone, language, now)
        return _reply("language_set", language)
    if recipient is None:
        return _reply("unknown_phone", language)

    conversation = state.live_conversation(now)
    if state.conversation is not None and conversation is None:
        storage.clear_conversation(db, phone)
    if conversation and conversation["state"] == "confirm_cancel":
        storage.clear_conversation(db, phone)
        subject = _recipient_of(db, state, conversation)
        if command.kind == "yes" or command == Command("choose", "1"):
            return _cancel(db, subject, phone, now, language)
        if command.kind in {"unknown", "choose"}:
            live = _booking_of(db, state, subject)
            if live is not None:
                view = storage.voucher_view_by_booking(db, live["id"])
                return _reply("kept", language, when=voucher_values(view, language)["when"])
    if command.kind == "choose":
        if conversation is None or conversation["state"] != "choosing":
            return _reply("not_offered", language)
        subject = _recipient_of(db, state, conversation)
        offered = json.loads(conversation["offered"])
        had_booking = _booking_of(db, state, subject) is not None
        return _choose(db, subject, phone, offered, command, had_booking, now, channel, language)

    label = _which(db, recipient, recipients, language)
    if command.kind == "status":
        return _status(db, recipient, language, label)
    if command.kind in {"book", "change"}:
        return _offer(db, recipient, phone, now, channel, language, state.offer)
    if command.kind == "cancel":
        return _ask_cancel(db, recipients, recipient, phone, command.arg, now, channel, language)
    return _reply("help", language)


def _recipient_of(db: Database, state: PhoneState, conversation: Mapping[str, Any]) -> dict:
    """The recipient the phone's conversation is about (usually the one it speaks for)."""
    wanted = conversation["recipient_id"]
    for recipient in state.recipients:
        if recipient["id"] == wanted:
            return recipient
    return storage.get_recipient(db, wanted)


def _booking_of(
    db: Database, state: PhoneState, recipient: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``recipient``'s live booking: as read with the state if it is the phone's own."""
    if state.recipient is not None and recipient["id"] == state.recipient["id"]:
        return state.booking
    return storage.live_booking_for(db, recipient["id"])


def _reply(key: str, language: str, **values: object) -> Reply:
    return Reply(texts.sms_text(key, language, **values), language)


def _which(
    db: Database,
    recipient: Mapping[str, Any],
    recipients: Sequence[Mapping[str, Any]],
    language: str,
) -> str:
    """Name the distribution when the phone is on more than one roster, else nothing."""
    if len(recipients) < 2:
        return ""
    distribution = storage.get_distribution(db, recipient["distribution_id"])
    return item_label(distribution["name"], distribution["item"], language)


def _status(db: Database, recipient: Mapping[str, Any], language: str, label: str) -> Reply:
    live = storage.live_booking_for(db, recipient["id"])
    which = texts.which(label, language)
    if live is None:
        return _reply("no_booking", language, which=which)
    view = storage.voucher_view_by_booking(db, live["id"])
    return _reply("status", language, which=which, **voucher_values(view, language))


def _offer(
    db: Database,
    recipient: Mapping[str, Any],
    phone: str,
    now: datetime,
    channel: ChannelConfig,
    language: str,
    draft: outreach.OfferDraft | None,
) -> Reply:
    try:
        offer = outreach.offer_slots(
            db, recipient, phone, now, channel.hold_minutes, language, draft=draft
        )
    except BookingClosed:
        return _reply("closed", language)
    if offer is None:
        return _reply("no_slots", language)
    return Reply(offer.text, language)


def _choose(
    db: Database,
    recipient: Mapping[str, Any],
    phone: str,
    offered: list[int],
    command: Command,
    had_booking: bool,
    now: datetime,
    channel: ChannelConfig,
    language: str,
) -> Reply:
    index = int(command.arg) - 1
    if not 0 <= index < len(offered):
        return _reply("bad_choice", language, choices=choices(len(offered), language))
    try:
        view = booking.book_slot(
            db, recipient["id"], offered[index], now, f"sms:{phone}", channel.make_code
        )
    except (SlotFull, HoldExpired):
        return _reply("slot_taken", language)
    except (BookingClosed, InvalidInput, NotFound):
        storage.clear_conversation(db, phone)
        return _reply("closed", language)
    storage.clear_conversation(db, phone)
    key = "changed" if had_booking else "booked"
    return _reply(key, language, **voucher_values(view, language))


def _ask_cancel(
    db: Database,
    recipients: Sequence[dict[str, Any]],
    recipient: dict[str, Any],
    phone: str,
    code: str,
    now: datetime,
    channel: ChannelConfig,
    language: str,
) -> Reply:
    if code:
        try:
            serial = parse_code(code, channel.secret)
        except MistypedCode:
            return _reply("code_mistyped", language)
        except UnknownCode:
            return _reply("code_not_yours", language)
        view = storage.voucher_view(db, serial)
        mine = {r["id"] for r in recipients}
        if view is None or view["recipient_id"] not in mine:
            return _reply("code_not_yours", language)
        recipient = next(r for r in recipients if r["id"] == view["recipient_id"])
    live = storage.live_booking_for(db, recipient["id"])
    if live is None:
        return _reply("nothing_to_cancel", language)
    view = storage.voucher_view_by_booking(db, live["id"])
    storage.set_conversation(
        db,
        phone,
        recipient["id"],
        "confirm_cancel",
        [],
        now + timedelta(minutes=CONFIRM_MINUTES),
        now,
    )
    return _reply("confirm_cancel", language, when=voucher_values(view, language)["when"])


def _cancel(
    db: Database, recipient: Mapping[str, Any], phone: str, now: datetime, language: str
) -> Reply:
    try:
        view = booking.cancel_booking(db, recipient["id"], now, f"sms:{phone}")
    except NotFound:
        return _reply("nothing_to_cancel", language)
    except BookingClosed:
        return _reply("closed", language)
    return _reply("cancelled", language, **voucher_values(view, language))
