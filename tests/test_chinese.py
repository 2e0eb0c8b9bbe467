"""In the Chinese interface nothing is English: roster errors and columns, the roster template,
statuses, safety item names, audit actions and their local times, and the goods' unit."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from kiosk_support import AT, PASSWORD, admin_client, csrf, page_text
from support import DEMO_LOADED_AT
from test_admin import VALID

from admin.texts import TEXTS, audit_action
from shared import accounts, roster, safety, storage
from shared.db import get_db
from shared.errors import RosterInvalid

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh(app):
    """An empty console at 13:00 on the article's day, with an admin ``ada``."""
    app.config["CLOCK"] = lambda: AT
    with app.app_context():
        accounts.create_user(get_db(), "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
    return app


def _admin(app, lang: str = "zh"):
    return admin_client(app, lang)


_text = page_text


# -- roster errors, columns and the template -------------------------------------------------


def _errors(data: str) -> list[roster.RowError]:
    with pytest.raises(RosterInvalid) as caught:
        roster.parse_roster(data.encode(), "Asia/Shanghai", "CN")
    return caught.value.errors


@pytest.mark.parametrize(
    ("data", "zh"),
    [
        ("name,external_id,headcount\nA,A1,many\n", "“人数”的“many”不是整数"),
        ("name,external_id,headcount\nA,A1,-3\n", "“人数”的“-3”不能小于 0"),
        ("name,external_id,phone\nA,A1,12\n", "电话“12”不是有效的电话号码"),
        ("name,external_id,language\nA,A1,fr\n", "语言“fr”应为 zh（中文）或 en（英文）"),
        ("name,external_id\n,A1\n", "“领取单位”必填"),
        ("name,external_id\nA,A1\nB,A1\n", "编号“A1”已在第 2 行用过"),
        ("name,external_id,earliest\nA,A1,tomorrow\n",
         "“最早时间”的“tomorrow”不是日期时间，应如 2020-02-04 13:00"),
        ("name,external_id,floor_units,requested_units\nA,A1,5,2\n", "最少数量 5 大于申请数量 2"),
        ("name,external_id,earliest,latest\nA,A1,2020-02-04 13:00,2020-02-04 12:00\n",
         "最晚时间“2020-02-04 12:00”必须晚于最早时间“2020-02-04 13:00”"),
        ("name,external_id\nA,A1,x\n", "此行有 3 格，表头有 2 格；请检查多余的逗号"),
        ("name,external_id,\nA,A1,x\n", "第 C 列有内容但没有表头；请加上列名或清空"),
        ("name,id\nA,A1\n", "缺少必填列：统一社会信用代码或编号；第一个非空行必须是表头"),
        ("name,external_id,名称\nA,A1,B\n", "“领取单位”列出现了两次（“name”和“名称”）"),
        ("name,external_id\n", "文件只有表头，没有数据行"),
        ("name,external_id\n" + "名" * 201 + ",A1\n", "“领取单位”有 201 个字符，最多 200 个"),
        ("", "文件是空的；需要一行表头，每个领取单位一行"),
    ],
)  # fmt: skip
def test_every_roster_error_in_chinese(data, zh):
    errors = _errors(data)
    assert zh in [error.text("zh") for error in errors]
    # The English words stay the commands' and the English console's.
    assert all(error.text("en") == error.message for error in errors)


def test_every_roster_text_has_both_languages():
    assert all(set(v) == {"zh", "en"} and all(v.values()) for v in roster.ROSTER_TEXTS.values())
    assert set(roster.CHINESE_HEADERS) == set(roster.COLUMNS)


def test_roster_errors_page_in_chinese(fresh):
    client = _admin(fresh)
    client.post(
        "/admin/new",
        data={**_new_distribution(), "csrf_token": csrf(client, "/admin/")},
    )
    bad = "name,external_id,headcount,phone\nAlpha,A1,many,+8617000002001\nBeta,B2,5,12\n"
    response = client.post(
        "/admin/d/1/roster",
        data={"file": (io.BytesIO(bad.encode()), "bad.csv"), "csrf_token": csrf(client, "/admin/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = _text(response)
    assert "<td>2</td><td>人数</td><td>“人数”的“many”不是整数</td>" in page
    assert "<td>3</td><td>联系电话</td><td>电话“12”不是有效的电话号码</td>" in page
    assert "is not" not in page and "headcount" not in page.split('id="error-table"')[1]


def _new_distribution() -> dict[str, str]:
    return dict(VALID)


@pytest.mark.parametrize(
    ("language", "first", "words"),
    [
        ("zh", "领取单位,统一社会信用代码或编号,镇街,人数", ("中文", "英文")),
        ("en", "name,external_id,town,headcount", (",zh,", ",en,")),
    ],
)
def test_roster_template_in_each_language_reads_back(fresh, language, first, words):
    response = _admin(fresh, "en").get(f"/admin/roster-template.csv?language={language}")
    text = response.data.decode("utf-8-sig")
    assert text.startswith(first)
    assert all(word in text for word in words)
    assert f"roster-template-{language}.csv" in response.headers["Content-Disposition"]
    rows = roster.parse_roster(response.data, "Asia/Shanghai", "CN")
    assert [r["language"] for r in rows] == ["zh", "en"]
    assert rows == roster.parse_roster(roster.template_csv("en").encode(), "Asia/Shanghai", "CN")


def test_roster_template_of_the_page_language_and_bad_choice(fresh):
    client = _admin(fresh)
    assert client.get("/admin/roster-template.csv").data.decode("utf-8-sig").startswith("领取单位")
    response = client.get("/admin/roster-template.csv?language=fr")
    assert response.status_code == 400 and "请从选项中选择。" in _text(response)


# -- safety items by name ------------------------------------------------------------------


def test_the_form_names_safety_items_not_keys(fresh):
    page = _text(_admin(fresh).get("/admin/new"))
    select = page[page.index('<select id="item_key"') :]
    select = select[: select.index("</select>")]
    assert '<option value="ethanol_75">75%酒精</option>' in select
    assert ">ethanol_75<" not in select and ">masks<" not in select
    with fresh.app_context():
        titles = safety.item_titles(get_db(), "en")
    assert titles["ethanol_75"] == "75 % ethanol"


# -- the audit log ---------------------------------------------------------------------------


def _audited_actions() -> set[str]:
    """Every action name the code writes to the audit log."""
    found = set()
    packages = ("shared", "admin", "auth", "kiosk", "sms", "web")
    for path in (p for package in packages for p in (ROOT / package).glob("*.py")):
        text = path.read_text("utf-8")
        for call in re.finditer(r"storage\.audit\(\s*(?:db|database),\s*[^,]+,\s*\"(\w+)\"", text):
            found.add(call[1])
    # Actions named in a variable: booking.book_slot's and accounts' enabling.
    found |= {"book", "change", "disable_user", "enable_user"}
    return found


def test_every_audited_action_has_a_label():
    actions = _audited_actions()
    assert {"hand_over", "cancel", "resend_voucher", "login_locked"} <= actions
    missing = sorted(a for a in actions if f"audit_{a}" not in TEXTS)
    assert missing == []
    assert audit_action("hand_over", "zh") == "发放"
    assert audit_action("something_new", "zh") == "something_new"


@pytest.mark.parametrize(
    ("lang", "header", "action"),
    [
        ("zh", "时间（Asia/Shanghai）", "新建发放批次"),
        ("en", "Time (Asia/Shanghai)", "Distribution created"),
    ],
)
def test_audit_log_in_local_time_and_words(fresh, lang, header, action):
    client = _admin(fresh, lang)
    client.post("/admin/new", data={**_new_distribution(), "csrf_token": csrf(client, "/admin/")})
    page = _text(client.get("/admin/audit"))
    assert header in page and "UTC" not in page
    row = page[page.index('title="create_distribution"') - 200 :]
    assert f">{action}</span>" in row
    # The console's clock is 13:00 in Fenghua (05:00 UTC): the entry says 13:00.
    assert "2020-02-04 13:00:00" in page


# -- the goods' unit has a Chinese and an English name ----------------------------------------


def test_unit_names_migrate_from_the_one_name(tmp_path):
    from shared.migrations import migrations

    database = storage.open_database(tmp_path / "old.sqlite3")
    migrations.apply(database, stop_before="0014_unit_names")
    database.execute(
        "INSERT INTO distributions (name, item, unit_name, unit_size, measure, stock_units, "
        "timezone, slot_minutes, capacity_people, created_at) "
        "VALUES ('Old', 'Gloves', 'box of 100', 100, 'gloves', 5, 'Asia/Shanghai', 15, 5, '')"
    )
    assert storage.migrate(database)[0] == "0014_unit_names"
    row = storage.get_distribution(database, 1)
    assert (row["unit_name"], row["unit_name_en"]) == ("box of 100", "box of 100")


@pytest.mark.parametrize(
    ("lang", "allotment", "collected"),
    [("zh", "{u}桶（{kg} kg）", "1桶"), ("en", "{u} × 20 kg drum ({kg} kg)", "1 × 20 kg drum")],
)
def test_voucher_page_names_the_unit_in_its_language(office_day, lang, allotment, collected):
    with office_day.app_context():
        rows = storage.voucher_views_for_distribution(get_db(), 1)
    partly = next(v for v in rows if v["handed_units"] == 1 and v["units"] > 1)
    page = _text(office_day.test_client().get(f"/v/{partly['code']}?lang={lang}"))
    assert allotment.format(u=partly["units"], kg=partly["units"] * 20) in page
    assert f"<dd>{collected}</dd>" in page
    if lang == "zh":
        assert "drum" not in page


def test_console_pages_name_the_unit_in_their_language(office_day):
    client = _admin(office_day)
    for path in ("/admin/d/1/", "/admin/d/1/dashboard", "/admin/d/1/day-list"):
        page = _text(client.get(path))
        assert "drum" not in page, path
        assert "桶" in page, path
    page = _text(_admin(office_day, "en").get("/admin/d/1/day-list"))
    assert "× 20 kg drum" in page and "桶" not in page


def test_the_form_asks_for_both_names(fresh):
    client = _admin(fresh, "en")
    data = {**_new_distribution(), "unit_name_en": " ", "csrf_token": csrf(client, "/admin/")}
    response = client.post("/admin/new", data=data)
    assert response.status_code == 400
    assert 'id="unit_name_en-problem">' in response.get_data(as_text=True)
    data["unit_name_en"] = "x" * 61
    response = client.post("/admin/new", data=data)
    assert response.status_code == 400
    assert "At most 60 characters." in _text(response)
    data["unit_name_en"] = "box of 100"
    assert client.post("/admin/new", data=data).status_code == 302
    with fresh.app_context():
        row = storage.get_distribution(get_db(), 1)
    assert (row["unit_name"], row["unit_name_en"]) == ("盒", "box of 100")


@pytest.mark.parametrize(
    ("extra", "english"), [(["--unit-name-en", "box of 10"], "box of 10"), ([], "盒")]
)
def test_create_distribution_takes_the_english_name(runner, app, extra, english):
    from test_cli import CREATE

    args = list(CREATE)
    args[args.index("--unit-name") + 1] = "盒"
    result = runner.invoke(args=args + extra)
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = storage.list_distributions(get_db())[-1]
    assert (row["unit_name"], row["unit_name_en"]) == ("盒", english)
