"""Web hardening, in one place: session cookies, security headers, client addresses, logs.

:func:`init_app` is called by :func:`web.init_app`; no blueprint sets any of this on its own.

- Session cookies are HttpOnly and SameSite=Lax always, and Secure outside development
  and testing (production is served over TLS, see ``deploy/``).
- Every response carries a Content-Security-Policy without inline scripts or styles (the
  kiosk's QR decoder runs in a Web Worker made from a ``blob:`` URL, hence ``worker-src``),
  ``nosniff``, ``Referrer-Policy: no-referrer`` (``/v/<code>`` URLs hold voucher codes),
  a Permissions-Policy that allows the camera only on the kiosk and staff pages, and HSTS
  when the public URL is https.
- Behind ``PICKUP_TRUSTED_PROXIES`` proxies, ``request.remote_addr`` is the real client
  (the sign-in limit counts per address).
- Log records are redacted as they are made (:mod:`shared.logsafe`).
- ``<int:...>`` in a route refuses numbers SQLite cannot hold, with a 404 instead of a 500.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from shared import logsafe, settings

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "media-src 'self' blob: mediastream:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Pages that scan with a camera; everything else gets no camera at all.
CAMERA_PREFIXES = ("/kiosk", "/staff")
_NO_FEATURES = "microphone=(), geolocation=(), payment=(), usb=()"
PERMISSIONS_CAMERA = f"camera=(self), {_NO_FEATURES}"
PERMISSIONS_NONE = f"camera=(), {_NO_FEATURES}"
HSTS = "max-age=31536000"


SQLITE_INT_MAX = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>``, but only up to what an SQLite INTEGER holds: larger ids are not found."""

    def __init__(self, map, fixed_digits=0, min=None, max=SQLITE_INT_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def secure_cookies(config: dict) -> bool:
    """Secure cookies everywhere but development and tests, which run over plain http."""
    return not (settings.is_development(config) or config.get("TESTING"))


def security_headers(response: Response) -> Response:
    """Add the security headers to ``response`` (an ``after_request`` handler)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    headers.setdefault("Referrer-Policy", "no-referrer")
    camera = request.path.startswith(CAMERA_PREFIXES)
    headers.setdefault("Permissions-Policy", PERMISSIONS_CAMERA if camera else PERMISSIONS_NONE)
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if base.lower().startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Apply the cookie policy, the headers, the proxy setting and log redaction to ``app``.

    Call it before the blueprints are registered: their routes take the int converter then.
    """
    app.url_map.converters["int"] = RowIdConverter
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = secure_cookies(app.config)
    hops = app.config["PICKUP_TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    app.after_request(security_headers)
    # Every setting declared secret: SECRET_KEY, the Twilio token, the Android gateway's.
    for setting in settings.SETTINGS:
        if setting.secret:
            logsafe.register_secret(app.config.get(setting.name))
    logsafe.install()
