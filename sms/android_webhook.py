"""SMS Gateway for Android at the edge: check the signature, read the event, act once.

``POST /sms/android`` receives the app's webhooks, JSON ``{"id", "event", "deviceId",
"webhookId", "payload"}``. Nothing is read before the signature is checked: ``X-Signature``
is the hex HMAC-SHA256, keyed with ANDROID_SMS_GATEWAY_SIGNING_KEY, of the raw body followed
by ``X-Timestamp`` (Unix seconds), and a timestamp more than five minutes off is refused too,
so a recorded request cannot be replayed. No key configured: everything is refused.

The app retries an event until it gets a 2xx, and ``payload.messageId`` is derived from the
content (two identical SMS share it), so events are told apart by their top-level ``id``:
a retried event gets 200 and changes nothing. There is no inline reply as in TwiML: the
reply goes into the outbox, and the worker is woken to send it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, current_app, request
from sqlite_utils import Database

from shared import clock, storage
from shared.db import get_db
from shared.errors import InvalidInput
from shared.roster import to_e164
from sms import bp, wakeup, worker
from sms.conversation import ChannelConfig, channel_config, handle_sms

log = logging.getLogger(__name__)

GATEWAY = "android"
MAX_BODY_BYTES = 64 * 1024  # an SMS event is well under 2 KB
MAX_CLOCK_SKEW_SECONDS = 300
# The app's delivery events, as the outbox's delivery states.
STATUS_EVENTS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}


def signature_valid(
    key: str | None, body: bytes, timestamp: str, signature: str, now: datetime
) -> bool:
    """True only for a body signed with ``key`` at a time within five minutes of ``now``."""
    if not key or not signature or not timestamp.isdigit():
        return False
    if abs(now.timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return False
    expected = hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


@dataclass(frozen=True)
class AndroidEvent:
    id: str
    kind: str  # "sms:received", "sms:sent", ...
    payload: Mapping[str, Any]


def read_event(body: bytes) -> AndroidEvent:
    """The event in a webhook body; InvalidInput if it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("gateway_body_not_json") from exc
    if not isinstance(data, dict):
        raise InvalidInput("gateway_body_not_object")
    event_id, kind, payload = data.get("id"), data.get("event"), data.get("payload")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 200:
        raise InvalidInput("gateway_event_no_id")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        raise InvalidInput("gateway_event_incomplete")
    return AndroidEvent(event_id.strip(), kind, payload)


def handle_event(
    db: Database, event: AndroidEvent, now: datetime, channel: ChannelConfig, region: str
) -> bool:
    """Act on one event, once; True if a reply was queued (then wake the worker).

    An SMS is answered through the outbox; a delivery event moves its outbox message
    forward. A retried event, another event, or an SMS from something that is not a phone
    number (a carrier's service code: never answer those) changes nothing.
    """
    with storage.transaction(db):
        if not storage.record_gateway_event(db, GATEWAY, event.id, event.kind, now):
            return False
        if event.kind in STATUS_EVENTS:
            worker.apply_callback(
                db,
                str(event.payload.get("messageId") or ""),
                STATUS_EVENTS[event.kind],
                _text(event.payload.get("reason")) or None,
                now,
            )
            return False
        if event.kind != "sms:received":
            return False
        phone = to_e164(_text(event.payload.get("phoneNumber")), region)
        if phone is None:
            log.info("Android gateway: SMS from a non-phone sender ignored (event %s)", event.id)
            return False
        text = _text(event.payload.get("message"))
        reply = handle_sms(db, phone, None, text, f"{GATEWAY}:{event.id}", now, channel)
        if not reply.text:
            return False
        return (
            storage.enqueue_sms(db, phone, reply.text, "reply", now, f"reply:{GATEWAY}:{event.id}")
            is not None
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@bp.post("/sms/android")
def android_webhook() -> tuple[str, int]:
    config = current_app.config
    request.max_content_length = MAX_BODY_BYTES  # 413 before a larger body is read
    body = request.get_data(cache=False)
    now = clock.now()
    if not signature_valid(
        config.get("ANDROID_SMS_GATEWAY_SIGNING_KEY"),
        body,
        request.headers.get("X-Timestamp", ""),
        request.headers.get("X-Signature", ""),
        now,
    ):
        abort(401)
    try:
        event = read_event(body)
    except InvalidInput as exc:
        abort(400, description=str(exc))  # the gateway's log reads English
    region = config["PICKUP_DEFAULT_REGION"]
    if handle_event(get_db(), event, now, channel_config(config), region):
        wakeup.ring(config["PICKUP_OUTBOX_SOCKET"])
    return "", 200
