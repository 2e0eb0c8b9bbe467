"""The operator console through the test client: access, CSRF, set-up, invitations, dashboard,
no-shows, exports and the audit log, with the exact text of every refusal."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import CspWatch
from kiosk_support import AT, PASSWORD, admin_client, csrf, login, page_text
from support import DEMO_LOADED_AT, SECRET, TZ, require

from admin import charts, setup
from shared import accounts, booking, clock, roster, storage
from shared.db import get_db
from shared.errors import RosterInvalid
from shared.handover import hand_over
from sms import worker
from sms.conversation import channel_config, handle_sms
from sms.senders import FakeSender

VALID = {
    "name": "Gloves for clinics",
    "item": "Nitrile gloves",
    "item_key": "",
    "unit_name": "盒",
    "unit_name_en": "box of 100",
    "unit_size": "100",
    "measure": "gloves",
    "stock_units": "40",
    "site_name_0": "Town hall",
    "site_address_0": "1 Main Road",
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
ROSTER = (
    b"name,external_id,town,headcount,phone,language\n"
    b"Alpha Ltd,A1,Yuelin,30,+8617000002001,en\n"
    b"Beta Ltd,B2,Xikou,10,+8617000002002,zh\n"
    b"Gamma Ltd,C3,Xikou,60,,en\n"
)
BAD_ROSTER = "name,external_id,headcount,phone\nAlpha,A1,many,+8617000002001\nBeta,B2,5,12\n"
FORM_EXPIRED = "The form has expired. Go back, reload the page and try again."
STOCK = "Enter a whole number from 0 to 10000000."
MINUTES = "Enter a whole number from {min} to 1440."
SIZE = "Enter a number above 0 and at most 1000000."
PREVIEW_GONE = "The checked file is no longer kept (after an hour, or once imported)."
FORBIDDEN = "The operator console is for administrators only. Sign in with an admin account."


def _users(app) -> None:
    with app.app_context():
        accounts.create_user(get_db(), "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
        accounts.create_user(get_db(), "sam", PASSWORD, "staff", DEMO_LOADED_AT, "test")


@pytest.fixture
def console(demo_app):
    """The demo at 13:00 on the article's day, with an admin ``ada`` and a staff ``sam``."""
    demo_app.config["CLOCK"] = lambda: AT
    _users(demo_app)
    return demo_app


@pytest.fixture
def fresh(app):
    """An empty database at 13:00 with the same two users."""
    app.config["CLOCK"] = lambda: AT
    _users(app)
    return app


_admin = admin_client
_text = page_text


def _post(client, path: str, data: dict | None = None, **kwargs):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf(client, "/admin/"))
    return client.post(path, data=data, **kwargs)


def _follow(client, response) -> str:
    assert response.status_code == 302, _text(response)[:400]
    return _text(client.get(response.headers["Location"]))


# -- access ---------------------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/"),
    ("get", "/admin/new"),
    ("post", "/admin/new"),
    ("get", "/admin/d/1/"),
    ("get", "/admin/d/1/edit"),
    ("post", "/admin/d/1/edit"),
    ("get", "/admin/roster-template.csv"),
    ("get", "/admin/d/1/roster"),
    ("post", "/admin/d/1/roster"),
    ("post", "/admin/d/1/roster/import"),
    ("get", "/admin/d/1/allocate"),
    ("post", "/admin/d/1/allocate"),
    ("get", "/admin/d/1/schedule"),
    ("post", "/admin/d/1/schedule"),
    ("get", "/admin/d/1/invite"),
    ("post", "/admin/d/1/invite"),
    ("post", "/admin/d/1/invite/retry"),
    ("get", "/admin/d/1/recipients"),
    ("get", "/admin/d/1/recipients/1"),
    ("post", "/admin/d/1/recipients/1/offer"),
    ("get", "/admin/d/1/dashboard"),
    ("post", "/admin/d/1/no-shows"),
    ("post", "/admin/d/1/waiting-list"),
    ("get", "/admin/d/1/ledger.csv"),
    ("get", "/admin/d/1/bookings.csv"),
    ("get", "/admin/audit"),
    ("get", "/admin/static/console.css"),
]
GET_ROUTES = [path for method, path in ROUTES if method == "get"]
# One client per role walks every route: the sign-in (a slow password hash) happens once.


def test_anonymous_is_sent_to_sign_in_everywhere(console):
    client = console.test_client()
    for method, path in ROUTES:
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == f"/staff/login?next={path}", path
    response = client.get("/admin/d/1/dashboard/live")  # polled by script: no redirect
    assert response.status_code == 401


def test_staff_role_is_refused_everywhere(console):
    client = console.test_client()
    login(client, "sam")
    for method, path in ROUTES:
        response = getattr(client, method)(path + "?lang=en")
        assert response.status_code == 403, path
        assert FORBIDDEN in _text(response), path
    assert client.get("/admin/d/1/dashboard/live").status_code == 403


def test_admin_opens_every_page(console):
    client = _admin(console)
    for path in GET_ROUTES:
        assert client.get(path).status_code == 200, path


def test_post_without_csrf_token_is_refused_everywhere(console):
    client = _admin(console)
    for method, path in ROUTES:
        if method != "post":
            continue
        response = client.post(path, data={"name": "x"})
        assert response.status_code == 400, path
        assert FORM_EXPIRED in _text(response), path
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 400, path
    with console.app_context():
        assert len(storage.list_distributions(get_db())) == 2
        assert storage.outbox_counts(get_db()) == {}


def test_readme_documents_the_console():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "## Operator console" in readme and "| `mark-no-shows" in readme


def test_unknown_distribution_is_404(console):
    response = _admin(console).get("/admin/d/99/dashboard")
    assert response.status_code == 404
    assert "distribution 99 does not exist" in _text(response)


