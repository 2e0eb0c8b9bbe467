"""Every domain error carries a key and its values, said in Chinese and English.

The walk reads every module above the tests with ``ast``: each ``raise`` (or construction)
of a :class:`shared.errors.PickupError` names a key of :mod:`shared.error_texts` and fills
exactly the fields its texts use. The console then shows the Chinese text whole.
"""

from __future__ import annotations

import ast
import html
import io
import re
import string
from pathlib import Path

import pytest
from kiosk_support import AT, PASSWORD, admin_client, csrf
from support import DEMO_LOADED_AT

from admin.setup import FormInvalid
from shared import accounts, error_texts, errors
from shared.db import get_db
from shared.error_texts import Said

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shared", "admin", "kiosk", "sms", "auth", "web")

# Domain errors whose constructor takes other arguments than (key, **values): they choose
# their key themselves.
OWN_KEYS = {
    "AlreadyHandedOver": "already_handed_over",
    "NotYourHandover": "not_your_handover",
    "UnitsOutOfRange": "units_range",
    "AlreadyUndone": "already_undone",
    "VoucherRefused": "voucher_refused",
    "LoginLocked": "login_locked",
    "FormInvalid": "form_invalid",
}
# Keyword arguments that are not text values.
NOT_VALUES = {"missing_digits", "errors"}


def _error_classes() -> set[str]:
    found = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.PickupError)
    }
    return found | {FormInvalid.__name__}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _constructions() -> list[tuple[str, int, str, ast.Call]]:
    """Every call of a domain error class in the code: (file, line, class, call)."""
    classes = _error_classes()
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "errors.py" and package == "shared":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in classes and name not in OWN_KEYS:
                        where = str(path.relative_to(ROOT))
                        found.append((where, node.lineno, name, node))
    return found


CONSTRUCTIONS = _constructions()


def test_the_walk_finds_the_raise_sites():
    assert len(CONSTRUCTIONS) > 120
    files = {where for where, *_ in CONSTRUCTIONS}
    assert {"shared/allocation.py", "shared/scheduling.py", "shared/planning.py"} <= files


@pytest.mark.parametrize(
    "construction", CONSTRUCTIONS, ids=[f"{w}:{line}" for w, line, _, _ in CONSTRUCTIONS]
)
def test_every_domain_error_names_a_key_and_fills_its_fields(construction):
    where, line, name, call = construction
    first = call.args[0] if call.args else None
    # a key held in a variable (a helper passing its caller's key on) is checked at its caller
    if isinstance(first, ast.Name) or (isinstance(first, ast.Attribute) and first.attr == "key"):
        return
    assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
        f"{where}:{line}: {name}(...) must name a key of shared.error_texts, not a message"
    )
    texts = error_texts.entry(first.value)
    given = {k.arg for k in call.keywords if k.arg} - NOT_VALUES
    if any(k.arg is None for k in call.keywords):  # **values passed on
        return
    assert given == _fields(texts["zh"]) == _fields(texts["en"]), (where, line, first.value)


ALL_KEYS = sorted({*error_texts.TEXTS, *error_texts.account_texts.TEXTS})


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_key_has_both_languages_and_formats_with_its_values(key):
    texts = error_texts.entry(key)
    assert set(texts) == {"zh", "en"}
    fields = _fields(texts["en"])
    assert fields == _fields(texts["zh"]), key
    values = {name: Said(f"值{name}", f"value-{name}") for name in fields}
    zh, en = error_texts.text(key, "zh", **values), error_texts.text(key, "en", **values)
    assert all(f"值{name}" in zh and f"value-{name}" in en for name in fields)
    assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the Chinese text has no Chinese"
    assert "单位" not in zh.replace("领取单位", ""), f"{key}: 单位 only means a recipient"
    assert "{" not in zh and "{" not in en


def test_an_error_is_english_as_a_string_and_chinese_when_asked():
    exc = errors.InfeasibleAllocation(
        "floors_above_stock", floors=error_texts.units(60), stock=error_texts.units(40)
    )
    assert str(exc) == "the floors add up to 60 units but only 40 units are in stock"
    assert exc.text("zh") == "各领取单位的保底数量合计 60 件，但库存只有 40 件：无法分配。"
    assert (exc.key, exc.values["floors"].en) == ("floors_above_stock", "60 units")


# -- what the Chinese console shows -----------------------------------------------------------

