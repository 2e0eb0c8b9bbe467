"""How many SMS segments a text costs: GSM-7 when every character allows it, else UCS-2.

GSM 03.38: 160 septets in one segment, 153 per part of a longer message; the extension
characters ``{ } [ ] ~ \\ | ^ €`` (and form feed) take an escape septet, so they cost two.
One character outside the alphabet (any Chinese character) makes the whole message UCS-2:
70 UTF-16 code units in one segment, 67 per part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    @property
    def single_limit(self) -> int:
        return GSM7_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` is in the GSM-7 alphabet or its extension."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def gsm7_length(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters count two)."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def ucs2_length(text: str) -> int:
    """UTF-16 code units: characters beyond the BMP (most emoji) count two."""
    return len(text.encode("utf-16-le")) // 2


def count_segments(text: str) -> SegmentCount:
    """Encoding, length in that encoding, and number of segments of ``text``."""
    if is_gsm7(text):
        units = gsm7_length(text)
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        units = ucs2_length(text)
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    segments = 1 if units <= single else math.ceil(units / part)
    return SegmentCount(encoding, units, segments)
