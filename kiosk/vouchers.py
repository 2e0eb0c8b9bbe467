"""``/v/<code>``: the voucher, its QR code, slot, place and allotment."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request

from kiosk import bp
from shared import messages, safety, storage
from shared.clock import now
from shared.db import get_db
from shared.verification import Reason, verify_voucher
from shared.vouchers import format_code, qr_content, qr_png, qr_svg

NOT_SHOWN = {Reason.UNKNOWN, Reason.MISTYPED}
NO_QR = {Reason.CANCELLED}  # a cancelled voucher's page says so and shows nothing to scan


def _verdict(code: str):
    return verify_voucher(get_db(), code, current_app.config["VOUCHER_SECRET"], now())


@bp.get("/v/<code>")
def voucher_page(code: str):
    verdict = _verdict(code)
    voucher = verdict.voucher
    language = messages.pick_language(
        request.args.get("lang"),
        voucher["language"] if voucher else None,
        request.accept_languages.best_match(messages.LANGUAGES),
    )
    if verdict.reason in NOT_SHOWN:
        body = render_template(
            "kiosk/voucher_missing.html",
            lang=language,
            t=messages.text,
            message=messages.verdict_message(verdict, language),
        )
        return body, 404
    start, end = (
        verdict.local(storage.from_db_time(voucher["starts_at"])),
        verdict.local(storage.from_db_time(voucher["ends_at"])),
    )
    return render_template(
        "kiosk/voucher.html",
        lang=language,
        t=messages.text,
        v=voucher,
        verdict=verdict,
        status=messages.verdict_message(verdict, language),
        code_groups=format_code(voucher["code"]),
        qr=None if verdict.reason in NO_QR else qr_svg(qr_content(voucher["code"])),
        slot_text=messages.slot_span(start, end, language),
        allotment=messages.allotment_text(voucher["units"], voucher, language),
        collected=messages.units_text(voucher["handed_units"], voucher, language),
        safety=safety.content_for(get_db(), voucher["item_key"], language),
        pictogram_names=safety.PICTOGRAMS,
    )


def _known_code(code: str) -> str:
    verdict = _verdict(code)
    if verdict.reason in NOT_SHOWN or verdict.reason in NO_QR:
        abort(404)
    return verdict.voucher["code"]


@bp.get("/v/<code>/qr.svg")
def voucher_qr_svg(code: str):
    svg = qr_svg(qr_content(_known_code(code)))
    return Response(
        svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"}
    )


@bp.get("/v/<code>/qr.png")
def voucher_qr_png(code: str):
    png = qr_png(qr_content(_known_code(code)))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})
