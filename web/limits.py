"""How much a request may send: small everywhere, larger only where a file is uploaded.

A body is refused with 413 before it is read when its declared length is over the limit
(and cut off when an undeclared one runs over), so a 50 MB post costs the server nothing.
``PICKUP_MAX_REQUEST_KB`` holds for every route; a blueprint names the few endpoints that
take a file (:func:`allow_uploads`), which get ``PICKUP_MAX_UPLOAD_MB``. The refusal says
what the limit is, in the user's language: a page, or JSON for the scanner API.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, session
from werkzeug.exceptions import RequestEntityTooLarge

from shared import messages

KB = 1024
MB = 1024 * KB


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
    """Let ``endpoints`` of ``bp`` take a file up to ``PICKUP_MAX_UPLOAD_MB``.

    Call it before anything of ``bp`` reads the form (before :func:`web.csrf.protect_forms`).
    """

    def raise_limit() -> None:
        if request.endpoint in endpoints:
            limit = current_app.config["PICKUP_MAX_UPLOAD_MB"] * MB
            request.max_content_length = limit
            request.max_form_memory_size = limit

    bp.before_request(raise_limit)


def init_app(app: Flask) -> None:
    """Apply ``PICKUP_MAX_REQUEST_KB`` to every request and answer 413 in the user's language."""
    limit = app.config["PICKUP_MAX_REQUEST_KB"] * KB
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.config["MAX_FORM_MEMORY_SIZE"] = limit
    app.register_error_handler(RequestEntityTooLarge, too_large)
