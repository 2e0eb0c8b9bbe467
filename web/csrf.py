"""CSRF tokens: one per session, carried by every HTML form's POST.

A blueprint of forms calls :func:`protect_forms` once, after its sign-in check, so that a
stranger is turned away before a form is read. Routes with their own credential (a bearer
token, a Twilio signature) are exempt by not being in such a blueprint, or, for the SMS
blueprint's simulator pages, by checking :func:`check_csrf` themselves.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, request, session
from werkzeug.exceptions import BadRequest

CSRF_FIELD = "csrf_token"


class FormExpired(BadRequest):
    """A POST without this session's CSRF token (an old page, another site's form)."""

    description = "The form has expired. Go back, reload the page and try again."


def csrf_token() -> str:
    """This session's CSRF token, made on first use; every POST form carries it."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Raise :class:`FormExpired` (400) unless a POST carries this session's CSRF token."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise FormExpired()


def protect_forms(bp: Blueprint) -> None:
    """Refuse any POST to ``bp`` without this session's CSRF token."""
    bp.before_request(check_csrf)
