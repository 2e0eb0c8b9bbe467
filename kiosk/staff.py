"""``/staff``: the staff station. Scan, see the booking, hand over, undo, queue.

Every handover records the signed-in user, the station name given at sign-in and the
time. Two stations handing over on one voucher at once get one handover; the second is
told who made it, where and when (:class:`shared.errors.AlreadyHandedOver`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from auth import login_required, polled
from kiosk.texts import t
from shared import messages, pickup_queue, safety, storage
from shared.booking_states import booking_state
from shared.clock import now
from shared.db import get_db
from shared.errors import (
    AlreadyHandedOver,
    AlreadyUndone,
    BadHandoverRequest,
    InvalidInput,
    NotFound,
    UndoWindowPassed,
    UnitsOutOfRange,
    VoucherRefused,
)
from shared.handover import OVERRIDABLE, OVERRIDE_REASONS, hand_over, make_override, undo_handover
from shared.messages import other_language
from shared.search import search_terms
from shared.verification import Verdict, check_in, verify_voucher
from web.csrf import protect_forms
from web.language import session_language

staff_bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")


@staff_bp.before_request
def _language() -> None:
    g.lang = session_language()


@staff_bp.before_request
@login_required
def _signed_in() -> None:
    """Every station page is for a signed-in user (either role)."""


# After the sign-in check: a stranger is sent to sign in before a form is read.
protect_forms(staff_bp)


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    lang = g.lang
    return (
        render_template(
            template,
            t=t,
            count_of=messages.count_of,
            lang=lang,
            other_lang=other_language(lang),
            user=g.user,
            station=session.get("station"),
            station_site=_station_site(),
            flashes=get_flashed_messages(with_categories=True),
            **context,
        ),
        status,
    )


def _secret() -> bytes:
    return current_app.config["VOUCHER_SECRET"]


def _who() -> tuple[str, str]:
    return g.user["username"], session.get("station") or "station"


def station_site() -> int | None:
    """The site this station serves: chosen at sign-in, else the only one (see
    :func:`shared.pickup_queue.station_site`)."""
    return pickup_queue.station_site(get_db(), session.get("site_id"), now())


def _site_id() -> int | None:
    """The pickup site this station stands at, chosen at sign-in (None: any site)."""
    return session.get("site_id")


def _station_site() -> dict[str, Any] | None:
    site_id = _site_id()
    return storage.find_site(get_db(), site_id) if site_id is not None else None


def queue_entries(site_id: int | None) -> list[dict[str, Any]]:
    """The representatives checked in and still waiting at ``site_id``, in queue order."""
    return [
        {
            "booking_id": e.booking_id,
            "queue_number": e.queue_number,
            "ticket": e.ticket,
            "recipient": messages.without_bidi_controls(e.recipient),
            "code": e.code,
            "units_due": e.units_due,
            "unit_name": messages.unit_name(
                {"unit_name": e.unit_name, "unit_name_en": e.unit_name_en}, g.lang
            ),
            "site": e.site_name,
            "checked_in_at": messages.clock(e.checked_in_at),
            "called_at": messages.clock(e.called_at) if e.called_at else None,
            "state": e.state,
            "overdue": e.overdue,
            "url": url_for("staff.voucher", code=e.code),
        }
        for e in pickup_queue.waiting(get_db(), site_id, now())
    ]


def _queue_context() -> dict[str, Any]:
    site_id = station_site()
    return {
        "queue": queue_entries(site_id),
        "site_id": site_id,
        "call_overdue_minutes": int(pickup_queue.CALL_OVERDUE.total_seconds() // 60),
    }


@staff_bp.get("/")
def station():
    return _render("kiosk/staff_station.html", **_queue_context())


@staff_bp.get("/queue.json")
@polled
def queue_json():
    return jsonify({"site_id": station_site(), "queue": queue_entries(station_site())})


@staff_bp.get("/queue.html")
@polled
def queue_fragment():
    """The queue section alone, for the station's script to swap in (304 when unchanged)."""
    # Not _render: a poll must not take the flashes meant for the next page.
    body = render_template(
        "kiosk/_staff_queue.html", t=t, count_of=messages.count_of, lang=g.lang, **_queue_context()
    )
    response = make_response(body)
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _flash_calling(entry: pickup_queue.QueueEntry) -> None:
    flash(t("now_calling", g.lang, number=entry.ticket, name=entry.recipient), "notice")


@staff_bp.post("/call-next")
def call_next():
    site_id = station_site()
    if site_id is None:
        flash(t("choose_site", g.lang), "alert")
    else:
        entry = pickup_queue.call_next(get_db(), site_id, now(), f"staff:{_who()[0]}")
        if entry is None:
            flash(t("nobody_to_call", g.lang), "alert")
        else:
            _flash_calling(entry)
    return redirect(url_for("staff.station"))