def test_recipient_of_another_distribution_is_404(console):
    with console.app_context():
        town = storage.list_recipients(get_db(), 2)[0]
    response = _admin(console).get(f"/admin/d/1/recipients/{town['id']}")
    assert response.status_code == 404
    assert f"recipient {town['id']} is not in distribution 1" in _text(response)


def test_everything_in_chinese_and_one_tap_back(console):
    client = _admin(console, "zh")
    page = _text(client.get("/admin/d/1/dashboard"))
    assert "实时看板" in page and "领取单位按状态" in page and "迟到" in page
    assert 'href="/admin/d/1/dashboard?lang=en"' in page
    assert "Live dashboard" in _text(client.get("/admin/d/1/dashboard?lang=en"))
    assert "Live dashboard" in _text(client.get("/admin/d/1/dashboard"))  # remembered


def test_zh_and_en_have_the_same_keys():
    from admin.texts import TEXTS

    assert all(set(v) == {"zh", "en"} and all(v.values()) for v in TEXTS.values())


# -- create and edit ------------------------------------------------------------------------


def test_create_distribution(fresh):
    client = _admin(fresh)
    page = _follow(client, _post(client, "/admin/new", VALID))
    assert "Distribution 1 created." in page
    with fresh.app_context():
        db = get_db()
        d = storage.get_distribution(db, 1)
        site = storage.list_sites(db, 1)[0]
        windows = storage.list_windows(db, site["id"])
        entry = storage.audit_entries(db, "distribution:1")[0]
    assert (d["name"], d["stock_units"], d["capacity_units"], d["unit_size"]) == (
        "Gloves for clinics",
        40,
        None,
        100,
    )
    assert (site["name"], site["address"]) == ("Town hall", "1 Main Road")
    assert [(w["starts_at"], w["ends_at"]) for w in windows] == [
        ("2020-02-06T01:00:00+00:00", "2020-02-06T03:00:00+00:00")
    ]
    assert (entry["actor"], entry["action"]) == ("admin:ada", "create_distribution")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "Required."),
        ({"stock_units": "lots"}, "stock_units", STOCK),
        ({"stock_units": "-3"}, "stock_units", STOCK),
        # What an attacker typed: each was a 500 (and the early minutes broke every later
        # check of the distribution's vouchers).
        ({"stock_units": "²"}, "stock_units", STOCK),
        ({"capacity_people": "³"}, "capacity_people", "Enter a whole number from 1 to 100000."),
        ({"stock_units": "9" * 30}, "stock_units", STOCK),
        ({"stock_units": "9" * 5000}, "stock_units", STOCK),
        ({"stock_units": "10000001"}, "stock_units", STOCK),
        ({"early_minutes": "999999999999999"}, "early_minutes", MINUTES.format(min=0)),
        ({"grace_minutes": "1441"}, "grace_minutes", MINUTES.format(min=0)),
        ({"slot_minutes": "0"}, "slot_minutes", MINUTES.format(min=1)),
        ({"capacity_units": "0"}, "capacity_units", "Enter a whole number from 1 to 10000000."),
        ({"unit_size": "-1"}, "unit_size", SIZE),
        ({"unit_size": "nan"}, "unit_size", SIZE),
        ({"unit_size": "inf"}, "unit_size", SIZE),
        ({"unit_size": "1e400"}, "unit_size", SIZE),
        ({"unit_size": "²"}, "unit_size", SIZE),
        ({"name": "x" * 5000}, "name", "At most 200 characters."),
        ({"site_address_0": "x" * 501}, "site_address_0", "At most 500 characters."),
        ({"measure": "k" * 31}, "measure", "At most 30 characters."),
        ({"windows_0": "2020-02-06 09:00 / 11:00\n" * 100}, "windows_0",
         "At most 2000 characters."),
        ({"windows_0": "9999-12-31 22:00 / 23:59"}, "windows_0", "Line 1: the year must be from "
         "2000 to 2099."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone."),
        ({"weight_basis": "height"}, "weight_basis", "Choose one of the options."),
        ({"allocation_method": "dhondt"}, "allocation_method", "Choose one of the options."),
        ({"windows_0": " \n "}, "windows_0", "Give at least one pickup window."),
        ({"windows_0": "tomorrow"}, "windows_0", "Line 1: write a window as "
         "2020-02-04 12:00 / 19:00."),
        ({"windows_0": "2020-02-31 09:00 / 11:00"}, "windows_0", "Line 1: write a window as "
         "2020-02-04 12:00 / 19:00."),
        ({"windows_0": "2020-02-06 09:00 / 08:00"}, "windows_0", "Line 1: the window ends before "
         "it starts."),
        ({"windows_0": "2020-02-06 09:00 / 09:20"}, "windows_0", "Line 1: the window is shorter "
         "than one slot."),
        ({"windows_0": "2020-02-06 09:00 / 11:00\n\n2020-02-06 10:00 / 2020-02-06 12:00"},
         "windows_0", "Line 3: the window overlaps another one."),
    ],
)  # fmt: skip
def test_create_refuses_bad_fields(fresh, changes, field, message):
    client = _admin(fresh)
    response = _post(client, "/admin/new", {**VALID, **changes})
    assert response.status_code == 400
    page = _text(response)
    assert f'<span class="problem" id="{field}-problem">{message}</span>' in page
    assert "Please correct the marked fields." in page
    with fresh.app_context():
        assert storage.list_distributions(get_db()) == []


def test_create_form_in_chinese(fresh):
    client = _admin(fresh, "zh")
    page = _text(_post(client, "/admin/new", {**VALID, "stock_units": "x"}))
    assert "请填写 0 到 10000000 之间的整数。" in page and "请改正标出的字段。" in page


def _edit_values(app, distribution_id: int = 1) -> dict:
    with app.app_context():
        db = get_db()
        sites = [
            (site, storage.list_windows(db, site["id"]))
            for site in storage.list_sites(db, distribution_id)
        ]
        return setup.form_values(storage.get_distribution(db, distribution_id), sites)