FORM = {
    "name": "手套发放",
    "item": "丁腈手套",
    "item_key": "",
    "unit_name": "盒",
    "unit_name_en": "box of 100",
    "unit_size": "100",
    "measure": "gloves",
    "stock_units": "40",
    "site_name_0": "镇政府",
    "site_address_0": "大街1号",
    "timezone": "Asia/Shanghai",
    "windows_0": "2020-02-06 09:00 / 11:00",
    "slot_minutes": "30",
    "capacity_people": "2",
    "capacity_units": "",
    "early_minutes": "15",
    "grace_minutes": "30",
    "weight_basis": "headcount",
    "allocation_method": "sainte_lague",
}
ROSTER_HEADER = "name,external_id,town,headcount,floor_units,phone,language\n"
ROSTER = ROSTER_HEADER + (
    "Alpha Ltd,A1,Yuelin,30,1,+8617000002001,en\n"
    "Beta Ltd,B2,Xikou,10,1,+8617000002002,zh\n"
    "Gamma Ltd,C3,Xikou,60,1,,en\n"
)
FLOORS_ABOVE_STOCK = ROSTER.replace(",1,", ",20,")
NO_HEADCOUNT = ROSTER.replace("Beta Ltd,B2,Xikou,10,", "Beta Ltd,B2,Xikou,,")


@pytest.fixture
def console(app):
    """An empty console at 13:00 on the article's day, with the admin ``ada``."""
    app.config["CLOCK"] = lambda: AT
    with app.app_context():
        accounts.create_user(get_db(), "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
    return app


def _post(client, path: str, data: dict | None = None, **kwargs):
    data = {**(data or {}), "csrf_token": csrf(client, "/admin/")}
    return client.post(path, data=data, **kwargs)


def _error_box(response) -> str:
    found = re.search(r'<p class="flash error" role="alert" id="error">(.*?)</p>', response.text)
    assert found, response.text[:600]
    return html.unescape(found.group(1))


def _console_with(app, roster: str, **form: str):
    client = admin_client(app, "zh")
    assert _post(client, "/admin/new", {**FORM, **form}).status_code == 302
    upload = {"file": (io.BytesIO(roster.encode()), "roster.csv")}
    checked = _post(client, "/admin/d/1/roster", upload, content_type="multipart/form-data")
    token = re.search(r'name="preview" value="([^"]+)"', checked.text)
    assert token, checked.text[:800]
    imported = _post(client, "/admin/d/1/roster/import", {"preview": token.group(1)})
    assert imported.status_code == 302
    return client


@pytest.mark.parametrize(
    ("roster", "form", "step", "chinese"),
    [
        (
            FLOORS_ABOVE_STOCK,
            {},
            "allocate",
            "操作未完成：各领取单位的保底数量合计 60 件，但库存只有 40 件：无法分配。",
        ),
        (
            NO_HEADCOUNT,
            {},
            "allocate",
            "操作未完成：领取单位 B2（Beta Ltd）没有可作分配依据的人数。",
        ),
        (
            ROSTER,
            {"windows_0": "2020-02-06 09:00 / 09:30", "capacity_people": "1"},
            "schedule",
            "操作未完成：有 3 个领取单位，但时段只能容纳 1 个（1 个时段 × 1）。"
            "请延长领取时间窗、缩短时段，或提高每时段上限。",
        ),
    ],
    ids=["infeasible_allocation", "roster_value_missing", "schedule_does_not_fit"],
)
def test_the_chinese_console_says_a_refusal_in_chinese(console, roster, form, step, chinese):
    client = _console_with(console, roster, **form)
    if step == "schedule":
        assert _post(client, "/admin/d/1/allocate", {"method": "sainte_lague"}).status_code == 302
    for response in (client.get(f"/admin/d/1/{step}"), _post(client, f"/admin/d/1/{step}")):
        assert response.status_code == 409
        shown = _error_box(response)
        assert shown == chinese
        # nothing English but the roster's own names and codes
        assert re.findall(r"[A-Za-z]{3,}", shown) in ([], ["Beta", "Ltd"])


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "批次 99 不存在。"),
        ("en", "distribution 99 does not exist"),
    ],
)
def test_a_missing_distribution_is_said_in_the_console_language(console, lang, expected):
    client = admin_client(console, lang)
    response = client.get("/admin/d/99/")
    assert response.status_code == 404
    assert expected in html.unescape(response.text)
