"""The phone menu (IVR) as plain functions: a step and the keys pressed in, a :class:`Turn` out.

A turn is what to say, whether to wait for keys (and where to send them), and where to go
when nothing is pressed. The Twilio adapter renders it as TwiML; the simulator shows it as
text. State travels in the step's parameters (language, recipient, try count, slots on
offer); the provider signs the URLs that carry them, so they cannot be forged. Each step of
a call is answered once: a retried request (same call, step, parameters and keys) gets the
stored turn and changes nothing twice.

Steps: start -> lang -> (caller ID or code) -> menu -> pick -> hear | offer | cancel ->
choose | cancel_confirm -> ... -> bye. Every wait has a no-input branch (marked ``silent``,
the only way "we did not hear a key" is said); a key that is not on offer says so and asks
again; 0 goes back to the main menu from every step; after :data:`MAX_TRIES` unanswered or
wrong tries the call ends politely.

Who may do what: the parameter ``by`` says how the caller was identified. Hearing the
voucher and booking, changing or cancelling (the steps with ``trusted=True``) need the
caller ID to be the recipient's registered phone (``by=phone``, checked again on every
step) or the voucher code typed on the keypad (``by=voucher``). A public code (the
enterprise's credit code, a town code, any roster ``external_id``) gives ``by=code``: the
caller may only have the voucher sent by SMS to the registered phone (``public_pick``).
Wrong codes are counted in the database (:func:`shared.ratelimit.code_failed`) per caller
ID, for all calls without caller ID together, and per voucher serial; past the limit code
entry is closed for an hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlite_utils import Database

from shared import booking, messages, outreach, ratelimit, storage
from shared.errors import (
    BookingClosed,
    HoldExpired,
    InvalidInput,
    MistypedCode,
    NotFound,
    SlotFull,
    UnknownCode,
)
from shared.messages import DEFAULT_LANGUAGE, LANGUAGES
from shared.outreach import phone_language, queue_confirmation
from shared.outreach_texts import voucher_values, when
from shared.vouchers import SERIAL_LENGTH, parse_code
from sms import texts
from sms.conversation import ChannelConfig, choose_recipient

MAX_TRIES = 3
GATHER_TIMEOUT = 6  # seconds of silence before the no-input branch
CODE_TIMEOUT = 15  # typing a code takes longer
LANGUAGE_KEYS = {"1": "zh", "2": "en"}  # what the welcome asks to press for each language
_KEYPAD = {
    letter: digit
    for digit, letters in {
        "2": "ABC",
        "3": "DEF",
        "4": "GHI",
        "5": "JKL",
        "6": "MNO",
        "7": "PQRS",
        "8": "TUV",
        "9": "WXYZ",
    }.items()
    for letter in letters
}


@dataclass(frozen=True)
class Speech:
    text: str
    language: str  # "zh" or "en"
    pause_after: int = 0  # seconds of silence after it (between code groups)


@dataclass(frozen=True)
class Next:
    step: str
    params: dict[str, str] = field(default_factory=dict)

    def query(self) -> str:
        return urlencode(sorted(self.params.items()))


@dataclass(frozen=True)
class Gather:
    action: Next
    num_digits: int | None = 1  # None: until the caller presses #
    timeout: int = GATHER_TIMEOUT


@dataclass(frozen=True)
class Turn:
    speech: list[Speech]
    language: str
    gather: Gather | None = None
    then: Next | None = None  # after speaking, or when the gather gets no keys
    hangup: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Turn:
        data = json.loads(text)
        gather = data["gather"]
        return cls(
            speech=[Speech(**s) for s in data["speech"]],
            language=data["language"],
            gather=Gather(Next(**gather["action"]), gather["num_digits"], gather["timeout"])
            if gather
            else None,
            then=Next(**data["then"]) if data["then"] else None,
            hangup=data["hangup"],
        )


def keypad_digits(text: str) -> str:
    """What typing ``text`` on a phone keypad gives: letters become their key's digit."""
    out = []
    for ch in text.upper():
        if ch.isascii() and ch.isdigit():
            out.append(ch)
        elif ch in _KEYPAD:
            out.append(_KEYPAD[ch])
    return "".join(out)


SILENT = "silent"  # set on a no-input branch: the caller pressed nothing
MAIN_MENU_KEY = "0"

