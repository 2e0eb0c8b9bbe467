"""Bookings and the handover ledger as rows, CSV and JSON, in the distribution's time zone."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import messages, spreadsheets, storage
from shared.booking_states import state_of
from shared.vouchers import qr_content

BOOKING_COLUMNS = (
    "recipient",
    "external_id",
    "town",
    "phone",
    "site",
    "slot_start",
    "slot_end",
    "slot_capacity",
    "units",
    "unit_name",
    "unit_name_en",
    "amount",
    "measure",
    "voucher_code",
    "qr_content",
    "status",
)

LEDGER_COLUMNS = (
    "recipient",
    "external_id",
    "units",
    "amount",
    "measure",
    "slot_start",
    "slot_end",
    "collected_at",
    "staff",
    "station",
    "voucher_code",
    "overridden",
    "override_reason",
    "override_note",
    "conflict",
)


def _local_iso(text: str | None, tz: ZoneInfo) -> str:
    moment: datetime | None = storage.from_db_time(text)
    return moment.astimezone(tz).isoformat() if moment else ""


def _amount(units: int, unit_size: float) -> int | float:
    # 614 drums x 20 kg is 12280, not 12280.0: whole amounts print as whole numbers.
    amount = round(units * unit_size, 6)
    return int(amount) if amount == int(amount) else amount


def booking_rows(db: Database, distribution_id: int, now: datetime) -> list[dict[str, Any]]:
    """One row per live booking, with the voucher, what the QR code holds and its state
    at ``now`` (:func:`shared.booking_states.booking_state`)."""
    return list(iter_booking_rows(db, distribution_id, now))


def iter_booking_rows(
    db: Database, distribution_id: int, now: datetime
) -> Iterator[dict[str, Any]]:
    """:func:`booking_rows` one at a time, as the database reads them: flat memory."""
    for values in iter_booking_values(db, distribution_id, now):
        yield dict(zip(BOOKING_COLUMNS, values, strict=True))


def iter_booking_values(
    db: Database, distribution_id: int, now: datetime
) -> Iterator[tuple[Any, ...]]:
    """:func:`iter_booking_rows` as tuples in :data:`BOOKING_COLUMNS` order (no dict per
    booking: what a CSV writer needs)."""
    d = storage.get_distribution(db, distribution_id)
    tz = ZoneInfo(d["timezone"])
    unit_name, unit_name_en = d["unit_name"], messages.unit_name(d, "en")
    unit_size, measure, grace = d["unit_size"], d["measure"], d["grace_minutes"]
    capacity = {s["id"]: s["capacity_people"] for s in storage.list_slots(db, distribution_id)}
    local: dict[str | None, str] = {}  # a few hundred slot times, each shown once per booking
    for row in storage.booking_exports(db, distribution_id):
        name, external_id, town, phone, site, slot_id, starts_at, ends_at = row[:8]
        units, code, status, checked_in_at, handed = row[8:]
        for stored in (starts_at, ends_at):
            if stored not in local:
                local[stored] = _local_iso(stored, tz)
        yield (
            name,
            external_id,
            town,
            phone or "",
            site,
            local[starts_at],
            local[ends_at],
            capacity[slot_id],
            units,
            unit_name,
            unit_name_en,
            _amount(units, unit_size),
            measure,
            code,
            qr_content(code),
            state_of(status, units, handed, checked_in_at, ends_at, now, grace),
        )


def conflict_flag(handover: dict[str, Any]) -> str:
    """The ledger's ``conflict`` column: ``conflict`` while the operator has not resolved
    it, ``accepted`` once they let it stand, empty for a handover never in conflict."""
    if not handover["conflict"]:
        return ""
    return "accepted" if handover["conflict_resolution"] else "conflict"


def ledger_rows(db: Database, distribution_id: int) -> list[dict[str, Any]]:
    """One row per handover that stands (undone ones are left out)."""
    tz = ZoneInfo(storage.get_distribution(db, distribution_id)["timezone"])
    return [
        {
            "recipient": r["recipient"],
            "external_id": r["external_id"],
            "units": r["units"],
            "amount": _amount(r["units"], r["unit_size"]),
            "measure": r["measure"],
            "slot_start": _local_iso(r["slot_start"], tz),
            "slot_end": _local_iso(r["slot_end"], tz),
            "collected_at": _local_iso(r["handed_at"], tz),
            "staff": r["staff"],
            "station": r["station"],
            "voucher_code": r["voucher_code"] or "",
            "overridden": r["overridden"] or "",
            "override_reason": r["override_reason"] or "",
            "override_note": r["override_note"] or "",
            "conflict": conflict_flag(r),
        }
        for r in storage.ledger_rows(db, distribution_id)
    ]


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header, formulas neutralised; UTF-8 with BOM is left to the writer of the file."""
    return spreadsheets.csv_text(columns, ([row.get(c) for c in columns] for row in rows))


def write_csv(out: TextIO, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> int:
    """:func:`to_csv` written to ``out`` as the rows come; returns how many rows it wrote."""
    return spreadsheets.write_csv(out, columns, ([row.get(c) for c in columns] for row in rows))


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"


def write_json(out: TextIO, rows: Iterable[dict[str, Any]]) -> int:
    """:func:`to_json` written to ``out`` a row at a time (flat memory), the same text;
    returns how many rows it wrote."""
    count = 0
    keys: dict[str, str] = {}  # each column's name, written as JSON once
    for count, row in enumerate(rows, start=1):
        out.write(("[\n  " if count == 1 else ",\n  ") + _json_object(row, keys))
    out.write("\n]\n" if count else "[]\n")
    return count


_json_text = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (ensure_ascii=False)
_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _json_object(row: dict[str, Any], keys: dict[str, str]) -> str:
    """``row`` as ``json.dumps(row, ensure_ascii=False, indent=2)`` writes it one level in
    (inside a list), character for character. json.dumps with an indent runs in pure
    Python; a flat row of text and numbers is written here at C speed, anything else (a
    nested list or dict) is left to json.dumps."""
    parts = []
    for key, value in row.items():
        name = keys.get(key)
        if name is None:
            name = keys[key] = "\n    " + _json_text(key) + ": "
        if isinstance(value, str):
            text = _json_text(value)
        elif value is None or value is True or value is False:
            text = _JSON_CONSTANTS[value]
        elif isinstance(value, int):
            text = int.__repr__(value)
        elif isinstance(value, float):
            text = json.dumps(value)  # NaN and Infinity as json writes them
        else:
            # Each object indented one level, as json.dumps of the whole list indents it: a
            # value never holds a raw newline (JSON escapes it), so every break is layout.
            return json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        parts.append(name + text)
    if not parts:
        return "{}"
    return "{" + ",".join(parts) + "\n  }"
