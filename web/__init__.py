"""What every page shares, installed once by ``create_app`` (:func:`init_app`).

- :mod:`web.security`: session cookie flags, security headers, the trusted proxy, log
  redaction, the ``<int:...>`` converter.
- :mod:`web.csrf`: the session's CSRF token (the ``csrf_token()`` template global, there
  for every blueprint's templates) and :func:`web.csrf.protect_forms`, which a blueprint of
  HTML forms calls once. Protected: ``kiosk``, ``auth``, ``staff``, ``admin`` and the phone
  simulator's pages in ``sms``. Exempt, each with its own credential: the scanner API
  (``api``, bearer tokens) and the gateway webhooks in ``sms`` (Twilio's signature, the
  Android gateway's HMAC).
- :mod:`web.language`: the language of a signed-in session (``?lang=`` switches it).
- :mod:`web.limits`: how large a request may be (``PICKUP_MAX_REQUEST_KB``, larger for the
  endpoints a blueprint names with :func:`web.limits.allow_uploads`) and the 413 answer.
- ``web/templates/layout.html``: the one page layout every blueprint's pages extend;
  ``web/static/screens.css`` and ``screens.js``: the look, keypad and scanner input of the
  kiosk, the staff station and the sign-in page, at ``/static/web/``.
- :func:`shown`: every value a template prints loses its bidi controls (U+202E ...).

``web`` imports only the core (:mod:`shared`); channels and :mod:`auth` may import it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from shared import messages
from web import csrf, limits, security

# The shared templates (the layout, the error page) and the screens' shared stylesheet and
# script (kiosk, staff station, sign-in); no routes of its own.
bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)


def shown(value: Any) -> Any:
    """What a template prints, without bidi controls (``jinja_env.finalize``).

    A name or contact with U+202E would reorder the page around it; every ``{{ ... }}`` of
    every blueprint's templates passes through here, so no page can forget it.
    """
    if isinstance(value, str):  # Markup too: it stays Markup
        return type(value)(messages.without_bidi_controls(value))
    return value


def init_app(app: Flask) -> None:
    """Install the shared web layer on ``app``; call it before registering the channels."""
    security.init_app(app)
    limits.init_app(app)
    app.jinja_env.finalize = shown
    # A global, not a context variable, so that imported form macros can use it too.
    app.add_template_global(csrf.csrf_token, "csrf_token")
    app.register_blueprint(bp)
