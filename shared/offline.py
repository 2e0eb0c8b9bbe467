"""Stations that keep working when the network drops: their copy, their uploads, conflicts.

A staff station or kiosk keeps a copy of its site's vouchers for today and tomorrow
(:func:`station_copy`), refreshed with only what changed since its cursor. The copy holds
what the screens show: masked names and phones, slot, units, units handed over, state,
the safety item, and a keyed hash of each code, never the code itself. The key is derived
per site and local day from the vouchers' secret (:func:`day_key`) and sent with the copy,
so the station can hash what it scans; a stolen tablet yields hashes that are no use at
another site or on another day, and no codes.

Offline, the station decides locally and queues actions, each with a client-made UUID.
:func:`apply_actions` applies an upload in order, each at the time it happened, with the
station and staff that did it; a UUID applied before returns its first outcome again
(never a second handover). A handover beyond what the voucher had left (two stations
handing over the same voucher offline) is recorded all the same, and every standing
handover of that voucher is flagged ``conflict`` until the operator resolves it
(:func:`resolve_conflict`): accept, or record a return. What the server refuses (a
voucher cancelled meanwhile) comes back to the station with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import messages, safety, storage
from shared.errors import BadSyncRequest, NotFound
from shared.verification import Reason, judge_voucher

KEY_CONTEXT = "offline-station:v1"
HASH_HEX_LENGTH = 32  # 128 bits of HMAC-SHA256, as hex
DAYS_KEPT = 2  # today and tomorrow, in the site's time zone
# A station's refresh asks again for what changed this long before its last copy, so a
# write whose transaction began before the copy was read and committed after is not missed.
CURSOR_OVERLAP = timedelta(minutes=2)
MAX_ACTIONS = 200  # per upload, within the 64 KB request limit; the rest go in the next
FUTURE_TOLERANCE = timedelta(minutes=10)  # a device clock ahead of the server's by more
QUEUE_LABEL_LENGTH = 20
MAX_ID = 2**62  # a booking id beyond this is no booking (SQLite holds 2**63 - 1 at most)
ACTION_KINDS = ("handover", "checkin")
ACTION_FIELDS = frozenset(
    {"id", "kind", "booking", "hash", "at", "units", "queue_label", "acknowledged", "language"}
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HASH = re.compile(rf"^[0-9a-f]{{{HASH_HEX_LENGTH}}}$")
_LABEL = re.compile(rf"^[A-Za-z0-9-]{{1,{QUEUE_LABEL_LENGTH}}}$")

APPLIED, CONFLICT, REFUSED = "applied", "conflict", "refused"
RESOLUTIONS = ("accept", "return")


def day_key(secret: bytes, site_id: int, day: date) -> bytes:
    """The key of a site's codes on one local day, derived from the vouchers' secret."""
    label = f"{KEY_CONTEXT}:{site_id}:{day.isoformat()}".encode()
    return hmac.new(secret, label, hashlib.sha256).digest()


def code_hash(key: bytes, code: str) -> str:
    """The keyed hash a station keeps instead of the 16-digit ``code``."""
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()[:HASH_HEX_LENGTH]


def _local_midnight(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


# -- the station's copy ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a station's copy stands: its days, and the newest change it has seen."""

    first_day: str
    since: datetime
    handover_id: int
    ack_id: int

    def text(self) -> str:
        return (
            f"v1|{self.first_day}|{storage.to_db_time(self.since)}|{self.handover_id}|{self.ack_id}"
        )


def read_cursor(text: str | None) -> Cursor | None:
    """The cursor a station sent back, or None (a full copy) for none or anything else."""
    parts = (text or "").split("|")
    if len(parts) != 5 or parts[0] != "v1":
        return None
    try:
        since = datetime.fromisoformat(parts[2])
        date.fromisoformat(parts[1])
        handover_id, ack_id = int(parts[3]), int(parts[4])
    except ValueError:
        return None
    if since.tzinfo is None:
        return None
    return Cursor(parts[1], since, handover_id, ack_id)


def _unit_names(distribution: dict[str, Any]) -> dict[str, str]:
    return {lang: messages.unit_name(distribution, lang) for lang in messages.LANGUAGES}