# How a caller was identified (the ``by`` parameter); only these may hear or change a booking.
BY_PHONE, BY_VOUCHER, BY_PUBLIC_CODE = "phone", "voucher", "code"
TRUSTED = frozenset({BY_PHONE, BY_VOUCHER})


@dataclass(frozen=True)
class KeyMatch:
    """What typed keys name: a recipient and how (``by``), or nobody.

    ``guessed_serial`` is set for a well-formed voucher code whose tag is wrong: someone may
    be guessing that voucher, so the wrong code counts against it too.
    """

    recipient_id: int | None = None
    by: str = ""
    guessed_serial: str | None = None


def find_by_keys(db: Database, digits: str, channel: ChannelConfig) -> KeyMatch:
    """The recipient whose voucher code or public code (as keypad digits) is ``digits``."""
    if not digits:
        return KeyMatch()
    guessed = None
    if len(digits) == 16:
        try:
            view = storage.voucher_view(db, parse_code(digits, channel.secret))
        except MistypedCode:
            view = None
        except UnknownCode:
            view, guessed = None, digits[:SERIAL_LENGTH]
        if view is not None:
            return KeyMatch(view["recipient_id"], BY_VOUCHER)
    matches = [
        r for r in storage.recipient_external_ids(db) if keypad_digits(r["external_id"]) == digits
    ]
    if not matches:
        return KeyMatch(guessed_serial=guessed)
    # One code on several rosters (the same enterprise in two distributions): latest wins.
    chosen = max(matches, key=lambda r: (r["distribution_id"], r["id"]))
    return KeyMatch(chosen["id"], BY_PUBLIC_CODE)


def call_step(
    db: Database,
    call_id: str,
    caller: str | None,
    step: str,
    params: dict[str, str],
    digits: str,
    now: datetime,
    channel: ChannelConfig,
) -> Turn:
    """Answer one step of a call, once: a retry of the same request gets the same turn."""
    key = f"{step}?{urlencode(sorted(params.items()))}#{digits}"
    with storage.transaction(db):
        storage.lock_phone(db, caller or "")
        seen = storage.get_ivr_step(db, call_id, key)
        if seen is not None:
            return Turn.from_json(seen["turn"])
        turn = _limited(db, call_id, caller, step, now, channel) or _number(
            _answer(db, caller, step, params, digits, now, channel), params
        )
        storage.record_ivr_step(db, call_id, key, turn.to_json(), now)
    return turn


def _limited(
    db: Database,
    call_id: str,
    caller: str | None,
    step: str,
    now: datetime,
    channel: ChannelConfig,
) -> Turn | None:
    """A hang-up for a phone over its call limit (a short notice the first time), else None."""
    if step != "start":
        return None
    allowance = ratelimit.call_allowance(db, call_id, caller, channel.calls_per_phone, now)
    if allowance == ratelimit.ALLOW:
        return None
    recipients = storage.find_recipients_by_phone(db, caller)
    recipient = choose_recipient(db, recipients) if recipients else None
    known = phone_language(db, caller, recipient)
    languages = [known] if known else list(LANGUAGES)
    if allowance == ratelimit.SILENCE:
        return Turn([], languages[0], hangup=True)
    return Turn([_say(lang, "calls_limited") for lang in languages], languages[0], hangup=True)


def _number(turn: Turn, params: dict[str, str]) -> Turn:
    """Stamp the next step number on every link, so a revisited step is a new step."""
    counter = (
        str(int(params.get("s", "0") or 0) + 1) if str(params.get("s", "0")).isdigit() else "1"
    )

    def stamp(link: Next | None) -> Next | None:
        return Next(link.step, {**link.params, "s": counter}) if link else None

    gather = turn.gather
    if gather is not None:
        gather = Gather(stamp(gather.action), gather.num_digits, gather.timeout)
    return Turn(turn.speech, turn.language, gather, stamp(turn.then), turn.hangup)


def _lang(params: dict[str, str]) -> str:
    return params.get("lang") if params.get("lang") in LANGUAGES else DEFAULT_LANGUAGE


def _tries(params: dict[str, str]) -> int:
    value = params.get("n", "0")
    return int(value) if value.isdigit() else 0


def _say(language: str, key: str, **values: object) -> Speech:
    return Speech(texts.spoken(key, language, **values), language)


