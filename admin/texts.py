"""What the operator console says, in Chinese and English.

Every piece of text a console page shows comes from here (``t(key, lang)``); error keys
carry the values that make the message exact (``t("min_value", "en", min=1)``).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared import messages

TEXTS: Mapping[str, Mapping[str, str]] = {
    # frame
    "console": {"zh": "发放管理台", "en": "Operator console"},
    "distributions": {"zh": "发放批次", "en": "Distributions"},
    "audit_log": {"zh": "操作日志", "en": "Audit log"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
    "signed_in_as": {"zh": "当前用户：{user}", "en": "Signed in as {user}"},
    "back": {"zh": "返回", "en": "Back"},
    "forbidden_title": {"zh": "无权访问", "en": "Not allowed"},
    "forbidden": {
        "zh": "管理台只对管理员开放。请用管理员账号登录。",
        "en": "The operator console is for administrators only. Sign in with an admin account.",
    },
    "form_expired_title": {"zh": "表单已过期", "en": "Form expired"},
    "form_expired": {
        "zh": "表单已过期。请返回，刷新页面后重试。",
        "en": "The form has expired. Go back, reload the page and try again.",
    },
    "not_found_title": {"zh": "找不到", "en": "Not found"},
    "not_done": {"zh": "操作未完成：{reason}", "en": "Not done: {reason}"},
    # offline conflicts
    "conflicts": {"zh": "冲突", "en": "Conflicts"},
    "conflicts_help": {
        "zh": "两个离线工作台对同一凭证的发放超过了凭证数量。每次发放都已记入台账并标为冲突，"
        "直到您处理：核实后接受（多发的数量计为超出分配），或记录某次发放的物资已退回。",
        "en": "Two stations, offline, handed over one voucher beyond its units. Every handover "
        "stands in the ledger flagged as a conflict until you resolve it: accept it (the "
        "extra counts as beyond the allotment), or record that one handover's goods came back.",
    },
    "no_conflicts": {"zh": "没有待处理的冲突。", "en": "No conflicts to resolve."},
    "conflict_voucher": {
        "zh": "凭证尾号 {last4}：{recipient}（{site}），应发 {units}，已发 {handed}",
        "en": "Voucher ending {last4}: {recipient} ({site}), due {units}, handed over {handed}",
    },
    "conflict_when": {"zh": "时间", "en": "When"},
    "conflict_staff": {"zh": "工作人员", "en": "Staff"},
    "conflict_station": {"zh": "工作台", "en": "Station"},
    "conflict_units": {"zh": "数量", "en": "Units"},
    "conflict_accept": {"zh": "接受全部发放", "en": "Accept every handover"},
    "conflict_return": {"zh": "记录此次退回", "en": "Record a return of this one"},
    "conflict_resolved": {"zh": "冲突已处理。", "en": "Conflict resolved."},
    "conflict_gone": {
        "zh": "该凭证没有待处理的冲突（可能已被处理）。",
        "en": "That voucher has no conflict to resolve (it may have been resolved already).",
    },
    "ledger_conflicts": {
        "zh": "未处理的离线冲突：{count} 张凭证，涉及发放 {units} 个单位",
        "en": "Unresolved offline conflicts: vouchers {count}, units handed over in them {units}",
    },
    # users
    "users": {"zh": "用户", "en": "Users"},
    "users_help": {
        "zh": "工作台和管理台的账号。停用账号、修改角色或重设密码后，"
        "该账号在所有设备上立即退出登录。",
        "en": "Accounts for the staff station and this console. Disabling an account, changing "
        "its role or resetting its password signs it out everywhere at once.",
    },
    "user_name": {"zh": "用户名", "en": "User name"},
    "role": {"zh": "角色", "en": "Role"},
    "role_admin": {"zh": "管理员", "en": "admin"},
    "role_staff": {"zh": "工作人员", "en": "staff"},
    "account_state": {"zh": "状态", "en": "State"},
    "account_enabled": {"zh": "可用", "en": "Enabled"},
    "account_disabled": {"zh": "已停用", "en": "Disabled"},
    "signed_in_sessions": {"zh": "登录中", "en": "Signed in"},
    "account_created": {"zh": "创建时间", "en": "Created"},
    "you": {"zh": "（你）", "en": "(you)"},
    "ask_another_admin": {
        "zh": "自己的角色和停用由另一位管理员修改",
        "en": "another admin changes your role or disables you",
    },
    "add_user": {"zh": "添加用户", "en": "Add user"},
    "initial_password": {"zh": "密码（至少{n}个字符）", "en": "Password (at least {n} characters)"},
    "new_password": {"zh": "新密码", "en": "New password"},
    "disable": {"zh": "停用", "en": "Disable"},
    "enable": {"zh": "启用", "en": "Enable"},
    "change_role": {"zh": "改角色", "en": "Change role"},
    "reset_password": {"zh": "重设密码", "en": "Reset password"},
    "user_not_found": {"zh": "没有这个用户。", "en": "There is no such user."},
    "user_added": {"zh": "已添加用户“{name}”。", "en": "Added the user {name}."},
    "user_disabled": {
        "zh": "已停用“{name}”，其所有登录已结束。",
        "en": "Disabled {name}; all their sessions have ended.",
    },
    "user_enabled": {"zh": "已启用“{name}”。", "en": "Enabled {name}."},
    "role_changed": {
        "zh": "“{name}”现在是{role}，其所有登录已结束。",
        "en": "{name} is now {role}; all their sessions have ended.",
    },
    "password_reset": {
        "zh": "已为“{name}”设置新密码，其所有登录已结束。",
        "en": "New password set for {name}; all their sessions have ended.",
    },
    "nothing_changed": {"zh": "没有变化。", "en": "Nothing changed."},
    # index and overview
    "new_distribution": {"zh": "新建发放批次", "en": "New distribution"},
    "no_distributions": {
        "zh": "还没有发放批次。先新建一个。",
        "en": "There is no distribution yet. Create one first.",
    },
    "handed_of_stock": {
        "zh": "已发放 {handed} / {stock} {unit}（{share}）",
        "en": "Handed out {handed} of {stock} {unit} ({share})",
    },
    "steps": {"zh": "步骤", "en": "Steps"},
    "step_details": {"zh": "1. 批次信息", "en": "1. Details"},
    "step_roster": {"zh": "2. 导入名单", "en": "2. Roster"},
    "step_allocate": {"zh": "3. 分配数量", "en": "3. Allotments"},
    "step_schedule": {"zh": "4. 安排时段", "en": "4. Slots"},
    "step_invite": {"zh": "5. 短信邀请", "en": "5. Invitations"},
    "step_dashboard": {"zh": "6. 实时看板", "en": "6. Live dashboard"},
    "step_exports": {"zh": "导出", "en": "Exports"},
    "recipients": {"zh": "领取单位", "en": "Recipients"},
    "recipients_count": {"zh": "{n} 个领取单位", "en": "{n} recipients"},
    "allotted_count": {
        "zh": "已分配 {allotted} / {stock} 件，余 {rest} 件",
        "en": "{allotted} of {stock} units allotted, {rest} left",
    },
    "bookings_count": {"zh": "{n} 个预约", "en": "{n} bookings"},
    "not_yet": {"zh": "尚未进行", "en": "not yet"},
    "edit": {"zh": "修改", "en": "Edit"},
    "open": {"zh": "打开", "en": "Open"},
    # distribution form
    "name": {"zh": "批次名称", "en": "Name"},
    "item": {"zh": "物资", "en": "Item"},
    "item_key": {"zh": "安全须知", "en": "Safety instructions"},
    "item_key_none": {"zh": "（无）", "en": "(none)"},
    "unit_name": {
        "zh": "包装名称（中文，如 桶、箱、件）",
        "en": "Shipping unit, Chinese name (桶, 箱, 件)",
    },
    "unit_name_en": {
        "zh": "包装名称（英文，如 20 kg drum）",
        "en": "Shipping unit, English name (20 kg drum)",
    },
    "unit_size": {"zh": "每件的量", "en": "Amount per unit"},
    "measure": {"zh": "计量单位", "en": "Measured in"},
    "stock_units": {"zh": "库存（件数）", "en": "Stock (units)"},
    "timezone": {"zh": "时区", "en": "Time zone"},
    "site_legend": {"zh": "领取点 {number}", "en": "Pickup site {number}"},
    "site_name": {"zh": "领取点名称", "en": "Pickup site"},
    "site_address": {"zh": "地址", "en": "Address"},
    "site_people": {
        "zh": "本点每时段人数（空：同上方）",
        "en": "People per slot here (blank: as above)",
    },
    "site_units": {
        "zh": "本点每时段件数（空：同上方）",
        "en": "Units per slot here (blank: as above)",
    },
    "add_site": {"zh": "添加领取点", "en": "Add a site"},
    "remove_site": {"zh": "删除此领取点", "en": "Remove this site"},
    "site_twice": {"zh": "已有同名领取点。", "en": "Another site has this name."},
    "no_site": {"zh": "至少需要一个领取点。", "en": "Give at least one pickup site."},
    "windows": {"zh": "领取时间窗", "en": "Pickup windows"},
    "windows_hint": {
        "zh": "每行一个：2020-02-04 12:00 / 19:00（或写完整的结束日期时间）",
        "en": "One a line: 2020-02-04 12:00 / 19:00 (or a full end date and time)",
    },
    "slot_minutes": {"zh": "时段长度（分钟）", "en": "Slot length (minutes)"},
    "capacity_people": {"zh": "每时段人数上限", "en": "People per slot"},
    "capacity_units": {"zh": "每时段件数上限（可空）", "en": "Units per slot (optional)"},
    "early_minutes": {"zh": "可提前（分钟）", "en": "Early allowed (minutes)"},
    "grace_minutes": {"zh": "迟到宽限（分钟）", "en": "Grace for late arrivals (minutes)"},
    "weight_basis": {"zh": "分配依据", "en": "Weigh by"},
    "basis_headcount": {"zh": "员工人数", "en": "Headcount"},
    "basis_population": {"zh": "人口", "en": "Population"},
    "basis_requested": {"zh": "申请数量", "en": "Requested units"},
    "basis_equal": {"zh": "平均", "en": "Equal shares"},
    "allocation_method": {"zh": "分配方法", "en": "Allocation method"},
    "method_sainte_lague": {"zh": "圣拉古法（韦伯斯特）", "en": "Sainte-Laguë (Webster)"},
    "method_largest_remainder": {"zh": "最大余额法（汉密尔顿）", "en": "Largest remainder"},
    "save": {"zh": "保存", "en": "Save"},
    "create": {"zh": "创建", "en": "Create"},
    "fix_fields": {"zh": "请改正标出的字段。", "en": "Please correct the marked fields."},
    "created": {"zh": "已创建发放批次 {id}。", "en": "Distribution {id} created."},
    "saved": {"zh": "已保存。", "en": "Saved."},
    # field errors
    "required": {"zh": "必填。", "en": "Required."},
    "number_range": {
        "zh": "请填写 {min} 到 {max} 之间的整数。",
        "en": "Enter a whole number from {min} to {max}.",
    },
    "unit_size_range": {
        "zh": "请填写大于 0、不超过 {max} 的数。",
        "en": "Enter a number above 0 and at most {max}.",
    },
    "too_long": {"zh": "最多 {max} 个字符。", "en": "At most {max} characters."},
    "window_year": {
        "zh": "第 {line} 行：年份须在 {min} 到 {max} 之间。",
        "en": "Line {line}: the year must be from {min} to {max}.",
    },
    "unknown_timezone": {"zh": "未知时区。", "en": "Unknown time zone."},
    "bad_choice": {"zh": "请从选项中选择。", "en": "Choose one of the options."},
    "windows_empty": {"zh": "至少填写一个领取时间窗。", "en": "Give at least one pickup window."},
    "window_format": {
        "zh": "第 {line} 行：请写成 2020-02-04 12:00 / 19:00。",
        "en": "Line {line}: write a window as 2020-02-04 12:00 / 19:00.",
    },
    "window_order": {
        "zh": "第 {line} 行：结束时间早于开始时间。",
        "en": "Line {line}: the window ends before it starts.",
    },
    "window_overlap": {
        "zh": "第 {line} 行：与其他时间窗重叠。",
        "en": "Line {line}: the window overlaps another one.",
    },
    "window_short": {
        "zh": "第 {line} 行：时间窗比一个时段还短。",
        "en": "Line {line}: the window is shorter than one slot.",
    },
    # roster
    "roster_title": {"zh": "导入名单", "en": "Import roster"},
    "roster_help": {
        "zh": "上传 CSV（UTF-8 或 GBK，中文或英文表头）。先检查每一行；有任何错误则不导入。",
        "en": "Upload a CSV (UTF-8 or GBK, Chinese or English headers). Every row is checked "
        "first; a file with any error imports nothing.",
    },
    "roster_file": {"zh": "名单文件", "en": "Roster file"},
    "check_file": {"zh": "检查文件", "en": "Check the file"},
    "template_csv_zh": {"zh": "下载中文模板 CSV", "en": "Template CSV, Chinese headers"},
    "template_csv_en": {"zh": "英文模板 CSV", "en": "Template CSV, English headers"},
    "no_file": {"zh": "请选择一个 CSV 文件。", "en": "Choose a CSV file."},
    "preview_gone": {
        "zh": "检查过的文件已不再保留（超过一小时，或已经导入）。请重新上传。",
        "en": "The checked file is no longer kept (after an hour, or once imported). "
        "Upload it again.",
    },
    "roster_errors": {
        "zh": "文件有 {n} 处错误，未导入任何数据。改正后重新上传：",
        "en": "The file has {n} errors; nothing was imported. Fix them and upload it again:",
    },
    "row": {"zh": "行", "en": "Row"},
    "column": {"zh": "列", "en": "Column"},
    "problem": {"zh": "问题", "en": "Problem"},
    "roster_clean": {
        "zh": "文件无误：{n} 行。确认后导入。",
        "en": "The file is clean: {n} rows. Import them when they look right.",
    },
    "import_rows": {"zh": "导入 {n} 行", "en": "Import {n} rows"},
    "imported": {
        "zh": "已导入 {n} 个领取单位。",
        "en": "Imported {n} recipients.",
    },
    "more_rows": {"zh": "……另有 {n} 行", "en": "… and {n} more rows"},
    "external_id": {"zh": "编号/信用代码", "en": "Id"},
    "town": {"zh": "镇街", "en": "Town"},
    "headcount": {"zh": "人数", "en": "Headcount"},
    "population": {"zh": "人口", "en": "Population"},
    "requested_units": {"zh": "申请", "en": "Requested"},
    "floor_units": {"zh": "保底", "en": "Floor"},
    "contact_name": {"zh": "联系人", "en": "Contact"},
    "phone": {"zh": "电话", "en": "Phone"},
    "language": {"zh": "语言", "en": "Language"},
    "priority": {"zh": "优先级", "en": "Priority"},
    "earliest": {"zh": "最早", "en": "Earliest"},
    "latest": {"zh": "最晚", "en": "Latest"},
    "site": {"zh": "领取点", "en": "Site"},
    # allocation
    "allocation_title": {"zh": "分配预览", "en": "Allotment preview"},
    "preview_method": {"zh": "按此方法预览", "en": "Preview with this method"},
    "allocation_summary": {
        "zh": "{method}：库存 {stock} 件，分配 {allocated} 件，余 {rest} 件。",
        "en": "{method}: stock {stock} units, {allocated} allotted, {rest} left over.",
    },
    "weight": {"zh": "权重", "en": "Weight"},
    "cap": {"zh": "上限", "en": "Cap"},
    "units": {"zh": "件数", "en": "Units"},
    "amount": {"zh": "数量", "en": "Amount"},
    "commit_allocation": {"zh": "确认分配", "en": "Commit these allotments"},
    "allotment_spread": {
        "zh": "{n} 个领取单位，{with_units} 个分到货物；平均每个 {mean} 件，中位数 {median} 件。",
        "en": "{n} recipients, {with_units} of them allotted units; {mean} units each on "
        "average, median {median}.",
    },
    "units_per_recipient": {"zh": "每个领取单位的件数", "en": "Units per recipient"},
    "recipients_column": {"zh": "领取单位数", "en": "Recipients"},
    "largest_claims": {"zh": "分得最多的 {n} 个", "en": "The {n} largest allotments"},
    "smallest_claims": {"zh": "分得最少的 {n} 个", "en": "The {n} smallest allotments"},
    "download_allotments": {
        "zh": "下载全部 {n} 个领取单位的分配表（CSV）",
        "en": "Download the allotments of all {n} recipients (CSV)",
    },
    "allocated": {
        "zh": "已分配 {allocated} / {stock} 件，余 {rest} 件。",
        "en": "Allotted {allocated} of {stock} units; {rest} left over.",
    },
    # schedule
    "schedule_title": {"zh": "时段安排预览", "en": "Slot plan preview"},
    "schedule_summary": {
        "zh": "{slots} 个时段；将为 {new} 个领取单位新安排时段，已有预约 {booked} 个。",
        "en": "{slots} slots; {new} recipients get a slot now, {booked} already have one.",
    },
    "load_per_slot": {"zh": "每时段人数", "en": "People per slot"},
    "load_per_day": {
        "zh": "每天人数（时段较多，按天合计）",
        "en": "People per day (many slots, summed per day)",
    },
    "slot_load_summary": {
        "zh": "{slots} 个时段共 {people} 人、{units} 件：{full} 个时段已满，{empty} 个时段无人。",
        "en": "{slots} slots take {people} people and {units} units: {full} full, {empty} empty.",
    },
    "slots_over": {
        "zh": "{n} 个时段超出上限（预约后上限被调低）。",
        "en": "{n} slots are over their capacity (it was lowered after they were booked).",
    },
    "people_per_slot": {"zh": "每时段人数分布", "en": "People per slot, spread"},
    "slots_count": {"zh": "时段数", "en": "Slots"},
    "fullest_slots": {"zh": "最满的 {n} 个时段", "en": "The {n} fullest slots"},
    "emptiest_slots": {"zh": "最空的 {n} 个时段", "en": "The {n} emptiest slots"},
    "download_slots": {
        "zh": "下载全部 {n} 个时段的安排表（CSV）",
        "en": "Download the plan of all {n} slots (CSV)",
    },
    "slot": {"zh": "时段", "en": "Slot"},
    "people": {"zh": "人数", "en": "People"},
    "capacity": {"zh": "上限", "en": "Capacity"},
    "commit_schedule": {"zh": "确认安排并发放凭证", "en": "Commit the plan and issue vouchers"},
    "scheduled": {
        "zh": "已为 {booked} 个领取单位安排时段（共 {slots} 个时段，{already} 个原已预约）。",
        "en": "{booked} recipients booked into {slots} slots ({already} already had one).",
    },
    "nothing_to_schedule": {
        "zh": "每个已分配的领取单位都已有时段。",
        "en": "Every allotted recipient already has a slot.",
    },
    # invitations
    "invite_title": {"zh": "短信邀请", "en": "Invitations"},
    "invite_help": {
        "zh": "给每个有电话、有分配的领取单位发一条邀请短信；每个领取单位只发一次。",
        "en": "Send every allotted recipient with a phone one invitation SMS; nobody is "
        "invited twice.",
    },
    "send_invitations": {"zh": "发送邀请", "en": "Send invitations"},
    "retry_failed": {"zh": "重发失败的短信", "en": "Retry failed messages"},
    "invitations_queued": {
        "zh": "已排队 {queued} 条邀请（{already} 个领取单位此前已邀请）。",
        "en": "{queued} invitations queued ({already} recipients were invited before).",
    },
    "retried": {"zh": "已重新排队 {n} 条短信。", "en": "{n} messages queued again."},
    "to_invite": {"zh": "可邀请", "en": "Can be invited"},
    "invitations_held": {
        "zh": "{n} 条邀请等待每日上限（任意 24 小时内最多 {cap} 条），最早 {at} 发出。",
        "en": "{n} invitations wait for the daily cap ({cap} in any 24 hours); the first goes "
        "at {at}.",
    },
    "invitations_cap": {
        "zh": "每日上限：任意 24 小时内最多发出 {cap} 条邀请，其余顺延。",
        "en": "Daily cap: at most {cap} invitations in any 24 hours; the rest wait.",
    },
    "outbox_worker_hint": {
        "zh": "短信由服务的发送进程自动逐条发出，无需另行操作；本页显示进度。",
        "en": "The service's sending worker sends them one by one by itself; nothing else "
        "to run. This page shows how they stand.",
    },
    # recipients
    "state": {"zh": "状态", "en": "State"},
    "all_states": {"zh": "全部", "en": "All"},
    "booking": {"zh": "预约", "en": "Booking"},
    "voucher": {"zh": "凭证", "en": "Voucher"},
    "allotment": {"zh": "分配", "en": "Allotment"},
    "handed": {"zh": "已发", "en": "Handed"},
    "checked_in_at": {"zh": "签到时间", "en": "Checked in"},
    "messages_sent": {"zh": "发出的短信", "en": "Messages sent"},
    "messages_received": {"zh": "收到的短信", "en": "Messages received"},
    "time": {"zh": "时间", "en": "Time"},
    "text": {"zh": "内容", "en": "Text"},
    "delivery": {"zh": "送达状态", "en": "Delivery"},
    "reply": {"zh": "回复", "en": "Reply"},
    "none": {"zh": "无", "en": "None"},
    "offer_slots": {"zh": "短信推荐新时段", "en": "Offer new slots by SMS"},
    "offer_queued": {
        "zh": "已发短信推荐 {n} 个空余时段。",
        "en": "An SMS offering {n} free slots is queued.",
    },
    "offer_none": {
        "zh": "未发短信：没有空余时段、没有电话或已退订。",
        "en": "No SMS queued: no free slot, no phone, or the phone opted out.",
    },
    # one booking, from the recipient's page
    "change_booking": {"zh": "改约、取消、重发凭证", "en": "Move, cancel, resend"},
    "move_to": {"zh": "改到时段", "en": "Move to slot"},
    "book_into": {"zh": "预约时段", "en": "Book slot"},
    "move_booking": {"zh": "改约并短信通知", "en": "Move and tell them by SMS"},
    "book_booking": {"zh": "预约并短信通知", "en": "Book and tell them by SMS"},
    "no_free_slot": {"zh": "没有可改的空余时段。", "en": "No free slot to move to."},
    "cancel_booking": {"zh": "取消预约并短信通知", "en": "Cancel and tell them by SMS"},
    "resend_voucher": {"zh": "重发凭证短信", "en": "Resend the voucher SMS"},
    "not_changeable": {
        "zh": "已签到或已领取，不能在此改约或取消；请到领取点由工作人员处理。",
        "en": "Checked in or collected: it cannot be moved or cancelled here; staff at "
        "the pickup point can.",
    },
    "choose_slot": {"zh": "请先选择一个时段。", "en": "Choose a slot first."},
    "slot_placeholder": {"zh": "选择时段……", "en": "Choose a slot…"},
    "booking_moved": {
        "zh": "已改到 {when}，确认短信已排队。",
        "en": "Moved to {when}; the SMS confirming it is queued.",
    },
    "booking_cancelled": {
        "zh": "预约已取消，通知短信已排队。",
        "en": "Booking cancelled; the SMS telling them is queued.",
    },
    "voucher_resent": {"zh": "凭证短信已排队重发。", "en": "The voucher SMS is queued again."},
    "slot_full": {"zh": "该时段已满，请另选。", "en": "That slot is full; choose another."},
    "slot_started": {
        "zh": "该时段已开始，不能再约；请另选。",
        "en": "That slot has already started; choose a later one.",
    },
    "no_allotment": {
        "zh": "此领取单位没有分配，无可预约。",
        "en": "This recipient has no allotment, so there is nothing to book.",
    },
    "booking_closed": {
        "zh": "已签到或已有物资发出，不能再改约或取消。",
        "en": "Checked in or goods handed over: the booking can no longer change.",
    },
    "no_phone": {
        "zh": "没有可接收短信的电话（名单上无电话，或已退订）。",
        "en": "No phone that takes SMS (none on the roster, or it opted out).",
    },
    "no_live_booking": {"zh": "没有有效预约。", "en": "There is no live booking."},
    # the printed day list
    "day_list": {"zh": "打印签收单", "en": "Printable day list"},
    "day_list_title": {"zh": "{site} · {day} 签收单", "en": "{site} · {day}: day list"},
    "day_list_help": {
        "zh": "领取日前打印（A4）。断网时按此单核对电话和凭证后四位，发放并签名；"
        "恢复后在工作台补录。",
        "en": "Print it (A4) before the day. If the network fails, check the phone's and "
        "the voucher's last 4 digits, hand over and have them sign; enter it at the "
        "station once it is back.",
    },
    "day": {"zh": "日期", "en": "Day"},
    "show": {"zh": "显示", "en": "Show"},
    "print": {"zh": "打印", "en": "Print"},
    "printed_at": {"zh": "打印于 {time}", "en": "Printed {time}"},
    "day_totals": {
        "zh": "共 {people} 个领取单位，{units} 件。",
        "en": "{people} recipients, {units} units.",
    },
    "phone_last4": {"zh": "电话后4位", "en": "Phone, last 4"},
    "voucher_last4": {"zh": "凭证后4位", "en": "Voucher, last 4"},
    "signature": {"zh": "签名", "en": "Signature"},
    "nobody_that_day": {
        "zh": "这一天此领取点没有预约。",
        "en": "No bookings at this site that day.",
    },
    "bad_day": {
        "zh": "日期“{value}”无效，应如 2020-02-04。",
        "en": "The day '{value}' is not a date like 2020-02-04.",
    },
    "no_sites": {"zh": "此批次还没有领取点。", "en": "This distribution has no site yet."},
    "unknown_site": {
        "zh": "领取点“{site}”不属于此批次。",
        "en": "Site '{site}' is not one of this distribution's.",
    },
    # dashboard
    "missed_slots": {"zh": "已过时段中未到场的", "en": "Passed slots: who did not arrive"},
    "missed_in_slot": {"zh": "{n} 个未到场", "en": "{n} did not arrive"},
    "dashboard_title": {"zh": "实时看板", "en": "Live dashboard"},
    "handed_out": {"zh": "已发放", "en": "Handed out"},
    "bookings_by_state": {"zh": "领取单位按状态", "en": "Recipients by state"},
    "per_slot": {"zh": "各时段：预约、到场与上限", "en": "Per slot: booked, arrived, capacity"},
    "per_day": {
        "zh": "每天：预约、到场与上限（时段较多，按天合计）",
        "en": "Per day: booked, arrived, capacity (many slots, summed per day)",
    },
    "and_more": {"zh": "另有 {n} 个", "en": "and {n} more"},
    "latest_missed_slots": {
        "zh": "共 {n} 个时段有人未到场，此处列出最近 {shown} 个。",
        "en": "{n} slots had no-shows; the latest {shown} are listed here.",
    },
    "all_missed": {"zh": "查看全部错过的领取单位", "en": "All recipients who missed"},
    "listed_of": {"zh": "列出 {shown} / {n} 个", "en": "{shown} of {n} listed"},
    "booked": {"zh": "预约", "en": "Booked"},
    "arrived": {"zh": "到场", "en": "Arrived"},
    "late_arrivals": {"zh": "迟到", "en": "Late arrivals"},
    "queue": {"zh": "排队中", "en": "Queue now"},
    "queue_number": {"zh": "号", "en": "No."},
    "waiting_list": {"zh": "候补名单", "en": "Waiting list"},
    "waiting_count": {
        "zh": "{n} 个领取单位已有分配但没有有效预约（已取消或未预约）。",
        "en": "{n} allotted recipients have no live booking (cancelled or no booking).",
    },
    "offer_waiting": {"zh": "把空余时段推荐给候补", "en": "Offer free slots to the waiting list"},
    "waiting_offered": {
        "zh": "已给 {offered} 个候补领取单位发短信推荐时段；"
        "{skipped} 个未发（无空位、无电话或已退订）。",
        "en": "SMS offers queued for {offered} on the waiting list; {skipped} not sent "
        "(no free slot, no phone, or opted out).",
    },
    "no_shows": {"zh": "未到场", "en": "No-shows"},
    "no_shows_help": {
        "zh": "时段结束并超过宽限 {grace} 分钟仍未签到的预约记为错过，并短信推荐新时段。",
        "en": "Bookings whose slot ended more than {grace} minutes ago without a check-in are "
        "marked missed and offered new slots by SMS.",
    },
    "mark_no_shows": {"zh": "标记未到场并推荐新时段", "en": "Mark no-shows and re-offer"},
    "no_shows_marked": {
        "zh": "{marked} 个预约记为错过；{offered} 个已短信推荐新时段。",
        "en": "{marked} bookings marked missed; {offered} offered new slots by SMS.",
    },
    "updated_at": {"zh": "更新于 {time}", "en": "Updated {time}"},
    "recipient": {"zh": "领取单位", "en": "Recipient"},
    "slot_ended": {"zh": "时段结束", "en": "Slot ended"},
    "ledger_balance": {
        "zh": "库存 {stock} = 已发 {handed} + 待领 {outstanding} + 未分配 {unallocated}：{state}",
        "en": "Stock {stock} = handed over {handed} + outstanding {outstanding} + "
        "unallocated {unallocated}: {state}",
    },
    "ledger_balance_beyond": {
        "zh": "库存 {stock} = 已发 {handed} + 待领 {outstanding} + 未分配 {unallocated}"
        " − 超出分配 {beyond}：{state}",
        "en": "Stock {stock} = handed over {handed} + outstanding {outstanding} + "
        "unallocated {unallocated} − beyond allotments {beyond}: {state}",
    },
    "balanced": {"zh": "平衡", "en": "balanced"},
    "not_balanced": {"zh": "不平衡", "en": "NOT BALANCED"},
    # exports
    "export_ledger": {"zh": "导出台账 CSV", "en": "Ledger CSV"},
    "export_bookings": {"zh": "导出预约 CSV", "en": "Bookings CSV"},
    # audit
    "audit_help": {
        "zh": "谁在何时做了什么。日志只能追加，任何人都不能修改。",
        "en": "Who changed what, when. The log is append-only: nobody can edit it.",
    },
    "time_in": {"zh": "时间（{zone}）", "en": "Time ({zone})"},
    "language_zh": {"zh": "中文", "en": "Chinese"},
    "language_en": {"zh": "英文", "en": "English"},
    "actor": {"zh": "操作人", "en": "Who"},
    "action": {"zh": "操作", "en": "Action"},
    "subject": {"zh": "对象", "en": "Subject"},
    "detail": {"zh": "详情", "en": "Detail"},
    "filter": {"zh": "筛选", "en": "Filter"},
    # the recipients list: paged, searched, filtered
    "search_recipients": {"zh": "搜索", "en": "Search"},
    "search_recipients_hint": {
        "zh": "单位或联系人名称的开头、统一社会信用代码（或编号）的开头、"
        "电话或凭证码的末尾四位以上数字",
        "en": "The beginning of a name or contact name or of an external id, or the last "
        "four or more digits of a phone or voucher code",
    },
    "any_town": {"zh": "全部镇街", "en": "Every town"},
    "any_site": {"zh": "全部领取点", "en": "Every site"},
    "clear_filters": {"zh": "清除筛选", "en": "Clear filters"},
    "rows_shown": {
        "zh": "共 {total} 个，显示第 {first}–{last} 个",
        "en": "{total} found, showing {first}–{last}",
    },
    "nothing_found": {"zh": "没有符合条件的领取单位。", "en": "No recipient matches."},
    "page_of": {"zh": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    "previous_page": {"zh": "上一页", "en": "Previous"},
    "next_page": {"zh": "下一页", "en": "Next"},
    "query_too_long": {
        "zh": "搜索内容最多 {n} 个字。",
        "en": "A search is at most {n} characters.",
    },
    # what the audit log's actions are called (every action the code writes has one)
    "audit_acknowledge_safety": {"zh": "确认安全须知", "en": "Safety instructions acknowledged"},
    "audit_allocate": {"zh": "分配数量", "en": "Allocated"},
    "audit_book": {"zh": "预约", "en": "Booked"},
    "audit_change": {"zh": "改约", "en": "Booking moved"},
    "audit_cancel": {"zh": "取消预约", "en": "Booking cancelled"},
    "audit_check_in": {"zh": "签到", "en": "Checked in"},
    "audit_create_distribution": {"zh": "新建发放批次", "en": "Distribution created"},
    "audit_edit_distribution": {"zh": "修改发放批次", "en": "Distribution edited"},
    "audit_create_token": {"zh": "新建设备令牌", "en": "Device token created"},
    "audit_create_user": {"zh": "新建账号", "en": "User created"},
    "audit_set_password": {"zh": "重设密码", "en": "Password reset"},
    "audit_set_role": {"zh": "更改角色", "en": "Role changed"},
    "audit_disable_user": {"zh": "停用账号", "en": "User disabled"},
    "audit_enable_user": {"zh": "启用账号", "en": "User enabled"},
    "audit_edit_safety_content": {"zh": "修改安全须知", "en": "Safety instructions edited"},
    "audit_hand_over": {"zh": "发放", "en": "Handed over"},
    "audit_undo_hand_over": {"zh": "撤销发放", "en": "Handover undone"},
    "audit_resolve_conflict": {"zh": "处理离线冲突", "en": "Offline conflict resolved"},
    "audit_import_roster": {"zh": "导入名单", "en": "Roster imported"},
    "audit_ivr_codes_locked": {"zh": "电话输码过多，暂停输码", "en": "Phone code entry locked"},
    "audit_login_locked": {"zh": "登录失败过多，暂时锁定", "en": "Sign-in locked"},
    "audit_mark_missed": {"zh": "记为错过", "en": "Marked missed"},
    "audit_offer_missed": {"zh": "给错过者推荐新时段", "en": "New slots offered to no-shows"},
    "audit_offer_waiting_list": {"zh": "给候补推荐时段", "en": "Slots offered to waiting list"},
    "audit_resend_voucher": {"zh": "重发凭证短信", "en": "Voucher SMS resent"},
    "audit_retry_invitations": {"zh": "重发失败的邀请", "en": "Failed invitations retried"},
    "audit_schedule": {"zh": "安排时段", "en": "Scheduled"},
    "audit_send_invitations": {"zh": "发送邀请短信", "en": "Invitations queued"},
    "audit_queue_call": {"zh": "叫号", "en": "Number called"},
    "audit_queue_recall": {"zh": "重新叫号", "en": "Number called again"},
    "audit_queue_skip": {"zh": "过号", "en": "Number skipped"},
    # the fields of an audit entry's detail (admin/audit.py); a distribution's fields are
    # labelled as on its form
    "audit_field_allocated": {"zh": "已分配", "en": "Allotted"},
    "audit_field_conflict": {"zh": "离线冲突", "en": "Offline conflict"},
    "audit_field_handovers": {"zh": "发放记录", "en": "Handovers"},
    "audit_field_offline": {"zh": "离线操作", "en": "Offline action"},
    "audit_field_queue_label": {"zh": "离线排队号", "en": "Offline queue number"},
    "audit_field_resolution": {"zh": "处理方式", "en": "Resolution"},
    "audit_field_returned": {"zh": "退回的发放记录", "en": "Handover returned"},
    "audit_field_uploaded_at": {"zh": "上传时间", "en": "Uploaded at"},
    "audit_value_accept": {"zh": "接受", "en": "accepted"},
    "audit_value_return": {"zh": "登记退回", "en": "return recorded"},
    "audit_field_already": {"zh": "此前已排入", "en": "Queued before"},
    "audit_field_already_booked": {"zh": "此前已有预约", "en": "Already booked"},
    "audit_field_booked": {"zh": "新预约", "en": "Booked"},
    "audit_field_changed": {"zh": "改动", "en": "Changed"},
    "audit_field_device": {"zh": "设备", "en": "Device"},
    "audit_field_entries": {"zh": "条目", "en": "Entries"},
    "audit_field_failures": {"zh": "失败次数", "en": "Failures"},
    "audit_field_file": {"zh": "文件", "en": "File"},
    "audit_field_from": {"zh": "原角色", "en": "From"},
    "audit_field_from_slot": {"zh": "原时段", "en": "From slot"},
    "audit_field_handover": {"zh": "发放记录", "en": "Handover"},
    "audit_field_language": {"zh": "语言", "en": "Language"},
    "audit_field_marked": {"zh": "记为错过", "en": "Marked missed"},
    "audit_field_method": {"zh": "分配方法", "en": "Method"},
    "audit_field_offered": {"zh": "已推荐", "en": "Offered"},
    "audit_field_override_note": {"zh": "破例说明", "en": "Override note"},
    "audit_field_override_reason": {"zh": "破例原因", "en": "Override reason"},
    "audit_field_overridden": {"zh": "破例情形", "en": "Overridden"},
    "audit_field_queue": {"zh": "排队号", "en": "Queue number"},
    "audit_field_queued": {"zh": "新排入发送", "en": "Queued"},
    "audit_field_requeued": {"zh": "重新排队", "en": "Requeued"},
    "audit_field_role": {"zh": "角色", "en": "Role"},
    "audit_field_rows": {"zh": "行数", "en": "Rows"},
    "audit_field_run": {"zh": "分配轮次", "en": "Run"},
    "audit_field_sessions_ended": {"zh": "结束的登录", "en": "Sessions ended"},
    "audit_field_site": {"zh": "领取点", "en": "Site"},
    "audit_field_sites": {"zh": "领取点", "en": "Sites"},
    "audit_field_skipped": {"zh": "跳过", "en": "Skipped"},
    "audit_field_slot": {"zh": "时段", "en": "Slot"},
    "audit_field_slots": {"zh": "时段数", "en": "Slots"},
    "audit_field_station": {"zh": "工作台", "en": "Station"},
    "audit_field_stock": {"zh": "库存", "en": "Stock"},
    "audit_field_to": {"zh": "新角色", "en": "To"},
    "audit_field_to_slot": {"zh": "新时段", "en": "To slot"},
    "audit_field_unallocated": {"zh": "未分配", "en": "Left over"},
    "audit_field_units": {"zh": "件数", "en": "Units"},
    "audit_field_until": {"zh": "暂停到", "en": "Paused until"},
    "audit_value_too_early": {"zh": "早到", "en": "Early"},
    "audit_value_missed": {"zh": "错过时段", "en": "Missed"},
    "audit_yes": {"zh": "是", "en": "yes"},
    "audit_no": {"zh": "否", "en": "no"},
    "role_kiosk": {"zh": "自助机", "en": "kiosk"},
}


# The console text ``key`` in ``language``; falls back to the shared message table.
t = messages.translator(TEXTS)


def audit_action(action: str, language: str) -> str:
    """An audit log action as people read it; an action without a label shows as stored."""
    table = TEXTS.get(f"audit_{action}")
    return table[language] if table else action