def test_edit_form_round_trips_and_saves_safe_changes(console):
    client = _admin(console)
    values = _edit_values(console)
    assert values["windows_0"] == "2020-02-04 12:00 / 19:00"
    page = _follow(
        client,
        _post(client, "/admin/d/1/edit", {**values, "grace_minutes": "45", "item": "H2O2 3%"}),
    )
    assert "Saved." in page
    with console.app_context():
        d = storage.get_distribution(get_db(), 1)
        entry = storage.audit_entries(get_db(), "distribution:1")[0]
    assert (d["grace_minutes"], d["item"]) == (45, "H2O2 3%")
    assert entry["action"] == "edit_distribution" and '"changed": ["item"' in entry["detail"]


def _voucher_checks_answer(app, code: str) -> None:
    """The public voucher page and a scanner check of ``code`` both answer."""
    client = app.test_client()
    assert client.get(f"/v/{code}").status_code == 200
    with app.app_context():
        token = accounts.create_token(get_db(), "kiosk", "kiosk-9", DEMO_LOADED_AT, "test")
    check = client.post(
        f"/api/v1/vouchers/{code}/check", headers={"Authorization": f"Bearer {token}"}
    )
    assert check.status_code == 200


def test_an_absurd_edit_is_refused_and_every_check_still_works(console):
    """early_minutes=999999999999999 was saved, then every check of the vouchers was a 500."""
    client = _admin(console)
    values = _edit_values(console)
    response = _post(client, "/admin/d/1/edit", {**values, "early_minutes": "999999999999999"})
    assert response.status_code == 400
    assert MINUTES.format(min=0) in _text(response)
    with console.app_context():
        assert storage.get_distribution(get_db(), 1)["early_minutes"] == 15
    _voucher_checks_answer(console, _code_at_one(console))


# PostgreSQL's INTEGER (32 bits) never held such a number: the database refused it.
@pytest.mark.sqlite_only
def test_a_stored_absurd_number_is_brought_into_range_by_the_migration(console):
    """A database written before the ranges: the migration makes its pages work again."""
    from shared.migrations import bounded_numbers

    with console.app_context():
        db = get_db()
        storage.update_distribution(db, 1, {"early_minutes": 999999999999999})
        storage.update_distribution(db, 2, {"grace_minutes": -5})
        bounded_numbers(db)
        first, second = storage.get_distribution(db, 1), storage.get_distribution(db, 2)
    assert (first["early_minutes"], second["grace_minutes"]) == (1440, 0)
    _voucher_checks_answer(console, _code_at_one(console))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"early_minutes": 10**15}, "early_minutes (number_range"),
        ({"stock_units": 10**30}, "stock_units (number_range"),
        ({"unit_size": float("inf")}, "unit_size (unit_size_range"),
        ({"name": "x" * 201}, "name (too_long"),
    ],
)
def test_the_core_stores_no_out_of_range_distribution(fresh, fields, message):
    """The CLI and any other caller meet the same ranges as the console."""
    from shared import distributions
    from shared.errors import InvalidInput

    base = {**setup.read_form(VALID).fields, **fields}
    form = setup.read_form(VALID)
    with fresh.app_context(), pytest.raises(InvalidInput, match=re.escape(message)):
        distributions.create_distribution(get_db(), base, form.sites, AT, "admin:ada")
    with fresh.app_context():
        assert storage.list_distributions(get_db()) == []


def test_full_width_digits_are_numbers(fresh):
    client = _admin(fresh, "zh")
    _post(client, "/admin/new", {**VALID, "stock_units": "４０", "unit_size": "２.５"})
    with fresh.app_context():
        (distribution,) = storage.list_distributions(get_db())
    assert (distribution["stock_units"], distribution["unit_size"]) == (40, 2.5)


def test_bidi_controls_are_dropped_from_typed_names(fresh):
    client = _admin(fresh)
    _post(
        client, "/admin/new", {**VALID, "name": "Gloves \u202eexe.txt", "site_name_0": "\u2067Hall"}
    )
    with fresh.app_context():
        (distribution,) = storage.list_distributions(get_db())
        site = storage.list_sites(get_db(), distribution["id"])[0]
    assert (distribution["name"], site["name"]) == ("Gloves exe.txt", "Hall")


def test_raising_capacity_updates_the_booked_slots(console):
    client = _admin(console)
    values = _edit_values(console)
    assert _post(client, "/admin/d/1/edit", {**values, "capacity_people": "6"}).status_code == 302
    with console.app_context():
        assert {s["capacity_people"] for s in storage.list_slots(get_db(), 1)} == {6}


def _code_at_one(app, n: int = 0) -> str:
    """The code of the ``n``-th booking in the 13:00 slot (open at :data:`AT`)."""
    with app.app_context():
        rows = storage.voucher_views_for_distribution(get_db(), 1)
    return [r["code"] for r in rows if r["starts_at"] == "2020-02-04T05:00:00+00:00"][n]


def _first_booked_slot(app) -> tuple[str, int, int]:
    with app.app_context():
        db = get_db()
        loads = storage.slot_loads(db, 1, AT)
        slots = storage.list_slots(db, 1)
        booked = [s for s in slots if loads[s["id"]][0] > 1]
        people, units = loads[booked[0]["id"]]
        start = storage.from_db_time(booked[0]["starts_at"]).astimezone(AT.tzinfo)
        count = sum(1 for s in slots if loads[s["id"]][0])
    return f"{start:%Y-%m-%d %H:%M}", people, units, count