def _again(step: str, params: dict[str, str], **extra: str) -> Next:
    """The no-input branch: the same question again, one try more, said to be after silence."""
    base = {k: v for k, v in params.items() if k in ("lang", "rid", "by", "ask", "offer")}
    return Next(step, {**base, **extra, "n": str(_tries(params) + 1), SILENT: "1"})


def _retry(params: dict[str, str]) -> dict[str, str]:
    """The parameters of a question asked again after a wrong key: one try more."""
    return {**params, "n": str(_tries(params) + 1)}


def _fresh(step: str, params: dict[str, str], **extra: str) -> Next:
    base = {k: v for k, v in params.items() if k in ("lang", "rid", "by")}
    return Next(step, {**base, **extra})


def _keep(step: str, params: dict[str, str], **extra: str) -> Next:
    """A link that keeps the try count: a wrong key there counts as another try."""
    base = {k: v for k, v in params.items() if k in ("lang", "rid", "by", "ask", "n")}
    return Next(step, {**base, **extra})


def _too_many(language: str) -> Turn:
    return Turn([_say(language, "too_many")], language, hangup=True)


@dataclass(frozen=True)
class Press:
    """One request of a call as its step sees it: the caller, the step's parameters, the keys."""

    db: Database
    caller: str | None
    params: dict[str, str]
    digits: str
    now: datetime
    channel: ChannelConfig

    @property
    def language(self) -> str:
        return _lang(self.params)

    @property
    def rid(self) -> int:
        """The recipient the call speaks for; only steps that need one are given the call."""
        return int(self.params["rid"])


@dataclass(frozen=True)
class Step:
    answer: Callable[[Press], Turn]
    identified: bool = True  # needs a recipient (``rid``); without one the call starts over
    trusted: bool = False  # hears or changes a booking: not for a caller with a public code


def _is_trusted(press: Press) -> bool:
    """True if the caller may hear and change the booking: see the module's docstring."""
    by = press.params.get("by")
    if by == BY_VOUCHER:
        return True
    if by == BY_PHONE and press.caller:
        mine = storage.find_recipients_by_phone(press.db, press.caller)
        return any(r["id"] == press.rid for r in mine)
    return False


def _answer(
    db: Database,
    caller: str | None,
    step: str,
    params: dict[str, str],
    digits: str,
    now: datetime,
    channel: ChannelConfig,
) -> Turn:
    handler = STEPS.get(step)
    if handler is None or (handler.identified and not params.get("rid", "").isdigit()):
        return _start(db, caller, {}, now)
    press = Press(db, caller, params, digits, now, channel)
    if digits == MAIN_MENU_KEY and step in KEYED_STEPS:
        return _main_menu(press)
    if handler.trusted and not _is_trusted(press):
        return _public_menu({k: v for k, v in params.items() if k in ("lang", "rid")})
    turn = handler.answer(press)
    if params.get(SILENT) and turn.gather is not None:
        languages = [press.language] if "lang" in params else list(LANGUAGES)
        heard_nothing = [_say(language, "no_input") for language in languages]
        return Turn([*heard_nothing, *turn.speech], turn.language, turn.gather, turn.then)
    return turn


def _main_menu(press: Press) -> Turn:
    """Where 0 leads: the menu of the caller's booking, or the start for a caller not known."""
    if not press.params.get("rid", "").isdigit():
        return _start(press.db, press.caller, {}, press.now)
    menu = {k: v for k, v in press.params.items() if k in ("lang", "rid", "by")}
    return _menu(menu) if _is_trusted(press) else _public_menu(menu)


def _on_start(press: Press) -> Turn:
    return _start(press.db, press.caller, press.params, press.now)


def _on_lang(press: Press) -> Turn:
    language = LANGUAGE_KEYS.get(press.digits)
    if language is None:
        return _start(press.db, press.caller, _retry(press.params), press.now, _wrong_key())
    if press.caller:
        storage.set_phone_language(press.db, press.caller, language, press.now)
    return _identify(press.db, press.caller, {"lang": language}, press.now)


def _on_bye(press: Press) -> Turn:
    return Turn([_say(press.language, "goodbye")], press.language, hangup=True)


def _on_identify(press: Press) -> Turn:
    return _identify(press.db, press.caller, press.params, press.now, by_caller_id=False)


