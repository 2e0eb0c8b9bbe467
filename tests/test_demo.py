"""The issue's acceptance: the demo's bookings, amounts, capacities and QR codes."""

from __future__ import annotations

import io
from collections import Counter

import pytest
import zxingcpp
from PIL import Image
from support import DEMO_LOADED_AT, SECRET, require

from shared import demo, exports, storage
from shared.roster import is_valid_uscc
from shared.verification import Reason, verify_voucher
from shared.vouchers import qr_png


@pytest.fixture
def disinfectant(demo_db):
    return exports.booking_rows(demo_db, 1, DEMO_LOADED_AT)


def test_112_bookings_summing_to_12280_kg(disinfectant):
    assert len(disinfectant) == 112
    assert sum(row["amount"] for row in disinfectant) == 12_280
    assert all(row["units"] >= 1 for row in disinfectant)  # the floor: a drum each


def test_masks_by_population(demo_db):
    rows = exports.booking_rows(demo_db, 2, DEMO_LOADED_AT)
    assert len(rows) == 12 and sum(r["amount"] for r in rows) == 192_400
    by_town = {r["town"]: r["units"] for r in rows}
    assert by_town["岳林街道"] > by_town["锦屏街道"] > by_town["大堰镇"]


def test_no_slot_over_capacity_and_the_day_is_flat(demo_db, disinfectant):
    slots = {s["id"]: s for s in storage.list_slots(demo_db, 1)}
    loads = storage.slot_loads(demo_db, 1, storage.now_utc())
    for slot_id, (people, units) in loads.items():
        assert people <= slots[slot_id]["capacity_people"]
        assert units <= slots[slot_id]["capacity_units"]
    per_slot = Counter(row["slot_start"] for row in disinfectant)
    assert len(per_slot) == 28  # 12:00-19:00 in 15-minute slots
    assert max(per_slot.values()) - min(per_slot.values()) <= 1
    assert min(r["slot_start"] for r in disinfectant) == "2020-02-04T12:00:00+08:00"
    assert max(r["slot_end"] for r in disinfectant) == "2020-02-04T19:00:00+08:00"


def test_every_qr_decodes_with_zxing(disinfectant):
    for row in disinfectant:
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(row["qr_content"]))))
        assert [d.text for d in decoded] == [row["qr_content"]]


def test_every_qr_decodes_with_zbar(disinfectant):
    try:
        from pyzbar.pyzbar import decode
    except (ImportError, OSError):
        decode = None
    require(decode is not None, "zbar is not installed: apt-get install libzbar0")
    for row in disinfectant:
        decoded = decode(Image.open(io.BytesIO(qr_png(row["qr_content"]))))
        assert [d.data.decode() for d in decoded] == [row["qr_content"]]


def test_any_one_digit_changed_is_mistyped(demo_db, disinfectant):
    now = storage.now_utc()
    for row in disinfectant[:10]:
        code = row["voucher_code"]
        for position in range(16):
            digit = str((int(code[position]) + 7) % 10)
            changed = code[:position] + digit + code[position + 1 :]
            verdict = verify_voucher(demo_db, changed, SECRET.encode(), now)
            assert verdict.reason is Reason.MISTYPED, (code, changed)


def test_demo_data_is_well_formed():
    rows = demo.enterprises()
    assert len(rows) == 112
    assert len({r["name"] for r in rows}) == 112
    assert all(is_valid_uscc(r["external_id"]) for r in rows)
    assert all(r["phone"].startswith("+86170000") for r in rows)
    assert {r["language"] for r in rows} == {"zh", "en"}
    english = [r for r in rows if r["language"] == "en"]
    assert all(r["name"].isascii() and r["town"].isascii() for r in english)


def test_default_start_is_the_current_hour_in_fenghua():
    from datetime import UTC, datetime

    start = demo.default_start(datetime(2020, 2, 4, 4, 37, tzinfo=UTC))
    assert start.isoformat() == "2020-02-04T12:00:00+08:00"


def test_demo_accounts_are_made_once_and_survive_a_new_database(db, tmp_path):
    from shared import accounts

    first = demo.demo_accounts(db, tmp_path, storage.now_utc())
    assert set(first) == {"admin", "staff"}
    assert demo.demo_accounts(db, tmp_path, storage.now_utc()) == first
    assert accounts.authenticate(db, "admin", first["admin"])["role"] == "admin"
    assert (tmp_path / "demo-accounts.json").stat().st_mode & 0o077 == 0
    fresh = storage.open_database(tmp_path / "new.sqlite3")
    storage.migrate(fresh)
    assert demo.demo_accounts(fresh, tmp_path, storage.now_utc()) == first
    assert accounts.authenticate(fresh, "staff", first["staff"])["role"] == "staff"