def test_edits_that_break_bookings_are_refused(console):
    client = _admin(console)
    values = _edit_values(console)
    time, people, units, booked_slots = _first_booked_slot(console)
    with console.app_context():
        hand_over(get_db(), _code_at_one(console), SECRET.encode(), AT, "alice", "Desk 1", 1)
    cases = [
        (
            {"windows_0": "2020-02-04 12:00 / 20:00"},
            f"Pickup windows, slot length and time zone cannot change: {booked_slots} slots "
            "already hold bookings. Create a new distribution, or cancel those bookings first.",
        ),
        (
            {"slot_minutes": "20"},
            f"Pickup windows, slot length and time zone cannot change: {booked_slots} slots",
        ),
        (
            {"capacity_people": "1"},
            f"Capacity per slot cannot go below what is booked: the slot at {time} already "
            f"has {people} people and {units} units.",
        ),
        ({"stock_units": "600"}, "Stock cannot go below the 614 units already allotted."),
        (
            {"unit_size": "25"},
            "The amount per unit cannot change once goods have been handed over: the ledger "
            "counts in it.",
        ),
    ]
    for changes, message in cases:
        response = _post(client, "/admin/d/1/edit", {**values, **changes})
        assert response.status_code == 409, changes
        assert message in _text(response)
    with console.app_context():
        d = storage.get_distribution(get_db(), 1)
    assert (d["slot_minutes"], d["capacity_people"], d["stock_units"], d["unit_size"]) == (
        15,
        5,
        614,
        20,
    )


# -- roster, allotments, slots --------------------------------------------------------------


def _created(fresh) -> object:
    client = _admin(fresh)
    _post(client, "/admin/new", VALID)
    return client


def test_roster_template_download(fresh):
    response = _admin(fresh).get("/admin/roster-template.csv")
    assert response.data.startswith(b"\xef\xbb\xbf" + ",".join(roster.COLUMNS).encode())
    assert response.data.decode("utf-8-sig") == roster.template_csv()
    assert "attachment" in response.headers["Content-Disposition"]


