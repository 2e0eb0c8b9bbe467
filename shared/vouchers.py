"""Voucher codes: make them, read them back, show them as text, speech and QR.

A code is 16 decimal digits, ``SSSSSSS TTTTTTTT C``:

* ``SSSSSSS`` - the voucher's serial (its row key), zero-padded, 0..9,999,999.
* ``TTTTTTTT`` - a tag: HMAC-SHA256(secret, b"voucher:v1:" + the 7-digit serial), read as a
  big-endian integer mod 10**8. Only the holder of the secret can make a valid tag, and
  knowing any number of issued codes does not help forge another. Tags are compared
  with ``hmac.compare_digest``.
* ``C`` - a Damm check digit over the first 15 digits. Damm catches every single-digit
  error and every transposition of two adjacent digits, the two mistakes people make
  typing on a phone keypad, so a typo is reported as a typo (MistypedCode) instead of as a
  forgery (UnknownCode), and without a database lookup.

Digits only, so it can be typed on a keypad and read out by an IVR. People see it in
groups of four: ``4821 9930 1734 5562``.

The QR code holds ``"PV1" + code``: upper-case letters and digits only, so the QR uses
alphanumeric mode (19 characters fit version 1 at error correction M), and keyboard-wedge
scanners cannot mistype it (they garble ``/ : -`` on non-US keyboard layouts). ``PV1``
names the format version, so a later format (say a signed ``PV2``) can coexist.
"""

from __future__ import annotations

import hmac
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from shared.error_texts import Said
from shared.errors import InvalidInput, MistypedCode, UnknownCode

CODE_LENGTH = 16
QR_PREFIX = "PV1"
SERIAL_LENGTH = 7
TAG_LENGTH = 8
MAX_SERIAL = 10**SERIAL_LENGTH - 1

_DIGITS = frozenset("0123456789")

# The standard order-10 totally anti-symmetric quasigroup (Damm, 2004).
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Full-width digits (Japanese/Chinese IMEs) read as ASCII digits.
FULLWIDTH_DIGITS = "０１２３４５６７８９"
_FULLWIDTH_TO_ASCII = str.maketrans(FULLWIDTH_DIGITS, "0123456789")

# Characters skipped anywhere in a typed or scanned code: whitespace (including NBSP, narrow
# NBSP and the ideographic space), CR/LF from wedge scanners, zero-width characters and BOMs
# from copy-paste, and the dashes and dots people put between groups.
SEPARATORS = (
    " \t\r\n\u00a0\u2007\u2009\u202f\u3000"  # spaces
    "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM
    "-\u2010\u2011\u2012\u2013\u2014\u2212\uff0d"  # hyphens, dashes, minus, full-width hyphen
    ".\uff0e"  # full stop, full-width full stop
)
_SEPARATOR_SET = frozenset(SEPARATORS)


def _damm_step(interim: int, digits: str) -> int:
    for ch in digits:
        interim = _DAMM_TABLE[interim][ord(ch) - 48]
    return interim


# The table applied to three digits at once: [interim][the three digits as text]. Scheduling
# 100,000 vouchers computes 100,000 check digits; this takes five steps for 15 digits.
_DAMM_TRIPLES = tuple(
    {f"{n:03d}": _damm_step(interim, f"{n:03d}") for n in range(1000)} for interim in range(10)
)


def _damm_interim(digits: str) -> int:
    whole = len(digits) - len(digits) % 3
    interim = 0
    for at in range(0, whole, 3):
        interim = _DAMM_TRIPLES[interim][digits[at : at + 3]]
    return _damm_step(interim, digits[whole:])


def damm_check_digit(digits: str) -> str:
    """The Damm check digit for a string of ASCII digits."""
    if not _DIGITS.issuperset(digits):
        raise InvalidInput("damm_not_digits")
    return str(_damm_interim(digits))


def damm_is_valid(digits_with_check: str) -> bool:
    """True if the last digit is the Damm check digit of the ones before it."""
    if not digits_with_check or not _DIGITS.issuperset(digits_with_check):
        return False
    return _damm_interim(digits_with_check) == 0


