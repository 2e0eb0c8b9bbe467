"""The staff station and the kiosk when the network drops: the service worker and its files.

``/offline-sw.js`` is the service worker (same origin, scope ``/``): it keeps the station's
and the kiosk's pages, scripts, styles, the camera's decoder and the safety texts
(``/kiosk/<site_id>/safety``, pictograms included), so both open without a network once
loaded. ``kiosk/static/offline.js`` keeps the site's vouchers and the waiting actions in
IndexedDB, decides scans locally while offline and uploads through ``/api/v1/sync``
(:mod:`kiosk.api`, :mod:`shared.offline`). :func:`offline_texts` is what it says, in the
page's language.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, g, render_template, request, url_for

from auth import texts as auth_texts
from kiosk import bp
from kiosk.texts import TEXTS
from shared import messages, safety, storage
from shared.booking_states import STATES
from shared.db import get_db

# The words offline.js says, by key; the state labels are added from shared.messages.
SCRIPT_TEXTS = (
    "sync_online",
    "sync_offline",
    "sync_syncing",
    "sync_waiting",
    "offline_valid",
    "offline_unknown",
    "offline_mistyped",
    "offline_too_early",
    "offline_missed",
    "offline_collected",
    "offline_no_copy",
    "offline_checked_in_here",
    "offline_handed",
    "offline_units_range",
    "offline_list",
    "offline_notices",
    "offline_dismiss",
    "offline_kiosk_ask_staff",
    "cancelled",
    "recipient",
    "contact",
    "slot",
    "allotment",
    "remaining",
    "handed",
    "state",
    "hand_over_all_n",
    "hand_over_some",
    "units_label",
    "acknowledge",
    "check_in",
    "checked_in",
    "queue_number",
    "wait_call",
    "start_again",
)


def offline_texts(language: str) -> dict[str, Any]:
    """What the offline script says in ``language``: its texts and the states' labels."""
    texts: dict[str, Any] = {
        key: (TEXTS.get(key) or auth_texts.TEXTS.get(key) or messages.MESSAGES[key])[language]
        for key in SCRIPT_TEXTS
    }
    texts["states"] = {state: messages.state_label(state, language) for state in STATES}
    return texts


bp.add_app_template_global(offline_texts)


def _static_files() -> list[str]:
    """The files every station page needs, for the worker to keep."""
    return [
        url_for("web.static", filename="screens.css"),
        url_for("web.static", filename="screens.js"),
        url_for("kiosk.static", filename="offline.js"),
        url_for("kiosk.static", filename="staff.js"),
        url_for("kiosk.static", filename="vendor/qr-scanner/qr-scanner.min.js"),
        url_for("kiosk.static", filename="vendor/qr-scanner/qr-scanner-worker.min.js"),
    ]


@cache
def _fingerprint(root: str, files: tuple[str, ...]) -> str:
    """A version of the kept files: a new deployment makes the worker fetch them again."""
    digest = hashlib.sha256()
    for name in files:
        path = Path(root) / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _version() -> str:
    roots = [
        (current_app.blueprints["web"].static_folder, ("screens.css", "screens.js")),
        (bp.static_folder, ("offline.js", "staff.js")),
    ]
    return "-".join(_fingerprint(str(root), files) for root, files in roots)


@bp.get("/offline-sw.js")
def offline_worker():
    body = render_template("kiosk/offline-sw.js", files=_static_files(), version=_version())
    return Response(
        body,
        mimetype="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@bp.get("/kiosk/<int:site_id>/safety")
def kiosk_safety_text(site_id: int):
    """The safety instructions of the site's item with their pictograms, for the offline
    kiosk to show (the service worker keeps it)."""
    language = messages.pick_language(request.args.get("lang"))
    site = g.kiosk_site
    distribution = storage.get_distribution(get_db(), site["distribution_id"])
    content = safety.content_for(get_db(), distribution["item_key"], language)
    if content is None:
        abort(404)
    body = render_template(
        "kiosk/_safety_fragment.html",
        content=content,
        lang=language,
        pictogram_names=safety.PICTOGRAMS,
    )
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-cache"})
