"""``/api/v1``: the scanner API for handheld terminals and other apps.

Every request carries ``Authorization: Bearer <token>`` (made by ``flask --app wsgi
create-token``). A kiosk token can check and check in; only a staff token can hand over.
Answers are JSON; errors have ``error`` (a stable word) and ``message`` (for people).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, session

from auth import load_user
from shared import accounts, messages, offline, pickup_queue, safety, storage
from shared.clock import now
from shared.db import get_db
from shared.errors import (
    AlreadyHandedOver,
    AlreadyUndone,
    BadHandoverRequest,
    BadSyncRequest,
    InvalidInput,
    NotFound,
    NotYourHandover,
    PickupError,
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


def _domain_error(status: int, error: str, exc: PickupError):
    """A domain error as JSON: ``error`` the stable word, ``key`` the exact rule (stable too,
    a key of :mod:`shared.error_texts`), ``message`` in the client's language."""
    return _error(status, error, exc.text(_language()), key=exc.key)


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
                return _domain_error(401, "unauthorized", exc)
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
        "queue_label": v["queue_label"],
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
            exc.text(_language()),
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
        return _domain_error(400, "invalid_input", exc)
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
        return _domain_error(409, "undo_window_passed", exc)
    except AlreadyUndone:
        return _error(409, "already_undone", messages.text("already_undone", _language()))
    except NotFound as exc:
        return _domain_error(404, "not_found", exc)
    return jsonify({"handover_id": handover_id, "undone": True})


# -- offline stations: their copy of the site's vouchers, and their uploads -----------------


def _station() -> offline.Station | None:
    """Who is syncing: a bearer token (kiosk or staff device) or a signed-in station.

    Sets ``g.sync_refusal`` to the error response instead when neither is good (a POST by
    a signed-in station must carry its CSRF token in ``X-CSRF-Token``).
    """
    if request.headers.get("Authorization"):
        scheme, _, token = request.headers["Authorization"].partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise accounts.NotAuthenticated("token_not_bearer")
            principal = accounts.token_principal(get_db(), token.strip(), now())
        except accounts.NotAuthenticated as exc:
            g.sync_refusal = _error(401, "unauthorized", str(exc))
            return None
        return offline.Station(
            staff=f"api:{principal['device']}",
            station=principal["device"],
            site_id=principal["site_id"],
            role=principal["role"],
            api_token_id=principal["id"],
            label_prefix=f"K{principal['id']}",
        )
    user = load_user()
    if user is None:
        g.sync_refusal = _error(401, "unauthorized", "sign in or send a bearer token")
        return None
    if request.method == "POST":
        sent = request.headers.get("X-CSRF-Token", "")
        expected = session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            g.sync_refusal = _error(
                400, "form_expired", messages.text("sync_form_expired", _language())
            )
            return None
    return offline.Station(
        staff=user["username"],
        station=session.get("station") or "station",
        site_id=session.get("site_id"),
        role="staff",
        label_prefix=f"S{user['id']}",
    )


@api_bp.get("/sync")
def sync_copy():
    """The station's copy of its site's vouchers for today and tomorrow (``?cursor=``:
    only what changed since)."""
    station = _station()
    if station is None:
        return g.sync_refusal
    site_id = station.site_id
    if site_id is None:
        site_id = pickup_queue.station_site(get_db(), None, now())
    if site_id is None:
        return _error(409, "choose_site", messages.text("sync_choose_site", _language()))
    copy = offline.station_copy(
        get_db(), site_id, current_app.config["VOUCHER_SECRET"], now(), request.args.get("cursor")
    )
    copy["station"] = {
        "name": station.station,
        "staff": station.staff,
        "role": station.role,
        "label_prefix": station.label_prefix,
    }
    response = jsonify(copy)
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.post("/sync")
def sync_upload():
    """Apply what a station did offline, in order; safe to send again."""
    station = _station()
    if station is None:
        return g.sync_refusal
    language = _language()
    try:
        actions = offline.read_upload(request.get_data(cache=False), request.content_type)
    except BadSyncRequest as exc:
        return _error(400, "invalid_input", messages.text(exc.key, language))
    outcomes = offline.apply_actions(
        get_db(), actions, current_app.config["VOUCHER_SECRET"], now(), station
    )
    return jsonify({"results": [o.as_json(language) for o in outcomes]})