def _tag(serial_str: str, secret: bytes) -> str:
    if not isinstance(secret, bytes) or not secret:
        raise InvalidInput("voucher_secret_empty")
    # hmac.digest: the one-shot form, several times faster than an HMAC object per code.
    digest = hmac.digest(secret, b"voucher:v1:" + serial_str.encode("ascii"), "sha256")
    return f"{int.from_bytes(digest, 'big') % 10**TAG_LENGTH:0{TAG_LENGTH}d}"


def voucher_code(serial: int, secret: bytes) -> str:
    """The 16-digit code for ``serial`` (0..9,999,999) under ``secret``."""
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= MAX_SERIAL:
        raise InvalidInput("voucher_serial_range", max=f"{MAX_SERIAL:,}")
    serial_str = f"{serial:0{SERIAL_LENGTH}d}"
    body = serial_str + _tag(serial_str, secret)
    return body + damm_check_digit(body)


def normalise_code(text: str) -> str:
    """The bare 16 digits of a code as typed, pasted or scanned.

    Accepts ASCII or full-width digits, an optional ``PV1`` prefix in any case, and spaces,
    tabs, CR/LF, dashes and dots anywhere. Raises MistypedCode for anything else.
    """
    if not isinstance(text, str):
        raise InvalidInput("voucher_code_not_text")
    rest = text.translate(_FULLWIDTH_TO_ASCII).lstrip(SEPARATORS)
    head = rest[:3]
    if head.isascii() and head.upper() == QR_PREFIX:
        rest = rest[3:]
    elif head[:2].isascii() and head[:2].upper() == "PV":
        raise MistypedCode("voucher_format", head=head, prefix=QR_PREFIX)
    digits = []
    for ch in rest:
        if ch in _DIGITS:
            digits.append(ch)
        elif ch not in _SEPARATOR_SET:
            raise MistypedCode("voucher_character", char=ch)
    if len(digits) != CODE_LENGTH:
        count = len(digits) or "none"
        raise MistypedCode(
            "voucher_length",
            missing_digits=CODE_LENGTH - len(digits),
            length=CODE_LENGTH,
            count=Said(str(count).replace("none", "0"), str(count)),
        )
    return "".join(digits)


def parse_code(text: str, secret: bytes) -> int:
    """The serial of the voucher whose code is ``text``.

    MistypedCode if it is not 16 digits or fails the check digit; UnknownCode if it passes
    the check digit but was not issued under ``secret`` (forged, or from another system).
    """
    code = normalise_code(text)
    if not damm_is_valid(code):
        raise MistypedCode("voucher_check_digit")
    serial_str = code[:SERIAL_LENGTH]
    tag = code[SERIAL_LENGTH : SERIAL_LENGTH + TAG_LENGTH]
    if not hmac.compare_digest(tag, _tag(serial_str, secret)):
        raise UnknownCode("voucher_not_issued")
    return int(serial_str)


def _require_code(code: str) -> None:
    if not isinstance(code, str) or len(code) != CODE_LENGTH or not _DIGITS.issuperset(code):
        raise InvalidInput("voucher_code_bare", length=CODE_LENGTH)


def spoken_groups(code: str) -> list[str]:
    """The code in groups of four digits, for showing or for an IVR to read one at a time."""
    _require_code(code)
    return [code[i : i + 4] for i in range(0, CODE_LENGTH, 4)]


def format_code(code: str, sep: str = " ") -> str:
    """The code for display: ``4821 9930 1734 5562``."""
    return sep.join(spoken_groups(code))


def qr_content(code: str) -> str:
    """What the QR code holds: ``PV1`` followed by the 16 digits."""
    _require_code(code)
    return QR_PREFIX + code


def _qr(content: str, image_factory: type | None = None, box_size: int = 10) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=box_size,
        border=4,
        image_factory=image_factory,
    )
    qr.add_data(content)
    qr.make(fit=True)
    return qr


def qr_svg(content: str) -> str:
    """A standalone SVG document (no XML declaration) of a QR code holding ``content``."""
    image = _qr(content, qrcode.image.svg.SvgPathFillImage).make_image()
    return image.to_string(encoding="unicode")


def qr_png(content: str, box_size: int = 8) -> bytes:
    """PNG bytes of a QR code holding ``content``, ``box_size`` pixels per module."""
    if isinstance(box_size, bool) or not isinstance(box_size, int) or box_size < 1:
        raise InvalidInput("qr_box_size")
    image = _qr(content, box_size=box_size).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
