"""The pickup point: the voucher page, the self-service kiosk, the staff station, the scanner API.

Views stay thin: they read the request, call :mod:`shared`, and render. Three blueprints:
``bp`` (the landing page ``/``, ``/v/<code>`` and ``/kiosk``, public), ``staff_bp``
(``/staff``, password login) and ``api_bp`` (``/api/v1``, bearer tokens). The account
commands (``create-user``, ``create-token``, ``safety-content``) are in :mod:`kiosk.cli`.
"""

from flask import Blueprint

bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/kiosk/static",
)

from kiosk import board, home, offline, screens, vouchers  # noqa: E402,F401  (registers the routes on bp)
from kiosk.api import api_bp  # noqa: E402
from kiosk.staff import staff_bp  # noqa: E402

__all__ = ["api_bp", "bp", "staff_bp"]
