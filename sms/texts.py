"""What the SMS and phone channel says, in Chinese and English, and the values it fills in.

SMS templates must fit the segment limits (checked by ``tests/test_sms_segments.py``
against the longest values): English replies use only GSM-7 and fit 160 characters;
Chinese replies fit one UCS-2 segment of 70, the ones that carry a voucher code
(:data:`VOUCHER_KEYS`) at most two (134). Names are left out on purpose: they do not fit,
and the code and time are what the representative needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared import storage
from shared.messages import clock
from shared.vouchers import format_code, spoken_groups
from sms.segments import is_gsm7

SMS: Mapping[str, Mapping[str, str]] = {
    "help": {
        "en": "Reply BOOK to book a pickup time, STATUS for yours, CHANGE to move it, "
        "QX to cancel it, ZH for Chinese. STOP ends all SMS.",
        "zh": "回复：预约、查询、改期、取消(QX)；EN切换英文；退订TD。",
    },
    "unknown_phone": {
        "en": "This phone is not on the pickup list. Ask the organiser to register it, "
        "then reply HELP.",
        "zh": "本号码不在领取名单上。请联系发放单位登记后再回复“帮助”。",
    },
    "status": {
        "en": "{which}Pickup {when} at {site}: {amount}. Voucher {code}. "
        "CHANGE to move, QX to cancel.",
        "zh": "{which}领取时间{when}，地点{site}，数量{amount}。凭证号{code}。回复改期或取消。",
    },
    "no_booking": {
        "en": "{which}You have no pickup time yet. Reply BOOK to get one.",
        "zh": "{which}您还没有预约领取时间。回复“预约”选择时段。",
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
    "no_slots": {
        "en": "Sorry, no pickup times are free now. Reply STATUS to see your booking.",
        "zh": "抱歉，目前没有空余时段。回复“查询”查看预约。",
    },
    "booked": {
        "en": "Booked: {when} at {site}, {amount}. Voucher {code}. Show it when you collect.",
        "zh": "已预约{when}在{site}领取{amount}。凭证号{code}，领取时出示。",
    },
    "changed": {
        "en": "Moved to {when} at {site}, {amount}. Your voucher {code} stays valid.",
        "zh": "已改到{when}，地点{site}，数量{amount}。凭证号{code}不变。",
    },
    "not_offered": {
        "en": "No times are on offer now. Reply BOOK to see free times.",
        "zh": "目前没有待选时段。回复“预约”查看空余时段。",
    },
    "bad_choice": {
        "en": "Please reply {choices} to choose a time, or BOOK for new times.",
        "zh": "请回复序号选择时段，或回复“预约”重新查看。",
    },
    "slot_taken": {
        "en": "Sorry, that time was just taken. Reply BOOK for new times.",
        "zh": "抱歉，该时段刚被约满。回复“预约”重新选择。",
    },
    "closed": {
        "en": "This booking can no longer be changed by SMS. Please ask staff at the pickup point.",
        "zh": "此预约已无法更改，请咨询领取点工作人员。",
    },
    "confirm_cancel": {
        "en": "Cancel your pickup on {when}? Reply 1 to confirm. Any other reply keeps it.",
        "zh": "确定取消{when}的领取预约吗？回复1确认，其他回复保留。",
    },
    "cancelled": {
        "en": "Cancelled. Voucher {code} is no longer valid. Reply BOOK to book again.",
        "zh": "已取消预约，凭证号{code}作废。回复“预约”可重新预约。",
    },
    "kept": {
        "en": "Not cancelled: your pickup on {when} stays booked.",
        "zh": "未取消：{when}的预约保留。",
    },
    "nothing_to_cancel": {
        "en": "You have no booking to cancel. Reply BOOK to book a pickup time.",
        "zh": "您没有可取消的预约。回复“预约”选择时段。",
    },
    "code_not_yours": {
        "en": "That voucher code is not one of this phone's bookings. Check it and try again.",
        "zh": "该凭证号不属于本号码的预约，请核对后重试。",
    },
    "code_mistyped": {
        "en": "That voucher code has a typo. Check the 16 digits and try again.",
        "zh": "凭证号有误，请核对16位数字后重试。",
    },
    "opted_out": {
        "en": "You will get no more SMS from us. Reply START to get them again.",
        "zh": "已退订，不再向您发送短信。回复START恢复。",
    },
    "opted_in": {
        "en": "SMS are on again. Reply HELP for the commands.",
        "zh": "已恢复短信通知。回复“帮助”查看指令。",
    },
    "language_set": {
        "en": "We will write in English. Reply HELP for the commands.",
        "zh": "已改为中文。回复“帮助”查看指令。",
    },
    "invitation": {
        "en": "{item}: you can collect {amount}. Reply BOOK to choose a pickup time, "
        "HELP for help.",
        "zh": "{item}：您可领取{amount}。回复“预约”选择领取时间。",
    },
    "invitation_booked": {
        "en": "{item}: collect {amount} on {when} at {site}. Voucher {code}. Reply CHANGE to move.",
        "zh": "{item}：请于{when}到{site}领取{amount}。凭证号{code}。回复“改期”可改时间。",
    },
    "reminder": {
        "en": "Reminder: pickup {when} at {site}, {amount}. Voucher {code}.",
        "zh": "提醒：请于{when}到{site}领取{amount}，凭证号{code}。",
    },
    "rate_limited": {
        "en": "Too many messages from this phone. We will answer again in 10 minutes; "
        "STATUS then shows your booking.",
        "zh": "本号码短信过多，10分钟内不再回复。之后回复“查询”可查看预约。",
    },
}

# Templates that carry the voucher code: in Chinese they may take two UCS-2 segments.
VOUCHER_KEYS = frozenset(
    {"status", "booked", "changed", "cancelled", "invitation_booked", "reminder"}
)

SPOKEN: Mapping[str, Mapping[str, str]] = {
    "welcome": {"zh": "您好，这里是物资领取预约热线。普通话请按1。", "en": "For English, press 2."},
    "enter_code": {
        "en": "Please enter your enterprise code on the keypad, then press the hash key. "
        "For a letter, press the key that carries it. "
        "You can also enter your 16 digit voucher code.",
        "zh": "请在键盘上输入贵单位的信用代码，字母请按其所在的数字键，然后按井号键。"
        "也可以输入16位凭证号码。",
    },
    "code_unknown": {
        "en": "Sorry, we could not find that code.",
        "zh": "抱歉，没有找到这个号码。",
    },
    "menu": {
        "en": "To hear your pickup time and voucher code, press 1. To book or change "
        "your time, press 2. To cancel your booking, press 3.",
        "zh": "查询领取时间和凭证号码请按1，预约或改期请按2，取消预约请按3。",
    },
    "no_input": {"en": "Sorry, we did not get that.", "zh": "抱歉，没有收到您的按键。"},
    "slot": {
        "en": "Your pickup is on {when}, at {site}. You collect {amount}.",
        "zh": "您的领取时间是{when}，地点{site}，数量{amount}。",
    },
    "code_intro": {"en": "Your voucher code is:", "zh": "您的凭证号码是："},
    "repeat_hint": {
        "en": "To hear it again, press 9. For the main menu, press 0.",
        "zh": "重听请按9，返回主菜单请按0。",
    },
    "no_booking": {"en": "You have no pickup time yet.", "zh": "您还没有预约领取时间。"},
    "offer_item": {"en": "For {when}, press {digit}.", "zh": "{when}，请按{digit}。"},
    "no_slots": {
        "en": "Sorry, no pickup times are free now.",
        "zh": "抱歉，目前没有空余时段。",
    },
    "booked": {
        "en": "Done. Your pickup is on {when}. We are sending your voucher code by SMS.",
        "zh": "预约成功，领取时间是{when}。凭证号码将以短信发给您。",
    },
    "confirm_cancel": {
        "en": "Your pickup on {when} will be cancelled. To confirm, press 1. "
        "To keep it, press any other key.",
        "zh": "将取消您{when}的预约。确认请按1，保留请按其他键。",
    },
    "cancelled": {
        "en": "Your booking is cancelled. We are sending you an SMS.",
        "zh": "您的预约已取消，我们将发短信告知。",
    },
    "kept": {"en": "Your booking is kept.", "zh": "您的预约已保留。"},
    "nothing_to_cancel": {
        "en": "You have no booking to cancel.",
        "zh": "您没有可取消的预约。",
    },
    "slot_taken": {
        "en": "Sorry, that time was just taken.",
        "zh": "抱歉，该时段刚被约满。",
    },
    "closed": {
        "en": "This booking can no longer be changed by phone. Please ask staff at the pickup "
        "point.",
        "zh": "此预约已无法更改，请咨询领取点工作人员。",
    },
    "goodbye": {"en": "Thank you for calling. Goodbye.", "zh": "感谢您的来电，再见。"},
    "too_many": {
        "en": "Sorry, we could not understand your answer. Please call again later. Goodbye.",
        "zh": "抱歉，未能识别您的按键，请稍后再拨。再见。",
    },
    "calls_limited": {
        "en": "This phone has called many times in the last hour. Please call again in an "
        "hour, or reply to our SMS. Goodbye.",
        "zh": "本号码一小时内来电次数过多，请一小时后再拨，或回复短信。再见。",
    },
}

SITE_MAX = {"en": 26, "zh": 12}
ITEM_MAX = {"en": 14, "zh": 8}
MEASURE_MAX = 8
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def sms_text(key: str, language: str, **values: object) -> str:
    return SMS[key][language].format(**values)


def spoken(key: str, language: str, **values: object) -> str:
    return SPOKEN[key][language].format(**values)


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


def local(moment_text: str, timezone: str) -> datetime:
    moment = storage.from_db_time(moment_text)
    assert moment is not None
    return moment.astimezone(ZoneInfo(timezone))


def day(moment: datetime, language: str) -> str:
    if language == "zh":
        return f"{moment.month}月{moment.day}日"
    return f"{moment.day} {moment.strftime('%b')}"


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
        "amount": amount(voucher["units"], voucher["unit_size"], voucher["measure"], language),
        "code": format_code(voucher["code"]),
        "item": item_label(voucher["distribution_name"], voucher["item"], language),
    }


def which(label: str, language: str) -> str:
    """The prefix naming the distribution, when a phone is in more than one."""
    if not label:
        return ""
    return f"{label}：" if language == "zh" else f"{label}: "


def choices(count: int, language: str) -> str:
    digits = [str(i) for i in range(1, count + 1)]
    if len(digits) == 1:
        return digits[0]
    return f"{', '.join(digits[:-1])} or {digits[-1]}"


def spoken_code(code: str) -> list[str]:
    """The code as four groups, each digit apart so a voice reads it slowly."""
    return [", ".join(group) for group in spoken_groups(code)]
