"""Keep secrets and personal data out of the logs.

:func:`redact` masks phone numbers to their last four digits, replaces voucher codes in
every spelling :func:`shared.vouchers.normalise_code` accepts (16 digits, ASCII or
full-width, grouped by any of its separators, bare or after ``PV1`` in any case, and each of
these percent-encoded as a URL or form carries them) and API tokens, and blanks the
registered secrets (``SECRET_KEY``, the Twilio auth token). :func:`escape_controls` writes
control characters as escapes, so a ``%0A`` in a path cannot forge a second log line.
:func:`install` makes every log record of the process pass through both when it is made,
whoever logs it: our modules, werkzeug's request lines, gunicorn's access log (which has
the path, and ``/v/<code>`` holds a code).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

from shared.messages import BIDI_CONTROLS
from shared.vouchers import CODE_LENGTH, FULLWIDTH_DIGITS, QR_PREFIX, SEPARATORS


def _spellings(characters: str) -> str:
    """A regex alternative for each of ``characters``: raw, percent-encoded (UTF-8), or as
    its UTF-8 bytes read as Latin-1 (how WSGI hands a path over, and gunicorn logs it)."""
    alternatives = set()
    for char in characters:
        utf8 = char.encode("utf-8")
        alternatives.add(re.escape(char))
        alternatives.add(re.escape(utf8.decode("latin-1")))
        alternatives.add("".join(f"%{byte:02X}" for byte in utf8))
    return "(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + ")"


_DIGIT = _spellings("0123456789" + FULLWIDTH_DIGITS)
# "+" is a space in a form body (code=5279+4871+...).
_SEPARATOR = _spellings(SEPARATORS + "+")
_PREFIX = "".join(_spellings(char) for char in QR_PREFIX)
# Voucher codes as anyone may have typed them: 16 (or more) digits with any separators
# between them, maybe after PV1; longer runs are redacted whole (never a phone: 15 at most).
_CODE = re.compile(
    rf"(?:{_PREFIX}{_SEPARATOR}*)?{_DIGIT}(?:{_SEPARATOR}*{_DIGIT}){{{CODE_LENGTH - 1},}}",
    re.IGNORECASE,
)
# Phone numbers: E.164 with its "+" (maybe grouped: +86 170 0000 0001, or %2B86... in a
# form body), or a bare run of 10 to 15 digits. Dates, times and IP addresses never match.
_PHONE = re.compile(r"(?:\+|%2B)\d(?:[ \-]?\d){6,16}(?!\d)|(?<!\d)\d{10,15}(?!\d)")
_TOKEN = re.compile(r"pk_[A-Za-z0-9_\-]+")
VOUCHER = "[voucher]"
TOKEN = "pk_[token]"
SECRET = "[secret]"

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def mask_phone(phone: str) -> str:
    """``+8617000000001`` -> ``…0001``: enough to tell numbers apart, not to dial one."""
    digits = "".join(ch for ch in phone.replace("%2B", "+") if ch.isdigit())
    return "…" + digits[-4:]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets blanked, tokens and voucher codes replaced, phones masked."""
    for secret in sorted({*secrets, *_secrets}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, SECRET)
    text = _TOKEN.sub(TOKEN, text)
    text = _CODE.sub(VOUCHER, text)
    return _PHONE.sub(lambda match: mask_phone(match.group(0)), text)


def _is_control(char: str) -> bool:
    """C0/C1 controls, line and paragraph separators, and the bidirectional controls:
    characters that would break a log line or reorder what a terminal shows."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def escape_controls(text: str) -> str:
    """``text`` on one line: every control character written as an escape (``\\n``, ``\\x1b``)."""
    if not any(_is_control(char) for char in text):
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii") if _is_control(char) else char
        for char in text
    )


def register_secret(value: str | bytes | None) -> None:
    """Never let ``value`` appear in a log line (short values are ignored: too many clashes)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value and len(value) >= 8:
        with _lock:
            _secrets.add(value)


def install() -> None:
    """Make every log record of this process redacted as it is made (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a malformed log call: keep its text, redacted, not the args
                message = str(record.msg)
            record.msg, record.args = escape_controls(redact(message)), None
            return record

        logging.setLogRecordFactory(redacted_record)
        _installed = True
