"""``/``: the landing page, a list of the service's doors in Chinese and English."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for

from kiosk import bp
from kiosk.texts import t
from shared import messages, settings


def doors(development: bool) -> list[tuple[str, str, str]]:
    """(text key, hint key, URL) of each page the landing page links to."""
    links = [
        ("home_kiosk", "home_kiosk_hint", url_for("kiosk.kiosk_sites")),
        ("home_staff", "home_staff_hint", url_for("staff.station")),
        ("home_admin", "home_admin_hint", url_for("admin.index")),
    ]
    if development:
        links.append(("home_phone", "home_phone_hint", url_for("sms.phone_page")))
    links.append(("home_health", "home_health_hint", url_for("healthz")))
    return links


@bp.get("/")
def home():
    language = messages.pick_language(
        request.args.get("lang"), request.accept_languages.best_match(messages.LANGUAGES)
    )
    return render_template(
        "kiosk/home.html",
        t=t,
        lang=language,
        other_lang=messages.other_language(language),
        doors=doors(settings.is_development(current_app.config)),
    )
