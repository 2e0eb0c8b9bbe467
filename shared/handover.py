"""Hand goods over against a voucher, undo a mistake, and keep the ledger balanced.

A handover is one write in one transaction, so two stations scanning the same voucher
at the same moment produce one handover; the other is told who made it and when. The
ledger identity ``stock = handed over + outstanding + unallocated`` is checked by
:func:`reconcile`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from shared import storage
from shared.errors import (
    AlreadyHandedOver,
    AlreadyUndone,
    BadHandoverRequest,
    NotYourHandover,
    UndoWindowPassed,
    UnitsOutOfRange,
    VoucherRefused,
)
from shared.verification import Reason, Verdict, verify_voucher

# Why staff may hand over although the voucher is refused as too early or missed. The
# kiosk never overrides; cancelled, collected, wrong distribution or site never are.
OVERRIDE_REASONS = ("came_from_far", "elderly_or_ill", "staff_decision")
OVERRIDABLE = frozenset({Reason.TOO_EARLY, Reason.MISSED})
OVERRIDE_NOTE_LENGTH = 200


@dataclass(frozen=True)
class Override:
    """Staff's explicit decision to hand over despite a too-early or missed verdict."""

    reason: str  # one of OVERRIDE_REASONS
    note: str = ""


def make_override(reason: str | None, note: str | None = "") -> Override | None:
    """An :class:`Override` from what staff chose, or None when they chose no reason.

    Raises :class:`BadHandoverRequest` for a reason not on the list or a note that is not
    one short line of text.
    """
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        return None
    if not isinstance(reason, str) or reason.strip() not in OVERRIDE_REASONS:
        raise BadHandoverRequest("override_reason_unknown")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise BadHandoverRequest("override_note_bad")
    note = " ".join(note.split())  # one line: no newlines or tabs in the ledger
    if len(note) > OVERRIDE_NOTE_LENGTH or any(not ch.isprintable() for ch in note):
        raise BadHandoverRequest("override_note_bad")
    return Override(reason.strip(), note)


@dataclass(frozen=True)
class HandoverRequest:
    """What a scanner's handover request asks for."""

    units: int | None  # None: all that remain
    override: Override | None = None


def handover_request(body: bytes, content_type: str | None) -> HandoverRequest:
    """Read a scanner's handover body: empty (all that remain, no override) or a JSON
    object with an optional whole ``units``, ``override_reason`` and ``override_note``.

    Anything else raises :class:`BadHandoverRequest`: a truncated ``{"units": 1`` must
    never mean "everything".
    """
    if not body.strip():
        return HandoverRequest(None)
    if (content_type or "").partition(";")[0].strip().lower() != "application/json":
        raise BadHandoverRequest("body_content_type")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd digits or depth
        raise BadHandoverRequest("body_not_json") from exc
    if not isinstance(data, dict) or set(data) - {"units", "override_reason", "override_note"}:
        raise BadHandoverRequest("body_fields")
    units = data.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int)):
        raise BadHandoverRequest("units_not_whole")
    if "override_note" in data and data.get("override_reason") is None:
        raise BadHandoverRequest("override_note_without_reason")
    override = make_override(data.get("override_reason"), data.get("override_note"))
    return HandoverRequest(units, override)


@dataclass(frozen=True)
class Handover:
    id: int
    booking_id: int
    units: int
    remaining_units: int
    verdict: Verdict
    override: Override | None = None  # set when staff overrode a too-early or missed verdict


