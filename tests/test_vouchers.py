import hashlib
import hmac
import io
import os
import re
import sys
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from shared.errors import InvalidInput, MistypedCode, UnknownCode
from shared.vouchers import (
    CODE_LENGTH,
    QR_PREFIX,
    damm_check_digit,
    damm_is_valid,
    format_code,
    normalise_code,
    parse_code,
    qr_content,
    qr_png,
    qr_svg,
    spoken_groups,
    voucher_code,
)

SECRET = b"test-secret"
OTHER_SECRET = b"another-secret"
DIGITS = "4821993017345562"  # normalise_code only looks at the shape, not the check digit

serials = st.integers(min_value=0, max_value=9_999_999)
bodies = st.text(alphabet="0123456789", min_size=15, max_size=15)


# --- Damm ---------------------------------------------------------------------------------


def test_damm_known_vector():
    assert damm_check_digit("572") == "4"
    assert damm_is_valid("5724")
    assert not damm_is_valid("5723")


def test_damm_refuses_what_is_not_ascii_digits():
    assert not damm_is_valid("")
    assert not damm_is_valid("57a4")
    assert not damm_is_valid("٥٧٢٤")  # Arabic-Indic digits: int() would take them
    with pytest.raises(InvalidInput):
        damm_check_digit("57a")


@given(bodies)
def test_damm_detects_every_single_substitution_and_adjacent_transposition(body):
    code = body + damm_check_digit(body)
    assert damm_is_valid(code)
    for i, original in enumerate(code):
        for digit in "0123456789":
            if digit != original:
                assert not damm_is_valid(code[:i] + digit + code[i + 1 :]), (code, i, digit)
    for i in range(len(code) - 1):
        a, b = code[i], code[i + 1]
        if a != b:
            assert not damm_is_valid(code[:i] + b + a + code[i + 2 :]), (code, i)


# --- voucher_code / parse_code --------------------------------------------------------------


def test_known_answer():
    # Pins the derivation: serial zero-padded to 7 digits inside the HMAC message.
    assert voucher_code(1234567, SECRET) == "1234567870520993"
    assert voucher_code(0, SECRET) == "0000000085056503"
    mac = hmac.new(SECRET, b"voucher:v1:0000042", hashlib.sha256).digest()
    tag = f"{int.from_bytes(mac, 'big') % 10**8:08d}"
    assert voucher_code(42, SECRET) == "0000042" + tag + damm_check_digit("0000042" + tag)


@given(serials)
def test_round_trip(serial):
    code = voucher_code(serial, SECRET)
    assert len(code) == CODE_LENGTH and code.isascii() and code.isdigit()
    assert code.startswith(f"{serial:07d}")
    assert damm_is_valid(code)
    assert parse_code(code, SECRET) == serial
    assert parse_code(format_code(code), SECRET) == serial
    assert parse_code(qr_content(code) + "\r\n", SECRET) == serial


@given(serials)
def test_code_from_another_secret_is_unknown(serial):
    with pytest.raises(UnknownCode, match="not issued"):
        parse_code(voucher_code(serial, OTHER_SECRET), SECRET)


def test_forged_tag_with_correct_check_digit_is_unknown():
    code = voucher_code(1234567, SECRET)
    body = code[:7] + f"{(int(code[7:15]) + 1) % 10**8:08d}"
    with pytest.raises(UnknownCode):
        parse_code(body + damm_check_digit(body), SECRET)


@pytest.mark.parametrize("serial", [0, 1, 1234567, 4821993, 9_999_999])
def test_every_single_digit_change_is_a_mistype(serial):
    code = voucher_code(serial, SECRET)
    for i, original in enumerate(code):
        for digit in "0123456789":
            if digit != original:
                with pytest.raises(MistypedCode, match="check digit does not match"):
                    parse_code(code[:i] + digit + code[i + 1 :], SECRET)


@pytest.mark.parametrize("serial", [-1, 10_000_000, 2**64, True, 1.0, "1", None])
def test_serial_out_of_range(serial):
    with pytest.raises(InvalidInput):
        voucher_code(serial, SECRET)


def test_empty_secret_is_refused():
    with pytest.raises(InvalidInput):
        voucher_code(1, b"")


