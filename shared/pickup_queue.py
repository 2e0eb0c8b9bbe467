"""The queue at a pickup site: who checked in and waits, calling the next number, the board.

Checking in (:func:`shared.verification.check_in`) gives a queue number per site and day.
Staff **call next**: the lowest number not yet called is marked called and shows on the
site's public board. A called number nobody answers can be called again (:func:`recall`)
or skipped (:func:`skip`); a skipped number leaves the board and can be recalled when its
holder turns up. A number leaves the queue when its units are handed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import storage
from shared.errors import NotFound

# A queue number is only ever handed out on the day itself; "the last day" rather than a
# calendar day, since sites may be in different time zones.
QUEUE_DAY = timedelta(days=1)
# A called number not served for this long is flagged to staff, who may recall or skip it.
CALL_OVERDUE = timedelta(minutes=3)
# How many called numbers the board shows (the latest first).
BOARD_NUMBERS = 6


@dataclass(frozen=True)
class QueueEntry:
    booking_id: int
    queue_number: int
    site_id: int
    site_name: str
    recipient: str
    code: str
    units_due: int
    unit_name: str  # the Chinese name; unit_name_en the English (messages.unit_name)
    unit_name_en: str
    checked_in_at: datetime  # in the distribution's time zone
    called_at: datetime | None  # the last call, in the distribution's time zone
    skipped: bool
    overdue: bool  # called, not served, and the call is older than CALL_OVERDUE
    # The number an offline kiosk gave ("K3-7", shared.offline): what its holder was told,
    # so the queue and the board call them by it.
    queue_label: str | None = None

    @property
    def ticket(self) -> int | str:
        """The number its holder has on their ticket: the offline kiosk's, else the server's."""
        return self.queue_label or self.queue_number

    @property
    def state(self) -> str:
        """``waiting``, ``called`` or ``skipped``."""
        if self.skipped:
            return "skipped"
        return "called" if self.called_at else "waiting"


def _entry(row: dict[str, Any], now: datetime) -> QueueEntry:
    tz = ZoneInfo(row["timezone"])
    called = storage.from_db_time(row["called_at"])
    skipped = row["skipped_at"] is not None
    return QueueEntry(
        booking_id=row["booking_id"],
        queue_number=row["queue_number"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        recipient=row["recipient_name"],
        code=row["code"],
        units_due=row["units"] - row["handed_units"],
        unit_name=row["unit_name"],
        unit_name_en=row["unit_name_en"],
        checked_in_at=storage.from_db_time(row["checked_in_at"]).astimezone(tz),
        called_at=called.astimezone(tz) if called else None,
        skipped=skipped,
        overdue=bool(called) and not skipped and now - called > CALL_OVERDUE,
        queue_label=row["queue_label"],
    )


def waiting(db: Database, site_id: int | None, now: datetime) -> list[QueueEntry]:
    """Everyone checked in over the last day with units still due, in queue order, at
    ``site_id`` (at every site when None)."""
    rows = storage.checked_in_queue(db, now - QUEUE_DAY, now + timedelta(minutes=1), site_id)
    return [_entry(row, now) for row in rows]


def call_next(db: Database, site_id: int, now: datetime, actor: str) -> QueueEntry | None:
    """Call the lowest number at ``site_id`` not yet called or skipped; None if nobody waits.

    One transaction: two stations pressing at once call two different numbers.
    """
    with storage.transaction(db):
        entry = next((e for e in waiting(db, site_id, now) if e.state == "waiting"), None)
        if entry is None:
            return None
        storage.mark_called(db, entry.booking_id, now)
        _audit(db, actor, "queue_call", entry, now)
    return _find(db, site_id, entry.booking_id, now)


def _audit(db: Database, actor: str, action: str, entry: QueueEntry, now: datetime) -> None:
    detail = {"queue": entry.queue_number, "site": entry.site_id}
    storage.audit(db, actor, action, f"booking:{entry.booking_id}", now, detail)


def _find(db: Database, site_id: int | None, booking_id: int, now: datetime) -> QueueEntry:
    for entry in waiting(db, site_id, now):
        if entry.booking_id == booking_id:
            return entry
    raise NotFound("not_in_queue")


def recall(
    db: Database, site_id: int | None, booking_id: int, now: datetime, actor: str
) -> QueueEntry:
    """Call a number again (it moves to the top of the board), skipped or not.

    Raises :class:`NotFound` when the number is not waiting in this site's queue (served,
    cancelled, or another site's).
    """
    with storage.transaction(db):
        entry = _find(db, site_id, booking_id, now)
        storage.mark_called(db, booking_id, now)
        _audit(db, actor, "queue_recall", entry, now)
    return _find(db, site_id, booking_id, now)


def skip(db: Database, site_id: int | None, booking_id: int, now: datetime, actor: str) -> None:
    """Take a called number off the board; it stays in the station's list to recall.

    Raises :class:`NotFound` when the number is not waiting in this site's queue.
    """
    with storage.transaction(db):
        entry = _find(db, site_id, booking_id, now)
        storage.mark_skipped(db, booking_id, now)
        _audit(db, actor, "queue_skip", entry, now)


@dataclass(frozen=True)
class Board:
    """What a site's public board shows."""

    site_id: int
    site_name: str
    calling: list[int | str]  # called tickets not yet served, the latest call first
    waiting: int  # checked in, not yet called

    def as_json(self) -> dict[str, Any]:
        return {"site": self.site_name, "calling": self.calling, "waiting": self.waiting}


def board(db: Database, site_id: int, now: datetime) -> Board:
    """The board of ``site_id``. Raises :class:`NotFound` for an unknown site."""
    site = storage.get_site(db, site_id)
    entries = waiting(db, site_id, now)
    called = sorted(
        (e for e in entries if e.state == "called"),
        key=lambda e: (e.called_at, e.queue_number),
        reverse=True,
    )
    return Board(
        site_id=site_id,
        site_name=site["name"],
        calling=[e.ticket for e in called[:BOARD_NUMBERS]],
        waiting=sum(1 for e in entries if e.state == "waiting"),
    )


def station_site(db: Database, chosen: int | None, now: datetime) -> int | None:
    """The site whose queue a staff station calls: the one chosen at sign-in; else the only
    site anyone is queueing at; else the only site there is; else None (choose one)."""
    if chosen is not None:
        return chosen
    queued = {e.site_id for e in waiting(db, None, now)}
    if len(queued) == 1:
        return queued.pop()
    if not queued:
        ids = storage.site_ids(db)
        if len(ids) == 1:
            return ids[0]
    return None
