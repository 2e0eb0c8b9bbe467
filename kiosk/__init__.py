"""The pickup point's pages: the voucher page a representative opens on a smartphone.

Views stay thin: they read the request, call :mod:`shared`, and render.
"""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static")

from kiosk import vouchers  # noqa: E402,F401  (registers the routes on bp)