def _queue_action(action: Callable[[int, int], Any]) -> Any:
    try:
        booking_id = whole_number(request.form.get("booking_id", ""), "booking_id")
        action(station_site(), booking_id)
    except (InvalidInput, NotFound):  # a bad id names no number in the queue either
        flash(t("queue_gone", g.lang), "alert")
    return redirect(url_for("staff.station"))


@staff_bp.post("/recall")
def recall():
    def act(site_id: int | None, booking_id: int) -> None:
        entry = pickup_queue.recall(get_db(), site_id, booking_id, now(), f"staff:{_who()[0]}")
        _flash_calling(entry)

    return _queue_action(act)


@staff_bp.post("/skip")
def skip():
    def act(site_id: int | None, booking_id: int) -> None:
        pickup_queue.skip(get_db(), site_id, booking_id, now(), f"staff:{_who()[0]}")
        flash(t("skipped_ok", g.lang), "notice")

    return _queue_action(act)


SEARCH_PAGE = 20  # hits per page of staff search


@staff_bp.get("/search")
def search():
    query = request.args.get("q", "").strip()
    terms = search_terms(query)
    params = terms.as_params() if terms else None
    raw_page = request.args.get("page", "").strip()
    # A page past the end shows the last; anything but a page number shows the first.
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 7 else 1
    db = get_db()
    total = storage.count_vouchers_found(db, params) if params else 0
    pages = max(1, -(-total // SEARCH_PAGE))
    page = min(max(page, 1), pages)
    rows = (
        storage.find_vouchers(db, params, SEARCH_PAGE, (page - 1) * SEARCH_PAGE) if params else []
    )
    moment = now()
    results = []
    for r in rows:
        tz = ZoneInfo(r["timezone"])
        start = storage.from_db_time(r["starts_at"]).astimezone(tz)
        end = storage.from_db_time(r["ends_at"]).astimezone(tz)
        results.append(
            {
                "recipient": r["recipient_name"],
                "contact": r["contact_name"],
                "phone": messages.mask_phone(r["phone"]),
                "code": r["code"],
                "state": booking_state(r, moment, r["grace_minutes"]),
                "slot": messages.slot_span(start, end, g.lang),
                "site": r["site_name"],
            }
        )
    return _render(
        "kiosk/staff_search.html",
        query=query,
        results=results,
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * SEARCH_PAGE + 1,
    )


def voucher_state(verdict: Verdict, lang: str) -> dict[str, Any]:
    """Everything the station shows about one voucher."""
    v = verdict.voucher
    db = get_db()
    tz = ZoneInfo(v["timezone"])

    def local(text: str | None) -> str:
        return messages.clock(storage.from_db_time(text).astimezone(tz)) if text else ""

    start = verdict.local(storage.from_db_time(v["starts_at"]))
    end = verdict.local(storage.from_db_time(v["ends_at"]))
    ack = safety.acknowledgement(db, v["booking_id"])
    undo_seconds = current_app.config["PICKUP_UNDO_SECONDS"]
    moment = now()
    handovers = []
    for h in storage.handovers_for_booking(db, v["booking_id"]):
        made = storage.from_db_time(h["handed_at"])
        handovers.append(
            {
                **h,
                "time": local(h["handed_at"]),
                "override": h["override_reason"]
                and messages.text(f"override_{h['override_reason']}", lang),
                "undoable": not h["undone_at"] and (moment - made).total_seconds() <= undo_seconds,
            }
        )
    return {
        "code": v["code"],
        "recipient": v["recipient_name"],
        "contact": v["contact_name"],
        "phone": messages.mask_phone(v["phone"]),
        "slot": messages.slot_span(start, end, lang),
        "site": v["site_name"],
        "units": v["units"],
        "unit_name": messages.unit_name(v, lang),
        "handed_units": v["handed_units"],
        "remaining": max(v["units"] - v["handed_units"], 0),
        "checked_in": local(v["checked_in_at"]),
        "queue_number": v["queue_label"] or v["queue_number"],
        "ack": ack and {"time": local(ack["acknowledged_at"]), "channel": ack["channel"]},
        "has_safety": safety.content_for(db, v["item_key"], lang) is not None,
        "handovers": handovers,
        "valid": verdict.valid,
        "message": messages.verdict_message(verdict, lang),
        "reason": verdict.reason.value,
        "overridable": verdict.reason in OVERRIDABLE and verdict.remaining_units > 0,
        "override_reasons": [
            (key, messages.text(f"override_{key}", lang)) for key in OVERRIDE_REASONS
        ],
    }


def _voucher_page(code: str, status: int = 200, alert: str | None = None):
    verdict = verify_voucher(get_db(), code, _secret(), now(), site_id=_site_id())
    if verdict.voucher is None:
        return _render(
            "kiosk/staff_voucher.html",
            404,
            state=None,
            alert=messages.verdict_message(verdict, g.lang),
        )
    return _render(
        "kiosk/staff_voucher.html", status, state=voucher_state(verdict, g.lang), alert=alert
    )


@staff_bp.get("/voucher")
def voucher():
    return _voucher_page(request.args.get("code", ""))


def _code_action(action: Callable[[str], Any]) -> Any:
    code = request.form.get("code", "")
    try:
        return action(code)
    except AlreadyHandedOver as exc:
        when = messages.clock(exc.at.astimezone(_tz_of(code))) if exc.at else ""
        alert = t("already_handed", g.lang, staff=exc.staff, station=exc.station, time=when)
        return _voucher_page(code, 409, alert)
    except VoucherRefused as exc:
        return _voucher_page(code, 409, messages.verdict_message(exc.verdict, g.lang))
    except AlreadyUndone:
        return _voucher_page(code, 409, t("already_undone", g.lang))
    except UnitsOutOfRange as exc:
        return _voucher_page(code, 400, t("units_range", g.lang, max=exc.remaining))
    except BadHandoverRequest as exc:
        return _voucher_page(code, 400, t(exc.key, g.lang))
    except (InvalidInput, UndoWindowPassed, NotFound) as exc:
        return _voucher_page(code, 400, exc.text(g.lang))


WHOLE_NUMBER_DIGITS = 9  # more than any count or id this station handles


def whole_number(raw: str, name: str) -> int:
    """``raw`` as a whole number of ASCII digits (not "²" or "１"), else InvalidInput."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > WHOLE_NUMBER_DIGITS:
        raise InvalidInput("not_whole_number", name=name)
    return int(raw)


def _tz_of(code: str) -> ZoneInfo:
    verdict = verify_voucher(get_db(), code, _secret(), now())
    return ZoneInfo(verdict.voucher["timezone"] if verdict.voucher else "UTC")


@staff_bp.post("/handover")
def handover():
    def act(code: str):
        raw = request.form.get("units", "").strip()
        try:
            units = whole_number(raw, "units") if raw else None
        except InvalidInput as exc:
            raise BadHandoverRequest("units_not_whole") from exc
        override = make_override(
            request.form.get("override_reason"), request.form.get("override_note", "")
        )
        staff, station_name = _who()
        result = hand_over(
            get_db(),
            code,
            _secret(),
            now(),
            staff,
            station_name,
            units,
            site_id=_site_id(),
            override=override,
        )
        amount = messages.units_text(result.units, result.verdict.voucher, g.lang)
        # "handed": the page shows this success, not the "already collected" it now judges.
        flash(
            t("handed_ok", g.lang, amount=amount, remaining=result.remaining_units),
            "handed",
        )
        return redirect(url_for("staff.voucher", code=result.verdict.voucher["code"]))

    return _code_action(act)


@staff_bp.post("/undo")
def undo():
    def act(code: str):
        handover_id = whole_number(request.form.get("handover_id", ""), "handover_id")
        handover = storage.get_handover(get_db(), handover_id)
        verdict = verify_voucher(get_db(), code, _secret(), now())
        if verdict.voucher is None or verdict.voucher["booking_id"] != handover["booking_id"]:
            raise InvalidInput("not_this_vouchers_handover")
        undo_handover(
            get_db(), handover_id, now(), _who()[0], current_app.config["PICKUP_UNDO_SECONDS"]
        )
        flash(t("undone", g.lang), "notice")
        return redirect(url_for("staff.voucher", code=verdict.voucher["code"]))

    return _code_action(act)


@staff_bp.post("/checkin")
def checkin():
    def act(code: str):
        actor = f"staff:{_who()[0]}"
        result = check_in(get_db(), code, _secret(), now(), actor, site_id=_site_id())
        return redirect(url_for("staff.voucher", code=result.verdict.voucher["code"]))

    return _code_action(act)


@staff_bp.post("/acknowledge")
def acknowledge():
    """Staff explained the safety instructions in person (for people who skipped the kiosk)."""

    def act(code: str):
        verdict = verify_voucher(get_db(), code, _secret(), now())
        if verdict.voucher is None:
            raise VoucherRefused(verdict)
        v = verdict.voucher
        content = safety.content_for(get_db(), v["item_key"], g.lang)
        if content is not None:
            safety.acknowledge(
                get_db(),
                v["booking_id"],
                content.item_key,
                content.language,
                f"staff:{_who()[0]}",
                now(),
            )
        return redirect(url_for("staff.voucher", code=v["code"]))

    return _code_action(act)