def _code_locked(language: str, until: datetime, now: datetime, *before: Speech) -> Turn:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return Turn([*before, _say(language, "code_locked", minutes=minutes)], language, hangup=True)


def _on_code(press: Press) -> Turn:
    db, caller, now, language, params = (
        press.db,
        press.caller,
        press.now,
        press.language,
        press.params,
    )
    locked = ratelimit.code_entry_locked_until(db, caller, now)
    if locked is not None:
        return _code_locked(language, locked, now)
    match = find_by_keys(db, press.digits, press.channel)
    if match.recipient_id is None:
        locked = ratelimit.code_failed(
            db, caller, match.guessed_serial, now, press.channel.code_tries
        )
        if locked is not None:
            return _code_locked(language, locked, now, _say(language, "code_unknown"))
        retry = _identify(
            db, caller, {**params, "n": str(_tries(params) + 1)}, now, by_caller_id=False
        )
        return Turn(
            [_say(language, "code_unknown"), *retry.speech],
            language,
            retry.gather,
            retry.then,
            retry.hangup,
        )
    if match.by == BY_VOUCHER:
        locked = ratelimit.code_entry_locked_until(db, caller, now, press.digits[:SERIAL_LENGTH])
        if locked is not None:  # someone has been guessing this voucher: not now, not by code
            return _code_locked(language, locked, now)
    return _menu({"lang": language, "rid": str(match.recipient_id), "by": match.by})


def _on_menu(press: Press) -> Turn:
    if _is_trusted(press):
        return _menu(press.params)
    return _public_menu(press.params)


def _on_pick(press: Press) -> Turn:
    params = press.params
    follow = {"1": "hear", "2": "offer", "3": "cancel"}.get(press.digits)
    if follow is None:
        return _menu(_retry(params), _say(press.language, "wrong_key"))
    return Turn([], press.language, then=_fresh(follow, params))


def _on_after_hear(press: Press) -> Turn:
    if press.digits == "9":
        return Turn([], press.language, then=_fresh("hear", press.params))
    return _after_hear(_retry(press.params), _say(press.language, "wrong_key"))


def _after_hear(params: dict[str, str], *before: Speech) -> Turn:
    """ "Press 9 to hear it again, 0 for the menu"; silence says goodbye."""
    language = _lang(params)
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    return Turn(
        [*before, _say(language, "repeat_hint")],
        language,
        gather=Gather(_keep("after_hear", params)),
        then=_fresh("bye", params),
    )


def _on_offered(press: Press) -> Turn:
    return _offered(press.db, press.rid, press.params)


def _wrong_key() -> list[Speech]:
    """ "That key is not on offer", in every language: said before the language is chosen."""
    return [_say(language, "wrong_key") for language in LANGUAGES]


def _start(
    db: Database,
    caller: str | None,
    params: dict[str, str],
    now: datetime,
    before: list[Speech] | None = None,
) -> Turn:
    if caller and _tries(params) == 0:
        prefs = storage.get_phone_prefs(db, caller)
        if prefs and prefs["language"]:
            return _identify(db, caller, {"lang": prefs["language"]}, now)
    if _tries(params) >= MAX_TRIES:
        speech = [_say(language, "too_many") for language in LANGUAGES]
        return Turn(speech, DEFAULT_LANGUAGE, hangup=True)
    speech = [*(before or []), *(_say(language, "welcome") for language in LANGUAGES)]
    return Turn(
        speech,
        DEFAULT_LANGUAGE,
        gather=Gather(Next("lang", {"n": str(_tries(params))})),
        then=Next("start", {"n": str(_tries(params) + 1), SILENT: "1"}),
    )


def _identify(
    db: Database,
    caller: str | None,
    params: dict[str, str],
    now: datetime,
    by_caller_id: bool = True,
) -> Turn:
    """The menu for a registered caller ID, else the question for a code."""
    language = _lang(params)
    if caller and by_caller_id:
        recipients = storage.find_recipients_by_phone(db, caller)
        if recipients:
            chosen = choose_recipient(db, recipients)
            return _menu({"lang": language, "rid": str(chosen["id"]), "by": BY_PHONE})
    locked = ratelimit.code_entry_locked_until(db, caller, now)
    if locked is not None:
        return _code_locked(language, locked, now)
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    prompt = "enter_voucher" if params.get("ask") == BY_VOUCHER else "enter_code"
    return Turn(
        [_say(language, prompt)],
        language,
        gather=Gather(_keep("code", params), num_digits=None, timeout=CODE_TIMEOUT),
        then=_again("identify", params),
    )


