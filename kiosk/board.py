"""``/kiosk/<site_id>/board``: the public queue board of a site, readable across a room.

The page shows the numbers staff called (:mod:`shared.pickup_queue`), the latest large.
Its script asks ``board.json`` every few seconds with If-None-Match, so an unchanged board
costs a 304 of no body; without scripts the page refreshes itself every 15 seconds.
Nothing on it names a person: numbers only.
"""

from __future__ import annotations

from flask import abort, jsonify, render_template, request, url_for

from kiosk import bp
from kiosk.texts import t
from shared import messages, pickup_queue
from shared.clock import now
from shared.db import get_db
from shared.errors import NotFound

POLL_MILLISECONDS = 3000


def _board(site_id: int) -> pickup_queue.Board:
    try:
        return pickup_queue.board(get_db(), site_id, now())
    except NotFound:
        abort(404)


@bp.get("/kiosk/<int:site_id>/board")
def board(site_id: int):
    language = messages.pick_language(request.args.get("lang"))
    return render_template(
        "kiosk/board.html",
        t=t,
        lang=language,
        other_lang="en" if language == "zh" else "zh",
        board=_board(site_id),
        src=url_for("kiosk.board_json", site_id=site_id),
        poll_ms=POLL_MILLISECONDS,
    )


@bp.get("/kiosk/<int:site_id>/board.json")
def board_json(site_id: int):
    response = jsonify(_board(site_id).as_json())
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)