# --- normalise_code -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "4821993017345562",
        "4821 9930 1734 5562",
        "  4821  9930 1734 5562  ",
        "4821993017345562\r\n",
        "4821993017345562\n",
        "4821\t9930\t1734\t5562",
        "4821-9930-1734-5562",
        "4821.9930.1734.5562",
        "4821\u00a09930\u00a01734\u00a05562",  # NBSP
        "4821\u202f9930\u202f1734\u202f5562",  # narrow NBSP (French grouping)
        "4821\u30009930\u30001734\u30005562",  # ideographic space
        "４８２１９９３０１７３４５５６２",  # full-width digits
        "４８２１\u3000９９３０\u3000１７３４\u3000５５６２",
        "PV14821993017345562",
        "pv14821993017345562",
        "Pv1 4821 9930 1734 5562",
        "PV1-4821-9930-1734-5562",
        "PV14821993017345562\r\n",
        "\ufeffPV14821993017345562",  # BOM from a pasted file
        "4821\u20139930\u20131734\u20135562",  # en dash
    ],
)
def test_normalise_accepts(text):
    assert normalise_code(text) == DIGITS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("482199301734556", "A voucher code has 16 digits; this has 15."),
        ("4821 9930 1734 55621", "A voucher code has 16 digits; this has 17."),
        ("", "A voucher code has 16 digits; this has none."),
        (" \r\n", "A voucher code has 16 digits; this has none."),
        ("PV1", "A voucher code has 16 digits; this has none."),
        ("4821 993O 1734 5562", "A voucher code has only the digits 0-9; this has 'O'."),
        ("4821/9930/1734/5562", "A voucher code has only the digits 0-9; this has '/'."),
        ("4821993017345562x", "A voucher code has only the digits 0-9; this has 'x'."),
        ("٤٨٢١٩٩٣٠١٧٣٤٥٥٦٢", "A voucher code has only the digits 0-9; this has '٤'."),
        ("PV24821993017345562", "Voucher format 'PV2' is not supported; expected PV1."),
        ("1 PV14821993017345562", "A voucher code has only the digits 0-9; this has 'P'."),
    ],
)
def test_normalise_refuses(text, message):
    with pytest.raises(MistypedCode, match=f"^{re.escape(message)}$"):
        normalise_code(text)


# Text biased towards the characters the parser cares about, so it reaches every branch.
near_codes = st.text(alphabet=st.sampled_from("0123456789０１９ -.\t\r\n\u00a0\u3000PVpv12"))


@given(
    st.one_of(
        st.text(),
        near_codes,
        st.text(alphabet="0123456789", min_size=16, max_size=16),  # mostly fail the check digit
        serials.map(lambda s: voucher_code(s, OTHER_SECRET)),
    )
)
def test_parse_code_raises_only_code_errors(text):
    try:
        serial = parse_code(text, SECRET)
    except (MistypedCode, UnknownCode):
        return
    assert voucher_code(serial, SECRET) == normalise_code(text)


# --- display --------------------------------------------------------------------------------


def test_format_and_spoken_groups():
    assert format_code(DIGITS) == "4821 9930 1734 5562"
    assert format_code(DIGITS, sep="-") == "4821-9930-1734-5562"
    assert spoken_groups(DIGITS) == ["4821", "9930", "1734", "5562"]


@pytest.mark.parametrize("bad", ["4821 9930 1734 5562", "482199301734556", "482199301734556x"])
def test_display_functions_want_bare_codes(bad):
    for function in (format_code, spoken_groups, qr_content):
        with pytest.raises(InvalidInput):
            function(bad)


# --- QR -----------------------------------------------------------------------------------


@given(serials)
def test_qr_content_is_alphanumeric_mode_safe(serial):
    content = qr_content(voucher_code(serial, SECRET))
    assert re.fullmatch(r"[A-Z0-9]+", content)
    assert content.startswith(QR_PREFIX) and len(content) == 19


CONTENTS = [qr_content(voucher_code(s, SECRET)) for s in (0, 1234567, 9_999_999)]


def _png_image(content: str) -> Image.Image:
    image = Image.open(io.BytesIO(qr_png(content)))
    image.load()
    return image


@pytest.mark.parametrize("content", CONTENTS)
def test_qr_png_decodes_with_zxing(content):
    image = _png_image(content)
    # 19 alphanumeric characters fit version 1 (21 modules) at level M: (21 + 2*4) * 8 px.
    assert image.size == (232, 232)
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [content]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].ec_level == "M"
    assert results[0].extra.get("Version") == "1"


def _zbar_decode():
    """pyzbar's decode, or skip (fail in CI) when the system library libzbar0 is missing."""
    try:
        from pyzbar.pyzbar import decode
    except (ImportError, OSError) as exc:
        message = f"zbar is not available ({exc}); install it with `apt-get install libzbar0`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return decode


@pytest.mark.parametrize("content", CONTENTS)
def test_qr_png_decodes_with_zbar(content):
    decode = _zbar_decode()
    results = decode(_png_image(content))
    assert [(r.type, r.data) for r in results] == [("QRCODE", content.encode("ascii"))]


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail), (None, pytest.skip)])
def test_missing_zbar_skips_locally_and_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)  # makes the import fail
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome.Exception, match="apt-get install libzbar0"):
        _zbar_decode()


def test_qr_png_box_size():
    assert Image.open(io.BytesIO(qr_png(CONTENTS[0], box_size=2))).size == (58, 58)
    with pytest.raises(InvalidInput):
        qr_png(CONTENTS[0], box_size=0)


def test_qr_svg_is_a_standalone_svg_with_a_path():
    svg = qr_svg(CONTENTS[0])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("viewBox") == "0 0 29 29"  # version 1 plus the 4-module quiet zone
    paths = root.findall(f".//{ns}path")
    assert paths and paths[0].get("d")
