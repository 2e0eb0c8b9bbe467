"""``/api/v1``: the scanner API for handheld terminals and other apps.

Every request carries ``Authorization: Bearer <token>`` (made by ``flask --app wsgi
create-token``). A kiosk token can check and check in; only a staff token can hand over.
Answers are JSON; errors have ``error`` (a stable word) and ``message`` (for people).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from shared import accounts, messages, safety, storage
from shared.clock import now
from shared.db import get_db
from shared.errors import (
    AlreadyHandedOver,
    AlreadyUndone,
    BadHandoverRequest,
    InvalidInput,
    NotFound,
    NotYourHandover,
    UndoWindowPassed,
    UnitsOutOfRange,
    VoucherRefused,
)
from shared.handover import hand_over, handover_request, undo_handover
from shared.verification import Verdict, check_in, verify_voucher

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, error: str, message: str, **extra: Any):
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pickup"'
    return response


def require_token(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only for a valid bearer token with one of ``roles``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error(401, "unauthorized", "send Authorization: Bearer <token>")
            try:
                g.principal = accounts.token_principal(get_db(), token.strip(), now())
            except accounts.NotAuthenticated as exc:
                return _error(401, "unauthorized", str(exc))
            if g.principal["role"] not in roles:
                return _error(403, "forbidden", f"a {g.principal['role']} token cannot do this")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _language() -> str:
    return messages.pick_language(
        request.args.get("lang"), request.accept_languages.best_match(messages.LANGUAGES)
    )


def booking_json(verdict: Verdict) -> dict[str, Any] | None:
    """The booking behind a voucher, as the API shows it."""
    v = verdict.voucher
    if v is None:
        return None
    ack = safety.acknowledgement(get_db(), v["booking_id"])
    return {
        "code": v["code"],
        "status": v["status"],
        "recipient": messages.without_bidi_controls(v["recipient_name"]),
        "distribution": v["distribution_name"],
        "item": v["item"],
        "item_key": v["item_key"],
        "site": v["site_name"],
        "site_id": v["site_id"],
        "site_address": v["site_address"],
        "slot_start": v["starts_at"],
        "slot_end": v["ends_at"],
        "units": v["units"],
        "unit_name": v["unit_name"],
        "unit_name_en": messages.unit_name(v, "en"),
        "handed_units": v["handed_units"],
        "remaining_units": max(v["units"] - v["handed_units"], 0),
        "checked_in_at": v["checked_in_at"],
        "queue_number": v["queue_number"],
        "safety_acknowledged_at": ack["acknowledged_at"] if ack else None,
    }


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "valid": verdict.valid,
        "reason": verdict.reason.value,
        "message": messages.verdict_message(verdict, _language()),
        "booking": booking_json(verdict),
    }


def _refused(verdict: Verdict):
    return _error(
        409 if verdict.voucher is not None else 422,
        verdict.reason.value,
        messages.verdict_message(verdict, _language()),
        valid=False,
        reason=verdict.reason.value,
        booking=booking_json(verdict),
    )


def _actor() -> str:
    return f"api:{g.principal['device']}"


def _site() -> int | None:
    """The site the token's device stands at; None for a token made without ``--site``."""
    return g.principal["site_id"]


@api_bp.post("/vouchers/<code>/check")
@require_token("staff", "kiosk")
def check(code: str):
    verdict = verify_voucher(
        get_db(), code, current_app.config["VOUCHER_SECRET"], now(), site_id=_site()
    )
    return jsonify(_verdict_json(verdict))


@api_bp.post("/vouchers/<code>/checkin")
@require_token("staff", "kiosk")
def checkin(code: str):
    try:
        result = check_in(
            get_db(), code, current_app.config["VOUCHER_SECRET"], now(), _actor(), _site()
        )
    except VoucherRefused as exc:
        return _refused(exc.verdict)
    return jsonify(
        {
            "queue_number": result.queue_number,
            "first_time": result.first_time,
            **_verdict_json(result.verdict),
        }
    )


@api_bp.post("/vouchers/<code>/handover")
@require_token("staff")
def handover(code: str):
    try:
        asked = handover_request(request.get_data(cache=False), request.content_type)
    except BadHandoverRequest as exc:
        return _error(400, "invalid_input", messages.text(exc.key, _language()))
    try:
        result = hand_over(
            get_db(),
            code,
            current_app.config["VOUCHER_SECRET"],
            now(),
            staff=_actor(),
            station=g.principal["device"],
            units=asked.units,
            api_token_id=g.principal["id"],
            override=asked.override,
            site_id=_site(),
        )
    except AlreadyHandedOver as exc:
        return _error(
            409,
            "already_handed_over",
            str(exc),
            staff=exc.staff,
            station=exc.station,
            at=storage.to_db_time(exc.at) if exc.at else None,
        )
    except VoucherRefused as exc:
        return _refused(exc.verdict)
    except UnitsOutOfRange as exc:
        message = messages.text("units_range", _language(), max=exc.remaining)
        return _error(400, "invalid_input", message)
    except InvalidInput as exc:
        return _error(400, "invalid_input", str(exc))
    fresh = verify_voucher(get_db(), code, current_app.config["VOUCHER_SECRET"], now())
    return jsonify(
        {
            "handover_id": result.id,
            "units": result.units,
            "remaining_units": result.remaining_units,
            "overridden": result.verdict.reason.value if result.override else None,
            "override_reason": result.override.reason if result.override else None,
            "booking": booking_json(fresh),
        }
    )


@api_bp.post("/handovers/<int:handover_id>/undo")
@require_token("staff")
def undo(handover_id: int):
    try:
        undo_handover(
            get_db(),
            handover_id,
            now(),
            _actor(),
            current_app.config["PICKUP_UNDO_SECONDS"],
            api_token_id=g.principal["id"],
        )
    except NotYourHandover:
        return _error(403, "not_your_handover", messages.text("not_your_handover", _language()))
    except UndoWindowPassed as exc:
        return _error(409, "undo_window_passed", str(exc))
    except AlreadyUndone:
        return _error(409, "already_undone", messages.text("already_undone", _language()))
    except NotFound as exc:
        return _error(404, "not_found", str(exc))
    return jsonify({"handover_id": handover_id, "undone": True})
