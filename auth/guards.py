"""Who is signed in, and the decorators that turn everyone else away."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, g, redirect, request, session, url_for

from shared import accounts
from shared.db import get_db

LOGIN_ENDPOINT = "auth.login"
SIGN_IN_FIRST = "sign in first"

View = Callable[..., Any]


SESSION_KEY = "sid"  # the cookie's session token; the user and role live in the database


def load_user() -> dict[str, Any] | None:
    """The signed-in user (``id``, ``username``, ``role``), looked up once per request.

    The cookie holds only a session token: the user and role are read from the database,
    so signing out, disabling the user or changing their role or password takes effect on
    the next request, even for a copy of the cookie.
    """
    if "user" not in g:
        g.user = accounts.session_user(get_db(), session.get(SESSION_KEY))
    return g.user


def polled(view: View) -> View:
    """Mark ``view`` as fetched by a page's script: a stranger gets 401, not a redirect."""
    view.polled_by_script = True  # type: ignore[attr-defined]
    return view


def _sign_in_first() -> Response:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "polled_by_script", False):
        return Response(SIGN_IN_FIRST, 401, mimetype="text/plain")
    return redirect(url_for(LOGIN_ENDPOINT, next=request.full_path.rstrip("?")))


def login_required(view: View) -> View:
    """Run ``view`` only for a signed-in user; send anyone else to the sign-in page."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if load_user() is None:
            return _sign_in_first()
        return view(*args, **kwargs)

    return guarded


def role_required(*roles: str) -> Callable[[View], View]:
    """Run the view only for a signed-in user with one of ``roles``; others get 403."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = load_user()
            if user is None:
                return _sign_in_first()
            if user.get("role") not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
