"""The language of a signed-in session (the staff station, the console, the sign-in page)."""

from __future__ import annotations

from flask import request, session

from shared import messages


def session_language() -> str:
    """The signed-in pages' language: ``?lang=`` switches it for the rest of the session."""
    if "lang" in request.args:
        session["lang"] = messages.pick_language(request.args["lang"])
    return session.get("lang") or messages.DEFAULT_LANGUAGE
