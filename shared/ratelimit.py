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
WHOLE_ADDRESS = ""  # the user name of the count that covers every name from one address
UNKNOWN_ADDRESS = "unknown"
SMS_WINDOW = timedelta(minutes=10)
CALL_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class LoginLimits:
    """Free failures per (user name, address) and per address, then pauses that double."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=1)
    max_lock: timedelta = timedelta(hours=24)

    def pause_after(self, failures: int, free: int) -> timedelta | None:
        """The pause after the ``failures``-th failure of a count allowed ``free`` of them:
        none before ``free``, then :attr:`lock`, doubled with each further failure up to
        :attr:`max_lock`. ``free`` 0 means no limit."""
        if not free or failures < free:
            return None
        doublings = min(failures - free, 32)  # 2**32 minutes is past any max_lock
        return min(self.lock * 2**doublings, self.max_lock)


def login_limits(config: Mapping[str, Any]) -> LoginLimits:
    """The sign-in limits from the app's settings."""
    return LoginLimits(
        config["PICKUP_LOGIN_MAX_FAILURES"],
        config["PICKUP_LOGIN_MAX_FAILURES_PER_ADDRESS"],
        timedelta(minutes=config["PICKUP_LOGIN_WINDOW_MINUTES"]),
        timedelta(minutes=config["PICKUP_LOGIN_LOCK_MINUTES"]),
        timedelta(minutes=config["PICKUP_LOGIN_MAX_LOCK_MINUTES"]),
    )


def _counts(username: str, address: str | None) -> list[tuple[str, str]]:
    """The ``(user name, address)`` counts a sign-in attempt touches: the pair, and the
    address as a whole. Never the user name alone: then anyone could lock its owner out."""
    where = (address or UNKNOWN_ADDRESS)[:KEY_MAX]
    name = (username or "").strip()[:KEY_MAX]
    return ([(name, where)] if name else []) + [(WHOLE_ADDRESS, where)]


def check_login_allowed(db: Database, username: str, address: str | None, now: datetime) -> None:
    """Raise :class:`LoginLocked` while this name from this address, or this address, is
    paused. Checked before the password, so a paused attacker learns nothing; the same name
    from an address that has not been failing is let in at once."""
    until = storage.login_paused_until(db, _counts(username, address), now)
    if until is not None:
        raise LoginLocked(until)


def login_failed(
    db: Database, username: str, address: str | None, now: datetime, limits: LoginLimits
) -> datetime | None:
    """Count a failed sign-in; pause (and audit) each count past its free failures, for
    longer with each failure. Returns the end of the pause, or None.

    A count is forgotten after :attr:`LoginLimits.window` without failures, measured from
    the last failure or the end of the last pause, so that waiting out a pause does not
    reset it. Unknown user names count too: otherwise the pause would tell which exist.
    """
    paused_until = None
    with storage.transaction(db):
        storage.forget_login_failures(db, now)
        for username_key, address_key in _counts(username, address):
            whole = username_key == WHOLE_ADDRESS
            free = limits.max_failures_per_address if whole else limits.max_failures
            failures = storage.login_failure_count(db, username_key, address_key) + 1
            pause = limits.pause_after(failures, free)
            until = now + pause if pause else None
            forget_at = (until or now) + limits.window
            storage.set_login_failures(db, username_key, address_key, failures, until, forget_at)
            if until is None:
                continue
            paused_until = until if paused_until is None else max(paused_until, until)
            subject = f"address:{address_key}" if whole else f"login:{username_key}@{address_key}"
            detail = {"failures": failures, "until": storage.to_db_time(until)}
            storage.audit(db, "login", "login_locked", subject, now, detail)
    return paused_until


def login_succeeded(db: Database, username: str, address: str | None) -> None:
    """A right password clears the count of this name from this address.

    The address keeps its own count: one's own account must not reset the count of an
    address that is trying other people's names.
    """
    name, where = _counts(username, address)[0]
    with storage.transaction(db):
        storage.clear_login_failures(db, name, where)


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