def _menu(params: dict[str, str], *before: Speech) -> Turn:
    """The main menu, or for a caller known only by a public code the SMS-only menu."""
    if params.get("by") not in TRUSTED:
        return _public_menu(params, *before)
    language = _lang(params)
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    return Turn(
        [*before, _say(language, "menu")],
        language,
        gather=Gather(_keep("pick", params)),
        then=_again("menu", params),
    )


def _public_menu(params: dict[str, str], *before: Speech) -> Turn:
    """What a caller known only by a public code may do: have the voucher sent by SMS to the
    registered phone, or type the voucher code itself."""
    language = _lang(params)
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    params = {**params, "by": BY_PUBLIC_CODE}
    return Turn(
        [*before, _say(language, "public_menu")],
        language,
        gather=Gather(_keep("public_pick", params)),
        then=_again("menu", params),
    )


def _on_public_pick(press: Press) -> Turn:
    language, params = press.language, press.params
    if press.digits == "2":
        return Turn([], language, then=Next("identify", {"lang": language, "ask": BY_VOUCHER}))
    if press.digits != "1":
        return _public_menu(_retry(params), _say(language, "wrong_key"))
    sent = outreach.send_voucher_to_phone(press.db, press.rid, press.now)
    if sent is None:
        said = _say(language, "no_phone_for_code")
    else:
        key = "sms_sent" if sent.queued else "sms_sent_before"
        if not sent.booked:
            key += "_no_booking"
        said = _say(language, key, ending=texts.spoken_digits(sent.phone_ending))
    return Turn([said, _say(language, "goodbye")], language, hangup=True)


def _voucher(db: Database, rid: int) -> dict[str, Any] | None:
    live = storage.live_booking_for(db, rid)
    return storage.voucher_view_by_booking(db, live["id"]) if live else None


def _on_hear(press: Press) -> Turn:
    language, params = press.language, press.params
    voucher = _voucher(press.db, press.rid)
    if voucher is None:
        return _menu(_fresh("menu", params).params, _say(language, "no_booking"))
    values = voucher_values(voucher, language)
    place = messages.place(voucher["site_name"], voucher["site_address"], language)
    unit = messages.unit_name(voucher, language)  # its own name in the caller's language
    amount = texts.spoken_amount(
        voucher["units"], unit, voucher["unit_size"], voucher["measure"], language
    )
    speech = [
        # Spoken, so no segment budget: the place is said in full, with its address.
        _say(language, "slot", when=values["when"], site=place, amount=amount),
        Speech(texts.spoken("code_intro", language), language, pause_after=1),
        *(Speech(group, language, pause_after=1) for group in texts.spoken_code(voucher["code"])),
    ]
    return _after_hear(_fresh("after_hear", params).params, *speech)


def _offer_turn(
    db: Database, rid: int, params: dict[str, str], slot_ids: list[int], *before: Speech
) -> Turn:
    language = _lang(params)
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    timezone = storage.get_distribution(db, storage.get_recipient(db, rid)["distribution_id"])[
        "timezone"
    ]
    speech = list(before)
    for digit, slot_id in enumerate(slot_ids, start=1):
        slot = storage.get_slot(db, slot_id)
        spoken_when = when(slot["starts_at"], slot["ends_at"], timezone, language)
        speech.append(_say(language, "offer_item", when=spoken_when, digit=digit))
    speech.append(_say(language, "menu_hint"))
    offer = ",".join(str(s) for s in slot_ids)
    return Turn(
        speech,
        language,
        gather=Gather(_keep("choose", params, offer=offer)),
        then=_again("offered", params, offer=offer),
    )


def _on_offer(press: Press) -> Turn:
    language, params = press.language, press.params
    try:
        slots = booking.offer_slots(press.db, press.rid, press.now, press.channel.hold_minutes)
    except BookingClosed:
        return _menu(_fresh("menu", params).params, _say(language, "closed"))
    if not slots:
        return _menu(_fresh("menu", params).params, _say(language, "no_slots"))
    return _offer_turn(press.db, press.rid, params, [s["id"] for s in slots])


