"""SMS and IVR: inbound messages, conversations, phone preferences, the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from shared.errors import NotFound
from shared.storage.connection import (
    Row,
    _all,
    _one,
    from_db_time,
    insertion_order,
    lock_key,
    skip_locked,
    to_db_time,
)

OUTBOX_FINAL = ("delivered", "failed", "undelivered", "opted_out")


def lock_phone(db: Database, phone: str) -> None:
    """Serialise one phone's messages and calls until the transaction ends (PostgreSQL
    advisory lock): a retried webhook waits for the first and gets its stored reply, and
    the phone's conversation and limits are read and written by one node at a time.
    SQLite's write lock already does."""
    lock_key(db, "phone", phone)


def get_inbound(db: Database, message_id: str) -> Row | None:
    return _one(db, "SELECT * FROM sms_inbound WHERE message_id = ?", [message_id])


def record_inbound(
    db: Database,
    message_id: str,
    phone: str,
    to_phone: str | None,
    body: str,
    reply: str,
    language: str,
    now: datetime,
) -> bool:
    """Store an incoming SMS with its reply; False if its message id was stored already."""
    cursor = db.execute(
        "INSERT INTO sms_inbound (message_id, phone, to_phone, body, reply, language, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        [message_id, phone, to_phone, body, reply, language, to_db_time(now)],
    )
    return cursor.rowcount == 1


def inbound_for_phone(db: Database, phone: str, limit: int = 50) -> list[Row]:
    return _all(
        db,
        "SELECT * FROM sms_inbound WHERE phone = ? "
        f"ORDER BY received_at DESC, {insertion_order(db)} DESC LIMIT ?",
        [phone, limit],
    )


def record_gateway_event(
    db: Database, gateway: str, event_id: str, event: str, now: datetime
) -> bool:
    """Remember a gateway's webhook event; False if it was seen before (a retry)."""
    return (
        db.execute(
            "INSERT INTO gateway_events (gateway, event_id, event, received_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [gateway, event_id, event, to_db_time(now)],
        ).rowcount
        == 1
    )


def phone_languages(db: Database) -> dict[str, str]:
    """phone -> the language that phone asked for, for every phone that asked for one."""
    rows = db.execute(
        "SELECT phone, language FROM phone_prefs WHERE language IS NOT NULL AND language != ''"
    )
    return dict(rows.fetchall())


def get_phone_prefs(db: Database, phone: str) -> Row | None:
    return _one(db, "SELECT * FROM phone_prefs WHERE phone = ?", [phone])


