"""The operator console (``/admin``, admin role): set up distributions, invite, watch, export.

Views (:mod:`admin.views`, and :mod:`admin.users` for the Users page) stay thin; the work
is in :mod:`admin.setup` (the distribution form and the edits it may make),
:mod:`admin.operations` (roster, invitations, no-shows, waiting list), :mod:`admin.charts`
(server-drawn SVG) and :mod:`shared.accounts`; ``mark-no-shows`` is in :mod:`admin.cli`.
"""

from flask import Blueprint

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)

# register the routes; users: the Users page; conflicts: the offline stations' conflicts
from admin import conflicts, users, views  # noqa: E402,F401
