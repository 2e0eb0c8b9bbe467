"""What the SMS conversation and the phone menu answer, in Chinese and English.

The texts the service sends on its own (invitations, reminders, confirmations, slot
offers) are the core's, in :mod:`shared.outreach_texts`; the conversation answers with some
of them too, so :data:`SMS` is both tables, and every template keeps to the same segment
budget (:func:`shared.outreach_texts.segment_budget`). :data:`SPOKEN` is what the phone menu
says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared import messages, outreach_texts
from shared.vouchers import spoken_groups

REPLIES: Mapping[str, Mapping[str, str]] = {
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
        "zh": "{which}领取时间{when}，地点{site}{address}，数量{amount}。凭证号{code}。"
        "回复改期或取消。",
    },
    "no_booking": {
        "en": "{which}You have no pickup time yet. Reply BOOK to get one.",
        "zh": "{which}您还没有预约领取时间。回复“预约”选择时段。",
    },
    "no_slots": {
        "en": "Sorry, no pickup times are free now. Reply STATUS to see your booking.",
        "zh": "抱歉，目前没有空余时段。回复“查询”查看预约。",
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
    "rate_limited": {
        "en": "Too many messages from this phone. We will answer again in 10 minutes; "
        "STATUS then shows your booking.",
        "zh": "本号码短信过多，10分钟内不再回复。之后回复“查询”可查看预约。",
    },
}

# Every SMS template: the replies above and the outbound texts they share.
SMS: Mapping[str, Mapping[str, str]] = {**REPLIES, **outreach_texts.SMS}

# Templates that carry the voucher code: in Chinese they may take two UCS-2 segments.
VOUCHER_KEYS = outreach_texts.VOUCHER_KEYS | {"status"}

SPOKEN: Mapping[str, Mapping[str, str]] = {
    "welcome": {"zh": "您好，这里是物资领取预约热线。普通话请按1。", "en": "For English, press 2."},
    "enter_code": {
        "en": "Please enter your enterprise code on the keypad, then press the hash key. "
        "For a letter, press the key that carries it. "
        "You can also enter your 16 digit voucher code.",
        "zh": "请在键盘上输入贵单位的信用代码，字母请按其所在的数字键，然后按井号键。"
        "也可以输入16位凭证号码。",
    },
    "enter_voucher": {
        "en": "Please enter your 16 digit voucher code, then press the hash key.",
        "zh": "请输入16位凭证号码，然后按井号键。",
    },
    "public_menu": {
        "en": "With this code we cannot read out your voucher or change your booking. "
        "To have your voucher code sent by SMS to the phone registered for it, press 1. "
        "If you have the 16 digit voucher code, press 2 to enter it.",
        "zh": "凭此代码不能在电话中播报凭证号码或更改预约。"
        "将凭证号码短信发送到登记的手机请按1；如有16位凭证号码，请按2输入。",
    },
    "sms_sent": {
        "en": "We have sent your voucher code by SMS to the phone ending {ending}.",
        "zh": "凭证号码已用短信发送到尾号{ending}的手机。",
    },
    "sms_sent_no_booking": {
        "en": "There is no booking yet. We have sent an SMS to the phone ending {ending}; "
        "reply BOOK from that phone to book a pickup time.",
        "zh": "尚未预约。已向尾号{ending}的手机发送短信，请用该手机回复“预约”选择时段。",
    },
    "sms_sent_before": {
        "en": "Your voucher code was already sent by SMS today to the phone ending {ending}.",
        "zh": "今天已将凭证号码用短信发送到尾号{ending}的手机，请查看短信。",
    },
    "sms_sent_before_no_booking": {
        "en": "An SMS was already sent today to the phone ending {ending}; reply BOOK from "
        "that phone to book a pickup time.",
        "zh": "今天已向尾号{ending}的手机发送过短信，请用该手机回复“预约”选择时段。",
    },
    "no_phone_for_code": {
        "en": "No phone that takes our SMS is registered for this code. Please ask the organiser.",
        "zh": "此代码没有可接收短信的登记手机，请联系发放单位。",
    },
    "code_locked": {
        "en": "Too many wrong codes were entered. Code entry is closed for the next {minutes} "
        "minutes. Please call from the phone registered for your code, or call again later. "
        "Goodbye.",
        "zh": "输入错误次数过多，{minutes}分钟内暂停输入代码。"
        "请用登记的手机来电，或稍后再拨。再见。",
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
    "no_input": {"en": "Sorry, we did not hear a key.", "zh": "抱歉，没有收到您的按键。"},
    "wrong_key": {"en": "Sorry, that key is not on the menu.", "zh": "抱歉，没有这个选项。"},
    "menu_hint": {"en": "For the main menu, press 0.", "zh": "返回主菜单请按0。"},
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
        "en": "Your pickup on {when} will be cancelled. To confirm, press 1. To keep it, press 2.",
        "zh": "将取消您{when}的预约。确认取消请按1，保留请按2。",
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


# The phone simulator's page (/dev/phone), in the language of the session.
SIMULATOR: Mapping[str, Mapping[str, str]] = {
    "title": {"zh": "手机模拟器", "en": "Phone simulator"},
    "intro": {
        "zh": "仅限开发环境。可扮演名单上的任一手机：发短信，或拨打电话并按键。"
        "这里的内容不会发到真实手机；发出的短信由发送进程记录。",
        "en": "Development only. Play any phone from the roster: send SMS, or call and press "
        "keys. Nothing here goes to a real phone; outbound SMS are logged by the outbox worker.",
    },
    "phone": {"zh": "手机号码", "en": "Phone"},
    "use_phone": {"zh": "使用此号码", "en": "Use this phone"},
    "sms": {"zh": "短信", "en": "SMS"},
    "sent_at": {"zh": "发送于 {at}", "en": "sent {at}"},
    "reply": {"zh": "回复", "en": "reply"},
    "no_messages": {
        "zh": "还没有短信。可以试试：帮助、查询、预约、改期、取消。",
        "en": "No messages yet. Try HELP, STATUS, BOOK, CHANGE, QX.",
    },
    "message": {"zh": "短信内容", "en": "Message"},
    "send_sms": {"zh": "发送短信", "en": "Send SMS"},
    "call": {"zh": "电话（语音菜单）", "en": "Call (phone menu)"},
    "speaks_zh": {"zh": "中文", "en": "zh"},
    "speaks_en": {"zh": "英文", "en": "en"},
    "pressed": {"zh": "（按了 {keys}）", "en": "(pressed {keys})"},
    "pressed_nothing": {"zh": "（按了 # ，没有数字）", "en": "(pressed # with no digits)"},
    "silence": {"zh": "（没有按键，等待超时）", "en": "(no key pressed: timed out)"},
    "ended": {"zh": "通话已结束。", "en": "The call has ended."},
    "keys_then_hash": {"zh": "输入号码后按 #", "en": "Keys, then #"},
    "press_hash": {"zh": "按 #", "en": "Press #"},
    "keypad": {"zh": "拨号键盘", "en": "Keypad"},
    "stay_silent": {"zh": "不按键（等待超时）", "en": "Stay silent (time out)"},
    "hide_caller": {
        "zh": "隐藏来电号码（改为输入信用代码或凭证号码）",
        "en": "Hide caller ID (enter the enterprise code or voucher code instead)",
    },
    "call_now": {"zh": "拨打", "en": "Call now"},
    "outbox": {"zh": "发往此号码的短信", "en": "Outbound SMS to this phone"},
    "tries_n": {"zh": "已尝试{n}次", "en": "{n} tries"},
    "no_outbox": {
        "zh": "还没有。可以打电话预约，或在管理后台发送邀请。",
        "en": "None yet. Book by phone, or send invitations from the console.",
    },
    "switch_language": {"zh": "English", "en": "中文"},
}


# The phone simulator's text ``key``; falls back to the shared message table.
simulator_text = messages.translator(SIMULATOR)


def sms_text(key: str, language: str, **values: object) -> str:
    return SMS[key][language].format(**values)


def spoken(key: str, language: str, **values: object) -> str:
    return SPOKEN[key][language].format(**values)


def which(label: str, language: str) -> str:
    """The prefix naming the distribution, when a phone is in more than one."""
    if not label:
        return ""
    return f"{label}：" if language == "zh" else f"{label}: "


_EN_NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ZH_DIGITS = "零一二三四五六七八九"
# What a unit is called in Chinese when the distribution names it in English only.
_ZH_UNITS = {
    "drum": "桶",
    "barrel": "桶",
    "bottle": "瓶",
    "box": "箱",
    "case": "箱",
    "carton": "箱",
    "bag": "袋",
    "pack": "包",
    "packet": "包",
    "can": "罐",
    "roll": "卷",
}
# Spoken measures: (English singular, English plural, Chinese).
_MEASURES = {
    "kg": ("kilogram", "kilograms", "公斤"),
    "g": ("gram", "grams", "克"),
    "l": ("litre", "litres", "升"),
    "ml": ("millilitre", "millilitres", "毫升"),
    "mask": ("mask", "masks", "只口罩"),
    "masks": ("mask", "masks", "只口罩"),
    "piece": ("piece", "pieces", "件"),
    "pieces": ("piece", "pieces", "件"),
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def number_words(number: int, language: str) -> str:
    """A count as words: ``four``, ``twenty-one``, ``四``, ``两``, ``二十一``; digits past 99."""
    if not 0 <= number <= 99:
        return str(number)
    if language == "zh":
        if number == 2:
            return "两"  # two of something is 两, not 二
        tens, ones = divmod(number, 10)
        head = ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" if tens else ""
        return head + (_ZH_DIGITS[ones] if ones or not tens else "")
    if number < 20:
        return _EN_NUMBERS[number]
    tens, ones = divmod(number, 10)
    return _EN_TENS[tens - 2] + (f"-{_EN_NUMBERS[ones]}" if ones else "")


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in set("aeiou"):
        return noun[:-1] + "ies"
    return noun + "s"


def _unit_noun(unit_name: str, measure: str) -> str:
    """The noun of a unit name: ``drum`` in ``20 kg drum``, ``box`` in ``box of 50``."""
    skip = {"of", measure.lower(), *_MEASURES}
    for word in re.findall(r"[A-Za-z]+", unit_name):
        if word.lower() not in skip:
            return word.lower()
    return ""


def spoken_amount(units: int, unit_name: str, unit_size: float, measure: str, language: str) -> str:
    """An allotment as a voice says it: ``four drums of 20 kilograms``, ``四桶，每桶20公斤``.

    The unit's noun comes from the distribution's unit name; a Chinese unit name gives its
    last Chinese character as the measure word, an English one a known translation (件 if
    none is known).
    """
    size = f"{unit_size:g}"
    singular, plural, zh_measure = _MEASURES.get(
        measure.strip().lower(), (measure, measure, measure)
    )
    noun = _unit_noun(unit_name, measure)
    if language == "zh":
        chinese = _CJK.findall(unit_name)
        word = chinese[-1] if chinese else _ZH_UNITS.get(noun, "件")
        return f"{number_words(units, 'zh')}{word}，每{word}{size}{zh_measure}"
    measure_words = singular if unit_size == 1 else plural
    if not noun:
        return f"{number_words(units, 'en')} times {size} {measure_words}"
    nouns = noun if units == 1 else _plural(noun)
    return f"{number_words(units, 'en')} {nouns} of {size} {measure_words}"


def spoken_digits(digits: str) -> str:
    """Digits one by one (``0, 0, 5, 7``), so a voice does not read them as a number."""
    return ", ".join(digits)


def spoken_code(code: str) -> list[str]:
    """The code as four groups, each digit apart so a voice reads it slowly."""
    return [spoken_digits(group) for group in spoken_groups(code)]