def station_copy(
    db: Database, site_id: int, secret: bytes, now: datetime, cursor_text: str | None = None
) -> dict[str, Any]:
    """What a station of ``site_id`` keeps for today and tomorrow, as JSON-ready data.

    With the cursor of its last copy (same days) only the vouchers changed since; ``ids``
    always lists every booking of the two days, so the station drops any that left them.
    Raises :class:`NotFound` for an unknown site.
    """
    site = storage.find_site(db, site_id)
    if site is None:
        raise NotFound("site_missing", id=site_id)
    distribution = storage.get_distribution(db, site["distribution_id"])
    tz = ZoneInfo(distribution["timezone"])
    first = _local_midnight(now, tz)
    days = [(first + timedelta(days=n)).date() for n in range(DAYS_KEPT)]
    until = first + timedelta(days=DAYS_KEPT)
    keys = {day.isoformat(): day_key(secret, site_id, day) for day in days}
    handover_mark, ack_mark = storage.sync_marks(db)
    cursor = read_cursor(cursor_text)
    full = cursor is None or cursor.first_day != days[0].isoformat()
    since = None if full else (cursor.since - CURSOR_OVERLAP, cursor.handover_id, cursor.ack_id)
    rows = storage.station_vouchers(db, site_id, first, until, since)
    vouchers = []
    for row in rows:
        start = storage.from_db_time(row["starts_at"])
        day = start.astimezone(tz).date().isoformat()
        vouchers.append(
            {
                "id": row["booking_id"],
                "hash": code_hash(keys[day], row["code"]),
                "day": day,
                "name": messages.mask_name(row["recipient_name"]),
                "contact": messages.mask_name(row["contact_name"]),
                "phone": messages.mask_phone(row["phone"]),
                "start": row["starts_at"],
                "end": row["ends_at"],
                "units": row["units"],
                "handed": row["handed_units"],
                "status": row["status"],
                "checked_in": row["checked_in_at"],
                "queue": row["queue_label"] or row["queue_number"],
            }
        )
    item_key = distribution["item_key"]
    titles = {}
    for lang in messages.LANGUAGES:
        content = safety.content_for(db, item_key, lang)
        titles[lang] = content.title if content else distribution["item"]
    new_cursor = Cursor(days[0].isoformat(), now, handover_mark, ack_mark)
    return {
        "cursor": new_cursor.text(),
        "full": full,
        "server_time": storage.to_db_time(now),
        "keep_until": storage.to_db_time(until),
        "site": {"id": site["id"], "name": site["name"], "address": site["address"]},
        "distribution": {
            "id": distribution["id"],
            "timezone": distribution["timezone"],
            "early_minutes": distribution["early_minutes"],
            "grace_minutes": distribution["grace_minutes"],
            "unit_name": _unit_names(distribution),
            "item": titles,
            "item_key": item_key or "",
            "has_safety": bool(item_key) and safety.content_for(db, item_key, "zh") is not None,
        },
        "keys": [{"day": day, "key": key.hex()} for day, key in keys.items()],
        "vouchers": vouchers,
        "ids": storage.station_booking_ids(db, site_id, first, until),
    }


# -- uploads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Station:
    """Who uploads: the staff (``alice``, ``api:desk-3``), the station's name, its site
    (None: any site), its role (``staff`` or ``kiosk``) and scanner token, if any."""

    staff: str
    station: str
    site_id: int | None
    role: str = "staff"
    api_token_id: int | None = None
    label_prefix: str = ""  # begins the queue numbers it gives offline: "K3" -> "K3-7"


@dataclass(frozen=True)
class Outcome:
    """What became of one uploaded action."""

    client_id: str
    outcome: str  # APPLIED, CONFLICT or REFUSED
    reason: str = ""  # a refusal's reason: a verdict word or one of the upload's own
    booking_id: int | None = None
    handover_id: int | None = None
    queue_number: int | None = None
    queue_label: str | None = None
    duplicate: bool = False  # the UUID was applied before: this is its first outcome again

    def as_json(self, language: str) -> dict[str, Any]:
        return {
            "id": self.client_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "message": outcome_message(self, language),
            "booking": self.booking_id,
            "handover_id": self.handover_id,
            "queue_number": self.queue_number,
            "queue_label": self.queue_label,
            "duplicate": self.duplicate,
        }


