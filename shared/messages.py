"""What people are told, in Chinese and English: one table, used by every channel.

Texts are ``str.format`` templates; keep them short, since the SMS channel has to fit
them in one segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def other_language(language: str) -> str:
    """The language a page's switch offers: the one of :data:`LANGUAGES` not shown now."""
    return next(other for other in LANGUAGES if other != language)


MESSAGES: Mapping[str, Mapping[str, str]] = {
    "valid": {
        "zh": "凭证有效，可以领取。",
        "en": "Valid voucher: you can collect now.",
    },
    "unknown": {
        "zh": "查无此凭证。请向工作人员求助。",
        "en": "We do not know this voucher. Please ask staff.",
    },
    "mistyped": {
        "zh": "凭证号码有误，请核对数字后重新输入。",
        "en": "This code has a typo. Check the digits and try again.",
    },
    "one_digit_missing": {
        "zh": "少了一位数字。请对照凭证补上。",
        "en": "One digit is missing. Compare with your voucher and add it.",
    },
    "digits_missing": {
        "zh": "少了{missing}位数字。请对照凭证补上。",
        "en": "{missing} digits are missing. Compare with your voucher and add them.",
    },
    "one_digit_extra": {
        "zh": "多了一位数字。请对照凭证删去多余的数字。",
        "en": "One digit too many. Compare with your voucher and remove it.",
    },
    "digits_extra": {
        "zh": "多了{extra}位数字。请对照凭证删去多余的数字。",
        "en": "{extra} digits too many. Compare with your voucher and remove them.",
    },
    "cancelled": {
        "zh": "此预约已取消，凭证无效。",
        "en": "This booking was cancelled; the voucher is no longer valid.",
    },
    "wrong_distribution": {
        "zh": "此凭证不属于本次发放。",
        "en": "This voucher is for a different distribution.",
    },
    # "Come back": when (the date unless it is today, and the time) and where, always.
    "wrong_site": {
        "zh": "此凭证不在本领取点使用：请{when} 到{place}领取。",
        "en": "This voucher is for another pickup site: come {when} to {place}.",
    },
    "too_early": {
        "zh": "您来早了：请{when} 到{place}领取。",
        "en": "You are early: come back {when} to {place}.",
    },
    "when_today": {"zh": "于今天 {time}", "en": "at {time}"},
    "when_day": {"zh": "于{date} {time}", "en": "on {date} at {time}"},
    "place": {"zh": "{site}（{address}）", "en": "{site}, {address}"},
    "missed": {
        "zh": "已错过领取时段。请回复短信或致电改约。",
        "en": "You missed your pickup time. Reply by SMS or call to rebook.",
    },
    "already_collected": {
        "zh": "已于{time}领取，不能重复领取。",
        "en": "Already collected at {time}; it cannot be collected twice.",
    },
    # Where a booking stands (shared.booking_states): every screen and count says these.
    "state_booked": {"zh": "已预约", "en": "Booked"},
    "state_checked_in": {"zh": "已签到", "en": "Checked in"},
    "state_partly_collected": {"zh": "部分领取", "en": "Partly collected"},
    "state_collected": {"zh": "已领取", "en": "Collected"},
    "state_missed": {"zh": "已错过", "en": "Missed"},
    "state_cancelled": {"zh": "已取消", "en": "Cancelled"},
    "state_no_booking": {"zh": "未预约", "en": "No booking"},
    "voucher_title": {"zh": "领取凭证", "en": "Pickup voucher"},
    "recipient": {"zh": "领取单位", "en": "Recipient"},
    "slot": {"zh": "领取时段", "en": "Pickup time"},
    "place_label": {"zh": "领取地点", "en": "Place"},
    "allotment": {"zh": "分配数量", "en": "Allotment"},
    "code": {"zh": "凭证号码", "en": "Voucher code"},
    "collected_so_far": {"zh": "已领取", "en": "Collected so far"},
    "show_qr": {
        "zh": "请在领取点出示此二维码，或报出凭证号码。",
        "en": "Show this QR code at the pickup point, or give the voucher code.",
    },
    "cancelled_no_qr": {
        "zh": "此凭证已取消，没有可出示的二维码。",
        "en": "This voucher is cancelled: there is no QR code to show.",
    },
    "not_found_title": {"zh": "无法显示凭证", "en": "Voucher not shown"},
    "switch_language": {"zh": "English", "en": "中文"},
    # A request over the size limit (413), on any page or API.
    "too_large_title": {"zh": "提交的内容太大", "en": "Too large to accept"},
    "too_large": {
        "zh": "提交的内容超过上限 {limit}，未保存任何内容。请缩小文件或内容后重试。",
        "en": "What was sent is larger than the limit of {limit}; nothing was saved. "
        "Send a smaller file or less text.",
    },
    "start_page": {"zh": "返回首页", "en": "Back to the start page"},
    # The scanner API's answers to a malformed request.
    "body_content_type": {
        "zh": "请求正文须以 Content-Type: application/json 发送。",
        "en": "Send the body with Content-Type: application/json.",
    },
    "body_not_json": {
        "zh": '请求正文不是有效的 JSON，应如 {{"units": 2}}。',
        "en": 'The body is not valid JSON; send one like {{"units": 2}}.',
    },
    "body_fields": {
        "zh": '请求正文只能是 {{"units": 整数, "override_reason": "…", "override_note": "…"}}'
        " 这样的对象。",
        "en": 'The body can only be an object like {{"units": 2}}, with an optional '
        '"override_reason" and "override_note".',
    },
    "override_reason_unknown": {
        "zh": "override_reason 须为 came_from_far（远道而来）、elderly_or_ill（年老或患病）"
        "或 staff_decision（工作人员决定）。",
        "en": "override_reason must be came_from_far, elderly_or_ill or staff_decision.",
    },
    "override_note_bad": {
        "zh": "备注须为一行文字，最多200个字符。",
        "en": "The note must be one line of text, at most 200 characters.",
    },
    "override_note_without_reason": {
        "zh": "有 override_note 时须同时给出 override_reason。",
        "en": "An override_note needs an override_reason.",
    },
    # Why staff handed over to someone early or late (shown in the station and the ledger).
    "override_came_from_far": {"zh": "远道而来", "en": "came from far"},
    "override_elderly_or_ill": {"zh": "年老或患病", "en": "elderly or ill"},
    "override_staff_decision": {"zh": "工作人员决定", "en": "staff decision"},
    "units_not_whole": {
        "zh": "数量（units）必须是整数。",
        "en": "units must be a whole number",
    },
    "units_range": {
        "zh": "数量（units）须在 1 到 {max} 之间，即尚待发放的数量。",
        "en": "units must be between 1 and {max}, the units still due",
    },
    "not_your_handover": {
        "zh": "只能撤销本设备令牌办理的发放。",
        "en": "A token can only undo the handovers it made.",
    },
    "already_undone": {
        "zh": "该次发放已经撤销过，无需再撤销。",
        "en": "That handover was already undone; nothing changed.",
    },
    # An outbound SMS: its state (sms_<status>) and what it is (sms_kind_<kind>).
    "sms_queued": {"zh": "排队中", "en": "Queued"},
    "sms_sent": {"zh": "已发出", "en": "Sent"},
    "sms_delivered": {"zh": "已送达", "en": "Delivered"},
    "sms_failed": {"zh": "失败", "en": "Failed"},
    "sms_opted_out": {"zh": "已退订", "en": "Opted out"},
    "sms_sending": {"zh": "发送中", "en": "Sending"},
    "sms_undelivered": {"zh": "未送达", "en": "Undelivered"},
    "sms_kind_invitation": {"zh": "邀请", "en": "Invitation"},
    "sms_kind_confirmation": {"zh": "确认", "en": "Confirmation"},
    "sms_kind_reminder": {"zh": "提醒", "en": "Reminder"},
    "sms_kind_offer": {"zh": "可选时段", "en": "Times on offer"},
    "sms_kind_reply": {"zh": "回复", "en": "Reply"},
    "sms_kind_voucher": {"zh": "凭证", "en": "Voucher"},
    # What became of an action a station made offline and uploaded (shared/offline.py).
    "sync_applied": {"zh": "已同步。", "en": "Synced."},
    "sync_conflict": {
        "zh": "已记录，但与另一工作台的发放冲突（超出凭证数量），由管理员在“冲突”列表处理。",
        "en": "Recorded, but it conflicts with another station's handover (beyond the "
        "voucher's units); the operator resolves it on the Conflicts list.",
    },
    "sync_refused_cancelled": {
        "zh": "未被接受：离线期间该凭证已被取消。",
        "en": "Not accepted: the voucher was cancelled while the station was offline.",
    },
    "sync_refused_wrong_site": {
        "zh": "未被接受：该凭证属于另一个领取点。",
        "en": "Not accepted: the voucher belongs to another pickup site.",
    },
    "sync_refused_wrong_distribution": {
        "zh": "未被接受：该凭证属于另一项发放。",
        "en": "Not accepted: the voucher belongs to another distribution.",
    },
    "sync_refused_too_early": {
        "zh": "未被接受：当时还没到该凭证的领取时段。",
        "en": "Not accepted: it was before the voucher's slot at the time.",
    },
    "sync_refused_missed": {
        "zh": "未被接受：当时该凭证的时段和宽限时间已过。",
        "en": "Not accepted: the voucher's slot and grace period had passed at the time.",
    },
    "sync_refused_unknown": {
        "zh": "未被接受：查无此凭证，或扫描的号码与凭证不符。",
        "en": "Not accepted: the voucher is not known, or the code scanned does not match it.",
    },
    "sync_refused_kiosk_hand_over": {
        "zh": "未被接受：自助机不能发放物资。",
        "en": "Not accepted: a kiosk cannot hand goods over.",
    },
    "sync_refused_clock_ahead": {
        "zh": "未被接受：本设备的时钟比服务器快10分钟以上，请校准时间。",
        "en": "Not accepted: this device's clock is more than 10 minutes ahead of the "
        "server's; set its time.",
    },
    "sync_refused_invalid_action": {
        "zh": "未被接受：工作台发送的记录无法读取。",
        "en": "Not accepted: the station sent a record the server cannot read.",
    },
    "sync_content_type": {
        "zh": "上传须为 JSON（Content-Type: application/json）。",
        "en": "The upload must be JSON (Content-Type: application/json).",
    },
    "sync_not_json": {
        "zh": '上传内容不是有效的 JSON，应如 {{"actions": [...]}}。',
        "en": 'The upload is not valid JSON; send one like {{"actions": [...]}}.',
    },
    "sync_fields": {
        "zh": '上传内容只能是 {{"actions": [...]}} 这样的对象。',
        "en": 'The upload can only be an object like {{"actions": [...]}}.',
    },
    "sync_too_many": {
        "zh": "一次最多上传200条记录，请分批上传。",
        "en": "At most 200 actions per upload; send the rest in another.",
    },
    "sync_form_expired": {
        "zh": "登录已过期或页面太旧（缺少 X-CSRF-Token），请重新加载页面。",
        "en": "The page is too old or the sign-in expired (no X-CSRF-Token); reload the page.",
    },
    "sync_choose_site": {
        "zh": "本工作台没有选定领取点：请退出后重新登录并选择领取点。",
        "en": "This station has no pickup site: sign out and sign in again choosing one.",
    },
    "conflict_resolution_unknown": {
        "zh": "请选择“接受”或“记录退回”。",
        "en": "Choose accept or record a return.",
    },
}


