"""How much a request may send: small everywhere, larger only where a file is uploaded.

A body is refused with 413 before it is read when its declared length is over the limit
(and cut off when an undeclared one runs over), so a 50 MB post costs the server nothing.
``PICKUP_MAX_REQUEST_KB`` holds for every route, whether it reads its body or not; a
blueprint names the few endpoints that take a file (:func:`allow_uploads`), which get
``PICKUP_MAX_UPLOAD_MB``. The refusal says
what the limit is, in the user's language: a page, or JSON for the scanner API.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, session
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from shared import messages

KB = 1024
MB = 1024 * KB
UPLOADS = "pickup_upload_endpoints"  # app.extensions key: the endpoints that take a file


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"


def too_large(_error: RequestEntityTooLarge):
    """The 413 answer: what the limit is and that nothing was saved, in the user's language."""
    language = messages.pick_language(
        request.args.get("lang"),
        session.get("lang"),
        request.accept_languages.best_match(messages.LANGUAGES),
    )
    text = messages.text("too_large", language, limit=_size(request.max_content_length or 0))
    if request.path.startswith("/api/"):
        return jsonify({"error": "too_large", "message": text}), 413
    page = render_template(
        "web/error.html",
        lang=language,
        title=messages.text("too_large_title", language),
        text=text,
        home=messages.text("start_page", language),
    )
    return page, 413


def allow_uploads(bp: Blueprint, *endpoints: str) -> None:
    """Let ``endpoints`` of ``bp`` (full names, ``"admin.roster_check"``) take a file up to
    ``PICKUP_MAX_UPLOAD_MB``; every other route keeps ``PICKUP_MAX_REQUEST_KB``."""

    def register(state: BlueprintSetupState) -> None:
        state.app.extensions.setdefault(UPLOADS, set()).update(endpoints)

    bp.record_once(register)


def refuse_large_requests() -> None:
    """Set this request's limit; refuse a declared length over it before anything is read.

    Also for routes that never read their body: it is not sent on to them at all.
    """
    if request.endpoint in current_app.extensions.get(UPLOADS, ()):
        limit = current_app.config["PICKUP_MAX_UPLOAD_MB"] * MB
        request.max_content_length = limit
        request.max_form_memory_size = limit
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Apply ``PICKUP_MAX_REQUEST_KB`` to every request and answer 413 in the user's language."""
    limit = app.config["PICKUP_MAX_REQUEST_KB"] * KB
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.config["MAX_FORM_MEMORY_SIZE"] = limit
    app.before_request(refuse_large_requests)
    app.register_error_handler(RequestEntityTooLarge, too_large)
