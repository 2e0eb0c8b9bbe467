"""Why the core refused something, in Chinese and English: one table for every domain error.

Each :class:`shared.errors.PickupError` carries a ``key`` of this table and the values its
text is filled with; the edges say it in their user's language (the console in the
signed-in session's, the scanner API in ``?lang=``'s with the key as a stable code, the
commands in English). A value that is itself words (a list of names, a range of times)
is a :class:`Said`, which holds both languages. Keys of :mod:`shared.account_texts` and of
the shared message table (:mod:`shared.messages`) are errors' keys too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared import account_texts, messages


@dataclass(frozen=True)
class Said:
    """A value that reads differently in each language: a list of names, a word."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en


def listing(items: Sequence[object], limit: int = 5) -> Said:
    """The first ``limit`` of ``items`` and how many more: ``A, B and 3 more``."""
    shown = [str(item) for item in items[:limit]]
    if len(items) <= limit:
        return Said("、".join(shown), ", ".join(shown))
    return Said(
        f"{'、'.join(shown)} 等 {len(items)} 个",
        f"{', '.join(shown)} and {len(items) - limit} more",
    )


def units(n: int) -> Said:
    """A number of shipping units whose name the core does not know: ``3 件`` / ``3 units``."""
    return Said(f"{n} 件", f"{n} unit" if n == 1 else f"{n} units")


_MORE_ROOM = {
    "zh": "请延长领取时间窗、缩短时段，或提高每时段上限。",
    "en": "lengthen the windows, shorten the slots or raise capacity",
}

