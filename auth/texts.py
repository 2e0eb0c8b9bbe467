"""What the sign-in page says, in Chinese and English (the staff station shows some too)."""

from __future__ import annotations

from collections.abc import Mapping

from shared import messages

TEXTS: Mapping[str, Mapping[str, str]] = {
    "staff_title": {"zh": "工作台", "en": "Staff station"},
    "login": {"zh": "登录", "en": "Sign in"},
    "logout": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "station": {"zh": "工作台名称", "en": "Station name"},
    "station_site": {"zh": "本工作台所在领取点", "en": "Pickup site of this station"},
    "no_station_site": {"zh": "（不指定：管理后台）", "en": "(none: for the console)"},
    "site_unknown": {
        "zh": "请从列表中选择领取点。",
        "en": "Choose a pickup site from the list.",
    },
    "login_failed": {"zh": "用户名或密码错误。", "en": "Wrong user name or password."},
    "login_locked": {
        "zh": "这台设备或网络登录失败次数过多，已暂停从这里登录。请{minutes}分钟后再试。",
        "en": "Too many failed sign-ins from this device or network. Sign-in from here is "
        "paused; try again in {minutes} min.",
    },
}


# The sign-in text ``key`` in ``language``; falls back to the shared message table.
t = messages.translator(TEXTS)