# Invisible characters that reorder how the text around them is shown: U+202E shows
# "gpj.exe" as "exe.jpg". Names and contacts come from rosters and forms; they are shown
# without these (and log lines are written with them escaped, see shared.logsafe).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
_NO_BIDI_CONTROLS = dict.fromkeys(map(ord, BIDI_CONTROLS))
_ANY_BIDI_CONTROL = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def without_bidi_controls(text: str) -> str:
    """``text`` without :data:`BIDI_CONTROLS`, so it is shown in the order it was written."""
    # Looking costs a fraction of translating, and nearly every text has none.
    if _ANY_BIDI_CONTROL.search(text) is None:
        return text
    return text.translate(_NO_BIDI_CONTROLS)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among ``candidates`` (e.g. ?lang=, the recipient's)."""
    for candidate in candidates:
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


def text(key: str, language: str, **values: object) -> str:
    """The message ``key`` in ``language``, filled with ``values``."""
    return MESSAGES[key][language].format(**values)


def state_label(state: str, language: str) -> str:
    """A booking state of :mod:`shared.booking_states` as people read it: ``已领取``."""
    return text(f"state_{state}", language)


Texts = Mapping[str, Mapping[str, str]]


def translator(*tables: Texts) -> Callable[..., str]:
    """A ``t(key, language, **values)`` for a channel's screens: ``key`` is looked up in
    ``tables`` in order, then in the shared message table, and filled with ``values``."""

    def t(key: str, language: str, **values: object) -> str:
        for table in tables:
            entry = table.get(key)
            if entry is not None:
                return entry[language].format(**values)
        return text(key, language, **values)

    return t


def clock(moment: datetime) -> str:
    """A time as people say it on the day: ``14:20``."""
    return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime costs more, on every reply


def day(moment: datetime | date, language: str) -> str:
    """A date as people say it: ``12月1日`` / ``1 Dec``."""
    if language == "zh":
        return f"{moment.month}月{moment.day}日"
    return f"{moment.day} {moment.strftime('%b')}"


def day_and_clock(moment: datetime, language: str) -> str:
    return f"{day(moment, language)} {clock(moment)}"


def place(site: str, address: str, language: str) -> str:
    """A pickup site and its address: ``Town Hall, 3 Main St`` / ``镇政府（大街3号）``."""
    return text("place", language, site=site, address=address) if address else site


def when(moment: datetime, today: date | None, language: str) -> str:
    """``at 09:45`` on ``today``, else ``on 1 Dec at 09:45`` (``moment`` in local time)."""
    if today is not None and moment.date() == today:
        return text("when_today", language, time=clock(moment))
    return text("when_day", language, date=day(moment, language), time=clock(moment))


def come_back(
    key: str,
    moment: datetime,
    today: date | None,
    site: str,
    address: str,
    language: str,
) -> str:
    """A "come back" sentence that says when and where, for every channel.

    ``key`` is ``too_early`` ("You are early: come back on 1 Dec at 09:45 to Town Hall,
    3 Main St.") or ``wrong_site``; ``moment`` and ``today`` are in the site's local time,
    and the date is left out when ``moment`` is ``today``.
    """
    return text(
        key,
        language,
        when=when(moment, today, language),
        place=place(site, address, language),
    )


def slot_span(start: datetime, end: datetime, language: str) -> str:
    """A pickup slot as people read it: ``11月30日 14:00–14:15`` / ``30 Nov 14:00–14:15``."""
    return f"{day_and_clock(start, language)}–{clock(end)}"


def unit_name(row: Mapping[str, object], language: str) -> str:
    """The shipping unit's own name in ``language``: ``桶`` or ``20 kg drum``.

    ``row`` is a distribution or a voucher view (``unit_name`` is the Chinese name,
    ``unit_name_en`` the English one; a blank English name falls back to the Chinese).
    """
    if language == "en" and row.get("unit_name_en"):
        return str(row["unit_name_en"])
    return str(row["unit_name"])


def units_text(units: int, row: Mapping[str, object], language: str) -> str:
    """A number of shipping units as people say it: ``9桶`` or ``9 × 20 kg drum``."""
    return count_of(units, unit_name(row, language), language)


def count_of(units: int, name: str, language: str) -> str:
    """``units`` of a unit already named in ``language``: ``9桶`` or ``9 × 20 kg drum``."""
    return f"{units}{name}" if language == "zh" else f"{units} × {name}"


def allotment_text(units: int, row: Mapping[str, object], language: str) -> str:
    """An allotment in shipping units and in the item's measure: ``9 × 20 kg drum (180 kg)``,
    ``9桶（180 kg）``."""
    amount = f"{units * float(row['unit_size']):g} {row['measure']}"
    if language == "zh":
        return f"{units_text(units, row, language)}（{amount}）"
    return f"{units_text(units, row, language)} ({amount})"


def verdict_message(verdict: object, language: str) -> str:
    """Say in plain words what a :class:`~shared.verification.Verdict` means for the holder."""
    reason = verdict.reason.value
    missing = getattr(verdict, "missing_digits", 0)
    if reason == "mistyped" and missing == 1:
        return text("one_digit_missing", language)
    if reason == "mistyped" and missing > 1:
        return text("digits_missing", language, missing=missing)
    if reason == "mistyped" and missing == -1:
        return text("one_digit_extra", language)
    if reason == "mistyped" and missing < 0:
        return text("digits_extra", language, extra=-missing)
    if verdict.come_at is not None:
        v = verdict.voucher
        today = verdict.local(verdict.judged_at).date() if verdict.judged_at else None
        moment = verdict.local(verdict.come_at)
        return come_back(reason, moment, today, v["site_name"], v["site_address"], language)
    values: dict[str, object] = {}
    if verdict.collected_at is not None:
        values["time"] = clock(verdict.local(verdict.collected_at))
    return text(reason, language, **values)


def mask_name(name: str | None) -> str:
    """A name with its middle hidden: ``王伟`` -> ``王*``, ``宁波恒达机械有限公司`` ->
    ``宁波恒*****公司``: enough for its holder to recognise, too little for a bystander."""
    name = without_bidi_controls(name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    keep = max(1, len(name) // 3)
    tail = max(1, len(name) // 5)
    return name[:keep] + "*" * (len(name) - keep - tail) + name[-tail:]


def mask_phone(phone: str | None) -> str:
    """Only the last four digits of a phone number: ``+86 *** **** 0001``."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 4:
        return ""
    return f"*** **** {digits[-4:]}"