TEXTS: Mapping[str, Mapping[str, str]] = {
    # -- allocation ------------------------------------------------------------------------
    "allocation_method_unknown": {
        "zh": "没有“{method}”这种分配方法；可用的方法：{known}。",
        "en": "unknown allocation method {method!r}; known methods: {known}",
    },
    "floors_above_stock": {
        "zh": "各领取单位的保底数量合计 {floors}，但库存只有 {stock}：无法分配。",
        "en": "the floors add up to {floors} but only {stock} are in stock",
    },
    "no_weights": {
        "zh": "没有可按比例分配的依据：所有权重都是 0，但保底之外还剩 {above} 要分。",
        "en": "no weights to divide by: every weight is 0 but the floors leave {above} to share",
    },
    "stock_not_whole": {
        "zh": "库存必须是整数件，现在是 {stock!r}。",
        "en": "stock must be a whole number of units, got {stock!r}",
    },
    "stock_negative": {
        "zh": "库存不能为负数，现在是 {stock}。",
        "en": "stock must not be negative, got {stock}",
    },
    "claimant_repeated": {
        "zh": "领取单位 “{key}” 出现了不止一次。",
        "en": "claimant {key!r} appears more than once",
    },
    "claimant_count": {
        "zh": "分配结果有 {units} 个领取单位，但给出了 {given} 个。",
        "en": "the allocation has {units} claimants but {given} were given",
    },
    "weight_not_number": {
        "zh": "领取单位 “{key}”：权重必须是数字，现在是 {weight!r}。",
        "en": "claimant {key!r}: weight must be a number, got {weight!r}",
    },
    "weight_not_finite": {
        "zh": "领取单位 “{key}”：权重必须是有限的数，现在是 {weight!r}。",
        "en": "claimant {key!r}: weight must be finite, got {weight!r}",
    },
    "weight_negative": {
        "zh": "领取单位 “{key}”：权重不能为负数，现在是 {weight!r}。",
        "en": "claimant {key!r}: weight must not be negative, got {weight!r}",
    },
    "weight_too_large": {
        "zh": "领取单位 “{key}”：权重太大，现在是 {weight!r}。",
        "en": "claimant {key!r}: weight is too large, got {weight!r}",
    },
    "floor_not_whole": {
        "zh": "领取单位 “{key}”：保底数量必须是整数，现在是 {floor!r}。",
        "en": "claimant {key!r}: floor must be a whole number, got {floor!r}",
    },
    "floor_negative": {
        "zh": "领取单位 “{key}”：保底数量不能为负数，现在是 {floor}。",
        "en": "claimant {key!r}: floor must not be negative, got {floor}",
    },
    "cap_not_whole": {
        "zh": "领取单位 “{key}”：上限必须是整数或不设，现在是 {cap!r}。",
        "en": "claimant {key!r}: cap must be a whole number or None, got {cap!r}",
    },
    "cap_negative": {
        "zh": "领取单位 “{key}”：上限不能为负数，现在是 {cap}。",
        "en": "claimant {key!r}: cap must not be negative, got {cap}",
    },
    "floor_above_cap": {
        "zh": "领取单位 “{key}”：保底 {floor} 高于上限 {cap}。",
        "en": "claimant {key!r}: floor {floor} is above cap {cap}",
    },
    # -- planning --------------------------------------------------------------------------
    "no_weight_value": {
        "zh": "领取单位 {external_id}（{name}）没有可作分配依据的{basis}。",
        "en": "recipient {external_id} ({name}) has no {basis} to weigh by",
    },
    "no_recipients": {
        "zh": "这个批次还没有领取单位：请先导入名单。",
        "en": "the distribution has no recipients yet; import a roster first",
    },
    "allotments_locked": {
        "zh": "已有物资发出，分配结果不能再改。",
        "en": "goods have already been handed over; allotments can no longer change",
    },
    "no_sites": {
        "zh": "这个批次还没有领取点。",
        "en": "the distribution has no pickup site yet",
    },
    "site_without_window": {
        "zh": "领取点“{site}”没有领取时间窗。",
        "en": "site {site} has no pickup window",
    },
    "no_allotments": {
        "zh": "这个批次还没有分配结果：请先分配。",
        "en": "the distribution has no allotments yet; run allocate first",
    },
    "site_slots_started": {
        "zh": "领取点“{site}”的每个时段都已开始：请在那里加一个更晚的领取时间窗。",
        "en": "every slot at {site} has already started; add a later pickup window there",
    },
    "recipients_without_site": {
        "zh": "{count} 个领取单位没有领取点（{names}）；这个批次有 {sites} 个领取点，"
        "名单的“领取点”一列必须为每一行写明。",
        "en": "{count} recipients have no pickup site ({names}); this distribution has "
        "{sites} sites, so the roster's site column must name one for every row",
    },
    # -- scheduling ------------------------------------------------------------------------
    "slot_not_aware": {
        "zh": "时段 {index} 的开始和结束需要带时区。",
        "en": "slot {index} needs timezone-aware start and end",
    },
    "slot_ends_first": {
        "zh": "时段 {index} 必须先开始后结束。",
        "en": "slot {index} must start before it ends",
    },
    "demand_negative": {
        "zh": "领取单位 {key} 的件数为负（{units}）。",
        "en": "recipient {key} has negative units ({units})",
    },
    "demand_not_aware": {
        "zh": "领取单位 {key} 的最早/最晚时间需要带时区。",
        "en": "recipient {key} needs timezone-aware earliest/latest times",
    },
    "demand_range_empty": {
        "zh": "领取单位 {key} 的最早时间不早于最晚时间。",
        "en": "recipient {key} has earliest at or after latest",
    },
    "slot_minutes_invalid": {
        "zh": "时段长度必须是至少 1 分钟的整数分钟，现在是 {minutes!r}。",
        "en": "slot length must be a whole number of minutes, at least 1, got {minutes!r}",
    },
    "no_windows": {
        "zh": "至少需要一个领取时间窗。",
        "en": "at least one pickup window is needed",
    },
    "window_not_aware": {
        "zh": "领取时间窗 {start} 至 {end} 没有时区。",
        "en": "pickup window {start} to {end} is not timezone-aware; give its start and end "
        "a tzinfo",
    },
    "window_ends_first": {
        "zh": "领取时间窗 {start} 至 {end} 必须先开始后结束。",
        "en": "pickup window {start} to {end} must start before it ends",
    },
    "windows_overlap": {
        "zh": "领取时间窗重叠：一个在 {end} 结束，下一个却在 {start} 开始。",
        "en": "pickup windows overlap: one ends at {end} but the next starts at {start}",
    },
    "windows_too_short": {
        "zh": "没有一个领取时间窗能容下一个 {minutes} 分钟的时段。",
        "en": "no pickup window is long enough for one {minutes}-minute slot",
    },
    "demand_repeated": {
        "zh": "领取单位 {key} 出现了不止一次。",
        "en": "recipient {key} appears more than once",
    },
    "demand_slot_unknown": {
        "zh": "领取单位 {key} 被排在时段 {index}，但列表里没有这个时段。",
        "en": "recipient {key} is in slot {index}, which is not in the list",
    },
    "slot_repeated": {
        "zh": "时段编号 {index} 出现了不止一次。",
        "en": "slot index {index} appears more than once",
    },
    "slots_overlap": {
        "zh": "时段 {first} 和 {second} 重叠。",
        "en": "slots {first} and {second} overlap",
    },
    "taken_slot_unknown": {
        "zh": "已预约数指向时段 {index}，但列表里没有这个时段。",
        "en": "taken refers to slot {index}, which is not in the list",
    },
    "taken_negative": {
        "zh": "时段 {index} 的已预约数不能为负。",
        "en": "taken for slot {index} must not be negative",
    },
    "capacity_people_invalid": {
        "zh": "每时段人数上限至少为 1，现在是 {capacity}。",
        "en": "capacity_people must be at least 1, got {capacity}",
    },
    "capacity_units_invalid": {
        "zh": "每时段件数上限至少为 1，或不设上限，现在是 {capacity}。",
        "en": "capacity_units must be at least 1 or None for unlimited, got {capacity}",
    },
    "too_few_places": {
        "zh": "有 {count} 个领取单位，但时段{more}只能容纳 {room} 个（{sizes}）。"
        + _MORE_ROOM["zh"],
        "en": "{count} recipients but the slots hold only {room}{more} ({sizes}); "
        + _MORE_ROOM["en"],
    },
    "too_few_units": {
        "zh": "领取单位共需 {need} 件，但时段{more}只能发放 {room} 件（{sizes}）。"
        + _MORE_ROOM["zh"],
        "en": "recipients need {need} units but the slots hand out only {room}{more} ({sizes}); "
        + _MORE_ROOM["en"],
    },
    "demand_without_slot": {
        "zh": "领取单位 {key} 只能在 {range} 来，这段时间里没有完整的时段；请放宽时间范围，"
        "或增加领取时间窗。",
        "en": "recipient {key} can only come {range}, which holds no whole slot; widen the range "
        "or add a pickup window",
    },
    "demands_without_slot": {
        "zh": "{count} 个领取单位的最早/最晚时间范围里没有完整的时段：{names}；请放宽时间范围，"
        "或增加领取时间窗。",
        "en": "{count} recipients have no whole slot in their earliest/latest range: {names}; "
        "widen the ranges or add pickup windows",
    },
    "demand_too_big": {
        "zh": "领取单位 {key} 需要 {units} 件，但一个时段最多发放 {cap} 件。",
        "en": "recipient {key} needs {units} units but a slot hands out at most {cap}",
    },
    "demands_too_big": {
        "zh": "{count} 个领取单位需要的件数超过一个时段的上限（最多 {cap} 件）：{names}。",
        "en": "{count} recipients need more units than a slot hands out (at most {cap}): {names}",
    },
    "demand_no_room": {
        "zh": "没有时段还能容纳领取单位 {key}（{units}{range}）：{hint}" + _MORE_ROOM["zh"],
        "en": "no slot has room left for recipient {key} ({units}{range}); {hint}"
        + _MORE_ROOM["en"],
    },
    "demands_no_room": {
        "zh": "没有时段还能容纳这 {count} 个领取单位：{names}。{hint}" + _MORE_ROOM["zh"],
        "en": "no slot has room left for {count} recipients: {names}; {hint}" + _MORE_ROOM["en"],
    },
    # -- distributions ---------------------------------------------------------------------
    "fields_out_of_range": {
        "zh": "以下内容超出范围或过长：{fields}。",
        "en": "out of range or too long: {fields}",
    },
    "sites_missing": {
        "zh": "一个批次至少需要一个领取点。",
        "en": "a distribution needs at least one pickup site",
    },
    "site_name_address": {
        "zh": "每个领取点都需要名称和地址。",
        "en": "every pickup site needs a name and an address",
    },
    "site_name_repeated": {
        "zh": "有两个领取点都叫“{site}”。",
        "en": "two pickup sites are called {site!r}",
    },
    "site_without_windows": {
        "zh": "领取点“{site}”至少需要一个领取时间窗。",
        "en": "pickup site {site!r} needs at least one window",
    },
    "site_not_ours": {
        "zh": "领取点 {site} 不属于这个批次。",
        "en": "site {site} is not one of this distribution's",
    },
    "locked_schedule": {
        "zh": "已有 {slots} 个时段被预约，领取时间窗、时段长度和时区不能再改。"
        "请新建一个批次，或先取消这些预约。",
        "en": "Pickup windows, slot length and time zone cannot change: {slots} slots already "
        "hold bookings. Create a new distribution, or cancel those bookings first.",
    },
    "site_has_bookings": {
        "zh": "领取点“{site}”已有 {bookings} 个预约，不能删除。请先改约或取消这些预约。",
        "en": "The site {site} holds {bookings} bookings and cannot be removed. Move or "
        "cancel them first.",
    },
    "capacity_below_load": {
        "zh": "每时段上限不能低于已预约数：{time} 的时段已有 {people} 人、{units} 件。",
        "en": "Capacity per slot cannot go below what is booked: the slot at {time} already "
        "has {people} people and {units} units.",
    },
    "stock_below_allotted": {
        "zh": "库存不能低于已分配的 {allotted} 件。",
        "en": "Stock cannot go below the {allotted} units already allotted.",
    },
    "unit_size_locked": {
        "zh": "已有物资发出，每件的量不能再改：台账按此计量。",
        "en": "The amount per unit cannot change once goods have been handed over: "
        "the ledger counts in it.",
    },
    # -- booking and handover --------------------------------------------------------------
    "no_allotment": {
        "zh": "{name} 在这个批次没有分配份额。",
        "en": "{name} has no allotment in this distribution",
    },
    "booking_checked_in": {
        "zh": "已在领取点签到，不能再改：请找工作人员。",
        "en": "already checked in at the pickup point; ask staff to change it",
    },
    "booking_handed_over": {
        "zh": "这个预约已有物资发出，不能再改。",
        "en": "goods have already been handed over for this booking",
    },
    "slot_other_distribution": {
        "zh": "那个时段属于另一个批次。",
        "en": "that slot belongs to another distribution",
    },
    "slot_started": {"zh": "那个时段已经开始。", "en": "that slot has already started"},
    "hold_expired": {
        "zh": "为您保留的时段已释放，现在已满。",
        "en": "the slot you were offered was released and is now full",
    },
    "slot_full": {"zh": "那个时段已满。", "en": "that slot is full"},
    "no_booking_to_cancel": {
        "zh": "没有可以取消的预约。",
        "en": "there is no booking to cancel",
    },
    "no_voucher_booking": {
        "zh": "没有可以发送凭证的预约。",
        "en": "there is no booking whose voucher could be sent",
    },
    "no_sms_phone": {
        "zh": "这个领取单位没有能收短信的手机号（没有号码，或已退订）。",
        "en": "the recipient has no phone that takes SMS",
    },
    "undo_window_passed": {
        "zh": "发放只能在 {seconds} 秒内撤销；请改由管理员登记更正。",
        "en": "a handover can only be undone within {seconds} seconds; record a correction "
        "with the operator instead",
    },
    "already_handed_over": {
        "zh": "已全部领取：由 {staff} 在 {station} 发放。",
        "en": "already collected: handed over by {staff} at {station}",
    },
    "voucher_refused": {
        "zh": "凭证现在不能用于此操作：{reason}。",
        "en": "voucher refused: {reason}",
    },
    "not_in_queue": {
        "zh": "这个号码已不在队列中。",
        "en": "that number is no longer in the queue",
    },
    "not_this_vouchers_handover": {
        "zh": "那次发放不属于这张凭证。",
        "en": "that handover is not one of this voucher's",
    },
    "not_whole_number": {
        "zh": "{name} 必须是整数。",
        "en": "{name} must be a whole number",
    },
    # -- records that are not there --------------------------------------------------------
    "distribution_missing": {
        "zh": "批次 {id} 不存在。",
        "en": "distribution {id} does not exist",
    },
    "recipient_missing": {
        "zh": "领取单位 {id} 不存在。",
        "en": "recipient {id} does not exist",
    },
    "slot_missing": {"zh": "时段 {id} 不存在。", "en": "slot {id} does not exist"},
    "booking_missing": {"zh": "预约 {id} 不存在。", "en": "booking {id} does not exist"},
    "handover_missing": {"zh": "发放记录 {id} 不存在。", "en": "handover {id} does not exist"},
    "site_missing": {"zh": "领取点 {id} 不存在。", "en": "site {id} does not exist"},
    "outbox_missing": {"zh": "短信 {id} 不存在。", "en": "outbox message {id} does not exist"},
    "site_not_in_distribution": {
        "zh": "领取点 {site} 不属于批次 {distribution}。",
        "en": "site {site} is not a site of distribution {distribution}",
    },
    "recipient_not_in_distribution": {
        "zh": "领取单位 {recipient} 不属于批次 {distribution}。",
        "en": "recipient {recipient} is not in distribution {distribution}",
    },
    "no_unresolved_conflict": {
        "zh": "预约 {booking} 没有待处理的离线冲突。",
        "en": "booking {booking} has no unresolved conflict",
    },
    "handover_not_in_conflict": {
        "zh": "发放记录 {handover} 不在这次冲突中。",
        "en": "handover {handover} is not in this conflict",
    },
    "roster_preview_gone": {
        "zh": "检查过的名单已不再保留：请重新上传。",
        "en": "that roster preview is no longer kept; upload the file again",
    },
    "form_invalid": {
        "zh": "表单有需要改正的字段：{fields}。",
        "en": "fields to correct: {fields}",
    },
    # -- roster ----------------------------------------------------------------------------
    "roster_file_rejected": {
        "zh": "{problem}；未导入任何数据。",
        "en": "{problem}; nothing was imported",
    },
    "roster_header_rejected": {
        "zh": "表头有错误；未导入任何数据。",
        "en": "the header row has errors; nothing was imported",
    },
    "roster_row_rejected": {
        "zh": "有 1 行有错误；未导入任何数据。",
        "en": "1 row has errors; nothing was imported",
    },
    "roster_rows_rejected": {
        "zh": "有 {rows} 行有错误；未导入任何数据。",
        "en": "{rows} rows have errors; nothing was imported",
    },
    "roster_not_text": {
        "zh": "名单必须是字节、文本或文本文件，不能是 {kind}。",
        "en": "a roster is bytes, str or a text file, not {kind}",
    },
    "uscc_body_invalid": {
        "zh": "统一社会信用代码的前 17 位只能由 {charset} 组成，现在是 {body!r}。",
        "en": "a USCC body is 17 characters from {charset}, got {body!r}",
    },
    "timezone_unknown": {"zh": "未知时区 {name!r}。", "en": "unknown timezone {name!r}"},
    "region_unknown": {
        "zh": "未知的电话地区 {code!r}：请用 CN 这样的代码。",
        "en": "unknown phone region {code!r}; use a code such as CN",
    },
    # -- vouchers --------------------------------------------------------------------------
    "damm_not_digits": {
        "zh": "校验位只能由数字 0-9 计算。",
        "en": "Damm check digits are computed over the digits 0-9 only.",
    },
    "voucher_secret_empty": {
        "zh": "凭证密钥必须是非空的字节串。",
        "en": "The voucher secret must be non-empty bytes.",
    },
    "voucher_serial_range": {
        "zh": "凭证序号是 0 到 {max} 之间的整数。",
        "en": "A voucher serial is a whole number from 0 to {max}.",
    },
    "voucher_code_not_text": {
        "zh": "凭证码必须以文本给出。",
        "en": "A voucher code must be given as text.",
    },
    "voucher_format": {
        "zh": "不支持凭证格式 {head!r}，应为 {prefix}。",
        "en": "Voucher format {head!r} is not supported; expected {prefix}.",
    },
    "voucher_character": {
        "zh": "凭证码只有数字 0-9，这里有 {char!r}。",
        "en": "A voucher code has only the digits 0-9; this has {char!r}.",
    },
    "voucher_length": {
        "zh": "凭证码是 {length} 位数字，这里有 {count} 位。",
        "en": "A voucher code has {length} digits; this has {count}.",
    },
    "voucher_check_digit": {
        "zh": "校验位不符：有一位数字输错或两位颠倒。",
        "en": "The check digit does not match; a digit is mistyped or swapped.",
    },
    "voucher_not_issued": {
        "zh": "这个凭证码不是本系统发出的。",
        "en": "This voucher code was not issued here.",
    },
    "voucher_code_bare": {
        "zh": "需要一个 {length} 位数字的凭证码。",
        "en": "Expected a bare {length}-digit voucher code.",
    },
    "qr_box_size": {
        "zh": "二维码模块大小必须是至少 1 的整数像素。",
        "en": "A QR box size is a whole number of pixels, at least 1.",
    },
    # -- safety instructions ---------------------------------------------------------------
    "safety_item_key": {
        "zh": "{where}：item_key 必须是一个词，例如 sodium_hypochlorite。",
        "en": "{where}: item_key must be a word such as sodium_hypochlorite",
    },
    "safety_language": {
        "zh": "{where}：语言只能是 {languages}。",
        "en": "{where}: language must be one of {languages}",
    },
    "safety_title": {"zh": "{where}：标题不能为空。", "en": "{where}: title must not be empty"},
    "safety_section": {
        "zh": "{where}：{section} 必须是非空的文字行列表。",
        "en": "{where}: {section} must be a non-empty list of lines",
    },
    "safety_pictograms": {
        "zh": "{where}：图示只能从 {known} 中选。",
        "en": "{where}: pictograms must be a list drawn from {known}",
    },
    "safety_sms_empty": {"zh": "{where}：短信不能为空。", "en": "{where}: sms must not be empty"},
    "safety_sms_long": {
        "zh": "{where}：短信有 {length} 个字符，一条短信只能容纳 {limit} 个。",
        "en": "{where}: sms is {length} characters; one SMS holds {limit}",
    },
    # -- accounts and tokens ---------------------------------------------------------------
    "wrong_login": {
        "zh": "用户名或密码不正确。",
        "en": "wrong user name or password",
    },
    "token_malformed": {
        "zh": "缺少令牌或格式不对。",
        "en": "missing or malformed token",
    },
    "token_unknown": {"zh": "令牌未知或已撤销。", "en": "unknown or revoked token"},
    "token_not_bearer": {
        "zh": "请发送 Authorization: Bearer <令牌>。",
        "en": "send Authorization: Bearer <token>",
    },
    "token_role_invalid": {
        "zh": "令牌角色只能是：{roles}。",
        "en": "role must be one of {roles}",
    },
    "device_name_invalid": {
        "zh": "设备名称为 1 至 64 个字符。",
        "en": "a device name is 1 to 64 characters",
    },
    "token_site_unknown": {
        "zh": "没有领取点 {site}；现有的领取点：{known}。",
        "en": "there is no site {site}; the sites are: {known}",
    },
    "login_locked": {
        "zh": "登录已暂停，直到 {until}。",
        "en": "sign-in locked until {until}",
    },
    # -- settings and storage --------------------------------------------------------------
    "flag_invalid": {
        "zh": "应为 true 或 false，现在是 {text!r}。",
        "en": "expected true or false, got {text!r}",
    },
    "gateway_invalid": {
        "zh": "只能是 {known} 之一，现在是 {text!r}。",
        "en": "expected one of {known}, got {text!r}",
    },
    "setting_invalid": {
        "zh": "设置 {name} 无效：{problem}",
        "en": "setting {name}: {problem}",
    },
    "database_scheme_unknown": {
        "zh": "未知的数据库类型 {scheme}://；SQLite 请给文件路径，PostgreSQL 请给 "
        "postgresql://用户:密码@主机:端口/数据库名",
        "en": "unknown database scheme {scheme}://; give a file path for SQLite or "
        "postgresql://user:password@host:port/dbname for PostgreSQL",
    },
    "database_unreachable": {
        "zh": "无法连接数据库 {target}：{problem}",
        "en": "cannot reach the database at {target}: {problem}",
    },
    "storage_busy": {
        "zh": "系统繁忙，什么都没有保存；请重试。",
        "en": "the service is busy; nothing was saved, please try again",
    },
    "disk_full": {
        "zh": "服务器磁盘已满，什么都没有保存；请告诉管理员。",
        "en": "the server's disk is full; nothing was saved, tell the operator",
    },
    "copy_target_not_postgresql": {
        "zh": "只能复制到 PostgreSQL 数据库（postgresql://用户:密码@主机:端口/库名），"
        "不能复制到 {target}。",
        "en": "copy-db copies to a PostgreSQL database (postgresql://user:password@host:port/"
        "dbname), not to {target}",
    },
    "copy_source_not_sqlite": {
        "zh": "PICKUP_DB 已经是 PostgreSQL 数据库；只能从 SQLite 文件复制。",
        "en": "PICKUP_DB is already a PostgreSQL database; copy-db copies from a SQLite file",
    },
    "copy_source_behind": {
        "zh": "源数据库缺少迁移 {migrations}：请先运行 flask --app wsgi init-db。",
        "en": "the source database lacks the migrations {migrations}: run "
        "flask --app wsgi init-db first",
    },
    "copy_target_not_empty": {
        "zh": "目标数据库 {target} 不是空的（{tables} 中已有数据）；什么都没有复制。"
        "请使用新建的空数据库。",
        "en": "the target {target} is not empty ({tables} hold rows); nothing was copied. "
        "Give a new, empty database",
    },
    "copy_schema_differs": {
        "zh": "迁移后目标数据库的表与源数据库不同：{tables}；什么都没有复制。",
        "en": "after migrating, the target's tables differ from the source's: {tables}; "
        "nothing was copied",
    },
    "copy_mismatch": {
        "zh": "复制结果与源数据库不一致，已全部撤销，目标数据库仍是空的：{differences}",
        "en": "the copy does not match the source, so it was rolled back and the target is "
        "empty again: {differences}",
    },
    # -- SMS channel -----------------------------------------------------------------------
    "sms_message_id_missing": {
        "zh": "收到的短信缺少服务商的消息编号。",
        "en": "an incoming SMS needs the provider's message id",
    },
    "sms_message_id_reused": {
        "zh": "这个消息编号来自另一个手机号。",
        "en": "this message id came from another phone",
    },
    "gateway_body_not_json": {"zh": "请求体不是 JSON。", "en": "the body is not JSON"},
    "gateway_body_not_object": {
        "zh": "请求体不是 JSON 对象。",
        "en": "the body is not a JSON object",
    },
    "gateway_event_no_id": {"zh": "事件没有编号。", "en": "the event has no id"},
    "gateway_event_incomplete": {
        "zh": "事件缺少事件名或内容。",
        "en": "the event has no event name or payload",
    },
    "twilio_not_configured": {
        "zh": "Twilio 还没有设置：请设置 TWILIO_ACCOUNT_SID、TWILIO_AUTH_TOKEN 和 TWILIO_FROM。"
        "在此之前，待发短信留在队列中。",
        "en": "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM. Queued messages stay queued until then.",
    },
    "android_not_configured": {
        "zh": "安卓短信网关还没有设置：请设置 ANDROID_SMS_GATEWAY_URL、ANDROID_SMS_GATEWAY_LOGIN "
        "和 ANDROID_SMS_GATEWAY_PASSWORD。在此之前，待发短信留在队列中。",
        "en": "The Android SMS gateway is not configured: set ANDROID_SMS_GATEWAY_URL, "
        "ANDROID_SMS_GATEWAY_LOGIN and ANDROID_SMS_GATEWAY_PASSWORD. "
        "Queued messages stay queued until then.",
    },
}

# Errors also use the account refusals and the shared message table's keys.
TABLES: tuple[Mapping[str, Mapping[str, str]], ...] = (
    TEXTS,
    account_texts.TEXTS,
    messages.MESSAGES,
)


def entry(key: str) -> Mapping[str, str]:
    """The zh/en texts of error ``key``; KeyError when no table has it."""
    for table in TABLES:
        found = table.get(key)
        if found is not None:
            return found
    raise KeyError(key)


def text(key: str, language: str, /, **values: object) -> str:
    """Error ``key`` in ``language``, filled with ``values`` (a :class:`Said` in its language)."""
    said = {
        name: getattr(value, language) if isinstance(value, Said) else value
        for name, value in values.items()
    }
    return entry(key)[language].format(**said)
