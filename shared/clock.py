"""The one clock: every "now" in the service asks :func:`now`.

Inside a request or a CLI command it is ``app.config["CLOCK"]`` when set (tests replay the
demo's day with it), else the real time in UTC to the second (:func:`shared.storage.now_utc`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app, has_app_context

from shared import storage


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    clock: Callable[[], datetime] | None = None
    if has_app_context():
        clock = current_app.config.get("CLOCK")
    return clock() if clock else storage.now_utc()
