"""Users, sessions and API tokens; the audit log; sign-in and per-phone limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.storage.connection import Row, _all, _insert, _one, from_db_time, lock_key, to_db_time


def audit(
    db: Database,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        [
            to_db_time(now),
            actor,
            action,
            subject,
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ],
    )


def audit_entries(db: Database, subject: str | None = None, limit: int = 200) -> list[Row]:
    if subject is None:
        return _all(db, "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])
    return _all(
        db, "SELECT * FROM audit_log WHERE subject = ? ORDER BY id DESC LIMIT ?", [subject, limit]
    )


def insert_user(db: Database, username: str, password_hash: str, role: str, now: datetime) -> int:
    return _insert(
        db,
        "users",
        {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": to_db_time(now),
        },
    )


def get_user_by_name(db: Database, username: str) -> Row | None:
    return _one(db, "SELECT * FROM users WHERE username = ?", [username])


def get_user(db: Database, user_id: int) -> Row | None:
    return _one(db, "SELECT * FROM users WHERE id = ?", [user_id])


def list_users(db: Database) -> list[Row]:
    """Every account, without its password hash, enabled ones first, by name."""
    return _all(
        db,
        "SELECT u.id, u.username, u.role, u.created_at, u.disabled_at, "
        "(SELECT count(*) FROM user_sessions s WHERE s.user_id = u.id) AS sessions "
        "FROM users u ORDER BY u.disabled_at IS NOT NULL, u.username",
    )


def count_enabled_admins(db: Database) -> int:
    return db.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL"
    ).fetchone()[0]


def set_user_role(db: Database, user_id: int, role: str) -> None:
    db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])


def set_user_password(db: Database, user_id: int, password_hash: str) -> None:
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def set_user_disabled(db: Database, user_id: int, disabled_at: datetime | None) -> None:
    db.execute(
        "UPDATE users SET disabled_at = ? WHERE id = ?",
        [to_db_time(disabled_at) if disabled_at else None, user_id],
    )


def insert_user_session(db: Database, token_hash: str, user_id: int, now: datetime) -> int:
    return _insert(
        db,
        "user_sessions",
        {"token_hash": token_hash, "user_id": user_id, "created_at": to_db_time(now)},
    )


def user_of_session(db: Database, token_hash: str) -> Row | None:
    """The enabled user (id, username, role) a session token belongs to, or None."""
    return _one(
        db,
        "SELECT u.id, u.username, u.role FROM user_sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND u.disabled_at IS NULL",
        [token_hash],
    )


def delete_user_session(db: Database, token_hash: str) -> None:
    db.execute("DELETE FROM user_sessions WHERE token_hash = ?", [token_hash])


def delete_user_sessions(db: Database, user_id: int) -> int:
    """End every session of a user; returns how many there were."""
    return db.execute("DELETE FROM user_sessions WHERE user_id = ?", [user_id]).rowcount


def insert_api_token(
    db: Database,
    token_hash: str,
    role: str,
    device: str,
    now: datetime,
    site_id: int | None = None,
) -> int:
    return _insert(
        db,
        "api_tokens",
        {
            "token_hash": token_hash,
            "role": role,
            "device": device,
            "created_at": to_db_time(now),
            "site_id": site_id,
        },
    )


def api_token_by_hash(db: Database, token_hash: str) -> Row | None:
    return _one(
        db, "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", [token_hash]
    )


def touch_api_token(db: Database, token_id: int, now: datetime) -> None:
    db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [to_db_time(now), token_id])


def login_failure_count(db: Database, username: str, address: str) -> int:
    """Failures remembered for this (user name, address); ``""`` as name: the address.

    The count is locked (PostgreSQL advisory lock) until the transaction ends: failures
    on several nodes at once each add one.
    """
    lock_key(db, "login", username, address)
    row = _one(
        db,
        "SELECT failures FROM login_throttle WHERE username = ? AND address = ?",
        [username, address],
    )
    return row["failures"] if row else 0


def set_login_failures(
    db: Database,
    username: str,
    address: str,
    failures: int,
    paused_until: datetime | None,
    forget_at: datetime,
) -> None:
    db.execute(
        "INSERT INTO login_throttle (username, address, failures, paused_until, forget_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (username, address) DO UPDATE SET "
        "failures = excluded.failures, paused_until = excluded.paused_until, "
        "forget_at = excluded.forget_at",
        [
            username,
            address,
            failures,
            to_db_time(paused_until) if paused_until else None,
            to_db_time(forget_at),
        ],
    )


def clear_login_failures(db: Database, username: str, address: str) -> None:
    db.execute("DELETE FROM login_throttle WHERE username = ? AND address = ?", [username, address])


def forget_login_failures(db: Database, now: datetime) -> None:
    """Forget the counts that have been quiet long enough, so that the table stays small."""
    db.execute("DELETE FROM login_throttle WHERE forget_at <= ?", [to_db_time(now)])


def login_paused_until(
    db: Database, counts: Sequence[tuple[str, str]], now: datetime
) -> datetime | None:
    """The latest pause still running on any of ``counts`` (``(user name, address)``)."""
    latest = None
    for username, address in counts:
        row = _one(
            db,
            "SELECT paused_until FROM login_throttle "
            "WHERE username = ? AND address = ? AND paused_until > ?",
            [username, address, to_db_time(now)],
        )
        if row is not None:
            until = from_db_time(row["paused_until"])
            latest = until if latest is None or until > latest else latest
    return latest


def count_inbound_since(db: Database, phone: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM sms_inbound WHERE phone = ? AND received_at > ?",
        [phone, to_db_time(since)],
    ).fetchone()[0]


def record_ivr_call(db: Database, call_id: str, phone: str, now: datetime) -> bool:
    """Record a call's start; False if the call was recorded before."""
    return (
        db.execute(
            "INSERT INTO ivr_calls (call_id, phone, started_at) VALUES (?, ?, ?) "
            "ON CONFLICT (call_id) DO NOTHING",
            [call_id, phone, to_db_time(now)],
        ).rowcount
        == 1
    )


