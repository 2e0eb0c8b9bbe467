"""``/admin/conflicts``: vouchers handed over offline at two stations beyond their units.

Each conflict lists the voucher's handovers with who, where and when; the operator accepts
them all or records that one came back (:func:`shared.offline.resolve_conflict`, audited).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, request, url_for

from admin import bp
from admin.texts import t
from admin.views import _actor, _render
from shared import offline, storage
from shared.clock import now
from shared.db import get_db
from shared.errors import BadSyncRequest, NotFound


def _local(text: str, timezone: str) -> str:
    moment = storage.from_db_time(text).astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@bp.get("/conflicts")
def conflicts():
    db = get_db()
    zones = {d["id"]: d["timezone"] for d in storage.list_distributions(db)}
    shown = []
    for conflict in offline.conflicts(db):
        timezone = zones.get(conflict.handovers[0]["distribution_id"], "UTC")
        shown.append(
            {
                "booking_id": conflict.booking_id,
                "title": t(
                    "conflict_voucher",
                    g.lang,
                    last4=conflict.code[-4:],
                    recipient=conflict.recipient,
                    site=conflict.site,
                    units=conflict.units,
                    handed=conflict.handed_units,
                ),
                "handovers": [
                    {**h, "when": _local(h["handed_at"], timezone)}
                    for h in conflict.handovers
                    if not h["undone_at"]
                ],
            }
        )
    return _render("admin/conflicts.html", conflicts=shown)


@bp.post("/conflicts/<int:booking_id>")
def resolve_conflict(booking_id: int):
    raw = request.form.get("handover_id", "")
    handover_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    try:
        offline.resolve_conflict(
            get_db(), booking_id, request.form.get("resolution", ""), _actor(), now(), handover_id
        )
    except BadSyncRequest as exc:
        abort(400, description=t(exc.key, g.lang))
    except NotFound:
        flash(t("conflict_gone", g.lang), "error")
        return redirect(url_for("admin.conflicts"))
    flash(t("conflict_resolved", g.lang), "notice")
    return redirect(url_for("admin.conflicts"))