def _offered_ids(params: dict[str, str]) -> list[int]:
    return [int(x) for x in params.get("offer", "").split(",") if x.isdigit()]


def _offered(db: Database, rid: int, params: dict[str, str], *before: Speech) -> Turn:
    slot_ids = _offered_ids(params)
    if not slot_ids:
        return _menu(_fresh("menu", params).params)
    return _offer_turn(db, rid, params, slot_ids, *before)


def _on_choose(press: Press) -> Turn:
    db, rid, params, digits, now = press.db, press.rid, press.params, press.digits, press.now
    language = press.language
    slot_ids = _offered_ids(params)
    index = int(digits) - 1 if digits.isdigit() and len(digits) == 1 else -1
    if not 0 <= index < len(slot_ids):
        return _offered(db, rid, _retry(params), _say(language, "wrong_key"))
    had_booking = storage.live_booking_for(db, rid) is not None
    try:
        view = booking.book_slot(
            db, rid, slot_ids[index], now, f"ivr:{rid}", press.channel.make_code
        )
    except (SlotFull, HoldExpired):
        return _menu(_fresh("menu", params).params, _say(language, "slot_taken"))
    except (BookingClosed, InvalidInput, NotFound):
        return _menu(_fresh("menu", params).params, _say(language, "closed"))
    queue_confirmation(db, view["booking_id"], "changed" if had_booking else "booked", now)
    booked_when = voucher_values(view, language)["when"]
    return Turn([_say(language, "booked", when=booked_when)], language, then=_fresh("hear", params))


def _on_cancel(press: Press) -> Turn:
    return _ask_cancel(press.db, press.rid, press.params)


def _ask_cancel(db: Database, rid: int, params: dict[str, str], *before: Speech) -> Turn:
    language = _lang(params)
    voucher = _voucher(db, rid)
    if voucher is None:
        return _menu(_fresh("menu", params).params, _say(language, "nothing_to_cancel"))
    if _tries(params) >= MAX_TRIES:
        return _too_many(language)
    booked_when = voucher_values(voucher, language)["when"]
    return Turn(
        [*before, _say(language, "confirm_cancel", when=booked_when)],
        language,
        gather=Gather(_keep("cancel_confirm", params)),
        then=_again("cancel", params),
    )


def _on_cancel_confirm(press: Press) -> Turn:
    db, rid, now, language = press.db, press.rid, press.now, press.language
    menu = _fresh("menu", press.params).params
    if press.digits == "2":
        return _menu(menu, _say(language, "kept"))
    if press.digits != "1":
        return _ask_cancel(db, rid, _retry(press.params), _say(language, "wrong_key"))
    try:
        view = booking.cancel_booking(db, rid, now, f"ivr:{rid}")
    except NotFound:
        return _menu(menu, _say(language, "nothing_to_cancel"))
    except BookingClosed:
        return _menu(menu, _say(language, "closed"))
    queue_confirmation(db, view["booking_id"], "cancelled", now)
    return _menu(menu, _say(language, "cancelled"))


# The steps that take keys (a <Gather>'s action): on each, 0 is the main menu.
KEYED_STEPS = frozenset(
    {"lang", "code", "pick", "public_pick", "after_hear", "choose", "cancel_confirm"}
)

# Every step of a call and what answers it; the webhooks and the simulator accept no other.
STEPS: dict[str, Step] = {
    "start": Step(_on_start, identified=False),
    "lang": Step(_on_lang, identified=False),
    "identify": Step(_on_identify, identified=False),
    "code": Step(_on_code, identified=False),
    "bye": Step(_on_bye, identified=False),
    "menu": Step(_on_menu),
    "public_pick": Step(_on_public_pick),
    "pick": Step(_on_pick, trusted=True),
    "hear": Step(_on_hear, trusted=True),
    "after_hear": Step(_on_after_hear, trusted=True),
    "offer": Step(_on_offer, trusted=True),
    "offered": Step(_on_offered, trusted=True),
    "choose": Step(_on_choose, trusted=True),
    "cancel": Step(_on_cancel, trusted=True),
    "cancel_confirm": Step(_on_cancel_confirm, trusted=True),
}