def count_calls_since(db: Database, phone: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM ivr_calls WHERE phone = ? AND started_at > ?",
        [phone, to_db_time(since)],
    ).fetchone()[0]


def record_code_failure(db: Database, scope: str, key: str, now: datetime) -> None:
    """Count a wrong code; the scope's count is locked until the transaction ends
    (PostgreSQL advisory lock), so the count read next includes every concurrent try."""
    lock_key(db, "code", scope, key)
    db.execute(
        "INSERT INTO ivr_code_failures (scope, key, failed_at) VALUES (?, ?, ?)",
        [scope, key, to_db_time(now)],
    )


def count_code_failures(db: Database, scope: str, key: str, since: datetime) -> int:
    return db.execute(
        "SELECT count(*) FROM ivr_code_failures WHERE scope = ? AND key = ? AND failed_at > ?",
        [scope, key, to_db_time(since)],
    ).fetchone()[0]


def prune_code_failures(db: Database, before: datetime) -> None:
    """Forget wrong codes older than the window, so that the table stays small."""
    db.execute("DELETE FROM ivr_code_failures WHERE failed_at <= ?", [to_db_time(before)])


def lock_code_entry(db: Database, scope: str, key: str, until: datetime) -> None:
    db.execute(
        "INSERT INTO ivr_code_locks (scope, key, locked_until) VALUES (?, ?, ?) "
        "ON CONFLICT (scope, key) DO UPDATE SET locked_until = excluded.locked_until",
        [scope, key, to_db_time(until)],
    )


def code_entry_locked_until(
    db: Database, keys: Sequence[tuple[str, str]], now: datetime
) -> datetime | None:
    """The end of the latest lock on code entry running for any of ``keys``, or None."""
    if not keys:
        return None
    which = " OR ".join("(scope = ? AND key = ?)" for _ in keys)
    row = db.execute(
        f"SELECT max(locked_until) FROM ivr_code_locks WHERE locked_until > ? AND ({which})",
        [to_db_time(now), *(part for pair in keys for part in pair)],
    ).fetchone()
    return from_db_time(row[0]) if row and row[0] else None


def limit_noticed_at(db: Database, phone: str, channel: str) -> datetime | None:
    row = _one(
        db,
        "SELECT noticed_at FROM phone_limit_notices WHERE phone = ? AND channel = ?",
        [phone, channel],
    )
    return from_db_time(row["noticed_at"]) if row else None


def set_limit_noticed(db: Database, phone: str, channel: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO phone_limit_notices (phone, channel, noticed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone, channel) DO UPDATE SET noticed_at = excluded.noticed_at",
        [phone, channel, to_db_time(now)],
    )
