"""Limits against guessing and flooding: failed sign-ins, SMS and calls per phone, and
codes typed into the phone menu.

Every counter lives in the database, not in process memory, so that several app nodes (and
gunicorn's several workers) count together. Functions take ``now`` so tests control time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import storage
from shared.errors import LoginLocked

KEY_MAX = 64  # longer user names cannot exist; longer addresses are not addresses
SMS_WINDOW = timedelta(minutes=10)
CALL_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


def login_limits(config: Mapping[str, Any]) -> LoginLimits:
    """The sign-in limits from the app's settings."""
    return LoginLimits(
        config["PICKUP_LOGIN_MAX_FAILURES"],
        config["PICKUP_LOGIN_MAX_FAILURES_PER_ADDRESS"],
        timedelta(minutes=config["PICKUP_LOGIN_WINDOW_MINUTES"]),
        timedelta(minutes=config["PICKUP_LOGIN_LOCK_MINUTES"]),
    )


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = []
    name = (username or "").strip()[:KEY_MAX]
    if name:
        keys.append(("user", name))
    if address:
        keys.append(("address", address[:KEY_MAX]))
    return keys


def check_login_allowed(db: Database, username: str, address: str | None, now: datetime) -> None:
    """Raise :class:`LoginLocked` if the user name or the address is locked at ``now``.

    Checked before the password, so a locked account cannot be guessed even with the right one.
    """
    until = storage.login_locked_until(db, _keys(username, address), now)
    if until is not None:
        raise LoginLocked(until)


def login_failed(
    db: Database, username: str, address: str | None, now: datetime, limits: LoginLimits
) -> datetime | None:
    """Count a failed sign-in; lock (and audit) what reached its limit. Returns the lock's end.

    Unknown user names count too: otherwise the lock would tell which names exist.
    """
    limit_of = {"user": limits.max_failures, "address": limits.max_failures_per_address}
    locked_until = None
    with storage.transaction(db):
        storage.prune_login_failures(db, now - limits.window)
        for scope, key in _keys(username, address):
            storage.record_login_failure(db, scope, key, now)
            failures = storage.count_login_failures(db, scope, key, now - limits.window)
            if limit_of[scope] and failures >= limit_of[scope]:
                locked_until = now + limits.lock
                storage.lock_login(db, scope, key, locked_until)
                storage.audit(
                    db,
                    "login",
                    "login_locked",
                    f"{scope}:{key}",
                    now,
                    {"failures": failures, "until": storage.to_db_time(locked_until)},
                )
    return locked_until


def login_succeeded(db: Database, username: str) -> None:
    """A right password clears the user's failures.

    The address keeps its count: one's own account must not reset the count of an
    address that is trying other people's names.
    """
    with storage.transaction(db):
        storage.clear_login_failures(db, "user", (username or "").strip()[:KEY_MAX])


# -- per phone ------------------------------------------------------------------------------

ALLOW, NOTICE, SILENCE = "allow", "notice", "silence"


def _over_limit(db: Database, phone: str, channel: str, window: timedelta, now: datetime) -> str:
    """NOTICE the first time in ``window`` a phone is over its limit, SILENCE after that."""
    noticed = storage.limit_noticed_at(db, phone, channel)
    if noticed is not None and noticed > now - window:
        return SILENCE
    storage.set_limit_noticed(db, phone, channel, now)
    return NOTICE


def sms_allowance(db: Database, phone: str, limit: int, now: datetime) -> str:
    """ALLOW, NOTICE or SILENCE for a new SMS from ``phone`` (call inside a transaction).

    Counts the SMS already recorded from the phone in the last :data:`SMS_WINDOW`; a retried
    webhook never gets here (its message id is answered from the stored reply), so it is
    never counted twice. ``limit`` 0 means no limit.
    """
    if not limit or not phone:
        return ALLOW
    if storage.count_inbound_since(db, phone, now - SMS_WINDOW) < limit:
        return ALLOW
    return _over_limit(db, phone, "sms", SMS_WINDOW, now)


def call_allowance(db: Database, call_id: str, phone: str | None, limit: int, now: datetime) -> str:
    """ALLOW, NOTICE or SILENCE for a new call (call inside a transaction); records it.

    Calls without caller ID cannot be told apart and are always allowed.
    """
    if not limit or not phone:
        return ALLOW
    earlier = storage.count_calls_since(db, phone, now - CALL_WINDOW)
    if not storage.record_ivr_call(db, call_id, phone, now):
        return ALLOW  # a later step of a call that was let in
    if earlier < limit:
        return ALLOW
    return _over_limit(db, phone, "call", CALL_WINDOW, now)


# -- codes typed into the phone menu --------------------------------------------------------

CODE_WINDOW = timedelta(hours=1)
ANONYMOUS = "*"  # the one key all calls without caller ID share


def code_keys(caller: str | None, serial: str | None = None) -> list[tuple[str, str]]:
    """Who a wrong code counts against: the caller ID, or all calls without one together;
    and the voucher serial it aimed at, when it was a well-formed voucher with a wrong tag.
    """
    keys = [("caller", caller[:KEY_MAX])] if caller else [("anonymous", ANONYMOUS)]
    if serial:
        keys.append(("voucher", serial))
    return keys


def code_entry_locked_until(
    db: Database, caller: str | None, now: datetime, serial: str | None = None
) -> datetime | None:
    """When code entry opens again for this caller (and voucher serial), or None if open."""
    return storage.code_entry_locked_until(db, code_keys(caller, serial), now)


def code_failed(
    db: Database, caller: str | None, serial: str | None, now: datetime, limit: int
) -> datetime | None:
    """Count a wrong code (call inside a transaction); returns the lock's end if it locked.

    ``limit`` wrong codes within :data:`CODE_WINDOW` lock code entry for that scope for the
    window: one caller ID, every call without caller ID together, or one voucher serial.
    ``limit`` 0 means no limit. A lock is written to the audit log.
    """
    storage.prune_code_failures(db, now - CODE_WINDOW)
    locked_until = None
    for scope, key in code_keys(caller, serial):
        storage.record_code_failure(db, scope, key, now)
        failures = storage.count_code_failures(db, scope, key, now - CODE_WINDOW)
        if limit and failures >= limit:
            locked_until = now + CODE_WINDOW
            storage.lock_code_entry(db, scope, key, locked_until)
            storage.audit(
                db,
                "ivr",
                "ivr_codes_locked",
                f"{scope}:{key}",
                now,
                {"failures": failures, "until": storage.to_db_time(locked_until)},
            )
    return locked_until
