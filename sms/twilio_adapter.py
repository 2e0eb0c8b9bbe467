"""Twilio at the edge: check the signature, read the form, write TwiML.

Only this module knows Twilio. It turns a webhook into the plain values the conversation
and the IVR take, and their answers into TwiML built with Twilio's own library.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from sms.conversation import Reply
from sms.ivr import Next, Turn

# The language of each <Say>; its voice comes from PICKUP_IVR_VOICE_ZH / _EN (see voices()).
VOICE_LANGUAGES = {"zh": "cmn-CN", "en": "en-US"}


def voices(config: Mapping[str, Any]) -> dict[str, str]:
    """The voice for each language from the app's settings: every <Say> names one."""
    return {"zh": config["PICKUP_IVR_VOICE_ZH"], "en": config["PICKUP_IVR_VOICE_EN"]}


def signed_url(config: Mapping[str, Any], req: Request) -> str:
    """The URL Twilio called, as it signed it: the public base URL plus path and query.

    Behind a TLS proxy the app sees ``http://127.0.0.1:8000/...`` while Twilio signed
    ``https://pickup.example.org/...``; PUBLIC_BASE_URL says which. Without it the
    request's own host is used.
    """
    base = config.get("PUBLIC_BASE_URL") or req.host_url
    query = req.query_string.decode("latin-1")
    path = req.script_root + req.path
    return base.rstrip("/") + path + (f"?{query}" if query else "")


def signature_valid(config: Mapping[str, Any], req: Request) -> bool:
    """True only for a request signed with TWILIO_AUTH_TOKEN. No token: nothing is valid."""
    token = config.get("TWILIO_AUTH_TOKEN")
    signature = req.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    url = signed_url(config, req)
    # Twilio's validate() tries the URL with and without its port, one HMAC each; the URL
    # as the app sees it is one of the two and the one Twilio signs, so it goes first.
    expected = validator.compute_signature(url, req.form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return validator.validate(url, req.form, signature)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request without a valid Twilio signature, in every mode."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signature_valid(current_app.config, request):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def read_sms(form: Mapping[str, str]) -> tuple[str, str, str, str]:
    """(from, to, text, message id) of an incoming SMS webhook."""
    return (
        form.get("From", ""),
        form.get("To", ""),
        form.get("Body", ""),
        form.get("MessageSid", "") or form.get("SmsSid", ""),
    )


def read_call(form: Mapping[str, str]) -> tuple[str, str | None, str]:
    """(call id, caller, keys pressed) of a voice webhook."""
    return form.get("CallSid", ""), form.get("From") or None, form.get("Digits", "")


def messaging_twiml(reply: Reply) -> str:
    """TwiML answering an SMS: one message, or an empty response to say nothing."""
    response = MessagingResponse()
    if reply.text:
        response.message(reply.text)
    return str(response)


def voice_twiml(turn: Turn, link: Callable[[Next], str], voice: Mapping[str, str]) -> str:
    """TwiML for one IVR turn. ``link`` makes the URL of a step; ``voice`` names the voice
    for each language (a ``<Say>`` without one gets Twilio's default, which speaks no
    Chinese).

    A ``<Gather>`` that gets no keys falls through to the next verb, so it is always
    followed by a ``<Redirect>`` (the no-input branch) or a hang-up.
    """
    response = VoiceResponse()
    container: Any = response
    if turn.gather is not None:
        options: dict[str, Any] = {
            "action": link(turn.gather.action),
            "method": "POST",
            "input": "dtmf",
            "timeout": turn.gather.timeout,
        }
        if turn.gather.num_digits:
            options["num_digits"] = turn.gather.num_digits
        else:
            options["finish_on_key"] = "#"
        container = Gather(**options)
    for speech in turn.speech:
        container.say(
            speech.text, voice=voice[speech.language], language=VOICE_LANGUAGES[speech.language]
        )
        if speech.pause_after:
            container.pause(length=speech.pause_after)
    if container is not response:
        response.append(container)
    if turn.then is not None:
        response.redirect(link(turn.then), method="POST")
    elif turn.hangup or turn.gather is not None:
        response.hangup()
    return str(response)
