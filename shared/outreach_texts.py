"""What the service sends by SMS on its own, in Chinese and English, and their budget.

These are the outbound texts :mod:`shared.outreach` queues (invitations, reminders,
confirmations, slot offers) and the values they are filled with. The SMS conversation
answers with some of them too (a booking by SMS is confirmed with the same words); its
other replies are in ``sms/texts.py``.

The segment budget: English texts use only GSM-7 and fit one segment of 160; Chinese texts
fit one UCS-2 segment of 70, and those carrying a voucher code (:data:`VOUCHER_KEYS`) two
(134). ``tests/test_sms_texts.py`` checks every template against the longest values. Names
are left out on purpose: they do not fit, and the code and time are what the
representative needs. The site's address (``{address}``, at most :data:`ADDRESS_MAX`
characters of the part in the message's language) follows the site in every Chinese text
that names the site, and in the English ``booked``, ``changed`` and ``reminder``: the
English ``invitation_booked`` and ``status`` have no room for it within one GSM-7 segment
once the longest site, time and amount are in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared import messages, storage
from shared.messages import clock
from shared.segments import GSM7_SINGLE, UCS2_PART, UCS2_SINGLE, count_segments, is_gsm7
from shared.vouchers import format_code

SMS: Mapping[str, Mapping[str, str]] = {
    "invitation": {
        "en": "{item}: you can collect {amount}. Reply BOOK to choose a pickup time, "
        "HELP for help.",
        "zh": "{item}：您可领取{amount}。回复“预约”选择领取时间。",
    },
    "invitation_booked": {
        "en": "{item}: collect {amount} on {when} at {site}. Voucher {code}. Reply CHANGE to move.",
        "zh": "{item}：请于{when}到{site}{address}领取{amount}。凭证号{code}。回复“改期”可改时间。",
    },
    "reminder": {
        "en": "Reminder: pickup {when} at {site}{address}, {amount}. Voucher {code}.",
        "zh": "提醒：请于{when}到{site}{address}领取{amount}，凭证号{code}。",
    },
    "booked": {
        "en": "Booked: {when} at {site}{address}, {amount}. Voucher {code}. Show it when you "
        "collect.",
        "zh": "已预约{when}在{site}{address}领取{amount}。凭证号{code}，领取时出示。",
    },
    "changed": {
        "en": "Moved to {when} at {site}{address}, {amount}. Your voucher {code} stays valid.",
        "zh": "已改到{when}，地点{site}{address}，数量{amount}。凭证号{code}不变。",
    },
    "cancelled": {
        "en": "Cancelled. Voucher {code} is no longer valid. Reply BOOK to book again.",
        "zh": "已取消预约，凭证号{code}作废。回复“预约”可重新预约。",
    },
    "offer": {
        "en": "Reply {choices} within {minutes} min: {options}",
        "zh": "{minutes}分钟内回复序号选时段：{options}",
    },
    "missed_offer": {
        "en": "You missed your pickup time. Reply {choices} within {minutes} min for a new "
        "one: {options}",
        "zh": "您错过了领取时段。{minutes}分钟内回复序号改约：{options}",
    },
    "waiting_offer": {
        "en": "A pickup time is free for you. Reply {choices} within {minutes} min to book "
        "it: {options}",
        "zh": "有空余领取时段。{minutes}分钟内回复序号预约：{options}",
    },
}

# Templates that carry the voucher code: in Chinese they may take two UCS-2 segments.
VOUCHER_KEYS = frozenset({"booked", "changed", "cancelled", "invitation_booked", "reminder"})


def sms_text(key: str, language: str, **values: object) -> str:
    """The outbound SMS ``key`` in ``language``, filled with ``values``."""
    return SMS[key][language].format(**values)


def segment_budget(language: str, carries_code: bool) -> int:
    """The most units (GSM-7 septets, UCS-2 code units) one SMS in ``language`` may take."""
    if language == "en":
        return GSM7_SINGLE
    return 2 * UCS2_PART if carries_code else UCS2_SINGLE


def within_budget(text: str, language: str, carries_code: bool) -> bool:
    """True if ``text`` keeps to the budget: English in GSM-7 only, and short enough."""
    count = count_segments(text)
    if language == "en" and count.encoding != "GSM-7":
        return False
    return count.units <= segment_budget(language, carries_code)


SITE_MAX = {"en": 26, "zh": 12}
ADDRESS_MAX = {"en": 28, "zh": 24}
ITEM_MAX = {"en": 14, "zh": 8}
MEASURE_MAX = 8
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _shorten(text: str, limit: int, language: str) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if language == "en" and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-")


def language_part(text: str, language: str, limit: int) -> str:
    """The part of a bilingual name that suits ``language``, short enough for an SMS.

    Demo names read like ``区企业服务中心 Enterprise Service Centre``: Chinese keeps the
    words with Chinese characters, English the words that are plain GSM-7. If nothing
    suits, Chinese takes the whole name and English an empty string.
    """
    words = text.split()
    if language == "zh":
        chosen = [w for w in words if _CJK.search(w)] or words
    else:
        chosen = [w for w in words if is_gsm7(w) and not _CJK.search(w)]
    return _shorten(" ".join(chosen), limit, language)


def address(text: str, language: str) -> str:
    """The site's address as an SMS adds it after the site: `` (Jinping, Fenghua)`` or
    ``（锦屏街道南山路）``; the part in ``language``, or nothing when it has none."""
    part = language_part(text or "", language, ADDRESS_MAX[language] + 2).strip("()（） ")
    part = _shorten(part, ADDRESS_MAX[language], language)
    if not part:
        return ""
    return f"（{part}）" if language == "zh" else f" ({part})"


def local(moment_text: str, timezone: str) -> datetime:
    moment = storage.from_db_time(moment_text)
    assert moment is not None
    return moment.astimezone(ZoneInfo(timezone))


def day(moment: datetime, language: str) -> str:
    return messages.day(moment, language)


def when(starts_at: str, ends_at: str, timezone: str, language: str) -> str:
    """``4 Feb 12:00-12:15`` or ``2月4日12:00-12:15``."""
    start, end = local(starts_at, timezone), local(ends_at, timezone)
    gap = "" if language == "zh" else " "
    return f"{day(start, language)}{gap}{clock(start)}-{clock(end)}"


def start_time(starts_at: str, timezone: str, language: str) -> str:
    start = local(starts_at, timezone)
    gap = "" if language == "zh" else " "
    return f"{day(start, language)}{gap}{clock(start)}"


def amount(units: int, unit_size: float, measure: str, language: str) -> str:
    """``12 x 20 kg`` or ``12×20kg``: the allotment as units of a size."""
    if language == "zh":
        return f"{units}×{unit_size:g}{_shorten(measure, MEASURE_MAX, 'zh')}"
    unit = language_part(measure, "en", MEASURE_MAX)
    return f"{units} x {unit_size:g} {unit}".rstrip()


def item_label(distribution_name: str, item: str, language: str) -> str:
    """A short name for what is handed out: ``Disinfectant`` or ``消毒用品发放``."""
    if language == "zh" and _CJK.search(distribution_name):
        return language_part(distribution_name, "zh", ITEM_MAX["zh"])
    base = item.split("(")[0]
    label = language_part(base, language, ITEM_MAX[language])
    return label or language_part(distribution_name, language, ITEM_MAX[language])


def voucher_values(voucher: Mapping[str, Any], language: str) -> dict[str, str]:
    """Template values from a :func:`shared.storage.voucher_view` row."""
    return {
        "when": when(voucher["starts_at"], voucher["ends_at"], voucher["timezone"], language),
        "site": language_part(voucher["site_name"], language, SITE_MAX[language]),
        "address": address(voucher["site_address"], language),
        "amount": amount(voucher["units"], voucher["unit_size"], voucher["measure"], language),
        "code": format_code(voucher["code"]),
        "item": item_label(voucher["distribution_name"], voucher["item"], language),
    }


def choices(count: int, language: str) -> str:
    digits = [str(i) for i in range(1, count + 1)]
    if len(digits) == 1:
        return digits[0]
    return f"{', '.join(digits[:-1])} or {digits[-1]}"
