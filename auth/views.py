"""``/staff/login`` and ``/staff/logout``: password sign-in, with failures counted per (user
name, address) and per address (:mod:`shared.ratelimit`), never per name alone. The station
name given at sign-in is recorded with every handover.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for

from auth import bp
from auth.guards import SESSION_KEY, load_user, login_required
from auth.texts import t
from shared import accounts, ratelimit
from shared.clock import now
from shared.db import get_db
from shared.messages import other_language
from web.csrf import protect_forms
from web.language import session_language

# Where a sign-in without ``next=`` lands, and the paths ``next=`` may point to.
HOME_ENDPOINT = "staff.station"
NEXT_PREFIXES = ("/staff", "/admin")
STATION_MAX = 40


@bp.before_request
def _language() -> None:
    g.lang = session_language()
    load_user()


protect_forms(bp)


def _signed_in(user: dict[str, Any], station: str) -> None:
    """A fresh session on sign-in (no fixation of an old one), keeping its language."""
    lang = session.get("lang")
    session.clear()
    session[SESSION_KEY] = accounts.start_session(get_db(), user["id"], now())
    session["station"] = station.strip()[:STATION_MAX] or "station"
    if lang:
        session["lang"] = lang


def _next_page() -> str:
    target = request.args.get("next", "")
    # Only a path on this site, never an absolute URL someone slipped in.
    if not target.startswith(NEXT_PREFIXES) or target.startswith("//"):
        return url_for(HOME_ENDPOINT)
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        db, moment, address = get_db(), now(), request.remote_addr
        username = request.form.get("username", "")
        try:
            # The lock is checked before the password: a locked name cannot be guessed.
            ratelimit.check_login_allowed(db, username, address, moment)
            user = accounts.authenticate(db, username, request.form.get("password", ""))
        except ratelimit.LoginLocked as exc:
            error, status = t("login_locked", g.lang, minutes=exc.minutes_left(moment)), 429
        except accounts.NotAuthenticated:
            limits = ratelimit.login_limits(current_app.config)
            until = ratelimit.login_failed(db, username, address, moment, limits)
            if until is None:
                error, status = t("login_failed", g.lang), 401
            else:
                minutes = ratelimit.LoginLocked(until).minutes_left(moment)
                error, status = t("login_locked", g.lang, minutes=minutes), 429
        else:
            ratelimit.login_succeeded(db, user["username"], address)
            _signed_in(user, request.form.get("station", ""))
            return redirect(_next_page())
    page = render_template(
        "auth/login.html", t=t, lang=g.lang, other_lang=other_language(g.lang), error=error
    )
    return page, status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(get_db(), session.get(SESSION_KEY))
    session.clear()
    return redirect(url_for("auth.login"))
