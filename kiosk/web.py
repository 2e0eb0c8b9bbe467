"""Small helpers the pickup-point blueprints share: CSRF tokens, the clock, masking."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, current_app, request, session

from shared import messages, storage

CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's CSRF token, made on first use; every POST form carries it."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Abort with 400 unless a POST carries this session's CSRF token."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form has expired. Go back, reload the page and try again.")


def protect_forms(bp: Blueprint) -> None:
    """Refuse any POST to ``bp`` without this session's CSRF token; give templates the token."""
    bp.before_request(check_csrf)
    # A global, not a context variable, so that imported form macros can use it too.
    bp.add_app_template_global(csrf_token, "csrf_token")


def now() -> datetime:
    """The current time; tests set ``app.config["CLOCK"]`` to replay the demo's day."""
    clock: Callable[[], datetime] = current_app.config.get("CLOCK") or storage.now_utc
    return clock()


def mask_name(name: str | None) -> str:
    """A name with its middle hidden: ``王伟`` -> ``王*``, ``宁波恒达机械有限公司`` ->
    ``宁波恒*****公司``: enough for its holder to recognise, too little for a bystander."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    keep = max(1, len(name) // 3)
    tail = max(1, len(name) // 5)
    return name[:keep] + "*" * (len(name) - keep - tail) + name[-tail:]


def mask_phone(phone: str | None) -> str:
    """Only the last four digits of a phone number: ``+86 *** **** 0001``."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 4:
        return ""
    return f"*** **** {digits[-4:]}"


def session_language() -> str:
    """The signed-in pages' language: ``?lang=`` switches it for the rest of the session."""
    if "lang" in request.args:
        session["lang"] = messages.pick_language(request.args["lang"])
    return session.get("lang") or messages.DEFAULT_LANGUAGE
