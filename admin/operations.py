"""The console's actions on a running distribution, as plain functions testable without HTTP.

Roster import, invitation progress, no-shows and the waiting list. Which SMS is queued, and
its words, is :mod:`shared.outreach`'s; the SMS channel's worker sends it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from shared import outreach, roster, storage
from shared.errors import NotFound

# How long a checked roster is kept for the operator to import it.
ROSTER_PREVIEW_MINUTES = 60

# The invitation progress the console shows, and the outbox states each one counts.
INVITATION_STATES: dict[str, tuple[str, ...]] = {
    "queued": ("queued", "sending"),
    "sent": ("sent",),
    "delivered": ("delivered",),
    "failed": ("failed", "undelivered"),
    "opted_out": ("opted_out",),
}


def import_roster(
    db: Database,
    distribution_id: int,
    data: bytes,
    region: str,
    now: datetime,
    actor: str,
    filename: str,
) -> int:
    """Check the whole file and import every row, or raise RosterInvalid and import nothing."""
    distribution = storage.get_distribution(db, distribution_id)
    sites = storage.list_sites(db, distribution_id)
    rows = roster.parse_roster(data, distribution["timezone"], region, sites)
    with storage.transaction(db):
        storage.insert_recipients(db, distribution_id, rows)
        storage.audit(
            db,
            actor,
            "import_roster",
            f"distribution:{distribution_id}",
            now,
            {"file": filename, "rows": len(rows)},
        )
    return len(rows)


def keep_roster_preview(
    db: Database, distribution_id: int, data: bytes, filename: str, now: datetime, actor: str
) -> str:
    """Keep a checked roster file server-side; returns the random token its import names.

    The preview page carries only the token: the file is not sent back and forth through
    the browser. Previews older than :data:`ROSTER_PREVIEW_MINUTES` are forgotten here.
    """
    token = secrets.token_urlsafe(24)
    with storage.transaction(db):
        storage.delete_roster_previews(db, now - timedelta(minutes=ROSTER_PREVIEW_MINUTES))
        storage.insert_roster_preview(db, token, distribution_id, filename[:200], data, actor, now)
    return token


def import_roster_preview(
    db: Database, distribution_id: int, token: str, region: str, now: datetime, actor: str
) -> int:
    """Import the roster kept under ``token`` (checked again), then forget it.

    NotFound when there is no such preview for this distribution: expired, already
    imported (a form sent twice imports once), or never made.
    """
    expired = now - timedelta(minutes=ROSTER_PREVIEW_MINUTES)
    with storage.transaction(db):
        preview = storage.get_roster_preview(db, token, distribution_id, expired)
        if preview is None:
            raise NotFound("roster_preview_gone")
        count = import_roster(
            db, distribution_id, preview["data"], region, now, actor, preview["filename"]
        )
        storage.delete_roster_previews(db, expired, token)
    return count


@dataclass(frozen=True)
class InvitationProgress:
    invitable: int  # allotted recipients with a phone
    counts: dict[str, int]  # INVITATION_STATES key -> messages
    daily_cap: int = 0  # PICKUP_SMS_INVITATIONS_PER_DAY; 0: none
    held: int = 0  # queued invitations waiting for the daily cap to free up
    held_until: datetime | None = None  # when the first of them goes

    @property
    def invited(self) -> int:
        return sum(self.counts.values())


def invitation_progress(
    db: Database, distribution_id: int, now: datetime, daily_cap: int = 0
) -> InvitationProgress:
    """How the invitations of a distribution stand in the outbox, and how many of the
    queued ones wait for the daily cap (``daily_cap`` invitations in any 24 hours)."""
    raw = storage.invitation_counts(db, distribution_id)
    counts = {
        state: sum(raw.get(s, 0) for s in outbox_states)
        for state, outbox_states in INVITATION_STATES.items()
    }
    invitable = storage.count_invitable(db, distribution_id)
    held, held_until = storage.held_invitations(db, distribution_id, now)
    return InvitationProgress(invitable, counts, daily_cap, held, held_until)


def send_invitations(db: Database, distribution_id: int, now: datetime, actor: str) -> tuple:
    """Queue the invitations (each recipient once); returns (queued, already invited)."""
    queued, already = outreach.queue_invitations(db, distribution_id, now)
    with storage.transaction(db):
        storage.audit(
            db,
            actor,
            "send_invitations",
            f"distribution:{distribution_id}",
            now,
            {"queued": queued, "already": already},
        )
    return queued, already


def retry_failed(db: Database, distribution_id: int, now: datetime, actor: str) -> int:
    """Queue the failed invitations again; returns how many."""
    count = outreach.retry_failed_invitations(db, distribution_id, now)
    with storage.transaction(db):
        storage.audit(
            db,
            actor,
            "retry_invitations",
            f"distribution:{distribution_id}",
            now,
            {"requeued": count},
        )
    return count


def waiting_list(db: Database, distribution_id: int) -> list[dict[str, Any]]:
    """Allotted recipients without a live booking, highest priority first."""
    return storage.unbooked_allotted_recipients(db, distribution_id)


def offer_to_waiting_list(
    db: Database, distribution_id: int, now: datetime, actor: str, hold_minutes: int
) -> tuple[int, int]:
    """Offer free slots to the waiting list in priority order; returns (offered, skipped).

    Each offer holds its slots, so once the free places are held the rest of the list is
    skipped rather than offered places someone else is choosing.
    """
    offered = skipped = 0
    for recipient in waiting_list(db, distribution_id):
        if outreach.queue_slot_offer(db, recipient["id"], now, hold_minutes, "waiting_offer"):
            offered += 1
        else:
            skipped += 1
    with storage.transaction(db):
        storage.audit(
            db,
            actor,
            "offer_waiting_list",
            f"distribution:{distribution_id}",
            now,
            {"offered": offered, "skipped": skipped},
        )
    return offered, skipped
