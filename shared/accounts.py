"""Staff accounts (password login) and API tokens (scanners and other apps).

Passwords are kept only as werkzeug hashes. A token is shown once, when it is made; only
its SHA-256 is stored, so a copy of the database does not let anyone scan or hand over.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from shared import storage
from shared.error_texts import Said
from shared.errors import AccountRefused, InvalidInput, NotAuthenticated

USER_ROLES = ("admin", "staff")
TOKEN_ROLES = ("staff", "kiosk")
MIN_PASSWORD_LENGTH = 8
USERNAME_MAX = 64
TOKEN_PREFIX = "pk_"


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user name is unknown, so that a wrong name takes as long as a wrong
    password and does not tell which user names exist. Made on first use, not at import:
    every command would otherwise pay for a hash (~0.1 s) it never checks."""
    return generate_password_hash("not a password of anyone")


def _check_name(username: str) -> str:
    username = (username or "").strip()
    if not username or len(username) > USERNAME_MAX or any(ch.isspace() for ch in username):
        raise AccountRefused("user_name_invalid")
    return username


def _check_role(role: str) -> None:
    if role not in USER_ROLES:
        raise AccountRefused("user_role_invalid", roles=", ".join(USER_ROLES))


def _password_hash(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountRefused("password_too_short", n=MIN_PASSWORD_LENGTH)
    return generate_password_hash(password)


def create_user(
    db: Database, username: str, password: str, role: str, now: datetime, actor: str
) -> int:
    """Create a staff account; AccountRefused for a bad role, name, password or a taken name.

    ``actor`` is who made it (``cli:<os user>``, ``admin:<name>``), for the audit log.
    """
    username = _check_name(username)
    _check_role(role)
    password_hash = _password_hash(password)
    with storage.transaction(db):
        if storage.get_user_by_name(db, username) is not None:
            raise AccountRefused("user_exists", name=username)
        user_id = storage.insert_user(db, username, password_hash, role, now)
        storage.audit(db, actor, "create_user", f"user:{user_id}", now, {"role": role})
    return user_id


def authenticate(db: Database, username: str, password: str) -> dict[str, Any]:
    """The account for ``username`` if ``password`` is right; NotAuthenticated otherwise."""
    user = storage.get_user_by_name(db, (username or "").strip())
    if user is None or user["disabled_at"]:
        check_password_hash(_dummy_hash(), password or "")
        raise NotAuthenticated("wrong_login")
    if not check_password_hash(user["password_hash"], password or ""):
        raise NotAuthenticated("wrong_login")
    return {"id": user["id"], "username": user["username"], "role": user["role"]}


# -- sessions: one row per signed-in browser, so that the server can end it -----------------


def start_session(db: Database, user_id: int, now: datetime) -> str:
    """A new session for a user who just proved who they are; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    with storage.transaction(db):
        storage.insert_user_session(db, token_hash(token), user_id, now)
    return token


def session_user(db: Database, token: str | None) -> dict[str, Any] | None:
    """The user (``id``, ``username``, ``role``, read now from the database) of a live
    session token; None for no token, an ended session or a disabled user."""
    if not token or not isinstance(token, str):
        return None
    return storage.user_of_session(db, token_hash(token))


def end_session(db: Database, token: str | None) -> None:
    """Sign out: the token no longer opens anything, wherever the cookie was copied to."""
    if token and isinstance(token, str):
        with storage.transaction(db):
            storage.delete_user_session(db, token_hash(token))


# -- changes by an admin or the command line; each ends the user's sessions and is audited ---


def _user(db: Database, username: str) -> dict[str, Any]:
    user = storage.get_user_by_name(db, (username or "").strip())
    if user is None:
        raise AccountRefused("user_unknown", name=(username or "").strip())
    return user


def _keeps_an_admin(db: Database, user: dict[str, Any], acting_user: str | None) -> None:
    """Refuse to lock out the acting admin, or to leave no enabled admin at all."""
    if acting_user is not None and acting_user == user["username"]:
        raise AccountRefused("not_yourself")
    last = storage.count_enabled_admins(db) <= 1
    if user["role"] == "admin" and not user["disabled_at"] and last:
        raise AccountRefused("last_admin", name=user["username"])


def set_disabled(
    db: Database,
    username: str,
    disabled: bool,
    now: datetime,
    actor: str,
    acting_user: str | None = None,
) -> bool:
    """Disable (ending every session) or enable an account; False if it already was.

    ``acting_user`` is the signed-in admin's name: nobody disables themselves.
    """
    with storage.transaction(db):
        user = _user(db, username)
        if bool(user["disabled_at"]) == disabled:
            return False
        detail: dict[str, Any] = {}
        if disabled:
            _keeps_an_admin(db, user, acting_user)
            detail["sessions_ended"] = storage.delete_user_sessions(db, user["id"])
        storage.set_user_disabled(db, user["id"], now if disabled else None)
        action = "disable_user" if disabled else "enable_user"
        storage.audit(db, actor, action, f"user:{user['id']}", now, detail)
    return True


def set_role(
    db: Database,
    username: str,
    role: str,
    now: datetime,
    actor: str,
    acting_user: str | None = None,
) -> bool:
    """Give an account another role, ending its sessions; False if it had it already."""
    _check_role(role)
    with storage.transaction(db):
        user = _user(db, username)
        if user["role"] == role:
            return False
        _keeps_an_admin(db, user, acting_user)
        storage.set_user_role(db, user["id"], role)
        ended = storage.delete_user_sessions(db, user["id"])
        detail = {"from": user["role"], "to": role, "sessions_ended": ended}
        storage.audit(db, actor, "set_role", f"user:{user['id']}", now, detail)
    return True


def set_password(db: Database, username: str, password: str, now: datetime, actor: str) -> None:
    """Give an account a new password, ending its sessions (the holder signs in again)."""
    password_hash = _password_hash(password)
    with storage.transaction(db):
        user = _user(db, username)
        storage.set_user_password(db, user["id"], password_hash)
        ended = storage.delete_user_sessions(db, user["id"])
        storage.audit(
            db, actor, "set_password", f"user:{user['id']}", now, {"sessions_ended": ended}
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    db: Database,
    role: str,
    device: str,
    now: datetime,
    actor: str,
    site_id: int | None = None,
) -> str:
    """Make an API token for a device; returns the token, which is not stored anywhere.

    ``actor`` is who made it (``cli:<os user>`` for the command), for the audit log;
    ``site_id`` the pickup site the device stands at (None: any site).
    """
    if role not in TOKEN_ROLES:
        raise InvalidInput("token_role_invalid", roles=", ".join(TOKEN_ROLES))
    device = (device or "").strip()
    if not device or len(device) > 64:
        raise InvalidInput("device_name_invalid")
    if site_id is not None and storage.find_site(db, site_id) is None:
        known = ", ".join(f"{s['id']} ({s['name']})" for s in storage.sites_open_after(db, None))
        raise InvalidInput(
            "token_site_unknown", site=site_id, known=Said(known or "无", known or "none yet")
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with storage.transaction(db):
        token_id = storage.insert_api_token(db, token_hash(token), role, device, now, site_id)
        storage.audit(
            db,
            actor,
            "create_token",
            f"api_token:{token_id}",
            now,
            {"role": role, "device": device, "site": site_id},
        )
    return token


def token_principal(db: Database, token: str, now: datetime) -> dict[str, Any]:
    """The token's role, device and site; NotAuthenticated for an unknown or revoked token."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("token_malformed")
    row = storage.api_token_by_hash(db, token_hash(token))
    if row is None:
        raise NotAuthenticated("token_unknown")
    storage.touch_api_token(db, row["id"], now)
    return {
        "id": row["id"],
        "role": row["role"],
        "device": row["device"],
        "site_id": row["site_id"],
    }