def outcome_message(outcome: Outcome, language: str) -> str:
    """The outcome in words, for the station's staff."""
    if outcome.outcome == REFUSED:
        return messages.text(f"sync_refused_{outcome.reason}", language)
    return messages.text(f"sync_{outcome.outcome}", language)


def read_upload(body: bytes, content_type: str | None) -> list[Any]:
    """The list of actions of an upload body ``{"actions": [...]}``.

    Raises :class:`BadSyncRequest` for a body that is not that; single actions are checked
    one by one when applied, so one bad action never holds back the rest.
    """
    if (content_type or "").partition(";")[0].strip().lower() != "application/json":
        raise BadSyncRequest("sync_content_type")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadSyncRequest("sync_not_json") from exc
    if (
        not isinstance(data, dict)
        or set(data) != {"actions"}
        or not isinstance(data["actions"], list)
    ):
        raise BadSyncRequest("sync_fields")
    if len(data["actions"]) > MAX_ACTIONS:
        raise BadSyncRequest("sync_too_many")
    return data["actions"]


@dataclass(frozen=True)
class _Action:
    client_id: str
    kind: str
    booking_id: int
    code_hash: str
    at: datetime
    units: int | None
    queue_label: str | None
    acknowledged: bool
    language: str


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_action(raw: Any) -> _Action | str:
    """The action, or the client id (possibly "") of one that cannot be read."""
    if not isinstance(raw, dict):
        return ""
    client_id = raw.get("id") if isinstance(raw.get("id"), str) else ""
    client_id = client_id.lower() if _UUID.match(client_id.lower()) else ""
    ok = (
        client_id
        and set(raw) <= ACTION_FIELDS
        and raw.get("kind") in ACTION_KINDS
        and _whole(raw.get("booking"))
        and 0 < raw["booking"] < MAX_ID
        and isinstance(raw.get("hash"), str)
        and _HASH.match(raw["hash"])
        and isinstance(raw.get("at"), str)
    )
    if not ok:
        return client_id
    try:
        at = datetime.fromisoformat(raw["at"].replace("Z", "+00:00"))
    except ValueError:
        return client_id
    if at.tzinfo is None:
        return client_id
    units = raw.get("units")
    label = raw.get("queue_label")
    if raw["kind"] == "handover" and not (_whole(units) and 1 <= units <= 10**6):
        return client_id
    if raw["kind"] == "checkin" and units is not None:
        return client_id
    if label is not None and not (isinstance(label, str) and _LABEL.match(label)):
        return client_id
    acknowledged = raw.get("acknowledged", False)
    if not isinstance(acknowledged, bool):
        return client_id
    return _Action(
        client_id,
        raw["kind"],
        raw["booking"],
        raw["hash"],
        at.astimezone(UTC),
        units,
        label,
        acknowledged,
        messages.pick_language(
            raw.get("language") if isinstance(raw.get("language"), str) else None
        ),
    )


def apply_actions(
    db: Database, actions: list[Any], secret: bytes, now: datetime, station: Station
) -> list[Outcome]:
    """Apply uploaded actions in order, each in its own transaction (so a retry after a
    broken connection finds the ones done and goes on)."""
    return [apply_action(db, raw, secret, now, station) for raw in actions]


def _prior(row: dict[str, Any]) -> Outcome:
    return Outcome(
        row["client_id"],
        row["outcome"],
        row["reason"],
        row["booking_id"],
        row["handover_id"],
        row["queue_number"],
        row["queue_label"],
        duplicate=True,
    )


