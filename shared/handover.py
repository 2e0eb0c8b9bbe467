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


def requested_units(body: bytes, content_type: str | None) -> int | None:
    """The ``units`` a handover request asks for: None (all that remain) for an empty body.

    Anything but an empty body or a JSON object with at most a whole ``units`` raises
    :class:`BadHandoverRequest`: a truncated ``{"units": 1`` must never mean "everything".
    """
    if not body.strip():
        return None
    if (content_type or "").partition(";")[0].strip().lower() != "application/json":
        raise BadHandoverRequest("body_content_type")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd digits or depth
        raise BadHandoverRequest("body_not_json") from exc
    if not isinstance(data, dict) or set(data) - {"units"}:
        raise BadHandoverRequest("body_fields")
    units = data.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int)):
        raise BadHandoverRequest("units_not_whole")
    return units


@dataclass(frozen=True)
class Handover:
    id: int
    booking_id: int
    units: int
    remaining_units: int
    verdict: Verdict


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
) -> Handover:
    """Hand over ``units`` (default: all that remain) against the voucher ``text``.

    ``api_token_id`` is the scanner token making it, if any: only that token may undo it.

    Raises :class:`AlreadyHandedOver` when nothing remains, :class:`VoucherRefused` for
    any other reason the voucher is not good now, :class:`InvalidInput` for a bad count.
    """
    with storage.transaction(db):
        verdict = verify_voucher(db, text, secret, now, site_id=site_id)
        if verdict.reason is Reason.ALREADY_COLLECTED:
            last = storage.last_handover(db, verdict.voucher["booking_id"])
            raise AlreadyHandedOver(
                last["staff"], last["station"], storage.from_db_time(last["handed_at"])
            )
        if not verdict.valid:
            raise VoucherRefused(verdict)
        remaining = verdict.remaining_units
        count = remaining if units is None else units
        if not 1 <= count <= remaining:
            raise UnitsOutOfRange(remaining)
        booking_id = verdict.voucher["booking_id"]
        handover_id = storage.insert_handover(
            db, booking_id, count, staff, station, now, api_token_id
        )
        storage.audit(
            db,
            staff,
            "hand_over",
            f"booking:{booking_id}",
            now,
            {"units": count, "station": station, "handover": handover_id},
        )
    return Handover(handover_id, booking_id, count, remaining - count, verdict)


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
            raise UndoWindowPassed(
                f"a handover can only be undone within {undo_seconds} seconds; "
                "record a correction with the operator instead"
            )
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

    @property
    def balanced(self) -> bool:
        return self.stock == self.handed_over + self.outstanding + self.unallocated


def reconcile(db: Database, distribution_id: int) -> Ledger:
    """Compute the ledger from the stored facts (nothing is kept as a running total)."""
    totals = storage.ledger_totals(db, distribution_id)
    handed = storage.handed_units_by_recipient(db, distribution_id)
    allotted = storage.allotments_by_recipient(db, distribution_id)
    # Outstanding per recipient never goes below zero: handing over more than allotted
    # is refused, so a negative here would be a bug the ledger must not hide.
    outstanding = sum(units - handed.get(rid, 0) for rid, units in allotted.items())
    return Ledger(
        stock=totals["stock_units"],
        handed_over=totals["handed_over"],
        outstanding=outstanding,
        outstanding_booked=totals["allotted_booked"] - totals["handed_booked"],
        unallocated=totals["stock_units"] - totals["allotted"],
    )