def set_phone_language(db: Database, phone: str, language: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO phone_prefs (phone, language, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
        "updated_at = excluded.updated_at",
        [phone, language, to_db_time(now)],
    )


def set_phone_opt_out(db: Database, phone: str, opted_out: bool, now: datetime) -> None:
    stamp = to_db_time(now)
    db.execute(
        "INSERT INTO phone_prefs (phone, opted_out_at, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (phone) DO UPDATE SET opted_out_at = excluded.opted_out_at, "
        "updated_at = excluded.updated_at",
        [phone, stamp if opted_out else None, stamp],
    )


def is_opted_out(db: Database, phone: str) -> bool:
    row = get_phone_prefs(db, phone)
    return bool(row and row["opted_out_at"])


def get_conversation(db: Database, phone: str) -> Row | None:
    return _one(db, "SELECT * FROM phone_conversations WHERE phone = ?", [phone])


def set_conversation(
    db: Database,
    phone: str,
    recipient_id: int,
    state: str,
    offered: Sequence[int],
    expires_at: datetime,
    now: datetime,
) -> None:
    db.execute(
        "INSERT INTO phone_conversations (phone, recipient_id, state, offered, expires_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (phone) DO UPDATE SET "
        "recipient_id = excluded.recipient_id, state = excluded.state, "
        "offered = excluded.offered, expires_at = excluded.expires_at, "
        "updated_at = excluded.updated_at",
        [
            phone,
            recipient_id,
            state,
            json.dumps(list(offered)),
            to_db_time(expires_at),
            to_db_time(now),
        ],
    )


def clear_conversation(db: Database, phone: str) -> None:
    db.execute("DELETE FROM phone_conversations WHERE phone = ?", [phone])


def get_ivr_step(db: Database, call_id: str, step: str) -> Row | None:
    return _one(db, "SELECT * FROM ivr_steps WHERE call_id = ? AND step = ?", [call_id, step])


def record_ivr_step(db: Database, call_id: str, step: str, turn: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO ivr_steps (call_id, step, turn, created_at) VALUES (?, ?, ?, ?)",
        [call_id, step, turn, to_db_time(now)],
    )


def enqueue_sms(
    db: Database,
    phone: str,
    body: str,
    kind: str,
    now: datetime,
    dedup_key: str | None = None,
) -> int | None:
    """Queue one SMS; returns its id, or None if ``dedup_key`` was already queued."""
    stamp = to_db_time(now)
    row = db.execute(
        "INSERT INTO sms_outbox (phone, body, kind, dedup_key, next_attempt_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING "
        "RETURNING id",
        [phone, body, kind, dedup_key, stamp, stamp, stamp],
    ).fetchone()
    return row[0] if row else None


def enqueue_many_sms(
    db: Database, messages: Iterable[tuple[str, str, str]], kind: str, now: datetime
) -> int:
    """Queue ``(phone, body, dedup_key)`` messages in one ``executemany``; returns how many
    were new (a key already queued is skipped, as :func:`enqueue_sms` does)."""
    stamp = to_db_time(now)
    cursor = db.conn.executemany(
        "INSERT INTO sms_outbox (phone, body, kind, dedup_key, next_attempt_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        [(phone, body, kind, key, stamp, stamp, stamp) for phone, body, key in messages],
    )
    return max(cursor.rowcount, 0)


def get_outbox(db: Database, outbox_id: int) -> Row:
    row = _one(db, "SELECT * FROM sms_outbox WHERE id = ?", [outbox_id])
    if row is None:
        raise NotFound("outbox_missing", id=outbox_id)
    return row


# Answers to what a phone just asked go first, bulk invitations last.
_OUTBOX_PRIORITY = (
    "CASE kind WHEN 'reply' THEN 0 WHEN 'confirmation' THEN 1 WHEN 'offer' THEN 1 "
    "WHEN 'voucher' THEN 1 "
    "WHEN 'invitation' THEN 3 ELSE 2 END"
)


def due_outbox(db: Database, now: datetime, limit: int) -> list[Row]:
    """Queued messages due now (``id``, ``kind``), answers first, in order for each phone.

    A message waits while an earlier one to the same phone is still queued or sending
    (say, waiting for a retry), so a phone never gets its messages out of order; an
    invitation held by the daily cap does not hold up the phone's other messages.
    """
    stamp = to_db_time(now)
    return _all(
        db,
        "SELECT o.id, o.kind FROM sms_outbox o WHERE o.status = 'queued' "
        "AND o.next_attempt_at <= :now AND NOT EXISTS (SELECT 1 FROM sms_outbox e "
        "WHERE e.phone = o.phone AND e.id < o.id AND e.status IN ('queued', 'sending') "
        "AND (e.held_until IS NULL OR e.held_until <= :now)) "
        f"ORDER BY {_OUTBOX_PRIORITY.replace('kind', 'o.kind')}, o.next_attempt_at, o.id "
        "LIMIT :limit",
        {"now": stamp, "limit": limit},
    )


def claim_outbox(
    db: Database, outbox_id: int, now: datetime, send_key: str | None = None
) -> Row | None:
    """Move a queued message that is due to ``sending`` and count the attempt; None if
    someone else did (or it is not due: held back meanwhile).

    ``send_key`` becomes the message's key for the gateway unless it has one already (a
    retry keeps the key of the first try).
    """
    # PostgreSQL: a row another node's worker is claiming is skipped, not waited for.
    cursor = db.execute(
        "UPDATE sms_outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?, "
        "send_key = coalesce(send_key, ?), held_until = NULL "
        "WHERE id = (SELECT id FROM sms_outbox WHERE id = ? AND status = 'queued' "
        f"AND next_attempt_at <= ?{skip_locked(db)}) "
        "RETURNING id, phone, body, kind, attempts, send_key",
        [to_db_time(now), send_key, outbox_id, to_db_time(now)],
    )
    row = cursor.fetchone()
    names = ("id", "phone", "body", "kind", "attempts", "send_key")
    return dict(zip(names, row, strict=True)) if row else None


def mark_outbox_sent(db: Database, outbox_id: int, provider_id: str, now: datetime) -> None:
    db.execute(
        "UPDATE sms_outbox SET status = 'sent', provider_id = ?, last_error = NULL, "
        "sent_at = ?, updated_at = ? WHERE id = ? AND status = 'sending'",
        [provider_id, to_db_time(now), to_db_time(now), outbox_id],
    )


def release_outbox_claim(db: Database, outbox_id: int, error: str, now: datetime) -> None:
    """Give a claimed message back, due at once and its try not counted (gateway down)."""
    db.execute(
        "UPDATE sms_outbox SET status = 'queued', attempts = attempts - 1, "
        "next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'sending'",
        [to_db_time(now), error, to_db_time(now), outbox_id],
    )


def sent_times_since(db: Database, kind: str, since: datetime) -> list[datetime]:
    """When a gateway took each message of ``kind`` after ``since``, oldest first."""
    rows = db.execute(
        "SELECT sent_at FROM sms_outbox WHERE kind = ? AND sent_at > ? ORDER BY sent_at",
        [kind, to_db_time(since)],
    ).fetchall()
    return [datetime.fromisoformat(r[0]) for r in rows]


def hold_due_outbox(db: Database, kind: str, until: datetime, now: datetime) -> int:
    """Hold every due queued message of ``kind`` until ``until`` (the daily cap)."""
    stamp = to_db_time(until)
    return db.execute(
        "UPDATE sms_outbox SET next_attempt_at = ?, held_until = ?, updated_at = ? "
        "WHERE kind = ? AND status = 'queued' AND next_attempt_at <= ?",
        [stamp, stamp, to_db_time(now), kind, to_db_time(now)],
    ).rowcount


def mark_outbox_retry(
    db: Database, outbox_id: int, next_attempt_at: datetime, error: str, now: datetime
) -> None:
    db.execute(
        "UPDATE sms_outbox SET status = 'queued', next_attempt_at = ?, last_error = ?, "
        "updated_at = ? WHERE id = ? AND status = 'sending'",
        [to_db_time(next_attempt_at), error, to_db_time(now), outbox_id],
    )


def mark_outbox_final(
    db: Database, outbox_id: int, status: str, error: str | None, now: datetime
) -> None:
    """End a message that was never handed to the provider: failed or opted out."""
    db.execute(
        "UPDATE sms_outbox SET status = ?, last_error = ?, updated_at = ? "
        "WHERE id = ? AND status IN ('queued', 'sending')",
        [status, error, to_db_time(now), outbox_id],
    )


def requeue_stale_outbox(db: Database, claimed_before: datetime, now: datetime) -> int:
    """Give back messages left in ``sending`` by a worker that died mid-send."""
    return db.execute(
        "UPDATE sms_outbox SET status = 'queued', next_attempt_at = ?, updated_at = ? "
        "WHERE status = 'sending' AND updated_at < ?",
        [to_db_time(now), to_db_time(now), to_db_time(claimed_before)],
    ).rowcount


def update_outbox_status(
    db: Database,
    provider_id: str,
    status: str,
    allowed_from: Sequence[str],
    error: str | None,
    now: datetime,
) -> bool:
    """Apply a delivery callback, only from a state in ``allowed_from``; True if it applied."""
    marks = ", ".join("?" for _ in allowed_from)
    cursor = db.execute(
        f"UPDATE sms_outbox SET status = ?, last_error = coalesce(?, last_error), "
        f"updated_at = ? WHERE provider_id = ? AND status IN ({marks})",
        [status, error, to_db_time(now), provider_id, *allowed_from],
    )
    return cursor.rowcount == 1


def outbox_for_phone(db: Database, phone: str, limit: int = 50) -> list[Row]:
    return _all(
        db, "SELECT * FROM sms_outbox WHERE phone = ? ORDER BY id DESC LIMIT ?", [phone, limit]
    )


def outbox_counts(db: Database) -> dict[str, int]:
    rows = db.execute("SELECT status, count(*) FROM sms_outbox GROUP BY status").fetchall()
    return dict(rows)


def invitation_counts(db: Database, distribution_id: int) -> dict[str, int]:
    """Invitation SMS of one distribution by outbox state (their dedup key names it)."""
    rows = db.execute(
        "SELECT status, count(*) FROM sms_outbox WHERE kind = 'invitation' "
        "AND dedup_key LIKE ? GROUP BY status",
        [f"invitation:{distribution_id}:%"],
    ).fetchall()
    return dict(rows)


def held_invitations(
    db: Database, distribution_id: int, now: datetime
) -> tuple[int, datetime | None]:
    """Invitations of a distribution waiting for the daily cap, and when the first goes."""
    count, until = db.execute(
        "SELECT count(*), min(held_until) FROM sms_outbox WHERE kind = 'invitation' "
        "AND dedup_key LIKE ? AND status = 'queued' AND held_until > ?",
        [f"invitation:{distribution_id}:%", to_db_time(now)],
    ).fetchone()
    return count, from_db_time(until)


def requeue_failed_invitations(db: Database, distribution_id: int, now: datetime) -> int:
    """Queue the failed and undelivered invitations of a distribution again, with fresh tries."""
    stamp = to_db_time(now)
    return db.execute(
        "UPDATE sms_outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, "
        "provider_id = NULL, send_key = NULL, sent_at = NULL, held_until = NULL, "
        "updated_at = ? WHERE kind = 'invitation' AND dedup_key LIKE ? "
        "AND status IN ('failed', 'undelivered')",
        [stamp, stamp, f"invitation:{distribution_id}:%"],
    ).rowcount