def apply_action(db: Database, raw: Any, secret: bytes, now: datetime, station: Station) -> Outcome:
    """Apply one uploaded action (see :func:`apply_actions`)."""
    action = _read_action(raw)
    if isinstance(action, str):
        return Outcome(action, REFUSED, "invalid_action")
    with storage.transaction(db):
        # PostgreSQL: a retried upload arriving at once on another node waits here, then
        # finds this one's row (SQLite's write lock already serialises them).
        storage.lock_key(db, "sync", action.client_id)
        prior = storage.get_sync_action(db, action.client_id)
        if prior is not None:
            return _prior(prior)
        outcome = _decide(db, action, secret, now, station)
        storage.insert_sync_action(
            db,
            {
                "client_id": action.client_id,
                "kind": action.kind,
                "booking_id": outcome.booking_id,
                "staff": station.staff,
                "station": station.station,
                "happened_at": storage.to_db_time(action.at),
                "applied_at": storage.to_db_time(now),
                "outcome": outcome.outcome,
                "reason": outcome.reason,
                "handover_id": outcome.handover_id,
                "queue_number": outcome.queue_number,
                "queue_label": outcome.queue_label,
            },
        )
    return outcome


def _refused(action: _Action, reason: str, booking_id: int | None = None) -> Outcome:
    return Outcome(action.client_id, REFUSED, reason, booking_id)


def _decide(
    db: Database, action: _Action, secret: bytes, now: datetime, station: Station
) -> Outcome:
    if action.at > now + FUTURE_TOLERANCE:
        return _refused(action, "clock_ahead")
    storage.lock_booking(db, action.booking_id)
    voucher = storage.voucher_view_by_booking(db, action.booking_id)
    if voucher is None:
        return _refused(action, Reason.UNKNOWN.value)
    tz = ZoneInfo(voucher["timezone"])
    day = storage.from_db_time(voucher["starts_at"]).astimezone(tz).date()
    expected = code_hash(day_key(secret, voucher["site_id"], day), voucher["code"])
    if not hmac.compare_digest(expected, action.code_hash):
        return _refused(action, Reason.UNKNOWN.value)
    booking_id = voucher["booking_id"]
    if action.kind == "handover" and station.role != "staff":
        return _refused(action, "kiosk_hand_over", booking_id)
    reason = _reason_then(voucher, action.at, station.site_id)
    if reason is not Reason.VALID:
        return _refused(action, reason.value, booking_id)
    if action.kind == "handover":
        return _hand_over(db, action, voucher, now, station)
    return _check_in(db, action, voucher, now, station)


def _reason_then(voucher: dict[str, Any], at: datetime, site_id: int | None) -> Reason:
    """Was the voucher good at ``at``, where the station stood? Handovers and the no-show
    sweep the station could not see are not held against it: a conflict is recorded
    instead, and a booking marked missed later was not missed then."""
    checked_in = voucher["checked_in_at"]
    facts = {
        **voucher,
        "handed_units": 0,
        "status": "booked" if voucher["status"] == "missed" else voucher["status"],
        "checked_in_at": checked_in
        if checked_in and checked_in <= storage.to_db_time(at)
        else None,
    }
    return judge_voucher(facts, at, site_id=site_id).reason


def _hand_over(
    db: Database, action: _Action, voucher: dict[str, Any], now: datetime, station: Station
) -> Outcome:
    booking_id = voucher["booking_id"]
    remaining = voucher["units"] - voucher["handed_units"]
    handover_id = storage.insert_handover(
        db,
        booking_id,
        action.units,
        station.staff,
        station.station,
        action.at,
        station.api_token_id,
    )
    conflict = action.units > remaining
    if conflict:
        storage.flag_handover_conflicts(db, booking_id)
    storage.audit(
        db,
        station.staff,
        "hand_over",
        f"booking:{booking_id}",
        action.at,
        {
            "units": action.units,
            "station": station.station,
            "handover": handover_id,
            "offline": action.client_id,
            "uploaded_at": storage.to_db_time(now),
            **({"conflict": True} if conflict else {}),
        },
    )
    return Outcome(action.client_id, CONFLICT if conflict else APPLIED, "", booking_id, handover_id)


