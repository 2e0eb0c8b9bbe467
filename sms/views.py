"""The Twilio webhooks: SMS in, delivery callbacks, and the IVR's steps. Thin on purpose."""

from __future__ import annotations

from flask import Response, abort, current_app, request, url_for

from shared.clock import now
from shared.db import get_db
from shared.errors import InvalidInput
from sms import bp, ivr, twilio_adapter, worker
from sms.conversation import channel_config, handle_sms
from sms.ivr import Next

TWIML = "text/xml"


@bp.post("/sms/inbound")
@twilio_adapter.twilio_signed
def sms_inbound() -> Response:
    from_phone, to_phone, text, message_id = twilio_adapter.read_sms(request.form)
    if not from_phone or not message_id:
        abort(400)
    try:
        reply = handle_sms(
            get_db(),
            from_phone,
            to_phone,
            text,
            message_id,
            now(),
            channel_config(current_app.config),
        )
    except InvalidInput:
        abort(400)
    return Response(twilio_adapter.messaging_twiml(reply), mimetype=TWIML)


@bp.post("/sms/status")
@twilio_adapter.twilio_signed
def sms_status() -> tuple[str, int]:
    form = request.form
    worker.apply_callback(
        get_db(),
        form.get("MessageSid", ""),
        form.get("MessageStatus", ""),
        form.get("ErrorCode") or None,
        now(),
    )
    return "", 204


def step_link(link: Next) -> str:
    """Where Twilio should post the next step: absolute under PUBLIC_BASE_URL if set."""
    path = url_for("sms.ivr_step", step=link.step, **dict(sorted(link.params.items())))
    base = current_app.config.get("PUBLIC_BASE_URL")
    return base.rstrip("/") + path if base else path


def _answer_call(step: str) -> Response:
    call_id, caller, digits = twilio_adapter.read_call(request.form)
    if not call_id:
        abort(400)
    if step not in ivr.STEPS:
        abort(404)
    turn = ivr.call_step(
        get_db(),
        call_id,
        caller,
        step,
        request.args.to_dict(),
        digits,
        now(),
        channel_config(current_app.config),
    )
    voices = twilio_adapter.voices(current_app.config)
    return Response(twilio_adapter.voice_twiml(turn, step_link, voices), mimetype=TWIML)


@bp.post("/ivr/voice")
@twilio_adapter.twilio_signed
def ivr_voice() -> Response:
    return _answer_call("start")


@bp.post("/ivr/<step>")
@twilio_adapter.twilio_signed
def ivr_step(step: str) -> Response:
    return _answer_call(step)
