"""Safety instructions per item and language: look them up, edit them, acknowledge them.

The content is operator-editable data (table ``safety_contents``, seeded by migration
``0003_pickup_point``). Every channel shows the same content: the kiosk and the voucher page
in full, the SMS channel the short version from :func:`short_text`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared import storage
from shared.errors import InvalidInput
from shared.messages import LANGUAGES

# The sections in the order people read them.
SECTIONS = ("hazards", "protective_equipment", "dilution", "storage", "never_mix", "first_aid")

SECTION_TITLES: Mapping[str, Mapping[str, str]] = {
    "hazards": {"zh": "危险", "en": "Hazards"},
    "protective_equipment": {"zh": "防护用品", "en": "Protective equipment"},
    "dilution": {"zh": "稀释与使用", "en": "Dilution and use"},
    "storage": {"zh": "储存", "en": "Storage"},
    "never_mix": {"zh": "切勿混用", "en": "Never mix"},
    "first_aid": {"zh": "急救", "en": "First aid"},
}

# The GHS pictograms the content may name (the kiosk draws them as inline SVG).
PICTOGRAMS: Mapping[str, Mapping[str, str]] = {
    "GHS02": {"zh": "易燃", "en": "Flammable"},
    "GHS03": {"zh": "氧化性", "en": "Oxidiser"},
    "GHS05": {"zh": "腐蚀性", "en": "Corrosive"},
    "GHS07": {"zh": "有害/刺激", "en": "Harmful or irritant"},
    "GHS09": {"zh": "危害水生环境", "en": "Harmful to aquatic life"},
}

SMS_GSM_LIMIT = 160  # one GSM-7 segment
SMS_UCS2_LIMIT = 70  # one UCS-2 segment (any Chinese character makes the message UCS-2)

# GSM 03.38 basic character set, and the extension table whose characters cost two.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SafetyContent:
    item_key: str
    language: str
    title: str
    hazards: tuple[str, ...]
    protective_equipment: tuple[str, ...]
    dilution: tuple[str, ...]
    storage: tuple[str, ...]
    never_mix: tuple[str, ...]
    first_aid: tuple[str, ...]
    pictograms: tuple[str, ...]
    sms: str

    def sections(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(key, heading, lines)`` per section, in reading order, in this language."""
        return [(key, SECTION_TITLES[key][self.language], getattr(self, key)) for key in SECTIONS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_key": self.item_key,
            "language": self.language,
            "title": self.title,
            **{key: list(getattr(self, key)) for key in SECTIONS},
            "pictograms": list(self.pictograms),
            "sms": self.sms,
        }


def _from_row(row: Mapping[str, Any]) -> SafetyContent:
    return SafetyContent(
        item_key=row["item_key"],
        language=row["language"],
        title=row["title"],
        **{key: tuple(json.loads(row[key])) for key in SECTIONS},
        pictograms=tuple(json.loads(row["pictograms"])),
        sms=row["sms"],
    )


def content_for(db: Database, item_key: str | None, language: str) -> SafetyContent | None:
    """The instructions for ``item_key`` in ``language``, else in the other language.

    None when the item has no instructions (an item without a key, or one not yet written).
    """
    if not item_key:
        return None
    for candidate in (language, *(lang for lang in LANGUAGES if lang != language)):
        row = storage.get_safety_content(db, item_key, candidate)
        if row is not None:
            return _from_row(row)
    return None


def item_titles(db: Database, language: str) -> dict[str, str]:
    """Every item with instructions, by key, named in ``language`` (else the other one):
    ``{"ethanol_75": "75%酒精"}``. What a person chooses from, never the bare key."""
    rows = sorted(storage.list_safety_contents(db), key=lambda r: r["language"] != language)
    titles: dict[str, str] = {}
    for row in rows:
        titles.setdefault(row["item_key"], row["title"])
    return dict(sorted(titles.items(), key=lambda item: item[1]))


