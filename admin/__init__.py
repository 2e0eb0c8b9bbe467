"""The operator console (``/admin``, admin role): set up distributions, invite, watch, export.

Views (:mod:`admin.views`) stay thin; the work is in :mod:`admin.setup` (the distribution
form and the edits it may make), :mod:`admin.operations` (roster, invitations, no-shows,
waiting list) and :mod:`admin.charts` (server-drawn SVG). ``cli_group=None`` puts
``mark-no-shows`` at the top level of ``flask``.
"""

from flask import Blueprint

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    cli_group=None,
)

from admin import commands, views  # noqa: E402,F401  (registers the routes and the command)
