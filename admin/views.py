"""``/admin`` pages: thin views that read the form, call the console's functions and render.

Access: the user signed in by :mod:`auth` (``g.user``) with the ``admin`` role. Anonymous
requests go to the sign-in page with ``next=``; a staff user gets 403. Every POST carries
the session's CSRF token (:func:`web.csrf.protect_forms`).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from admin import bp, charts, operations, setup
from admin.audit import AuditDetails
from admin.texts import audit_action, t
from auth import polled, role_required
from shared import (
    booking,
    booking_states,
    dashboard,
    day_list,
    distributions,
    exports,
    messages,
    outreach,
    planning,
    recipient_list,
    roster,
    safety,
    storage,
)
from shared.clock import now
from shared.db import get_db
from shared.errors import (
    BookingClosed,
    EditRefused,
    HoldExpired,
    InvalidInput,
    NoAllotment,
    NoPhone,
    NotFound,
    PickupError,
    RosterInvalid,
    SlotFull,
    SlotStarted,
)
from shared.handover import reconcile
from shared.outreach import queue_slot_offer
from shared.recipient_list import RecipientFilter
from shared.search import MAX_QUERY
from shared.vouchers import format_code, voucher_code
from web.csrf import FormExpired, protect_forms
from web.language import session_language
from web.limits import allow_uploads, too_large

PREVIEW_ROWS = 50  # roster rows shown before import; the count covers them all
MOVE_CHOICES = 60  # free slots offered on a recipient's page to move their booking to
# States in which the console may (re)book: not once someone came or goods were handed over.
CHANGEABLE = (
    booking_states.BOOKED,
    booking_states.MISSED,
    booking_states.CANCELLED,
    booking_states.NO_BOOKING,
)


@bp.before_request
def _language() -> None:
    g.lang = session_language()


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every console page is for the admin role."""


# After the role check: anonymous and staff users are turned away before a form is read.
protect_forms(bp)
# The roster check is the one route of the app that takes a file.
allow_uploads(bp, "admin.roster_check")


def _switch_url() -> str:
    """This page in the other language (a GET of the same address)."""
    other = messages.other_language(g.lang)
    if request.method != "GET" or request.endpoint is None:
        return url_for("admin.index", lang=other)
    args = {**request.args.to_dict(), **(request.view_args or {}), "lang": other}
    return url_for(request.endpoint, **args)


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(
            template,
            t=t,
            lang=g.lang,
            user=g.user,
            switch_url=_switch_url(),
            unit_of=lambda row: messages.unit_name(row, g.lang),
            units_of=lambda n, row: messages.units_text(n, row, g.lang),
            flashes=get_flashed_messages(with_categories=True),
            **context,
        ),
        status,
    )


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    if exc.code == 403:
        title, text = t("forbidden_title", g.lang), t("forbidden", g.lang)
    elif isinstance(exc, FormExpired):
        title, text = t("form_expired_title", g.lang), t("form_expired", g.lang)
    elif exc.code == 404:
        title, text = t("not_found_title", g.lang), exc.description
    elif isinstance(exc, RequestEntityTooLarge):
        return too_large(exc)
    else:
        return exc
    if not hasattr(g, "lang"):
        g.lang = messages.DEFAULT_LANGUAGE
    return _render("admin/error.html", exc.code, title=title, text=text)


def _error_text(exc: PickupError) -> str:
    if isinstance(exc, EditRefused):
        return exc.text(g.lang)
    return t("not_done", g.lang, reason=exc.text(g.lang))


def _actor() -> str:
    return f"admin:{g.user['username']}"


def _distribution(distribution_id: int) -> dict[str, Any]:
    try:
        return storage.get_distribution(get_db(), distribution_id)
    except NotFound as exc:
        abort(404, description=exc.text(g.lang))