def hand_over(
    db: Database,
    text: str,
    secret: bytes,
    now: datetime,
    staff: str,
    station: str,
    units: int | None = None,
    site_id: int | None = None,
    api_token_id: int | None = None,
    override: Override | None = None,
) -> Handover:
    """Hand over ``units`` (default: all that remain) against the voucher ``text``.

    ``api_token_id`` is the scanner token making it, if any: only that token may undo it.
    ``override`` lets staff hand over a voucher refused only as too early or missed; it is
    stored with the handover and in the audit log. It is ignored (not recorded) when the
    voucher is good now, and never lifts any other refusal.

    Raises :class:`AlreadyHandedOver` when nothing remains, :class:`VoucherRefused` for
    any other reason the voucher is not good now, :class:`InvalidInput` for a bad count.
    """
    with storage.transaction(db):
        verdict = verify_voucher(db, text, secret, now, site_id=site_id, lock=True)
        if verdict.reason is Reason.ALREADY_COLLECTED:
            last = storage.last_handover(db, verdict.voucher["booking_id"])
            raise AlreadyHandedOver(
                last["staff"], last["station"], storage.from_db_time(last["handed_at"])
            )
        overriding = override is not None and verdict.reason in OVERRIDABLE
        if not verdict.valid and not overriding:
            raise VoucherRefused(verdict)
        remaining = verdict.remaining_units
        count = remaining if units is None else units
        if not 1 <= count <= remaining:
            raise UnitsOutOfRange(remaining)
        booking_id = verdict.voucher["booking_id"]
        used = override if overriding else None
        handover_id = storage.insert_handover(
            db,
            booking_id,
            count,
            staff,
            station,
            now,
            api_token_id,
            overridden=verdict.reason.value if used else None,
            override_reason=used.reason if used else None,
            override_note=used.note if used else None,
        )
        detail = {"units": count, "station": station, "handover": handover_id}
        if used:
            detail |= {
                "overridden": verdict.reason.value,
                "override_reason": used.reason,
                "override_note": used.note,
            }
        storage.audit(db, staff, "hand_over", f"booking:{booking_id}", now, detail)
    return Handover(handover_id, booking_id, count, remaining - count, verdict, used)


def undo_handover(
    db: Database,
    handover_id: int,
    now: datetime,
    staff: str,
    undo_seconds: int,
    api_token_id: int | None = None,
) -> None:
    """Take back a handover made in error, within ``undo_seconds`` of it.

    A scanner token (``api_token_id``) may take back only the handovers it made; a signed-in
    person at the staff page may take back any (the page shows them per voucher).

    Raises :class:`NotYourHandover` for another token's, :class:`AlreadyUndone` when it was
    undone before, :class:`UndoWindowPassed` when it is too late, :class:`NotFound` for an
    unknown ``handover_id``.
    """
    with storage.transaction(db):
        handover = storage.get_handover(db, handover_id)
        if api_token_id is not None and handover["api_token_id"] != api_token_id:
            raise NotYourHandover()
        if handover["undone_at"]:
            raise AlreadyUndone()
        made = storage.from_db_time(handover["handed_at"])
        if now - made > timedelta(seconds=undo_seconds):
            raise UndoWindowPassed("undo_window_passed", seconds=undo_seconds)
        storage.mark_handover_undone(db, handover_id, staff, now)
        storage.audit(
            db,
            staff,
            "undo_hand_over",
            f"booking:{handover['booking_id']}",
            now,
            {"handover": handover_id, "units": handover["units"]},
        )


@dataclass(frozen=True)
class Ledger:
    """Where every unit of the stock is, in shipping units."""

    stock: int
    handed_over: int
    outstanding: int  # allotted and not yet handed over (booked or not)
    outstanding_booked: int  # of which the recipient holds a live booking
    unallocated: int
    # Handed over beyond a recipient's allotment: only offline handovers at two stations
    # of one voucher do that (a conflict), taken from the stock's unallocated rest.
    beyond_allotments: int = 0
    unresolved_conflicts: int = 0  # vouchers whose conflict the operator has not resolved
    unresolved_conflict_units: int = 0  # units of their handovers that stand

    @property
    def balanced(self) -> bool:
        return self.stock == (
            self.handed_over + self.outstanding + self.unallocated - self.beyond_allotments
        )


def reconcile(db: Database, distribution_id: int) -> Ledger:
    """Compute the ledger from the stored facts (nothing is kept as a running total)."""
    totals = storage.ledger_totals(db, distribution_id)
    # Online, handing over more than allotted is refused; offline stations can do it
    # together (a conflict), so what is beyond an allotment is counted on its own and
    # each recipient's outstanding units stop at zero.
    handed = storage.handed_against_allotments(db, distribution_id)
    outstanding = totals["allotted"] - handed["within"]
    conflicts = [
        h for h in storage.unresolved_conflict_handovers(db, distribution_id) if not h["undone_at"]
    ]
    return Ledger(
        stock=totals["stock_units"],
        handed_over=totals["handed_over"],
        outstanding=outstanding,
        outstanding_booked=max(totals["allotted_booked"] - totals["handed_booked"], 0),
        unallocated=totals["stock_units"] - totals["allotted"],
        beyond_allotments=handed["beyond"],
        unresolved_conflicts=len({h["booking_id"] for h in conflicts}),
        unresolved_conflict_units=sum(h["units"] for h in conflicts),
    )
