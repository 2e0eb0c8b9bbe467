"""The voucher page, its QR images and the health check."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image
from support import DEMO_LOADED_AT, SECRET

from shared import exports, storage
from shared.db import get_db
from shared.vouchers import voucher_code


def _first_booking(app) -> dict:
    with app.app_context():
        return exports.booking_rows(get_db(), 1, DEMO_LOADED_AT)[0]


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "pending": []}


def test_healthz_reports_pending_migrations(tmp_path):
    from wsgi import create_app

    app = create_app({"SECRET_KEY": SECRET, "PICKUP_DB": str(tmp_path / "new.sqlite3")})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["pending"][0] == "0001_core"


def test_voucher_page_shows_slot_place_and_allotment(demo_app):
    row = _first_booking(demo_app)
    response = demo_app.test_client().get(f"/v/{row['voucher_code']}?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    groups = " ".join(row["voucher_code"][i : i + 4] for i in range(0, 16, 4))
    assert groups in page
    assert row["recipient"] in page
    assert "Enterprise Service Centre" in page
    assert f"{row['units']} × 20 kg drum ({row['amount']} kg)" in page
    assert "<svg" in page  # the QR is inline: one request on a slow network


def test_voucher_page_in_chinese(demo_app):
    row = _first_booking(demo_app)
    page = demo_app.test_client().get(f"/v/{row['voucher_code']}?lang=zh").get_data(as_text=True)
    assert "领取凭证" in page and "领取时段" in page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("1234567890123456", "This code has a typo. Check the digits and try again."),
        ("12345", "11 digits are missing. Compare with your voucher and add them."),
        (voucher_code(4242, SECRET.encode()), "We do not know this voucher. Please ask staff."),
        (voucher_code(4242, b"forger"), "We do not know this voucher. Please ask staff."),
    ],
    ids=["check-digit", "short", "never-issued", "forged"],
)
def test_voucher_page_404_with_reason(demo_app, code, message):
    response = demo_app.test_client().get(f"/v/{code}?lang=en")
    assert response.status_code == 404
    assert message in response.get_data(as_text=True)


def test_cancelled_voucher_page_says_so(demo_app):
    row = _first_booking(demo_app)
    with demo_app.app_context():
        db = get_db()
        serial = int(row["voucher_code"][:7])
        booking_id = storage.voucher_view(db, serial)["booking_id"]
        storage.cancel_booking_row(db, booking_id, storage.now_utc())
    page = demo_app.test_client().get(f"/v/{row['voucher_code']}?lang=en").get_data(as_text=True)
    assert "This booking was cancelled" in page


def test_qr_png_decodes_to_the_qr_content(demo_app):
    row = _first_booking(demo_app)
    response = demo_app.test_client().get(f"/v/{row['voucher_code']}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [d.text for d in decoded] == [row["qr_content"]]


def test_qr_svg_is_svg(demo_app):
    row = _first_booking(demo_app)
    response = demo_app.test_client().get(f"/v/{row['voucher_code']}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag.endswith("svg")


@pytest.mark.parametrize("suffix", ["qr.png", "qr.svg"])
def test_qr_of_unknown_code_is_404(demo_app, suffix):
    code = voucher_code(4242, SECRET.encode())
    assert demo_app.test_client().get(f"/v/{code}/{suffix}").status_code == 404
