"""What the kiosk and the staff station say, in Chinese and English.

Verdict reasons come from :mod:`shared.messages` (every channel says them the same way);
these are the screens' own words.
"""

from __future__ import annotations

from collections.abc import Mapping

from auth import texts as auth_texts
from shared import messages

TEXTS: Mapping[str, Mapping[str, str]] = {
    # offline: what kiosk/static/offline.js says (kiosk/offline.py sends these to it)
    "sync_online": {"zh": "在线", "en": "Online"},
    "sync_offline": {"zh": "离线", "en": "Offline"},
    "sync_syncing": {"zh": "同步中", "en": "Syncing"},
    "sync_waiting": {"zh": "{n} 条待同步", "en": "{n} waiting to sync"},
    "offline_valid": {
        "zh": "凭证有效（离线判断，按本机保存的名单）。",
        "en": "Valid voucher (decided offline, from this device's list).",
    },
    "offline_unknown": {
        "zh": "本机保存的名单（本领取点今明两天）里没有此凭证。请核对凭证或纸质名单。",
        "en": "This voucher is not on this device's list (this site, today and tomorrow). "
        "Check the voucher or the printed day list.",
    },
    "offline_mistyped": {
        "zh": "凭证号码有误，请核对16位数字后重新输入。",
        "en": "This code has a typo. Check the 16 digits and try again.",
    },
    "offline_too_early": {
        "zh": "还没到领取时间：请于 {time} 以后再来。",
        "en": "Too early: come back from {time}.",
    },
    "offline_missed": {
        "zh": "已错过领取时段（{slot}）。",
        "en": "The pickup time has passed ({slot}).",
    },
    "offline_collected": {
        "zh": "已全部领取，不能重复领取。",
        "en": "Already collected in full; it cannot be collected twice.",
    },
    "offline_no_copy": {
        "zh": "离线，且本机还没有保存凭证名单：请联网一次，或使用纸质名单。",
        "en": "Offline, and this device holds no list of vouchers yet: go online once, "
        "or use the printed day list.",
    },
    "offline_checked_in_here": {
        "zh": "已签到，排队号 {queue}。",
        "en": "Checked in, number {queue}.",
    },
    "offline_handed": {
        "zh": "已发放 {n}（离线记录，联网后自动同步）。",
        "en": "Handed over {n} (recorded offline; it syncs when the network is back).",
    },
    "offline_units_range": {
        "zh": "数量须在 1 到 {max} 之间。",
        "en": "Units must be between 1 and {max}.",
    },
    "offline_list": {"zh": "本机保存的凭证（{n}）", "en": "Vouchers on this device ({n})"},
    "offline_notices": {
        "zh": "服务器对离线操作的答复",
        "en": "What the server said about offline actions",
    },
    "offline_dismiss": {"zh": "知道了", "en": "Dismiss"},
    "offline_kiosk_ask_staff": {
        "zh": "网络中断：请到工作人员处办理。",
        "en": "The network is down: please go to the staff desk.",
    },
    "hand_over_all_n": {"zh": "全部发放（{n}）", "en": "Hand over all ({n})"},
    "units_label": {"zh": "数量", "en": "Units"},
    "kiosk_title": {"zh": "自助领取机", "en": "Self-service pickup"},
    "kiosk_choose_site": {
        "zh": "这台自助机在哪个领取点？",
        "en": "Which pickup site is this kiosk at?",
    },
    "no_sites": {
        "zh": "还没有领取点。请先在管理后台创建发放批次。",
        "en": "There is no pickup site yet. Create a distribution in the console first.",
    },
    "no_site_open": {
        "zh": "目前没有领取点还有待开放的时间窗。以下是全部领取点：",
        "en": "No site has a pickup window still ahead. These are all the sites:",
    },
    "scan_prompt": {
        "zh": "请扫描凭证二维码，或输入16位凭证号码",
        "en": "Scan your voucher QR code, or type the 16-digit code",
    },
    "code_label": {"zh": "凭证号码", "en": "Voucher code"},
    "digit_count": {"zh": "已输入 {count} / 16 位数字", "en": "{count} of 16 digits"},
    "check": {"zh": "查询", "en": "Check"},
    "clear": {"zh": "清除", "en": "Clear"},
    "backspace": {"zh": "退格", "en": "Delete"},
    "camera": {"zh": "用摄像头扫码", "en": "Scan with camera"},
    "camera_stop": {"zh": "关闭摄像头", "en": "Stop camera"},
    "camera_hint": {"zh": "把二维码对准摄像头", "en": "Hold the QR code up to the camera"},
    "camera_error": {
        "zh": "无法打开摄像头，请输入号码或向工作人员求助。",
        "en": "The camera cannot be opened. Type the code or ask staff.",
    },
    "start_again": {"zh": "返回首页", "en": "Start again"},
    "what_to_do": {"zh": "怎么办", "en": "What to do"},
    "advice_unknown": {"zh": "请到服务台找工作人员。", "en": "Go to the help desk and ask staff."},
    "advice_mistyped": {
        "zh": "核对凭证上的16位数字，再试一次。",
        "en": "Check the 16 digits on your voucher and try again.",
    },
    "advice_cancelled": {
        "zh": "如认为有误，请找工作人员。",
        "en": "If you think this is wrong, ask staff.",
    },
    "advice_too_early": {
        "zh": "请按时返回，避免排队聚集。",
        "en": "Please come back then, so the queue stays short.",
    },
    "advice_missed": {
        "zh": "请找工作人员，或回复短信改约。",
        "en": "Ask staff, or reply to your SMS to rebook.",
    },
    "advice_already_collected": {
        "zh": "每张凭证只能领取一次。如有疑问请找工作人员。",
        "en": "Each voucher is collected once. Ask staff if in doubt.",
    },
    "advice_wrong_site": {"zh": "请到凭证上的领取点。", "en": "Go to the place on your voucher."},
    "advice_wrong_distribution": {
        "zh": "请找工作人员。",
        "en": "Ask staff.",
    },
    "contact": {"zh": "联系人", "en": "Contact"},
    "place": {"zh": "领取地点", "en": "Where to go"},
    "read_safety": {
        "zh": "领取前请阅读安全须知",
        "en": "Read the safety instructions before you collect",
    },
    "acknowledge": {
        "zh": "我已阅读并了解，办理签到",
        "en": "I have read and understood: check in",
    },
    "check_in": {"zh": "办理签到", "en": "Check in"},
    "checked_in": {"zh": "签到成功", "en": "You are checked in"},
    "queue_number": {"zh": "排队号", "en": "Queue number"},
    "wait_call": {
        "zh": "请在此稍候。叫号屏显示您的号码时，请到柜台领取。",
        "en": "Please wait here. When the board shows your number, come to the counter.",
    },
    "already_checked_in": {
        "zh": "您已签到，排队号不变。",
        "en": "You were already checked in; your number stays the same.",
    },
    "safety_title": {"zh": "安全须知", "en": "Safety instructions"},
    "no_safety": {"zh": "此物品无特别安全须知。", "en": "No special safety instructions."},
    "idle_note": {
        "zh": "无操作{seconds}秒后返回首页",
        "en": "Back to start after {seconds} s idle",
    },
    # the public queue board
    "board_title": {"zh": "叫号屏", "en": "Queue board"},
    "board_calling": {"zh": "请以下号码到柜台领取", "en": "Now calling"},
    "board_called_before": {"zh": "已叫号码", "en": "Called before"},
    "board_waiting": {"zh": "还有{count}人等候叫号", "en": "{count} waiting to be called"},
    "board_hint": {
        "zh": "在自助机签到后取得排队号，叫到您的号码时请到柜台。",
        "en": "Check in at the kiosk for a number; come to the counter when it is called.",
    },
    # staff station
    "search": {"zh": "搜索", "en": "Search"},
    "search_label": {
        "zh": "按领取单位、联系人、电话或凭证号码搜索",
        "en": "Search by name, contact, phone or code",
    },
    "no_results": {"zh": "没有找到。", "en": "Nothing found."},
    "search_count": {
        "zh": "共找到 {total} 条，显示第 {first}–{last} 条。",
        "en": "{total} found; showing {first}–{last}.",
    },
    "pages": {"zh": "分页", "en": "Pages"},
    "page_of": {"zh": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    "previous_page": {"zh": "上一页", "en": "Previous"},
    "next_page": {"zh": "下一页", "en": "Next"},
    "queue": {"zh": "已签到排队", "en": "Checked-in queue"},
    "queue_empty": {"zh": "暂无人排队。", "en": "Nobody is waiting."},
    "queue_count": {"zh": "（{count}人）", "en": "({count})"},
    "number": {"zh": "号码", "en": "No."},
    "checked_in_short": {"zh": "{time} 签到", "en": "checked in {time}"},
    "actions": {"zh": "操作", "en": "Actions"},
    "call_next": {"zh": "叫下一个号", "en": "Call next"},
    "open_board": {"zh": "打开叫号屏", "en": "Open the board"},
    "choose_site": {
        "zh": "本工作台尚未选择领取点：请重新登录并选择领取点后再叫号。",
        "en": "This station has no site yet: sign in again and choose the site to call numbers.",
    },
    "nobody_to_call": {"zh": "没有等待叫号的人。", "en": "Nobody is waiting to be called."},
    "now_calling": {
        "zh": "正在叫 {number} 号（{name}）。",
        "en": "Calling number {number} ({name}).",
    },
    "queue_gone": {
        "zh": "该号码已不在队列中（已领取、已取消或属于其他领取点）。",
        "en": "That number is no longer in the queue (served, cancelled or another site's).",
    },
    "skipped_ok": {
        "zh": "已跳过该号码；本人到场时可重新叫号。",
        "en": "Number skipped; recall it when its holder turns up.",
    },
    "waiting": {"zh": "等候中", "en": "waiting"},
    "called_at": {"zh": "{time} 已叫号", "en": "called at {time}"},
    "not_served": {"zh": "超过{minutes}分钟未到", "en": "not served for {minutes} min"},
    "skipped": {"zh": "已跳过", "en": "skipped"},
    "recall": {"zh": "重新叫号", "en": "Recall"},
    "skip": {"zh": "跳过", "en": "Skip"},
    "override_title": {"zh": "仍然发放（特殊情况）", "en": "Hand over anyway (exception)"},
    "override_hint": {
        "zh": "仅限工作人员：选择原因，将记入发放台账和审计日志。",
        "en": "Staff only: choose a reason; it is kept in the ledger and the audit log.",
    },
    "override_note": {"zh": "备注（可选）", "en": "Note (optional)"},
    "override_button": {"zh": "仍然发放", "en": "Hand over anyway"},
    "override_mark": {"zh": "特殊发放：{reason}", "en": "exception: {reason}"},
    "state": {"zh": "状态", "en": "State"},
    "handed": {"zh": "已发放", "en": "Handed over"},
    "remaining": {"zh": "待发放", "en": "Still due"},
    "not_checked_in": {"zh": "未签到", "en": "Not checked in"},
    "checked_in_at": {"zh": "{time}签到，{number}号", "en": "at {time}, number {number}"},
    "safety_ack": {"zh": "安全须知", "en": "Safety instructions"},
    "ack_yes": {"zh": "已确认（{time}，{channel}）", "en": "acknowledged ({time}, {channel})"},
    "ack_no": {"zh": "未确认", "en": "not acknowledged"},
    "ack_explained": {"zh": "已口头讲解", "en": "Explained in person"},
    "hand_over_all": {"zh": "全部发放{amount}", "en": "Hand over all {amount}"},
    "hand_over_some": {"zh": "部分发放", "en": "Hand over part"},
    "units": {"zh": "数量", "en": "Units"},
    "handed_ok": {
        "zh": "已发放{amount}，还剩{remaining}。",
        "en": "Handed over {amount}; {remaining} still due.",
    },
    "already_handed": {
        "zh": "已由 {staff} 在 {station} 于 {time} 发放，不能重复发放。",
        "en": "Already handed over by {staff} at {station} at {time}; not again.",
    },
    "undo": {"zh": "撤销", "en": "Undo"},
    "undone": {"zh": "已撤销该次发放。", "en": "That handover was undone."},
    "history": {"zh": "发放记录", "en": "Handovers"},
    "by_at": {"zh": "{staff}，{station}，{time}", "en": "{staff}, {station}, {time}"},
    "undone_mark": {"zh": "（已撤销）", "en": "(undone)"},
    "open": {"zh": "打开", "en": "Open"},
    # landing page
    "home_title": {"zh": "物资分批领取", "en": "Supplies pickup"},
    "home_intro": {
        "zh": "按时段分批领取紧缺物资。凭证以短信发送；请选择入口：",
        "en": "Scarce supplies, collected in staggered time slots. Vouchers come by SMS. "
        "Choose where to go:",
    },
    "home_kiosk": {"zh": "自助领取机", "en": "Self-service kiosk"},
    "home_kiosk_hint": {
        "zh": "在领取点扫码签到，阅读安全须知",
        "en": "check in at the pickup point and read the safety instructions",
    },
    "home_staff": {"zh": "工作台", "en": "Staff station"},
    "home_staff_hint": {"zh": "工作人员登录后发放物资", "en": "staff sign in and hand over"},
    "home_admin": {"zh": "管理后台", "en": "Operator console"},
    "home_admin_hint": {
        "zh": "管理员设置发放、导入名单、查看实时看板",
        "en": "administrators set up distributions, import rosters, watch the dashboard",
    },
    "home_phone": {"zh": "手机模拟器", "en": "Phone simulator"},
    "home_phone_hint": {
        "zh": "仅开发环境：模拟短信和电话",
        "en": "development only: play a phone by SMS and by call",
    },
    "home_health": {"zh": "运行状态", "en": "Health check"},
    "home_health_hint": {
        "zh": "数据库与迁移是否就绪（JSON）",
        "en": "whether the database and its migrations are ready (JSON)",
    },
}


# The screen text ``key`` in ``language``; falls back to sign-in's words, then the
# shared message table.
t = messages.translator(TEXTS, auth_texts.TEXTS)
