"""Staff accounts (password login) and API tokens (scanners and other apps).

Passwords are kept only as werkzeug hashes. A token is shown once, when it is made; only
its SHA-256 is stored, so a copy of the database does not let anyone scan or hand over.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from shared import storage
from shared.errors import InvalidInput, NotAuthenticated

USER_ROLES = ("admin", "staff")
TOKEN_ROLES = ("staff", "kiosk")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "pk_"

# Checked when the user name is unknown, so that a wrong name takes as long as a wrong
# password and does not tell which user names exist.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


def create_user(
    db: Database, username: str, password: str, role: str, now: datetime, actor: str
) -> int:
    """Create a staff account; InvalidInput for a bad role, name, password or a taken name.

    ``actor`` is who made it (``cli:<os user>`` for the command), for the audit log.
    """
    username = (username or "").strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise InvalidInput("a user name is 1 to 64 characters without spaces")
    if role not in USER_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(USER_ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    with storage.transaction(db):
        if storage.get_user_by_name(db, username) is not None:
            raise InvalidInput(f"the user {username!r} already exists")
        user_id = storage.insert_user(db, username, generate_password_hash(password), role, now)
        storage.audit(db, actor, "create_user", f"user:{user_id}", now, {"role": role})
    return user_id


def authenticate(db: Database, username: str, password: str) -> dict[str, Any]:
    """The account for ``username`` if ``password`` is right; NotAuthenticated otherwise."""
    user = storage.get_user_by_name(db, (username or "").strip())
    if user is None or user["disabled_at"]:
        check_password_hash(_DUMMY_HASH, password or "")
        raise NotAuthenticated("wrong user name or password")
    if not check_password_hash(user["password_hash"], password or ""):
        raise NotAuthenticated("wrong user name or password")
    return {"id": user["id"], "username": user["username"], "role": user["role"]}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, role: str, device: str, now: datetime, actor: str) -> str:
    """Make an API token for a device; returns the token, which is not stored anywhere.

    ``actor`` is who made it (``cli:<os user>`` for the command), for the audit log.
    """
    if role not in TOKEN_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(TOKEN_ROLES)}")
    device = (device or "").strip()
    if not device or len(device) > 64:
        raise InvalidInput("a device name is 1 to 64 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with storage.transaction(db):
        token_id = storage.insert_api_token(db, token_hash(token), role, device, now)
        storage.audit(
            db,
            actor,
            "create_token",
            f"api_token:{token_id}",
            now,
            {"role": role, "device": device},
        )
    return token


def token_principal(db: Database, token: str, now: datetime) -> dict[str, Any]:
    """The token's role and device; NotAuthenticated for an unknown or revoked token."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("missing or malformed token")
    row = storage.api_token_by_hash(db, token_hash(token))
    if row is None:
        raise NotAuthenticated("unknown or revoked token")
    storage.touch_api_token(db, row["id"], now)
    return {"id": row["id"], "role": row["role"], "device": row["device"]}
