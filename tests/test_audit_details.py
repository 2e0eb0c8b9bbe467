"""The audit log's detail column: labelled, translated fields, local times, never raw JSON."""

from __future__ import annotations

import ast
import html
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from kiosk_support import AT, add_staff, admin_client, build_pickup
from support import SECRET

from admin.audit import FORM_FIELDS, AuditDetails
from admin.texts import TEXTS
from shared import ratelimit, safety, storage
from shared.db import get_db
from shared.handover import Override, hand_over

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared", "admin", "auth", "kiosk", "sms", "web")


def _audited_fields() -> set[str]:
    """Every key the code puts in an audit detail: the string keys of the dict literals and
    ``detail[...]`` assignments in each function that writes the audit log."""
    found: set[str] = set()
    for path in (p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            calls = [
                n
                for n in ast.walk(function)
                if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "audit"
                and getattr(n.func.value, "id", "") == "storage"
            ]
            if not calls:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Dict):
                    found |= {
                        k.value
                        for k in node.keys
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    }
                if (
                    isinstance(node, ast.Subscript)
                    and isinstance(node.ctx, ast.Store)
                    and isinstance(node.slice, ast.Constant)
                    and getattr(node.value, "id", "") == "detail"
                ):
                    found.add(node.slice.value)
    return found


def test_every_audited_field_has_a_label_in_both_languages():
    fields = _audited_fields()
    assert {"units", "station", "override_reason", "until", "from_slot", "sessions_ended"} <= fields
    unlabelled = sorted(
        f for f in fields if f not in FORM_FIELDS and f"audit_field_{f}" not in TEXTS
    )
    assert unlabelled == []
    for field in fields - FORM_FIELDS:
        assert set(TEXTS[f"audit_field_{field}"]) == {"zh", "en"}


@pytest.fixture
def pickup(demo_app):
    built = build_pickup(demo_app)
    with demo_app.app_context():
        add_staff(get_db(), "ada", "admin")
    return built


def _detail_cells(response) -> dict[str, str]:
    """Each row's action (stored name) and its detail cell as a reader sees it."""
    rows = re.findall(r'<span title="(\w+)">.*?<td class="detail"[^>]*>(.*?)</td>', response.text)
    return {action: html.unescape(re.sub(r"<[^>]+>", "", cell)) for action, cell in rows}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            "发放记录：{handover} · 破例情形：早到 · 破例说明：bus from Xikou · "
            "破例原因：远道而来 · 工作台：Desk 1 · 件数：{units}",
        ),
        (
            "en",
            "Handover: {handover} · Overridden: Early · Override note: bus from Xikou · "
            "Override reason: came from far · Station: Desk 1 · Units: {units}",
        ),
    ],
)
def test_a_handover_override_reads_as_labelled_words(pickup, lang, expected):
    with pickup.app.app_context():
        db = get_db()
        done = hand_over(
            db,
            pickup.codes["too_early"],
            SECRET.encode(),
            AT,
            "alice",
            "Desk 1",
            override=Override("came_from_far", "bus from Xikou"),
        )
    client = admin_client(pickup.app, lang)
    response = client.get(f"/admin/audit?subject=booking:{done.booking_id}")
    cells = _detail_cells(response)
    assert cells["hand_over"] == expected.format(handover=done.id, units=done.units)
    assert "{" not in response.text.split('id="audit"')[1].split("title=")[0]


@pytest.mark.parametrize(
    ("lang", "parts"),
    [
        (
            "zh",
            [
                "分配方法：圣拉古法（韦伯斯特）",
                "分配依据：员工人数",
                "库存（件数）：614",
                "领取点：区企业服务中心 Enterprise Service Centre",
            ],
        ),
        (
            "en",
            [
                "Allocation method: Sainte-Laguë (Webster)",
                "Weigh by: Headcount",
                "Stock (units): 614",
                "Sites: 区企业服务中心 Enterprise Service Centre",
            ],
        ),
    ],
)
def test_a_new_distribution_reads_with_its_form_labels(pickup, lang, parts):
    cells = _detail_cells(admin_client(pickup.app, lang).get("/admin/audit?subject=distribution:1"))
    created = cells["create_distribution"]
    with pickup.app.app_context():
        title = safety.item_titles(get_db(), lang)["hydrogen_peroxide"]
    label = TEXTS["item_key"][lang]
    for part in [*parts, f"{label}{'：' if lang == 'zh' else ': '}{title}"]:
        assert part in created
    assert "hydrogen_peroxide" not in created and "sainte_lague" not in created


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "失败次数：5 · 暂停到：2020-02-04 13:01"),
        ("en", "Failures: 5 · Paused until: 2020-02-04 13:01"),
    ],
)
def test_a_sign_in_pause_says_until_when_in_local_time(pickup, lang, expected):
    limits = ratelimit.LoginLimits()
    with pickup.app.app_context():
        for _ in range(5):
            ratelimit.login_failed(get_db(), "mallory", "10.0.0.9", AT, limits)
    cells = _detail_cells(admin_client(pickup.app, lang).get("/admin/audit"))
    assert cells["login_locked"] == expected


def test_a_detail_that_is_not_an_object_or_has_an_unknown_field_shows_as_stored(pickup):
    from zoneinfo import ZoneInfo

    with pickup.app.app_context():
        details = AuditDetails(get_db(), "zh", ZoneInfo("Asia/Shanghai"))
        assert details.fields("[1, 2]") == [("", "[1, 2]")]
        assert details.fields(json.dumps({"brand_new": 3})) == [("brand_new", "3")]
        assert details.fields(json.dumps({"slot": 999999})) == [("时段", "#999999")]
        slot = storage.list_slots(get_db(), 1)[0]
        start = storage.from_db_time(slot["starts_at"]) + timedelta(hours=8)
        assert details.fields(json.dumps({"slot": slot["id"]})) == [
            ("时段", f"{start:%Y-%m-%d %H:%M}（区企业服务中心 Enterprise Service Centre）")
        ]
