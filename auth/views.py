"""``/staff/login`` and ``/staff/logout``: password sign-in, with failures counted per (user
name, address) and per address (:mod:`shared.ratelimit`), never per name alone. The station
name given at sign-in is recorded with every handover; the pickup site chosen there
(``session["site_id"]``) is where the station stands, and vouchers for other sites are
refused as wrong site. Both are remembered on the device (a cookie) and filled in at the
next sign-in.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for

from auth import bp
from auth.guards import SESSION_KEY, load_user, login_required
from auth.texts import t
from shared import accounts, ratelimit, storage
from shared.clock import now
from shared.db import get_db
from shared.messages import other_language
from web.csrf import protect_forms
from web.language import session_language

# Where a sign-in without ``next=`` lands, and the paths ``next=`` may point to.
HOME_ENDPOINT = "staff.station"
NEXT_PREFIXES = ("/staff", "/admin")
STATION_MAX = 40
# The station name and site last signed in with on this device: not a secret, a convenience.
STATION_COOKIE = "pickup_station"
STATION_COOKIE_DAYS = 365


@bp.before_request
def _language() -> None:
    g.lang = session_language()
    load_user()


protect_forms(bp)


def _signed_in(user: dict[str, Any], station: str, site_id: int | None) -> None:
    """A fresh session on sign-in (no fixation of an old one), keeping its language."""
    lang = session.get("lang")
    session.clear()
    session[SESSION_KEY] = accounts.start_session(get_db(), user["id"], now())
    session["station"] = station.strip()[:STATION_MAX] or "station"
    session["site_id"] = site_id
    if lang:
        session["lang"] = lang


def station_sites() -> list[dict[str, Any]]:
    """The sites a station may stand at: those with a window still ahead, else all."""
    db = get_db()
    return storage.sites_open_after(db, now()) or storage.sites_open_after(db, None)


def _remembered() -> dict[str, Any]:
    """The station name and site this device signed in with last time, if any."""
    try:
        value = json.loads(base64.urlsafe_b64decode(request.cookies.get(STATION_COOKIE, "")))
    except (ValueError, binascii.Error):
        return {}
    return value if isinstance(value, dict) else {}


def station_cookie(station: str, site_id: int | None) -> str:
    """The cookie value remembering a station: URL-safe base64 of a small JSON object."""
    text = json.dumps({"station": station, "site_id": site_id}, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def _chosen_site(raw: str, sites: list[dict[str, Any]]) -> int | None:
    """The site id picked on the form (None for none); ValueError if it is not offered."""
    if not raw.strip():
        return None
    for site in sites:
        if str(site["id"]) == raw.strip():
            return site["id"]
    raise ValueError(raw)


def _next_page() -> str:
    target = request.args.get("next", "")
    # Only a path on this site, never an absolute URL someone slipped in.
    if not target.startswith(NEXT_PREFIXES) or target.startswith("//"):
        return url_for(HOME_ENDPOINT)
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    sites = station_sites()
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
            try:
                site_id = _chosen_site(request.form.get("site_id", ""), sites)
            except ValueError:
                error, status = t("site_unknown", g.lang), 400
            else:
                _signed_in(user, request.form.get("station", ""), site_id)
                response = redirect(_next_page())
                response.set_cookie(
                    STATION_COOKIE,
                    station_cookie(session["station"], site_id),
                    max_age=STATION_COOKIE_DAYS * 86400,
                    httponly=True,
                    samesite="Lax",
                    secure=current_app.config["SESSION_COOKIE_SECURE"],
                )
                return response
    remembered = _remembered()
    if request.method == "POST":
        remembered = {
            "station": request.form.get("station", ""),
            "site_id": request.form.get("site_id", ""),
        }
    elif len(sites) == 1 and not remembered.get("site_id"):
        remembered["site_id"] = sites[0]["id"]
    page = render_template(
        "auth/login.html",
        t=t,
        lang=g.lang,
        other_lang=other_language(g.lang),
        error=error,
        sites=sites,
        station=str(remembered.get("station") or "")[:STATION_MAX],
        site_id=str(remembered.get("site_id") or ""),
    )
    return page, status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(get_db(), session.get(SESSION_KEY))
    session.clear()
    return redirect(url_for("auth.login"))