def _check_in(
    db: Database, action: _Action, voucher: dict[str, Any], now: datetime, station: Station
) -> Outcome:
    booking_id = voucher["booking_id"]
    if action.acknowledged:
        content = safety.content_for(db, voucher["item_key"], action.language)
        if content is not None and storage.insert_acknowledgement(
            db, booking_id, content.item_key, content.language, station.staff, action.at
        ):
            storage.audit(
                db,
                station.staff,
                "acknowledge_safety",
                f"booking:{booking_id}",
                action.at,
                {"item_key": content.item_key, "language": content.language, "offline": True},
            )
    if voucher["checked_in_at"]:
        # Checked in already (online, or at another kiosk): the first number stands.
        return Outcome(
            action.client_id,
            APPLIED,
            "",
            booking_id,
            queue_number=voucher["queue_number"],
            queue_label=storage.get_booking(db, booking_id)["queue_label"],
        )
    tz = ZoneInfo(voucher["timezone"])
    day_start = _local_midnight(action.at, tz)
    number = storage.next_queue_number(
        db, voucher["site_id"], day_start, day_start + timedelta(days=1)
    )
    storage.mark_checked_in_offline(db, booking_id, action.at, number, action.queue_label, now)
    storage.audit(
        db,
        station.staff,
        "check_in",
        f"booking:{booking_id}",
        action.at,
        {"queue": number, "queue_label": action.queue_label, "offline": action.client_id},
    )
    return Outcome(
        action.client_id,
        APPLIED,
        "",
        booking_id,
        queue_number=number,
        queue_label=action.queue_label,
    )


# -- conflicts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """One voucher handed over offline beyond its units, and its handovers."""

    booking_id: int
    code: str
    recipient: str
    site: str
    units: int  # the voucher's
    handovers: tuple[dict[str, Any], ...]  # every handover of the voucher, oldest first

    @property
    def handed_units(self) -> int:
        return sum(h["units"] for h in self.handovers if not h["undone_at"])


def conflicts(db: Database, distribution_id: int | None = None) -> list[Conflict]:
    """The vouchers with an unresolved conflict, oldest booking first."""
    by_booking: dict[int, list[dict[str, Any]]] = {}
    for row in storage.unresolved_conflict_handovers(db, distribution_id):
        by_booking.setdefault(row["booking_id"], []).append(row)
    return [
        Conflict(
            booking_id,
            rows[0]["code"],
            rows[0]["recipient_name"],
            rows[0]["site_name"],
            rows[0]["booking_units"],
            tuple(rows),
        )
        for booking_id, rows in by_booking.items()
    ]


def resolve_conflict(
    db: Database,
    booking_id: int,
    resolution: str,
    actor: str,
    now: datetime,
    returned_handover_id: int | None = None,
) -> None:
    """Resolve a voucher's conflict: ``accept`` lets every handover stand; ``return``
    records that the goods of ``returned_handover_id`` came back (it no longer stands) and
    lets the others stand. Audited.

    Raises :class:`NotFound` when the voucher has no unresolved conflict or the handover
    is not one of its conflicting ones, :class:`BadSyncRequest` for another resolution.
    """
    if resolution not in RESOLUTIONS:
        raise BadSyncRequest("conflict_resolution_unknown")
    with storage.transaction(db):
        rows = [
            h
            for h in storage.conflict_handovers(db, booking_id)
            if h["conflict"] and not h["conflict_resolution"] and not h["undone_at"]
        ]
        if not rows:
            raise NotFound("no_unresolved_conflict", booking=booking_id)
        detail: dict[str, Any] = {
            "resolution": resolution,
            "handovers": [h["handover_id"] for h in rows],
        }
        if resolution == "return":
            returned = next((h for h in rows if h["handover_id"] == returned_handover_id), None)
            if returned is None:
                raise NotFound("handover_not_in_conflict", handover=returned_handover_id)
            storage.mark_handover_undone(db, returned["handover_id"], actor, now)
            storage.resolve_handover_conflicts(
                db, booking_id, "returned", actor, now, returned["handover_id"]
            )
            detail |= {"returned": returned["handover_id"], "units": returned["units"]}
        storage.resolve_handover_conflicts(db, booking_id, "accepted", actor, now)
        storage.audit(db, actor, "resolve_conflict", f"booking:{booking_id}", now, detail)
