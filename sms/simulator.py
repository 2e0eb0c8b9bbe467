"""``/dev/phone``: play a roster phone without a Twilio account (development only).

It calls the conversation and the IVR directly, as the webhooks do after their signature
check; the outbox worker (``make run`` starts it) logs outbound SMS, shown here too.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, tzinfo
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from flask import abort, current_app, redirect, render_template, request, url_for

from shared import messages, settings, storage
from shared.clock import now
from shared.db import get_db
from shared.messages import LANGUAGES, other_language
from sms import bp, ivr
from sms.conversation import channel_config, handle_sms
from sms.texts import simulator_text
from web.csrf import check_csrf
from web.language import session_language

MAX_REDIRECTS = 10
MAX_TRANSCRIPT = 40
PRESSED, SILENCE = "pressed", "silence"  # the caller's lines of a transcript; the rest are zh/en


def _dev_only() -> None:
    if not settings.is_development(current_app.config):
        abort(404)


@bp.before_request
def _simulator_guard() -> None:
    # This blueprint also has the webhooks, which Twilio signs; only the simulator's own
    # pages are dev-only forms that need the session's CSRF token.
    if (request.endpoint or "").startswith("sms.phone_"):
        _dev_only()
        check_csrf()


def _phone_timezone(db, phone: str) -> tzinfo:
    """The time zone of the distribution the phone is on the roster of (UTC if none)."""
    recipients = storage.find_recipients_by_phone(db, phone) if phone else []
    if not recipients:
        return UTC
    return ZoneInfo(storage.get_distribution(db, recipients[0]["distribution_id"])["timezone"])


def _page(phone: str, call: dict | None = None):
    db = get_db()
    language = session_language()
    phones = storage.roster_phones(db)
    if not phone and phones:
        phone = phones[0]["phone"]
    inbound = list(reversed(storage.inbound_for_phone(db, phone))) if phone else []
    tz = _phone_timezone(db, phone)
    for message in inbound:
        # As the phone's owner reads a time: in the distribution's zone, not stored UTC.
        received = storage.from_db_time(message["received_at"]).astimezone(tz)
        message["received_at"] = messages.day_and_clock(received, language)
    sent = storage.outbox_for_phone(db, phone) if phone else []
    return render_template(
        "sms/phone.html",
        phones=phones,
        phone=phone,
        inbound=inbound,
        sent=sent,
        call=call,
        lang=language,
        other_lang=other_language(language),
        t=simulator_text,
    )


@bp.get("/dev/phone")
def phone_page():
    _dev_only()
    return _page(request.args.get("phone", ""))


@bp.post("/dev/phone/sms")
def phone_sms():
    _dev_only()
    phone = request.form.get("phone", "")
    text = request.form.get("text", "")
    handle_sms(
        get_db(),
        phone,
        "simulator",
        text,
        f"SIM{uuid.uuid4().hex}",
        now(),
        channel_config(current_app.config),
    )
    return redirect(url_for("sms.phone_page", phone=phone) + "#sms")


def _follow(call_id: str, caller: str, link: ivr.Next, digits: str, transcript: list) -> dict:
    """Run one step and any redirects after it, collecting what the caller hears."""
    db = get_db()
    channel = channel_config(current_app.config)
    turn = ivr.call_step(db, call_id, caller, link.step, link.params, digits, now(), channel)
    for _ in range(MAX_REDIRECTS):
        transcript.extend([s.language, s.text] for s in turn.speech)
        if turn.gather or turn.hangup or turn.then is None:
            break
        turn = ivr.call_step(
            db, call_id, caller, turn.then.step, turn.then.params, "", now(), channel
        )
    return {
        "call_id": call_id,
        "transcript": transcript[-MAX_TRANSCRIPT:],
        "ended": turn.gather is None,
        "multi": bool(turn.gather and turn.gather.num_digits is None),
        "action": _encode(turn.gather.action) if turn.gather else "",
        "timeout": _encode(turn.then) if turn.then else _encode(ivr.Next("bye", {})),
    }


def _transcript(text: str) -> list[list[str]]:
    """The transcript the page sent back: only well-formed lines, the rest dropped."""
    try:
        lines = json.loads(text)
    except ValueError:
        return []
    kinds = {*LANGUAGES, PRESSED, SILENCE}
    return [
        line
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, list)
        and len(line) == 2
        and line[0] in kinds
        and isinstance(line[1], str)
    ][-MAX_TRANSCRIPT:]


def _encode(link: ivr.Next) -> str:
    return f"{link.step}?{urlencode(sorted(link.params.items()))}"


def _decode(text: str) -> ivr.Next:
    step, _, query = text.partition("?")
    if step not in ivr.STEPS:
        abort(400)
    return ivr.Next(step, dict(parse_qsl(query)))


@bp.post("/dev/phone/call")
def phone_call():
    _dev_only()
    form = request.form
    phone = form.get("phone", "")
    caller = "" if form.get("hide_caller") else phone
    if form.get("mode") == "start":
        call = _follow(f"SIMCA{uuid.uuid4().hex}", caller, ivr.Next("start", {}), "", [])
        call["caller"] = caller
        return _page(phone, call)
    transcript = _transcript(form.get("transcript", "[]"))
    caller = form.get("caller", "")
    # The caller's own actions are kept as (event, keys) and worded in the page's language.
    if form.get("mode") == "timeout":
        link, digits = _decode(form.get("timeout", "")), ""
        transcript.append([SILENCE, ""])
    else:
        link, digits = _decode(form.get("action", "")), form.get("digits", "")
        transcript.append([PRESSED, digits])
    call = _follow(form.get("call_id", ""), caller, link, digits, transcript)
    call["caller"] = caller
    return _page(phone, call)
