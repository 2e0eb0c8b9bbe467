"""``/admin/users``: the accounts of the staff station and the console.

List, add, disable or enable, change role, reset password. Each change is audited as the
signed-in admin and ends the user's sessions (:mod:`shared.accounts`); a refusal re-shows
the page with the reason in the admin's language and what they typed (but the password).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for

from admin import bp
from admin.texts import t
from admin.views import _actor, _render
from shared import accounts, storage
from shared.clock import now
from shared.db import get_db
from shared.errors import AccountRefused


def _page(status: int = 200, error: str | None = None, **form: str) -> tuple[str, int]:
    return _render(
        "admin/users.html",
        status,
        users=storage.list_users(get_db()),
        roles=accounts.USER_ROLES,
        min_password=accounts.MIN_PASSWORD_LENGTH,
        form=form,
        error=error,
    )


def _refused(exc: AccountRefused, **form: str) -> tuple[str, int]:
    return _page(400, exc.text(g.lang), **form)


def _target(user_id: int) -> dict[str, Any]:
    user = storage.get_user(get_db(), user_id)
    if user is None:
        abort(404, description=t("user_not_found", g.lang))
    return user


def _done(key: str, **values: Any) -> Any:
    flash(t(key, g.lang, **values), "notice")
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    return _page()


@bp.post("/users/new")
def add_user():
    username = request.form.get("username", "").strip()
    role = request.form.get("role", "")
    try:
        accounts.create_user(
            get_db(), username, request.form.get("password", ""), role, now(), _actor()
        )
    except AccountRefused as exc:
        return _refused(exc, username=username, role=role)
    return _done("user_added", name=username)


@bp.post("/users/<int:user_id>/disabled")
def set_user_disabled(user_id: int):
    user = _target(user_id)
    disabled = request.form.get("disabled") == "1"
    try:
        changed = accounts.set_disabled(
            get_db(), user["username"], disabled, now(), _actor(), g.user["username"]
        )
    except AccountRefused as exc:
        return _refused(exc)
    if not changed:
        return _done("nothing_changed")
    return _done("user_disabled" if disabled else "user_enabled", name=user["username"])


@bp.post("/users/<int:user_id>/role")
def set_user_role(user_id: int):
    user = _target(user_id)
    role = request.form.get("role", "")
    try:
        changed = accounts.set_role(
            get_db(), user["username"], role, now(), _actor(), g.user["username"]
        )
    except AccountRefused as exc:
        return _refused(exc)
    if not changed:
        return _done("nothing_changed")
    return _done("role_changed", name=user["username"], role=t(f"role_{role}", g.lang))


@bp.post("/users/<int:user_id>/password")
def reset_user_password(user_id: int):
    user = _target(user_id)
    try:
        accounts.set_password(
            get_db(), user["username"], request.form.get("new_password", ""), now(), _actor()
        )
    except AccountRefused as exc:
        return _refused(exc)
    # Their own password too: every session of theirs, this one included, has ended.
    return _done("password_reset", name=user["username"])
