"""Keep secrets and personal data out of the logs.

:func:`redact` masks phone numbers to their last four digits, replaces voucher codes (16
digits, grouped or not, bare or after the QR prefix) and API tokens, and blanks the
registered secrets (``SECRET_KEY``, the Twilio auth token). :func:`install` makes every log
record of the process pass through it when it is made, whoever logs it: our modules,
werkzeug's request lines, gunicorn's access log (which has the path, and ``/v/<code>``
holds a code).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

# Voucher codes: 16 digits, bare, in groups of four, or after the QR prefix ``PV1``.
_CODE = re.compile(r"PV1\d{16}|(?<!\d)\d{4}([ \-]?)\d{4}\1\d{4}\1\d{4}(?!\d)")
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
            record.msg, record.args = redact(message), None
            return record

        logging.setLogRecordFactory(redacted_record)
        _installed = True
