"""Sign-in for people: the staff station and the console share it.

``bp`` serves ``/staff/login`` and ``/staff/logout`` (endpoints ``auth.login`` and
``auth.logout``). :func:`load_user` puts the signed-in user on ``g.user`` once per request;
:func:`login_required` and :func:`role_required` guard a view, or a whole blueprint when
they wrap its ``before_request`` hook. Devices use bearer tokens instead (``kiosk.api``).

``auth`` imports only the core and :mod:`web`; channels may import it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/staff", template_folder="templates")

from auth import views  # noqa: E402,F401  (registers the routes on bp)
from auth.guards import load_user, login_required, polled, role_required  # noqa: E402

__all__ = ["bp", "load_user", "login_required", "polled", "role_required"]
