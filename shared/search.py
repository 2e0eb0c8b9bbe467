"""What a typed search means, in terms an index can answer on SQLite and PostgreSQL alike.

Staff search and the console's recipients list read one search box. A ``LIKE '%...%'``
over every row is what no index helps, so a query is turned into lookups that each have
their index (migration ``0016_search_indexes``):

- a name or contact name that *begins* with the text (case-insensitive for Latin letters):
  a range over ``lower(name)``, checked again with ``LIKE``;
- an external id that begins with the text (as typed, or in capitals);
- with four or more digits typed: a phone or voucher code that *ends* with them (the index
  holds their last four digits), or a voucher code that *begins* with them.

So a fragment in the middle of a name or code no longer finds it; the beginning of a name
and the last digits of a phone or code (what is read off a screen or said at the desk) do.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MIN_DIGITS = 4  # fewer digits than this match no phone or code (too many hits to be useful)
MAX_QUERY = 100  # characters of a query that are read; the rest is ignored

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class SearchTerms:
    """The parameters of the indexed lookups for one query (None: that lookup is off)."""

    text: str  # the query as typed, trimmed
    name_from: str  # lower-cased text: names at or after it ...
    name_until: str  # ... and before this, then checked with ``name_like``
    name_like: str
    id_from: str  # external ids beginning with the text as typed
    id_until: str
    id_upper_from: str  # ... or in capitals
    id_upper_until: str
    digits: str | None  # the digits typed (full-width ones too), at least MIN_DIGITS
    last4: str | None  # their last four: the phone and code indexes' key
    ends_like: str | None  # phone or code ending with the digits
    code_until: str | None  # codes beginning with the digits: from ``digits`` to this

    def as_params(self) -> dict[str, str | None]:
        return {
            "name_from": self.name_from,
            "name_until": self.name_until,
            "name_like": self.name_like,
            "id_from": self.id_from,
            "id_until": self.id_until,
            "id_upper_from": self.id_upper_from,
            "id_upper_until": self.id_upper_until,
            "digits": self.digits,
            "last4": self.last4,
            "ends_like": self.ends_like,
            "code_until": self.code_until,
        }


def _after_prefix(prefix: str) -> str:
    """The smallest text after every text that begins with ``prefix`` (binary order)."""
    while prefix and ord(prefix[-1]) >= 0x10FFFF:
        prefix = prefix[:-1]
    if not prefix:
        return "\U0010ffff"
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def typed_digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII (full-width ``１２`` too; ``²`` is no digit)."""
    return "".join(
        str(unicodedata.decimal(ch)) for ch in text if unicodedata.decimal(ch, None) is not None
    )


def search_terms(query: str) -> SearchTerms | None:
    """The lookups for ``query``; None when there is nothing to look for."""
    text = " ".join(query.split())[:MAX_QUERY]
    if not text:
        return None
    lowered = text.translate(_ASCII_LOWER)
    upper = text.upper()
    digits = typed_digits(text)
    has_digits = len(digits) >= MIN_DIGITS
    return SearchTerms(
        text=text,
        name_from=lowered,
        name_until=_after_prefix(lowered),
        name_like=_like_escaped(lowered) + "%",
        id_from=text,
        id_until=_after_prefix(text),
        id_upper_from=upper,
        id_upper_until=_after_prefix(upper),
        digits=digits if has_digits else None,
        last4=digits[-MIN_DIGITS:] if has_digits else None,
        ends_like="%" + digits if has_digits else None,
        code_until=_after_prefix(digits) if has_digits else None,
    )