def short_text(db: Database, item_key: str | None, language: str) -> str:
    """The one-segment SMS version of the instructions; empty when there are none."""
    content = content_for(db, item_key, language)
    return content.sms if content else ""


def sms_length(text: str) -> tuple[int, int]:
    """``(length, limit)`` of ``text`` in one SMS segment: GSM-7 septets or UCS-2 characters."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        return sum(2 if ch in _GSM_EXTENDED else 1 for ch in text), SMS_GSM_LIMIT
    # UCS-2 counts UTF-16 code units: a character outside the BMP costs two.
    return len(text.encode("utf-16-le")) // 2, SMS_UCS2_LIMIT


def validate(item_key: str, language: str, fields: Mapping[str, Any]) -> dict[str, str]:
    """Check one item's content and return it as stored; InvalidInput names what is wrong."""
    where = f"{item_key or '?'}/{language or '?'}"
    if not isinstance(item_key, str) or not item_key.strip() or not item_key.isidentifier():
        raise InvalidInput("safety_item_key", where=where)
    if language not in LANGUAGES:
        raise InvalidInput("safety_language", where=where, languages=", ".join(LANGUAGES))
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("safety_title", where=where)
    stored = {"title": title.strip()}
    for key in SECTIONS:
        lines = fields.get(key)
        if (
            not isinstance(lines, list)
            or not lines
            or not all(isinstance(line, str) and line.strip() for line in lines)
        ):
            raise InvalidInput("safety_section", where=where, section=key)
        stored[key] = json.dumps([line.strip() for line in lines], ensure_ascii=False)
    pictograms = fields.get("pictograms", [])
    unknown = [p for p in pictograms if p not in PICTOGRAMS] if isinstance(pictograms, list) else 0
    if not isinstance(pictograms, list) or unknown:
        raise InvalidInput("safety_pictograms", where=where, known=", ".join(PICTOGRAMS))
    stored["pictograms"] = json.dumps(pictograms)
    sms = fields.get("sms")
    if not isinstance(sms, str) or not sms.strip():
        raise InvalidInput("safety_sms_empty", where=where)
    length, limit = sms_length(sms.strip())
    if length > limit:
        raise InvalidInput("safety_sms_long", where=where, length=length, limit=limit)
    stored["sms"] = sms.strip()
    return stored


def export_contents(db: Database) -> list[dict[str, Any]]:
    """Every item's instructions, one dict per item and language (the import format)."""
    return [_from_row(row).to_dict() for row in storage.list_safety_contents(db)]


def import_contents(
    db: Database, entries: Iterable[Mapping[str, Any]], now: datetime, actor: str
) -> int:
    """Write the instructions given; every entry is checked first, so an error writes none."""
    checked = [
        (
            entry.get("item_key"),
            entry.get("language"),
            validate(entry.get("item_key"), entry.get("language"), entry),
        )
        for entry in entries
    ]
    with storage.transaction(db):
        for item_key, language, values in checked:
            storage.upsert_safety_content(db, item_key, language, values, now, actor)
        storage.audit(
            db,
            actor,
            "edit_safety_content",
            "safety_contents",
            now,
            {"entries": [f"{key}/{lang}" for key, lang, _ in checked]},
        )
    return len(checked)


def acknowledge(
    db: Database, booking_id: int, item_key: str, language: str, channel: str, now: datetime
) -> bool:
    """Record that the holder acknowledged the instructions; idempotent per booking and item.

    Returns True the first time, False when it was already recorded.
    """
    with storage.transaction(db):
        first = storage.insert_acknowledgement(db, booking_id, item_key, language, channel, now)
        if first:
            storage.audit(
                db,
                channel,
                "acknowledge_safety",
                f"booking:{booking_id}",
                now,
                {"item_key": item_key, "language": language},
            )
    return first


def acknowledgement(db: Database, booking_id: int) -> dict[str, Any] | None:
    """When and where the instructions were acknowledged for a booking, if they were."""
    return storage.get_acknowledgement(db, booking_id)
