"""Is this voucher good here, now? One answer with a reason, for every channel.

:func:`judge_voucher` is pure: the stored facts about a voucher, the moment and the place
in, a :class:`Verdict` out. It is the piece a kiosk could later run offline against a
cached list. :func:`verify_voucher` reads the code and the facts; :func:`check_in` is
idempotent, keyed by the voucher.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import storage
from shared.errors import MistypedCode, UnknownCode, VoucherRefused
from shared.vouchers import parse_code


class Reason(enum.StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    MISTYPED = "mistyped"
    CANCELLED = "cancelled"
    WRONG_DISTRIBUTION = "wrong_distribution"
    WRONG_SITE = "wrong_site"
    TOO_EARLY = "too_early"
    MISSED = "missed"
    ALREADY_COLLECTED = "already_collected"


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    voucher: dict[str, Any] | None = None  # the stored facts, when the code is known
    come_at: datetime | None = None  # too early or wrong site: when to come (to its site)
    collected_at: datetime | None = None  # already collected: when
    remaining_units: int = 0
    detail: str = ""  # mistyped: what is wrong with the digits
    missing_digits: int = 0  # mistyped by length: how many short (negative: too many)
    judged_at: datetime | None = None  # the moment judged: "today" in what people are told

    @property
    def valid(self) -> bool:
        return self.reason is Reason.VALID

    def local(self, moment: datetime | None) -> datetime | None:
        """A time in the distribution's own time zone, for showing to people."""
        if moment is None or self.voucher is None:
            return moment
        return moment.astimezone(ZoneInfo(self.voucher["timezone"]))


def judge_voucher(
    voucher: dict[str, Any],
    now: datetime,
    distribution_id: int | None = None,
    site_id: int | None = None,
) -> Verdict:
    """Decide whether a known voucher can be used at ``now`` (and at this site, if given).

    The order matters: a cancelled voucher is cancelled whatever the time; a voucher
    collected in full says when, rather than "missed".
    """
    remaining = voucher["units"] - voucher["handed_units"]
    start = storage.from_db_time(voucher["starts_at"])
    end = storage.from_db_time(voucher["ends_at"])

    def verdict(reason: Reason, **extra: Any) -> Verdict:
        return Verdict(reason, voucher, remaining_units=max(remaining, 0), judged_at=now, **extra)

    if voucher["status"] == "cancelled":
        return verdict(Reason.CANCELLED)
    if distribution_id is not None and voucher["distribution_id"] != distribution_id:
        return verdict(Reason.WRONG_DISTRIBUTION)
    if site_id is not None and voucher["site_id"] != site_id:
        return verdict(Reason.WRONG_SITE, come_at=start)
    if voucher["handed_units"] > 0 and remaining <= 0:
        return verdict(
            Reason.ALREADY_COLLECTED, collected_at=storage.from_db_time(voucher["last_handed_at"])
        )
    checked_in = voucher["checked_in_at"] is not None
    late_limit = end + timedelta(minutes=voucher["grace_minutes"])
    if voucher["status"] == "missed" or (now > late_limit and not checked_in):
        return verdict(Reason.MISSED)
    early_limit = start - timedelta(minutes=voucher["early_minutes"])
    if now < early_limit:
        return verdict(Reason.TOO_EARLY, come_at=early_limit)
    return verdict(Reason.VALID)


def verify_voucher(
    db: Database,
    text: str,
    secret: bytes,
    now: datetime,
    distribution_id: int | None = None,
    site_id: int | None = None,
    lock: bool = False,
) -> Verdict:
    """Read a code as typed or scanned and judge it. Never raises for a bad code.

    ``lock`` (inside a transaction that will write) locks the voucher's booking first, so
    that stations acting on one voucher at once act one after the other.
    """
    try:
        serial = parse_code(text, secret)
    except MistypedCode as exc:
        return Verdict(Reason.MISTYPED, detail=str(exc), missing_digits=exc.missing_digits)
    except UnknownCode:
        return Verdict(Reason.UNKNOWN)
    if lock:
        storage.lock_voucher(db, serial)
    voucher = storage.voucher_view(db, serial)
    if voucher is None:
        return Verdict(Reason.UNKNOWN)
    return judge_voucher(voucher, now, distribution_id, site_id)


@dataclass(frozen=True)
class CheckIn:
    verdict: Verdict
    queue_number: int
    first_time: bool


def check_in(
    db: Database,
    text: str,
    secret: bytes,
    now: datetime,
    actor: str,
    site_id: int | None = None,
) -> CheckIn:
    """Check a representative in and give them a queue number; the same again on repeat.

    Raises :class:`VoucherRefused` (with the verdict) when the voucher is not good now.
    """
    with storage.transaction(db):
        verdict = verify_voucher(db, text, secret, now, site_id=site_id, lock=True)
        if not verdict.valid:
            raise VoucherRefused(verdict)
        voucher = verdict.voucher
        if voucher["checked_in_at"]:
            return CheckIn(verdict, voucher["queue_number"], first_time=False)
        day_start, day_end = _local_day(now, voucher["timezone"])
        number = storage.next_queue_number(db, voucher["site_id"], day_start, day_end)
        storage.mark_checked_in(db, voucher["booking_id"], now, number)
        storage.audit(
            db, actor, "check_in", f"booking:{voucher['booking_id']}", now, {"queue": number}
        )
        fresh = storage.voucher_view(db, voucher["serial"])
    return CheckIn(judge_voucher(fresh, now), number, first_time=True)


def _local_day(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)
