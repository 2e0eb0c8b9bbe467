"""``/kiosk/<site_id>``: the self-service screen at one pickup site.

``/kiosk`` lists the sites of the open distributions, or goes straight to the only one. A
kiosk stands at one site: a voucher for another site is refused there, naming its site,
address, date and time. Check a voucher, show the safety instructions, record the
acknowledgement, check in. The kiosk never hands goods over. Every screen after the first
is the answer to a POST, so a code never lands in a URL or an access log; the language
toggle re-posts the same form, which is safe because checking, acknowledging and
checking in are all idempotent.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for

from kiosk import bp
from kiosk.texts import t
from shared import messages, safety, storage
from shared.clock import now
from shared.db import get_db
from shared.errors import VoucherRefused
from shared.messages import mask_name, mask_phone
from shared.verification import Reason, Verdict, check_in, verify_voucher
from web.csrf import protect_forms

ACTOR = "kiosk"
CODE_FIELD_LENGTH = 64  # a code given back to correct: enough for any spelling of 16 digits

protect_forms(bp)

SITE_ENDPOINTS = frozenset({"kiosk.kiosk_start", "kiosk.kiosk_check", "kiosk.kiosk_checkin"})


@bp.url_value_preprocessor
def _load_site(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Every ``/kiosk/<site_id>`` page knows its site (``g.kiosk_site``); 404 for none."""
    if values and "site_id" in values:
        site = storage.find_site(get_db(), values["site_id"])
        if site is None:
            abort(404)
        g.kiosk_site = site


@bp.url_defaults
def _site_in_links(endpoint: str, values: dict[str, Any]) -> None:
    """Links from a site's screens stay at that site without naming it each time."""
    if endpoint in SITE_ENDPOINTS and "site_id" not in values and "kiosk_site" in g:
        values["site_id"] = g.kiosk_site["id"]


def _language() -> str:
    return messages.pick_language(request.values.get("lang"))


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    language = context.setdefault("lang", _language())
    context.setdefault("idle_seconds", current_app.config["PICKUP_KIOSK_IDLE_SECONDS"])
    context.setdefault("site", g.get("kiosk_site"))
    return render_template(
        template, t=t, other_lang=messages.other_language(language), **context
    ), status


def voucher_summary(verdict: Verdict, language: str) -> dict[str, str]:
    """What a stranger's screen may show about a voucher: names and phone masked."""
    v = verdict.voucher
    start = verdict.local(storage.from_db_time(v["starts_at"]))
    end = verdict.local(storage.from_db_time(v["ends_at"]))
    return {
        "recipient": mask_name(v["recipient_name"]),
        "contact": " ".join(filter(None, (mask_name(v["contact_name"]), mask_phone(v["phone"])))),
        "slot": messages.slot_span(start, end, language),
        "site": v["site_name"],
        "address": v["site_address"],
        "allotment": messages.allotment_text(v["units"], v, language),
        "item": v["item"],
    }


def kiosk_sites_now() -> tuple[list[dict[str, Any]], bool]:
    """The sites a kiosk may stand at: those with a window still ahead, else every site.

    The flag says whether they are the open ones.
    """
    db = get_db()
    open_sites = storage.sites_open_after(db, now())
    if open_sites:
        return open_sites, True
    return storage.sites_open_after(db, None), False


@bp.get("/kiosk")
def kiosk_sites():
    """One open site: straight to its kiosk; otherwise the list to choose from."""
    sites, are_open = kiosk_sites_now()
    if are_open and len(sites) == 1:
        return redirect(url_for("kiosk.kiosk_start", site_id=sites[0]["id"], **_lang_arg()))
    return _page("kiosk/kiosk_sites.html", sites=sites, are_open=are_open)


def _lang_arg() -> dict[str, str]:
    return {"lang": request.args["lang"]} if request.args.get("lang") else {}


@bp.get("/kiosk/<int:site_id>")
def kiosk_start(site_id: int):
    return _page("kiosk/kiosk_start.html")


def _refused(verdict: Verdict, language: str):
    if verdict.reason is Reason.MISTYPED:
        # The start screen again with the digits kept, to correct rather than retype.
        return _page(
            "kiosk/kiosk_start.html",
            lang=language,
            code=request.form.get("code", "")[:CODE_FIELD_LENGTH],
            message=messages.verdict_message(verdict, language),
            advice=t("advice_mistyped", language),
        )
    return _page(
        "kiosk/kiosk_refused.html",
        200,
        lang=language,
        reason=verdict.reason.value,
        message=messages.verdict_message(verdict, language),
        advice=t(f"advice_{verdict.reason.value}", language),
    )


@bp.post("/kiosk/<int:site_id>/check")
def kiosk_check(site_id: int):
    language = _language()
    code = request.form.get("code", "")
    db = get_db()
    verdict = verify_voucher(db, code, current_app.config["VOUCHER_SECRET"], now(), site_id=site_id)
    if not verdict.valid:
        return _refused(verdict, language)
    v = verdict.voucher
    content = safety.content_for(db, v["item_key"], language)
    acknowledged = safety.acknowledgement(db, v["booking_id"]) is not None
    if v["checked_in_at"] and (acknowledged or content is None):
        return _checked_in(code, language, site_id)
    return _page(
        "kiosk/kiosk_safety.html",
        lang=language,
        code=v["code"],
        summary=voucher_summary(verdict, language),
        content=content,
        pictogram_names=safety.PICTOGRAMS,
    )


def _checked_in(code: str, language: str, site_id: int):
    db = get_db()
    secret = current_app.config["VOUCHER_SECRET"]
    try:
        result = check_in(db, code, secret, now(), ACTOR, site_id=site_id)
    except VoucherRefused as exc:
        return _refused(exc.verdict, language)
    return _page(
        "kiosk/kiosk_checked_in.html",
        lang=language,
        code=result.verdict.voucher["code"],
        queue_number=result.queue_number,
        first_time=result.first_time,
        summary=voucher_summary(result.verdict, language),
    )


@bp.post("/kiosk/<int:site_id>/checkin")
def kiosk_checkin(site_id: int):
    """The tap on "I have read and understood": record it, then check in."""
    language = _language()
    code = request.form.get("code", "")
    db = get_db()
    verdict = verify_voucher(db, code, current_app.config["VOUCHER_SECRET"], now(), site_id=site_id)
    if not verdict.valid:
        return _refused(verdict, language)
    v = verdict.voucher
    content = safety.content_for(db, v["item_key"], language)
    if content is not None:
        safety.acknowledge(db, v["booking_id"], content.item_key, content.language, ACTOR, now())
    return _checked_in(code, language, site_id)