def _tz(distribution: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(distribution["timezone"])


def _local(text: str | None, tz: ZoneInfo, fmt: str = "%H:%M") -> str:
    moment = storage.from_db_time(text)
    return moment.astimezone(tz).strftime(fmt) if moment else ""


def _make_code(serial: int) -> str:
    return voucher_code(serial, current_app.config["VOUCHER_SECRET"])


def _summary(distribution_id: int) -> dict[str, Any]:
    db = get_db()
    ledger = reconcile(db, distribution_id)
    distribution = storage.get_distribution(db, distribution_id)
    return {
        "distribution": distribution,
        "ledger": ledger,
        "recipients": storage.count_recipients(db, distribution_id),
        "allotted": ledger.stock - ledger.unallocated,
        "bookings": storage.count_live_bookings(db, distribution_id),
        "share": ledger.handed_over / ledger.stock if ledger.stock else 0.0,
        "allocated": storage.latest_allocation_run(db, distribution_id) is not None,
    }


# -- distributions --------------------------------------------------------------------------


@bp.get("/")
def index():
    summaries = [_summary(d["id"]) for d in storage.list_distributions(get_db())]
    return _render("admin/index.html", summaries=summaries)


def _form_context(values: dict[str, str], problems: dict[str, setup.Problem]) -> dict:
    return {
        "values": values,
        "problems": problems,
        "site_numbers": setup.site_numbers(values),
        "item_titles": safety.item_titles(get_db(), g.lang),
        "bases": setup.WEIGHT_BASES,
        "methods": setup.METHOD_CHOICES,
    }


NEW_DEFAULTS = {
    "timezone": "Asia/Shanghai",
    "slot_minutes": "15",
    "capacity_people": "5",
    "early_minutes": "15",
    "grace_minutes": "30",
    "weight_basis": "headcount",
    "allocation_method": "sainte_lague",
    **{f"{name}_0": "" for name in setup.SITE_INPUTS},
}


def _site_action(values: dict[str, str]) -> dict[str, str] | None:
    """The form after its "add a site" or "remove" button, or None for a plain submit."""
    action = request.form.get("site_action", "")
    if action == "add":
        return setup.add_site_block(values)
    number = action.removeprefix("remove:")
    if action.startswith("remove:") and number.isdigit():
        return setup.remove_site_block(values, int(number))
    return None


@bp.route("/new", methods=["GET", "POST"])
def new_distribution():
    if request.method == "GET":
        return _render("admin/form.html", **_form_context(NEW_DEFAULTS, {}), distribution=None)
    values = request.form.to_dict()
    if (changed := _site_action(values)) is not None:
        return _render("admin/form.html", **_form_context(changed, {}), distribution=None)
    try:
        form = setup.read_form(values)
        distribution_id = distributions.create_distribution(
            get_db(), form.fields, form.sites, now(), _actor()
        )
    except setup.FormInvalid as exc:
        context = _form_context(values, exc.problems)
        return _render("admin/form.html", 400, **context, distribution=None)
    flash(t("created", g.lang, id=distribution_id), "notice")
    return redirect(url_for("admin.overview", distribution_id=distribution_id))


@bp.get("/d/<int:distribution_id>/")
def overview(distribution_id: int):
    _distribution(distribution_id)
    return _render("admin/overview.html", **_summary(distribution_id))


@bp.route("/d/<int:distribution_id>/edit", methods=["GET", "POST"])
def edit_distribution(distribution_id: int):
    distribution = _distribution(distribution_id)
    db = get_db()
    if request.method == "GET":
        sites = [
            (site, storage.list_windows(db, site["id"]))
            for site in storage.list_sites(db, distribution_id)
        ]
        values = setup.form_values(distribution, sites)
        return _render("admin/form.html", **_form_context(values, {}), distribution=distribution)
    values = request.form.to_dict()
    if (changed := _site_action(values)) is not None:
        context = _form_context(changed, {})
        return _render("admin/form.html", **context, distribution=distribution)
    try:
        form = setup.read_form(values)
        distributions.update_distribution(
            db, distribution_id, form.fields, form.sites, now(), _actor()
        )
    except setup.FormInvalid as exc:
        context = _form_context(values, exc.problems)
        return _render("admin/form.html", 400, **context, distribution=distribution)
    except PickupError as exc:
        context = _form_context(values, {})
        return _render(
            "admin/form.html", 409, **context, distribution=distribution, error=_error_text(exc)
        )
    flash(t("saved", g.lang), "notice")
    return redirect(url_for("admin.overview", distribution_id=distribution_id))


# -- roster ---------------------------------------------------------------------------------


@bp.get("/roster-template.csv")
def roster_template():
    """The roster template with Chinese or English headers (``?language=``, else the page's)."""
    language = request.args.get("language") or g.lang
    if language not in messages.LANGUAGES:
        abort(400, description=t("bad_choice", g.lang))
    return Response(
        roster.template_csv(language).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=roster-template-{language}.csv"},
    )


@bp.get("/d/<int:distribution_id>/roster")
def roster_form(distribution_id: int):
    distribution = _distribution(distribution_id)
    return _render("admin/roster.html", distribution=distribution)


def _roster_errors_page(distribution: dict, exc: RosterInvalid):
    errors = getattr(exc, "errors", [])
    return _render(
        "admin/roster.html",
        422,
        distribution=distribution,
        errors=errors,
        column_label=lambda column: roster.column_label(column, g.lang),
    )


@bp.post("/d/<int:distribution_id>/roster")
def roster_check(distribution_id: int):
    distribution = _distribution(distribution_id)
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    if not data:
        return _render(
            "admin/roster.html", 400, distribution=distribution, error=t("no_file", g.lang)
        )
    try:
        rows = roster.parse_roster(
            data,
            distribution["timezone"],
            current_app.config["PICKUP_DEFAULT_REGION"],
            storage.list_sites(get_db(), distribution["id"]),
        )
    except RosterInvalid as exc:
        return _roster_errors_page(distribution, exc)
    token = operations.keep_roster_preview(
        get_db(), distribution_id, data, upload.filename or "roster.csv", now(), _actor()
    )
    return _render(
        "admin/roster.html",
        distribution=distribution,
        rows=rows[:PREVIEW_ROWS],
        total=len(rows),
        columns=roster.COLUMNS,
        preview=token,
    )


@bp.post("/d/<int:distribution_id>/roster/import")
def roster_import(distribution_id: int):
    distribution = _distribution(distribution_id)
    try:
        count = operations.import_roster_preview(
            get_db(),
            distribution_id,
            request.form.get("preview", ""),
            current_app.config["PICKUP_DEFAULT_REGION"],
            now(),
            _actor(),
        )
    except NotFound:
        return _render(
            "admin/roster.html", 400, distribution=distribution, error=t("preview_gone", g.lang)
        )
    except RosterInvalid as exc:
        return _roster_errors_page(distribution, exc)
    flash(t("imported", g.lang, n=count), "notice")
    return redirect(url_for("admin.allocation", distribution_id=distribution_id))


# -- allotments and slots ------------------------------------------------------------------


def _method_arg(value: str | None) -> str | None:
    if value and value not in setup.METHOD_CHOICES:
        abort(400, description=t("bad_choice", g.lang))
    return value or None


def _allocation_page(distribution: dict, method: str | None, status: int = 200, error=None):
    context: dict[str, Any] = {"distribution": distribution, "methods": setup.METHOD_CHOICES}
    try:
        plan = planning.plan_allocation(get_db(), distribution["id"], method)
    except PickupError as exc:
        return _render("admin/allocation.html", 409, **context, error=_error_text(exc))
    return _render(
        "admin/allocation.html",
        status,
        **context,
        plan=plan,
        summary=planning.summarise_allocation(get_db(), plan),
        error=error,
    )


@bp.get("/d/<int:distribution_id>/allocate")
def allocation(distribution_id: int):
    distribution = _distribution(distribution_id)
    return _allocation_page(distribution, _method_arg(request.args.get("method")))


@bp.get("/d/<int:distribution_id>/allocate.csv")
def allocation_csv(distribution_id: int):
    """The previewed allotments, every recipient, as CSV (the page shows a summary)."""
    distribution = _distribution(distribution_id)
    method = _method_arg(request.args.get("method"))
    try:
        plan = planning.plan_allocation(get_db(), distribution_id, method)
    except PickupError as exc:  # nothing to download: the page says why
        flash(_error_text(exc), "error")
        return redirect(url_for("admin.allocation", distribution_id=distribution_id))
    rows = planning.allotment_csv_rows(get_db(), distribution_id, plan, distribution["unit_size"])
    name = f"allocation-{distribution_id}-{plan.allocation.method}.csv"
    return _csv(exports.to_csv(list(rows), planning.ALLOTMENT_COLUMNS), name)


@bp.post("/d/<int:distribution_id>/allocate")
def allocate(distribution_id: int):
    distribution = _distribution(distribution_id)
    method = _method_arg(request.form.get("method"))
    try:
        result = planning.allocate_distribution(get_db(), distribution_id, now(), _actor(), method)
    except PickupError as exc:
        return _allocation_page(distribution, method, 409, _error_text(exc))
    flash(
        t(
            "allocated",
            g.lang,
            allocated=result.allocated,
            stock=result.stock,
            rest=result.unallocated,
        ),
        "notice",
    )
    return redirect(url_for("admin.schedule_preview", distribution_id=distribution_id))


def _slot_label(text: str, tz: ZoneInfo, days: int) -> str:
    return _local(text, tz, "%m-%d %H:%M" if days > 1 else "%H:%M")


def _schedule_page(distribution: dict, status: int = 200, error: str | None = None):
    tz = _tz(distribution)
    try:
        plan = planning.plan_schedule(get_db(), distribution["id"], now())
    except PickupError as exc:
        return _render(
            "admin/schedule.html", 409, distribution=distribution, error=_error_text(exc)
        )
    loads = planning.slot_loads_of(plan)
    slot_rows = _slot_rows(
        [
            {
                "starts": storage.from_db_time(x.slot["starts_at"]).astimezone(tz),
                "people": x.people,
                "units": x.units,
                "capacity_people": x.slot["capacity_people"],
            }
            for x in loads
        ],
        tz,
        ("people", "units", "capacity_people"),
    )
    chart = charts.bar_chart(
        [r["label"] for r in slot_rows],
        [charts.Series(t("people", g.lang), [r["people"] for r in slot_rows], "booked")],
        [r["capacity_people"] for r in slot_rows],
        t("capacity", g.lang),
        t("load_per_slot", g.lang) if len(slot_rows) == len(loads) else t("load_per_day", g.lang),
    )
    days = len({_local(x.slot["starts_at"], tz, "%Y-%m-%d") for x in loads})
    sites = {s["id"]: s["name"] for s in storage.list_sites(get_db(), distribution["id"])}
    return _render(
        "admin/schedule.html",
        status,
        distribution=distribution,
        plan=plan,
        summary=planning.summarise_schedule(plan),
        chart=chart,
        slot_label=lambda load: _slot_label(load.slot["starts_at"], tz, days),
        site_of=lambda load: sites.get(load.slot["site_id"], "") if len(sites) > 1 else "",
        error=error,
    )


@bp.get("/d/<int:distribution_id>/schedule.csv")
def schedule_csv(distribution_id: int):
    """Every slot's planned load as CSV (the page shows a summary)."""
    distribution = _distribution(distribution_id)
    tz = _tz(distribution)
    try:
        plan = planning.plan_schedule(get_db(), distribution_id, now())
    except PickupError as exc:  # nothing to download: the page says why
        flash(_error_text(exc), "error")
        return redirect(url_for("admin.schedule_preview", distribution_id=distribution_id))
    sites = {s["id"]: s["name"] for s in storage.list_sites(get_db(), distribution_id)}
    rows = planning.slot_csv_rows(plan, sites, lambda text: _local(text, tz, "%Y-%m-%d %H:%M"))
    return _csv(
        exports.to_csv(list(rows), planning.SLOT_COLUMNS), f"schedule-{distribution_id}.csv"
    )


@bp.get("/d/<int:distribution_id>/schedule")
def schedule_preview(distribution_id: int):
    return _schedule_page(_distribution(distribution_id))


@bp.post("/d/<int:distribution_id>/schedule")
def schedule(distribution_id: int):
    distribution = _distribution(distribution_id)
    try:
        result = planning.schedule_distribution(
            get_db(), distribution_id, now(), _actor(), _make_code
        )
    except PickupError as exc:
        return _schedule_page(distribution, 409, _error_text(exc))
    flash(
        t(
            "scheduled",
            g.lang,
            booked=result.booked,
            slots=result.slots,
            already=result.already_booked,
        ),
        "notice",
    )
    return redirect(url_for("admin.invitations", distribution_id=distribution_id))


# -- invitations and recipients -------------------------------------------------------------


@bp.get("/d/<int:distribution_id>/invite")
def invitations(distribution_id: int):
    distribution = _distribution(distribution_id)
    daily_cap = current_app.config["PICKUP_SMS_INVITATIONS_PER_DAY"]
    progress = operations.invitation_progress(get_db(), distribution_id, now(), daily_cap)
    held_until = progress.held_until
    return _render(
        "admin/invite.html",
        distribution=distribution,
        progress=progress,
        states=operations.INVITATION_STATES,
        held_until=messages.day_and_clock(held_until.astimezone(_tz(distribution)), g.lang)
        if held_until
        else "",
    )


@bp.post("/d/<int:distribution_id>/invite")
def invite(distribution_id: int):
    _distribution(distribution_id)
    queued, already = operations.send_invitations(get_db(), distribution_id, now(), _actor())
    flash(t("invitations_queued", g.lang, queued=queued, already=already), "notice")
    return redirect(url_for("admin.invitations", distribution_id=distribution_id))


@bp.post("/d/<int:distribution_id>/invite/retry")
def retry_invitations(distribution_id: int):
    _distribution(distribution_id)
    count = operations.retry_failed(get_db(), distribution_id, now(), _actor())
    flash(t("retried", g.lang, n=count), "notice")
    return redirect(url_for("admin.invitations", distribution_id=distribution_id))


def _page_arg() -> int:
    """The ``page`` query argument; anything but a page number is the first page."""
    raw = request.args.get("page", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _recipient_filter(distribution_id: int, sites: list[dict[str, Any]]) -> RecipientFilter:
    """The list's filters from the query string; 400 in the user's language for a state or
    site that is not one."""
    state = request.args.get("state", "")
    if state and state not in recipient_list.STATE_FILTERS:
        abort(400, description=t("bad_choice", g.lang))
    raw_site = request.args.get("site", "")
    site_id = None
    if raw_site:
        site = next((s for s in sites if str(s["id"]) == raw_site), None)
        if site is None:
            abort(400, description=t("unknown_site", g.lang, site=raw_site[:20]))
        site_id = site["id"]
    town = request.args.get("town", "")
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY or len(town) > MAX_QUERY:
        abort(400, description=t("query_too_long", g.lang, n=MAX_QUERY))
    return RecipientFilter(state or None, town or None, site_id, query)


@bp.get("/d/<int:distribution_id>/recipients")
def recipients(distribution_id: int):
    distribution = _distribution(distribution_id)
    db = get_db()
    sites = storage.list_sites(db, distribution_id)
    chosen = _recipient_filter(distribution_id, sites)
    listing = recipient_list.recipient_page(db, distribution_id, now(), chosen, _page_arg())
    site_names = {s["id"]: s["name"] for s in sites}

    def page_url(page: int) -> str:
        args = {k: v for k, v in request.args.items() if v and k != "page"}
        return url_for("admin.recipients", distribution_id=distribution_id, **args, page=page)

    def state_url(state: str | None) -> str:
        args = {k: v for k, v in request.args.items() if v and k not in ("page", "state")}
        if state:
            args["state"] = state
        return url_for("admin.recipients", distribution_id=distribution_id, **args)

    return _render(
        "admin/recipients.html",
        distribution=distribution,
        listing=listing,
        chosen=chosen,
        counts=listing.states.counts,
        rows_waiting=listing.states.waiting,
        states=booking_states.RECIPIENT_STATES,
        towns=recipient_list.towns(db, distribution_id),
        sites=sites if len(sites) > 1 else [],
        site_of=lambda row: site_names.get(row["site_id"], ""),
        page_url=page_url,
        state_url=state_url,
        per_page=recipient_list.PER_PAGE,
    )


def _recipient(distribution_id: int, recipient_id: int) -> dict[str, Any]:
    try:
        recipient = storage.get_recipient(get_db(), recipient_id)
    except NotFound as exc:
        abort(404, description=exc.text(g.lang))
    if recipient["distribution_id"] != distribution_id:
        refused = NotFound(
            "recipient_not_in_distribution", recipient=recipient_id, distribution=distribution_id
        )
        abort(404, description=refused.text(g.lang))
    return recipient


@bp.get("/d/<int:distribution_id>/recipients/<int:recipient_id>")
def recipient(distribution_id: int, recipient_id: int):
    distribution = _distribution(distribution_id)
    person = _recipient(distribution_id, recipient_id)
    db = get_db()
    tz = _tz(distribution)
    entry = booking_states.recipient_state(db, person, now())
    voucher = None
    if entry.booking:
        voucher = storage.voucher_view_by_booking(db, entry.booking["id"])
    handovers = storage.handovers_for_booking(db, voucher["booking_id"]) if voucher else []
    phone = person["phone"]
    changeable = entry.units and entry.state in CHANGEABLE
    try:
        free = booking.free_slots(db, recipient_id, now(), MOVE_CHOICES) if changeable else []
    except PickupError:
        free = []
    return _render(
        "admin/recipient.html",
        distribution=distribution,
        person=person,
        entry=entry,
        voucher=voucher,
        code=format_code(voucher["code"]) if voucher else "",
        handovers=handovers,
        free_slots=free,
        can_move=changeable,
        arrived=entry.state in booking_states.ARRIVED,
        can_cancel=entry.state in (booking_states.BOOKED, booking_states.MISSED),
        can_resend=bool(voucher) and entry.state != booking_states.CANCELLED and bool(phone),
        sent=storage.outbox_for_phone(db, phone) if phone else [],
        received=storage.inbound_for_phone(db, phone) if phone else [],
        local=lambda text, fmt="%Y-%m-%d %H:%M": _local(text, tz, fmt),
    )


@bp.post("/d/<int:distribution_id>/recipients/<int:recipient_id>/offer")
def offer_recipient(distribution_id: int, recipient_id: int):
    _distribution(distribution_id)
    _recipient(distribution_id, recipient_id)
    db = get_db()
    live = storage.live_booking_for(db, recipient_id)
    kind = "missed_offer" if live and live["status"] == "missed" else "waiting_offer"
    try:
        queued = queue_slot_offer(
            db, recipient_id, now(), current_app.config["PICKUP_HOLD_MINUTES"], kind
        )
    except PickupError as exc:
        flash(_error_text(exc), "error")
    else:
        if queued:
            held = storage.held_slot_ids(db, recipient_id, now())
            flash(t("offer_queued", g.lang, n=len(held)), "notice")
        else:
            flash(t("offer_none", g.lang), "error")
    return redirect(
        url_for("admin.recipient", distribution_id=distribution_id, recipient_id=recipient_id)
    )


def _back_to_recipient(distribution_id: int, recipient_id: int):
    return redirect(
        url_for("admin.recipient", distribution_id=distribution_id, recipient_id=recipient_id)
    )


# Why a change to one booking was refused, in the console's words (the core's are English).
BOOKING_REFUSALS = (
    (SlotStarted, "slot_started"),
    (NoAllotment, "no_allotment"),
    (HoldExpired, "slot_full"),
    (SlotFull, "slot_full"),
    (BookingClosed, "booking_closed"),
    (NoPhone, "no_phone"),
    (NotFound, "no_live_booking"),
    (InvalidInput, "bad_choice"),
)


def _booking_action(distribution_id: int, recipient_id: int, action, done: str):
    """Run one change to a recipient's booking; flash what happened in the user's language."""
    _distribution(distribution_id)
    _recipient(distribution_id, recipient_id)
    try:
        result = action(get_db())
    except PickupError as exc:
        key = next((k for kind, k in BOOKING_REFUSALS if isinstance(exc, kind)), None)
        flash(t(key, g.lang) if key else _error_text(exc), "error")
    else:
        flash(t(done, g.lang, **result), "notice")
    return _back_to_recipient(distribution_id, recipient_id)


@bp.post("/d/<int:distribution_id>/recipients/<int:recipient_id>/move")
def move_recipient(distribution_id: int, recipient_id: int):
    raw = request.form.get("slot_id", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        _distribution(distribution_id)
        flash(t("choose_slot", g.lang), "error")
        return _back_to_recipient(distribution_id, recipient_id)
    tz = _tz(_distribution(distribution_id))

    def move(db):
        try:
            view = outreach.move_and_confirm(
                db, recipient_id, int(raw), now(), _actor(), _make_code
            )
        except NotFound as exc:  # no such slot (the recipient was checked before)
            raise InvalidInput(exc.key, **exc.values) from exc
        return {"when": _local(view["starts_at"], tz, "%m-%d %H:%M")}

    return _booking_action(distribution_id, recipient_id, move, "booking_moved")


@bp.post("/d/<int:distribution_id>/recipients/<int:recipient_id>/cancel")
def cancel_recipient(distribution_id: int, recipient_id: int):
    def cancel(db):
        outreach.cancel_and_confirm(db, recipient_id, now(), _actor())
        return {}

    return _booking_action(distribution_id, recipient_id, cancel, "booking_cancelled")


@bp.post("/d/<int:distribution_id>/recipients/<int:recipient_id>/resend")
def resend_recipient(distribution_id: int, recipient_id: int):
    def resend(db):
        outreach.resend_voucher(db, recipient_id, now(), _actor())
        return {}

    return _booking_action(distribution_id, recipient_id, resend, "voucher_resent")


# -- the printed day list -------------------------------------------------------------------


def _day_arg(value: str) -> date:
    """The ``day`` query argument (``2020-02-04``) as a date, else 400 in the user's words."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=t("bad_day", g.lang, value=value[:20]))


@bp.get("/d/<int:distribution_id>/day-list")
def day_list_page(distribution_id: int):
    """One site's day on paper: print it (A4) before the day, use it when the network fails."""
    distribution = _distribution(distribution_id)
    db = get_db()
    options = day_list.site_days(db, distribution_id)
    if not options:
        abort(404, description=t("no_sites", g.lang))
    raw_site = request.args.get("site", "")
    if raw_site:
        site = next((s for s, _ in options if str(s["id"]) == raw_site), None)
        if site is None:
            abort(404, description=t("unknown_site", g.lang, site=raw_site[:20]))
    else:
        site = options[0][0]
    days = next(d for s, d in options if s["id"] == site["id"])
    # Without a day: today when the site has slots today, else the site's first day.
    today = now().astimezone(_tz(distribution)).date()
    default = today if today in days or not days else days[0]
    raw_day = request.args.get("day", "")
    day = _day_arg(raw_day) if raw_day else default
    listing = day_list.day_list(db, distribution_id, site["id"], day, now())
    return _render(
        "admin/day_list.html",
        distribution=distribution,
        options=options,
        listing=listing,
        printed=now().astimezone(_tz(distribution)).strftime("%Y-%m-%d %H:%M"),
    )


# -- live dashboard -------------------------------------------------------------------------


def _slot_rows(slots: list, tz: ZoneInfo, fields: tuple[str, ...]) -> list[dict]:
    """Slot figures for a chart and its table: a row per slot, or per day when there are
    many (:func:`admin.charts.by_day`), each with ``label``."""
    days = len({s["starts"].date() for s in slots})
    rows = [
        {
            **s,
            "label": s["starts"].strftime("%m-%d %H:%M" if days > 1 else "%H:%M"),
            "day": s["starts"].strftime("%m-%d"),
        }
        for s in slots
    ]
    return charts.by_day(rows, fields)


def _dashboard_context(distribution: dict[str, Any]) -> dict[str, Any]:
    db = get_db()
    moment = now()
    tz = _tz(distribution)
    progress = dashboard.distribution_progress(db, distribution["id"], moment)
    slot_rows = _slot_rows(
        [
            {
                "starts": s.starts_at.astimezone(tz),
                "booked": s.booked,
                "arrived": s.arrived,
                "collected": s.collected,
                "capacity_people": s.capacity_people,
            }
            for s in progress.slots
        ],
        tz,
        ("booked", "arrived", "collected", "capacity_people"),
    )
    chart = charts.bar_chart(
        [r["label"] for r in slot_rows],
        [
            charts.Series(t("booked", g.lang), [r["booked"] for r in slot_rows], "booked"),
            charts.Series(t("arrived", g.lang), [r["arrived"] for r in slot_rows], "arrived"),
        ],
        [r["capacity_people"] for r in slot_rows],
        t("capacity", g.lang),
        t("per_slot", g.lang) if len(slot_rows) == len(progress.slots) else t("per_day", g.lang),
    )
    ledger = reconcile(db, distribution["id"])
    days = len({s.starts_at.astimezone(tz).date() for s in progress.slots})
    missed_slots = progress.missed_slots
    sites = {s["id"]: s["name"] for s in storage.list_sites(db, distribution["id"])}

    def missed_label(slot: dashboard.SlotProgress) -> str:
        label = _slot_label(storage.to_db_time(slot.starts_at), tz, days)
        return f"{label} {sites.get(slot.site_id, '')}" if len(sites) > 1 else label

    return {
        "distribution": distribution,
        "progress": progress,
        "ledger": ledger,
        "chart": chart,
        "states": booking_states.RECIPIENT_STATES,
        "slot_rows": slot_rows,
        "per_day": len(slot_rows) != len(progress.slots),
        "missed_slots": [
            (missed_label(slot), slot) for slot in missed_slots[-dashboard.MISSED_SLOTS_NAMED :]
        ],
        "missed_slot_count": len(missed_slots),
        "late": [
            {**r, "ends": _local(r["ends_at"], tz), "arrived": _local(r["checked_in_at"], tz)}
            for r in progress.late
        ],
        "queue": [{**r, "arrived": _local(r["checked_in_at"], tz)} for r in progress.queue],
        "updated": moment.astimezone(tz).strftime("%H:%M:%S"),
    }


def _dashboard_etag(distribution_id: int) -> str:
    # Booking states also change with the clock (a slot passes its grace period), so the
    # minute is part of the tag: at most one full render a minute when nothing happens.
    fingerprint = storage.dashboard_fingerprint(get_db(), distribution_id)
    minute = now().strftime("%Y-%m-%dT%H:%M")
    return hashlib.sha256(repr((fingerprint, minute, g.lang)).encode()).hexdigest()[:32]


@bp.get("/d/<int:distribution_id>/dashboard")
def dashboard_page(distribution_id: int):
    distribution = _distribution(distribution_id)
    return _render(
        "admin/dashboard.html",
        **_dashboard_context(distribution),
        etag=_dashboard_etag(distribution_id),
    )


@bp.get("/d/<int:distribution_id>/dashboard/live")
@polled
def dashboard_live(distribution_id: int):
    """The dashboard's figures only; 304 when nothing changed since the page's ETag."""
    distribution = _distribution(distribution_id)
    etag = _dashboard_etag(distribution_id)
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        body, _ = _render("admin/_live.html", **_dashboard_context(distribution))
        response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/d/<int:distribution_id>/no-shows")
def no_shows(distribution_id: int):
    _distribution(distribution_id)
    result = outreach.sweep_no_shows(
        get_db(), distribution_id, now(), _actor(), current_app.config["PICKUP_HOLD_MINUTES"]
    )
    flash(t("no_shows_marked", g.lang, marked=result.marked, offered=result.offered), "notice")
    return redirect(url_for("admin.dashboard_page", distribution_id=distribution_id))


@bp.post("/d/<int:distribution_id>/waiting-list")
def offer_waiting(distribution_id: int):
    _distribution(distribution_id)
    offered, skipped = operations.offer_to_waiting_list(
        get_db(), distribution_id, now(), _actor(), current_app.config["PICKUP_HOLD_MINUTES"]
    )
    flash(t("waiting_offered", g.lang, offered=offered, skipped=skipped), "notice")
    return redirect(url_for("admin.dashboard_page", distribution_id=distribution_id))


# -- exports and audit ----------------------------------------------------------------------


def _csv(content: str, filename: str) -> Response:
    # With a BOM, as `export ... --out FILE.csv` writes it: Excel then shows Chinese right.
    return Response(
        content.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/d/<int:distribution_id>/ledger.csv")
def export_ledger(distribution_id: int):
    _distribution(distribution_id)
    rows = exports.ledger_rows(get_db(), distribution_id)
    return _csv(exports.to_csv(rows, exports.LEDGER_COLUMNS), f"ledger-{distribution_id}.csv")


@bp.get("/d/<int:distribution_id>/bookings.csv")
def export_bookings(distribution_id: int):
    _distribution(distribution_id)
    rows = exports.booking_rows(get_db(), distribution_id, now())
    return _csv(exports.to_csv(rows, exports.BOOKING_COLUMNS), f"bookings-{distribution_id}.csv")


@bp.get("/audit")
def audit_log():
    subject = request.args.get("subject", "").strip()
    db = get_db()
    entries = storage.audit_entries(db, subject or None, limit=500)
    tz = _console_tz(db)
    return _render(
        "admin/audit.html",
        entries=entries,
        subject=subject,
        zone=tz.key,
        local=lambda text: _local(text, tz, "%Y-%m-%d %H:%M:%S"),
        action_label=lambda action: audit_action(action, g.lang),
        details=AuditDetails(db, g.lang, tz).fields,
    )


def _console_tz(db) -> ZoneInfo:
    """The time zone the console shows times in when no distribution is in view: the
    newest distribution's (a district runs its distributions in its own zone)."""
    known = storage.list_distributions(db)
    return ZoneInfo(known[-1]["timezone"] if known else NEW_DEFAULTS["timezone"])
