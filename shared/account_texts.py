"""Why an account change was refused, in Chinese and English (the console shows the first,
the command line the second). Keys are :class:`shared.errors.AccountRefused` keys."""

from __future__ import annotations

from collections.abc import Mapping

TEXTS: Mapping[str, Mapping[str, str]] = {
    "user_name_invalid": {
        "zh": "用户名为1至64个字符，不能有空格。",
        "en": "a user name is 1 to 64 characters without spaces",
    },
    "user_role_invalid": {
        "zh": "角色只能是：{roles}。",
        "en": "role must be one of {roles}",
    },
    "password_too_short": {
        "zh": "密码至少要有{n}个字符。",
        "en": "a password has at least {n} characters",
    },
    "user_exists": {"zh": "用户“{name}”已存在。", "en": "the user '{name}' already exists"},
    "user_unknown": {"zh": "没有用户“{name}”。", "en": "there is no user '{name}'"},
    "last_admin": {
        "zh": "“{name}”是最后一个可用的管理员账号：请先让另一个账号成为管理员。",
        "en": "'{name}' is the last enabled admin: make another account admin first",
    },
    "not_yourself": {
        "zh": "不能停用自己的账号，也不能修改自己的角色：请让另一位管理员操作。",
        "en": "you cannot disable your own account or change your own role: ask another admin",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The refusal ``key`` in ``language``, filled with ``values``."""
    return TEXTS[key][language].format(**values)