def test_roster_with_errors_imports_nothing_and_lists_every_error(fresh):
    client = _created(fresh)
    response = _post(
        client, "/admin/d/1/roster", {"file": (io.BytesIO(BAD_ROSTER.encode()), "bad.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422
    page = _text(response)
    with pytest.raises(RosterInvalid) as caught:
        roster.parse_roster(BAD_ROSTER.encode(), "Asia/Shanghai", "CN")
    errors = caught.value.errors
    assert f"The file has {len(errors)} errors; nothing was imported." in page
    assert "<td>2</td><td>headcount</td><td>headcount 'many' is not a whole number</td>" in page
    assert "<td>3</td><td>phone</td><td>phone '12' is not a valid phone number</td>" in page
    with fresh.app_context():
        assert storage.count_recipients(get_db(), 1) == 0


def test_roster_without_file(fresh):
    client = _created(fresh)
    response = _post(client, "/admin/d/1/roster", content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file." in _text(response)
    response = _post(client, "/admin/d/1/roster/import", {"preview": "made-up"})
    assert response.status_code == 400 and PREVIEW_GONE in _text(response)


def _previewed(client, data: bytes = ROSTER) -> str:
    """Upload a roster for a preview; the token the page's import form sends."""
    response = _post(
        client, "/admin/d/1/roster", {"file": (io.BytesIO(data), "gloves.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200, _text(response)[:400]
    return _text(response).split('name="preview" value="')[1].split('"')[0]


def test_roster_preview_then_import(fresh):
    client = _created(fresh)
    response = _post(
        client, "/admin/d/1/roster", {"file": (io.BytesIO(ROSTER), "gloves.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    page = _text(response)
    assert response.status_code == 200
    assert "The file is clean: 3 rows." in page and "Import 3 rows" in page
    assert "<td>+8617000002001</td>" in page
    # The page names the kept file by a random token; it does not carry the file.
    assert 'name="data"' not in page and "Alpha Ltd,A1" not in page
    assert len(response.data) < 8000
    with fresh.app_context():
        assert storage.count_recipients(get_db(), 1) == 0  # previewed, not imported
    token = page.split('name="preview" value="')[1].split('"')[0]
    page = _follow(client, _post(client, "/admin/d/1/roster/import", {"preview": token}))
    assert "Imported 3 recipients." in page
    with fresh.app_context():
        assert storage.count_recipients(get_db(), 1) == 3
        entry = storage.audit_entries(get_db(), "distribution:1")[0]
        assert entry["action"] == "import_roster" and '"file": "gloves.csv"' in entry["detail"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_preview_imports_once_and_expires(fresh, lang):
    client = _created(fresh)
    client.get(f"/admin/?lang={lang}")
    message = (
        PREVIEW_GONE
        if lang == "en"
        else "检查过的文件已不再保留（超过一小时，或已经导入）。请重新上传。"
    )
    token = _previewed(client)
    assert _post(client, "/admin/d/1/roster/import", {"preview": token}).status_code == 302
    again = _post(client, "/admin/d/1/roster/import", {"preview": token})  # sent twice
    assert again.status_code == 400 and message in _text(again)
    stale = _previewed(client)
    fresh.config["CLOCK"] = lambda: AT + timedelta(minutes=61)
    late = _post(client, "/admin/d/1/roster/import", {"preview": stale})
    assert late.status_code == 400 and message in _text(late)
    with fresh.app_context():
        assert storage.count_recipients(get_db(), 1) == 3
        # the stale one, forgotten on the next
        assert storage.count_rows(get_db(), "roster_previews") == 1


def test_a_preview_belongs_to_its_distribution(fresh):
    client = _created(fresh)
    token = _previewed(client)
    _post(client, "/admin/new", VALID)
    response = _post(client, "/admin/d/2/roster/import", {"preview": token})
    assert response.status_code == 400 and PREVIEW_GONE in _text(response)
    with fresh.app_context():
        assert storage.count_recipients(get_db(), 2) == 0


def _imported(fresh):
    client = _created(fresh)
    _post(client, "/admin/d/1/roster/import", {"preview": _previewed(client)})
    return client


def test_allocation_preview_and_commit(fresh):
    client = _imported(fresh)
    page = _text(client.get("/admin/d/1/allocate"))
    assert "Sainte-Laguë (Webster): stock 40 units, 40 allotted, 0 left over." in page
    assert '<td>Gamma Ltd</td><td>C3</td><td class="num">60</td>' in page
    page = _text(client.get("/admin/d/1/allocate?method=largest_remainder"))
    assert "Largest remainder: stock 40 units, 40 allotted, 0 left over." in page
    with fresh.app_context():
        assert storage.allotments_by_recipient(get_db(), 1) == {}  # preview only
    response = _post(client, "/admin/d/1/allocate", {"method": "sainte_lague"})
    assert response.headers["Location"] == "/admin/d/1/schedule"
    assert "Allotted 40 of 40 units; 0 left over." in _follow(client, response)
    with fresh.app_context():
        assert sorted(storage.allotments_by_recipient(get_db(), 1).values()) == [4, 12, 24]


def test_allocation_errors(fresh):
    client = _created(fresh)
    response = client.get("/admin/d/1/allocate")
    assert response.status_code == 409
    message = "Not done: the distribution has no recipients yet; import a roster first"
    assert message in _text(response)
    response = _post(client, "/admin/d/1/allocate", {"method": "sainte_lague"})
    assert response.status_code == 409 and message in _text(response)
    assert client.get("/admin/d/1/allocate?method=dhondt").status_code == 400


def test_allocation_refused_after_handovers(console):
    with console.app_context():
        hand_over(get_db(), _code_at_one(console), SECRET.encode(), AT, "alice", "Desk 1")
    response = _post(_admin(console), "/admin/d/1/allocate", {"method": "sainte_lague"})
    assert response.status_code == 409
    assert (
        "Not done: goods have already been handed over; allotments can no longer change"
        in _text(response)
    )


def test_schedule_preview_chart_and_commit(fresh):
    client = _imported(fresh)
    _post(client, "/admin/d/1/allocate", {"method": "sainte_lague"})
    response = client.get("/admin/d/1/schedule")
    page = _text(response)
    assert "4 slots; 3 recipients get a slot now, 0 already have one." in page
    svg = page.split('<figure class="chart-box" id="load-chart">')[1].split("</figure>")[0]
    root = ET.fromstring(svg)
    bars = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len([b for b in bars if b.get("class") == "booked"]) == 4 + 1  # + the legend
    with fresh.app_context():
        assert storage.count_live_bookings(get_db(), 1) == 0
    response = _post(client, "/admin/d/1/schedule")
    assert response.headers["Location"] == "/admin/d/1/invite"
    assert "3 recipients booked into 4 slots (0 already had one)." in _follow(client, response)
    assert "Every allotted recipient already has a slot." in _text(
        client.get("/admin/d/1/schedule")
    )


def test_schedule_errors(fresh):
    client = _imported(fresh)
    response = client.get("/admin/d/1/schedule")
    assert response.status_code == 409
    message = "Not done: the distribution has no allotments yet; run allocate first"
    assert message in _text(response)
    response = _post(client, "/admin/d/1/schedule")
    assert response.status_code == 409 and message in _text(response)


def test_schedule_infeasible_says_what_is_missing(fresh):
    client = _imported(fresh)
    values = {**VALID, "windows_0": "2020-02-06 09:00 / 09:30", "capacity_people": "1"}
    assert _post(client, "/admin/d/1/edit", values).status_code == 302
    _post(client, "/admin/d/1/allocate", {"method": "sainte_lague"})
    response = _post(client, "/admin/d/1/schedule")
    assert response.status_code == 409
    assert "Not done: " in _text(response)
    with fresh.app_context():
        assert storage.count_live_bookings(get_db(), 1) == 0


# -- invitations and recipients -------------------------------------------------------------


def test_invitations_progress_and_retry(console):
    client = _admin(console)
    page = _follow(client, _post(client, "/admin/d/2/invite"))
    assert "12 invitations queued (0 recipients were invited before)." in page
    assert '<dd id="count-queued">12</dd>' in page and '<dd id="count-invitable">12</dd>' in page
    page = _follow(client, _post(client, "/admin/d/2/invite"))
    assert "0 invitations queued (12 recipients were invited before)." in page
    with console.app_context():
        db = get_db()
        ids = [m["id"] for m in storage.outbox_for_phone(db, "+8617000000901")]
        storage.mark_outbox_final(db, ids[0], "failed", "gateway said no", AT)
        other = storage.outbox_for_phone(db, "+8617000000902")[0]["id"]
        storage.mark_outbox_final(db, other, "opted_out", None, AT)
    page = _text(client.get("/admin/d/2/invite"))
    assert '<dd id="count-failed">1</dd>' in page and '<dd id="count-opted_out">1</dd>' in page
    page = _follow(client, _post(client, "/admin/d/2/invite/retry"))
    assert "1 messages queued again." in page
    assert '<dd id="count-failed">0</dd>' in page and '<dd id="count-queued">11</dd>' in page
    with console.app_context():
        assert storage.get_outbox(get_db(), ids[0])["attempts"] == 0
        actions = [e["action"] for e in storage.audit_entries(get_db(), "distribution:2")]
    assert actions[:3] == ["retry_invitations", "send_invitations", "send_invitations"]


@pytest.mark.parametrize(
    ("lang", "held", "cap"),
    [
        (
            "en",
            "7 invitations wait for the daily cap (5 in any 24 hours); the first goes at 5 Feb ",
            "Daily cap: at most 5 invitations in any 24 hours; the rest wait.",
        ),
        (
            "zh",
            "7 条邀请等待每日上限（任意 24 小时内最多 5 条），最早 2月5日 ",
            "每日上限：任意 24 小时内最多发出 5 条邀请，其余顺延。",
        ),
    ],
)
def test_invitations_wait_for_the_daily_cap_on_the_page(console, lang, held, cap):
    console.config["PICKUP_SMS_INVITATIONS_PER_DAY"] = 5
    client = _admin(console, lang)
    assert cap in _text(client.get("/admin/d/2/invite"))
    _post(client, "/admin/d/2/invite")
    with console.app_context():
        sender = FakeSender()
        pacer = worker.Pacer(1000, lambda: 0.0, lambda _s: None)
        result = worker.drain(get_db(), sender, lambda: AT, 5, 30, pacer, invitations_per_day=5)
    assert (result.counts, result.held, len(sender.sent)) == ({"sent": 5}, 7, 5)
    page = _text(client.get("/admin/d/2/invite"))
    assert held + (AT + timedelta(hours=24)).astimezone(TZ).strftime("%H:%M") in page
    assert '<dd id="count-queued">7</dd>' in page and '<dd id="count-sent">5</dd>' in page
    assert cap not in page


def test_recipient_view_shows_booking_and_messages(console):
    client = _admin(console)
    _post(client, "/admin/d/2/invite")
    with console.app_context():
        db = get_db()
        town = storage.list_recipients(db, 2)[0]
        handle_sms(db, town["phone"], None, "STATUS", "SM1", AT, channel_config(console.config))
    page = _text(client.get(f"/admin/d/2/recipients/{town['id']}"))
    assert town["name"] in page and "Booked" in page
    assert '<table class="data" id="sent">' in page and "Queued" in page
    assert "<td>STATUS</td>" in page


def test_recipients_filter_by_state(console):
    client = _admin(console)
    page = _text(client.get("/admin/d/1/recipients?state=missed"))
    assert "Missed (" in page
    with console.app_context():
        rows = storage.booking_states(get_db(), 1)
    early = [r for r in rows if r["ends_at"] < "2020-02-04T04:30:00+00:00"]  # ended 12:30
    assert page.count('<span class="state s-missed">') == len(early)


# -- dashboard, no-shows, waiting list ------------------------------------------------------


def test_dashboard_figures_and_chart(console):
    client = _admin(console)
    page = _text(client.get("/admin/d/1/dashboard"))
    assert "Handed out 0 of 614 20 kg drum (0.0%)" in page
    assert 'id="state-booked">' in page and 'id="state-missed">' in page
    svg = page.split('<figure class="chart-box" id="slot-chart">')[1].split("</figure>")[0]
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len([r for r in root.iter(f"{ns}rect") if r.get("class") == "arrived"]) == 28 + 1
    assert len([x for x in root.iter(f"{ns}line") if x.get("class") == "limit"]) == 28 + 1
    assert "Stock 614 = handed over 0 + outstanding 614 + unallocated 0: balanced" in page


def test_dashboard_moves_as_staff_hand_over_and_refreshes_cheaply(console):
    client = _admin(console)
    first = client.get("/admin/d/1/dashboard/live")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    again = client.get("/admin/d/1/dashboard/live", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    with console.app_context():
        code = _code_at_one(console)
        row = next(
            r for r in storage.voucher_views_for_distribution(get_db(), 1) if r["code"] == code
        )
        hand_over(get_db(), code, SECRET.encode(), AT, "alice", "Desk 1")
    moved = client.get("/admin/d/1/dashboard/live", headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    page = _text(moved)
    assert f"Handed out {row['units']} of 614 20 kg drum" in page
    assert '<b id="state-collected">1</b>' in page
    assert "<html" not in page  # the fragment only


def test_late_arrival_and_queue_on_dashboard(console):
    from shared.verification import check_in

    with console.app_context():
        rows = storage.booking_states(get_db(), 1)
        late = next(r for r in rows if r["ends_at"] == "2020-02-04T04:30:00+00:00")
        code = storage.voucher_view_by_booking(get_db(), late["id"])["code"]
        check_in(get_db(), code, SECRET.encode(), AT - timedelta(minutes=20), "kiosk")
    page = _text(_admin(console).get("/admin/d/1/dashboard"))
    late_table = page.split('id="late"')[1].split("</table>")[0]
    queue_table = page.split('id="queue"')[1].split("</table>")[0]
    assert late["recipient_name"] in late_table and "<td>12:30</td><td>12:40</td>" in late_table
    assert late["recipient_name"] in queue_table


def test_no_shows_are_marked_and_offered_new_slots(console):
    client = _admin(console)
    with console.app_context():
        db = get_db()
        overdue = storage.overdue_bookings(db, 1, AT - timedelta(minutes=30))
    assert overdue
    page = _follow(client, _post(client, "/admin/d/1/no-shows"))
    assert f"{len(overdue)} bookings marked missed; {len(overdue)} offered new slots by SMS." in (
        page
    )
    assert f'<b id="state-missed">{len(overdue)}</b>' in page
    with console.app_context():
        db = get_db()
        recipient = storage.get_recipient(db, overdue[0]["recipient_id"])
        offer = storage.outbox_for_phone(db, recipient["phone"])[0]
        assert offer["kind"] == "offer"
        prefix = (
            "You missed your pickup time. Reply 1, 2 or 3 within 5 min for a new one: 1) 4 Feb"
            if recipient["language"] == "en"
            else "您错过了领取时段。5分钟内回复序号改约：1) 2月4日"
        )
        assert offer["body"].startswith(prefix)
        # The representative answers "1": the missed booking moves and is live again.
        handle_sms(db, recipient["phone"], None, "1", "SM2", AT, channel_config(console.config))
        live = storage.live_booking_for(db, recipient["id"])
        assert live["status"] == "booked" and live["slot_id"] != overdue[0]["slot_id"]
    page = _follow(client, _post(client, "/admin/d/1/no-shows"))
    assert "0 bookings marked missed; 0 offered new slots by SMS." in page


def test_mark_no_shows_command(console):
    runner = console.test_cli_runner()
    with console.app_context():
        cutoff = clock.now() - timedelta(minutes=30)
        overdue = len(storage.overdue_bookings(get_db(), 1, cutoff))
    result = runner.invoke(args=["mark-no-shows", "--distribution", "1"])
    assert result.exit_code == 0, result.output
    # The command asks the app's clock (the demo's day, with slots still to come), so
    # everyone marked missed is offered one of the later slots.
    assert overdue > 0
    assert result.output == (
        f"Distribution 1: {overdue} bookings marked missed, {overdue} offered new slots by SMS.\n"
    )
    # A week later every slot of both distributions has passed: without --distribution
    # the sweep takes them all, and there is no later slot left to offer.
    console.config["CLOCK"] = lambda: AT + timedelta(days=7)
    result = runner.invoke(args=["mark-no-shows"])
    assert "Distribution 2: 12 bookings marked missed, 0 offered" in result.output
    result = runner.invoke(args=["mark-no-shows", "--distribution", "9"])
    assert result.exit_code == 1 and "Error: distribution 9 does not exist" in result.output


def test_freed_place_is_offered_to_the_waiting_list(console):
    client = _admin(console)
    with console.app_context():
        db = get_db()
        later = [r for r in storage.booking_states(db, 1) if r["starts_at"] > "2020-02-04T08:00"]
        cancelled = booking.cancel_booking(db, later[0]["recipient_id"], AT, "test")
    page = _text(client.get("/admin/d/1/dashboard"))
    assert '<b id="state-waiting">1</b>' in page
    page = _follow(client, _post(client, "/admin/d/1/waiting-list"))
    assert (
        "SMS offers queued for 1 on the waiting list; 0 not sent (no free slot, no phone, or "
        "opted out)." in page
    )
    with console.app_context():
        sent = storage.outbox_for_phone(get_db(), cancelled["phone"])[0]
    assert sent["body"].startswith(("A pickup time is free for you.", "有空余领取时段。"))
    page = _follow(client, _post(client, "/admin/d/1/waiting-list"))
    assert "SMS offers queued for 0 on the waiting list; 1 not sent" in page  # same slots


def test_offer_from_the_recipient_page(console):
    client = _admin(console)
    with console.app_context():
        rid = storage.booking_states(get_db(), 1)[-1]["recipient_id"]
    page = _follow(client, _post(client, f"/admin/d/1/recipients/{rid}/offer"))
    assert "An SMS offering 3 free slots is queued." in page
    page = _follow(client, _post(client, f"/admin/d/1/recipients/{rid}/offer"))
    assert "No SMS queued: no free slot, no phone, or the phone opted out." in page


# -- exports and audit ----------------------------------------------------------------------


def test_ledger_csv_equals_the_cli_export(console, tmp_path):
    with console.app_context():
        hand_over(get_db(), _code_at_one(console), SECRET.encode(), AT, "alice", "Desk 1", 2)
        hand_over(get_db(), _code_at_one(console, 1), SECRET.encode(), AT, "bob", "Desk 2")
    response = _admin(console).get("/admin/d/1/ledger.csv")
    assert response.mimetype == "text/csv"
    out = tmp_path / "ledger.csv"
    runner = console.test_cli_runner()
    result = runner.invoke(args=["export", "ledger", "--distribution", "1", "--out", str(out)])
    assert result.exit_code == 0
    assert response.data == out.read_bytes()
    stdout = runner.invoke(args=["export", "ledger", "--distribution", "1"]).stdout
    assert response.data.decode("utf-8-sig") == stdout
    assert stdout.count("\n") == 3 and ",alice,Desk 1," in stdout


def test_bookings_csv_equals_the_cli_export(console, tmp_path):
    out = tmp_path / "bookings.csv"
    runner = console.test_cli_runner()
    runner.invoke(args=["export", "bookings", "--distribution", "2", "--out", str(out)])
    assert _admin(console).get("/admin/d/2/bookings.csv").data == out.read_bytes()


def test_audit_log_is_shown_and_cannot_be_changed(console):
    client = _admin(console)
    _post(client, "/admin/d/1/no-shows")
    page = _text(client.get("/admin/audit?subject=distribution:1"))
    offered = '<td>admin:ada</td><td><span title="offer_missed">New slots offered to no-shows'
    assert offered in page
    assert '<td>demo</td><td><span title="create_distribution">Distribution created' in page
    assert client.post(
        "/admin/audit", data={"csrf_token": csrf(client, "/admin/")}
    ).status_code == (405)
    with console.app_context(), pytest.raises(Exception, match="append-only"):
        get_db().execute("DELETE FROM audit_log")


def test_several_distributions_at_once_on_the_index(console):
    page = _text(_admin(console).get("/admin/"))
    assert "Disinfectant for reopening enterprises" in page and "Masks to towns" in page
    assert page.count('role="progressbar"') == 2


# -- charts ---------------------------------------------------------------------------------


def test_bar_chart_escapes_labels_and_scales_to_the_capacity():
    svg = charts.bar_chart(
        ["<9:00>", "9:30"],
        [charts.Series("booked & co", [3, 0], "booked")],
        [4, None],
        "capacity",
        "People",
    )
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert [b.find(f"{ns}title").text for b in bars] == [
        "<9:00> booked & co: 3",
        "9:30 booked & co: 0",
    ]
    assert float(bars[0].get("height")) == pytest.approx(180 * 3 / 4)
    assert len([x for x in root.iter(f"{ns}line") if x.get("class") == "limit"]) == 1 + 1


# -- a real browser -------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.browser
def test_operator_sets_up_a_distribution_in_a_browser(fresh, live_server, tmp_path):
    require(CHROMIUM.exists(), "Debian chromium (/usr/bin/chromium) drives the browser tests")
    from playwright.sync_api import expect, sync_playwright

    base = live_server(fresh)
    roster_file = tmp_path / "gloves.csv"
    roster_file.write_bytes(ROSTER)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        csp = CspWatch()
        try:
            context = browser.new_context()
            csp.attach(context)
            page = context.new_page()
            page.goto(f"{base}/admin/?lang=en")
            assert "/staff/login?next=/admin/" in page.url
            page.fill("#username", "ada")
            page.fill("#password", PASSWORD)
            page.fill("#station", "Office")
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/admin/?lang=en")

            page.click("#new-distribution")
            for name, value in VALID.items():
                if name in {"item_key", "weight_basis", "allocation_method"}:
                    continue
                page.fill(f"#{name}", value)
            page.select_option("#weight_basis", "headcount")
            page.click("#save")
            expect(page.locator(".flash.notice")).to_have_text("Distribution 1 created.")

            page.click("text=2. Roster")
            page.set_input_files("#file", str(roster_file))
            page.click("#check")
            expect(page.locator("#roster-clean")).to_have_text(
                "The file is clean: 3 rows. Import them when they look right."
            )
            page.click("#import")
            expect(page.locator(".flash.notice")).to_have_text("Imported 3 recipients.")
            expect(page.locator("#allocation-summary")).to_contain_text(
                "stock 40 units, 40 allotted, 0 left over."
            )

            page.click("#commit-allocation")
            expect(page.locator("#schedule-summary")).to_have_text(
                "4 slots; 3 recipients get a slot now, 0 already have one."
            )
            expect(page.locator("#load-chart svg")).to_be_visible()

            page.click("#commit-schedule")
            expect(page.locator(".flash.notice")).to_have_text(
                "3 recipients booked into 4 slots (0 already had one)."
            )
            page.click("#send-invitations")
            expect(page.locator("#count-queued")).to_have_text("2")  # Gamma has no phone

            page.click("text=6. Live dashboard")
            expect(page.locator("#state-booked")).to_have_text("3")
            expect(page.locator("#slot-chart svg rect.booked")).to_have_count(4 + 1)
            expect(page.locator(".handed")).to_contain_text("Handed out 0 of 40 box of 100")

            page.click("#switch-language")
            expect(page.locator("h1")).to_have_text("实时看板")
            page.goto(f"{base}/admin/d/1/invite")  # the stacked progress bar
            expect(page.locator(".progress.stacked rect")).to_have_count(5)
        finally:
            browser.close()
        # Every console page, the live dashboard's polling included, runs under the policy.
        assert csp.violations == []


def test_sign_in_returns_to_the_console_page_asked_for(console):
    client = console.test_client()
    token = csrf(client, "/staff/login")
    response = client.post(
        "/staff/login?next=/admin/d/1/dashboard",
        data={"username": "ada", "password": PASSWORD, "station": "Office", "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/d/1/dashboard"


# -- several pickup sites ---------------------------------------------------------------------

SECOND_SITE = {
    "site_name_1": "Xiwu depot",
    "site_address_1": "8 Quay Rd",
    "windows_1": "2020-02-07 09:00 / 10:00\n2020-02-07 13:00 / 14:00",
    "site_people_1": "3",
    "site_units_1": "",
}


def test_the_form_adds_and_removes_site_blocks_without_saving(fresh):
    client = _admin(fresh)
    page = _text(_post(client, "/admin/new", {**VALID, "site_action": "add"}))
    assert 'name="site_name_1"' in page and "Pickup site 2" in page
    assert page.count("Remove this site") == 2
    page = _text(_post(client, "/admin/new", {**VALID, **SECOND_SITE, "site_action": "remove:0"}))
    assert 'name="site_name_0"' not in page and 'value="Xiwu depot"' in page
    assert "Remove this site" not in page  # the last site stays
    with fresh.app_context():
        assert storage.list_distributions(get_db()) == []


def test_create_a_distribution_with_two_sites(fresh):
    client = _admin(fresh)
    page = _follow(client, _post(client, "/admin/new", {**VALID, **SECOND_SITE}))
    assert "Distribution 1 created." in page
    with fresh.app_context():
        db = get_db()
        sites = storage.list_sites(db, 1)
        depot_windows = storage.list_windows(db, sites[1]["id"])
    assert [(s["name"], s["address"], s["capacity_people"]) for s in sites] == [
        ("Town hall", "1 Main Road", None),
        ("Xiwu depot", "8 Quay Rd", 3),
    ]
    assert len(depot_windows) == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"site_name_1": "town HALL"}, "site_name_1", "Another site has this name."),
        ({"site_address_1": ""}, "site_address_1", "Required."),
        ({"windows_1": ""}, "windows_1", "Give at least one pickup window."),
        ({"site_people_1": "0"}, "site_people_1", "Enter a whole number from 1 to 100000."),
        ({"site_name_1": "x" * 201}, "site_name_1", "At most 200 characters."),
    ],
)
def test_site_fields_are_checked(fresh, changes, field, message):
    client = _admin(fresh)
    response = _post(client, "/admin/new", {**VALID, **SECOND_SITE, **changes})
    assert response.status_code == 400
    assert f'<span class="problem" id="{field}-problem">{message}</span>' in _text(response)


def test_a_site_with_bookings_cannot_be_removed_in_the_console(console):
    client = _admin(console, "zh")
    values = _edit_values(console)
    values.update(SECOND_SITE)
    _follow(client, _post(client, "/admin/d/1/edit", values))
    with console.app_context():
        assert [s["name"] for s in storage.list_sites(get_db(), 1)][1] == "Xiwu depot"
    kept_new_site = {k: v for k, v in _edit_values(console).items() if not k.endswith("_0")}
    response = _post(client, "/admin/d/1/edit", kept_new_site)
    assert response.status_code == 409
    assert "已有 112 个预约，不能删除" in _text(response)
    page = _text(client.get("/admin/d/1/edit"))
    assert 'value="Xiwu depot"' in page and 'name="site_id_1"' in page
