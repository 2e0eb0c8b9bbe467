"""Sessions end when the server says so (issue 10, Medium 2), and the console's Users page.

The cookie holds only a session token; the user and role are read from the database on
every request. Each attack of the issue is replayed with a copy of the victim's cookie.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from browser_support import CspWatch
from hardening_support import CSRF, build_site, client_for
from kiosk_support import AT, PASSWORD
from support import require

from admin.texts import t
from shared import account_texts, accounts, storage
from shared.db import get_db

ADA_PASSWORD = "an admin password"
NEW_PASSWORD = "a brand new password"
AUDIT, BOOKINGS = "/admin/audit", "/admin/d/1/bookings.csv"


@pytest.fixture
def site(tmp_path, demo_template):
    """The demo with admin ``ada``, staff ``alice`` and ``bob``; a second admin ``grace``."""
    built = build_site(tmp_path, demo_template)
    with built.app.app_context():
        accounts.create_user(get_db(), "grace", ADA_PASSWORD, "admin", AT, "test")
    return built


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(site, name: str, password: str = ADA_PASSWORD, lang: str = "en"):
    """A browser that signed in for real, with the test's CSRF token in its session."""
    browser = client_for(site, "anonymous", lang)
    response = browser.post(
        "/staff/login",
        data={"username": name, "password": password, "station": "Desk 1", "csrf_token": CSRF},
    )
    assert response.status_code == 302, text_of(response)
    with browser.session_transaction() as session:
        session["csrf"] = CSRF  # sign-in starts a fresh session, with a fresh token
    return browser


def copy_of(site, browser):
    """Another browser holding a copy of ``browser``'s session cookie."""
    thief = site.app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def is_sign_in_page(response) -> bool:
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


def run(site, action) -> None:
    with site.app.app_context():
        action(get_db())


def test_a_copied_cookie_dies_at_sign_out(site):
    ada = signed_in(site, "ada")
    thief = copy_of(site, ada)
    assert thief.get(AUDIT).status_code == 200  # the copy works while ada is signed in
    assert ada.post("/staff/logout", data={"csrf_token": CSRF}).status_code == 302
    assert is_sign_in_page(thief.get(AUDIT))
    assert is_sign_in_page(thief.get(BOOKINGS))
    assert is_sign_in_page(ada.get(AUDIT))


def test_signing_out_ends_only_that_browser(site):
    desk, office = signed_in(site, "ada"), signed_in(site, "ada")
    desk.post("/staff/logout", data={"csrf_token": CSRF})
    assert office.get(AUDIT).status_code == 200


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Written straight into the database, as in the issue: the role and the disabled
        # flag are read from there on every request, whatever the cookie says.
        (lambda db, user: storage.set_user_disabled(db, user["id"], storage.now_utc()), "login"),
        (lambda db, user: storage.set_user_role(db, user["id"], "staff"), 403),
        # The way the console and the commands do it: every session of the user ends.
        (
            lambda db, user: accounts.set_disabled(db, "grace", True, storage.now_utc(), "t"),
            "login",
        ),
        (lambda db, user: accounts.set_role(db, "grace", "staff", storage.now_utc(), "t"), "login"),
        (
            lambda db, user: accounts.set_password(
                db, "grace", NEW_PASSWORD, storage.now_utc(), "t"
            ),
            "login",
        ),
    ],
    ids=["disabled-in-db", "demoted-in-db", "disabled", "demoted", "new-password"],
)
def test_a_copied_admin_cookie_stops_working(site, change, expected):
    grace = signed_in(site, "grace")
    thief = copy_of(site, grace)
    assert thief.get(BOOKINGS).status_code == 200
    run(site, lambda db: change(db, storage.get_user_by_name(db, "grace")))
    for browser in (thief, grace):
        for path in (BOOKINGS, AUDIT):
            response = browser.get(path)
            if expected == "login":
                assert is_sign_in_page(response), path
            else:
                assert response.status_code == expected, path
                assert "phone" not in text_of(response)


def test_after_a_password_change_only_the_new_password_signs_in(site):
    run(site, lambda db: accounts.set_password(db, "grace", NEW_PASSWORD, storage.now_utc(), "t"))
    refused = client_for(site, "anonymous").post(
        "/staff/login",
        data={"username": "grace", "password": ADA_PASSWORD, "csrf_token": CSRF},
    )
    assert refused.status_code == 401
    assert signed_in(site, "grace", NEW_PASSWORD).get(AUDIT).status_code == 200


def test_a_disabled_user_cannot_sign_in_and_an_enabled_one_can(site):
    run(site, lambda db: accounts.set_disabled(db, "alice", True, storage.now_utc(), "t"))
    refused = client_for(site, "anonymous").post(
        "/staff/login", data={"username": "alice", "password": PASSWORD, "csrf_token": CSRF}
    )
    assert refused.status_code == 401
    run(site, lambda db: accounts.set_disabled(db, "alice", False, storage.now_utc(), "t"))
    assert signed_in(site, "alice", PASSWORD).get("/staff/").status_code == 200


# -- the rules, in the core -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "key", "english"),
    [
        (
            lambda db: accounts.set_disabled(db, "ada", True, storage.now_utc(), "t", "ada"),
            "not_yourself",
            "you cannot disable your own account or change your own role: ask another admin",
        ),
        (
            lambda db: accounts.set_role(db, "ada", "staff", storage.now_utc(), "t", "ada"),
            "not_yourself",
            "you cannot disable your own account or change your own role: ask another admin",
        ),
        (
            lambda db: accounts.set_role(db, "ada", "root", storage.now_utc(), "t"),
            "user_role_invalid",
            "role must be one of admin, staff",
        ),
        (
            lambda db: accounts.set_password(db, "ada", "short", storage.now_utc(), "t"),
            "password_too_short",
            "a password has at least 8 characters",
        ),
        (
            lambda db: accounts.set_disabled(db, "nobody", True, storage.now_utc(), "t"),
            "user_unknown",
            "there is no user 'nobody'",
        ),
    ],
)
def test_account_changes_refused(site, call, key, english):
    with site.app.app_context():
        db = get_db()
        before = storage.list_users(db)
        with pytest.raises(accounts.AccountRefused) as refused:
            call(db)
        assert (refused.value.key, str(refused.value)) == (key, english)
        assert storage.list_users(db) == before


@pytest.mark.parametrize("change", ["disable", "demote"])
def test_the_last_enabled_admin_stays(site, change):
    with site.app.app_context():
        db = get_db()
        accounts.set_disabled(db, "grace", True, storage.now_utc(), "t")
        with pytest.raises(accounts.AccountRefused, match="^'ada' is the last enabled admin"):
            if change == "disable":
                accounts.set_disabled(db, "ada", True, storage.now_utc(), "t")
            else:
                accounts.set_role(db, "ada", "staff", storage.now_utc(), "t")
        assert storage.count_enabled_admins(db) == 1


# -- the Users page -------------------------------------------------------------------------


def user_id(site, name: str) -> int:
    with site.app.app_context():
        return storage.get_user_by_name(get_db(), name)["id"]


def audit_of(site, name: str) -> list[tuple[str, str, str]]:
    with site.app.app_context():
        entries = storage.audit_entries(get_db(), f"user:{user_id(site, name)}")
    return [(e["actor"], e["action"], e["detail"]) for e in entries]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_users_page_lists_every_account(site, lang):
    page = text_of(client_for(site, "admin", lang).get("/admin/users"))
    assert t("users_help", lang) in page
    for name in ("ada", "alice", "bob", "grace"):
        assert f"<bdi>{name}</bdi>" in page
    assert t("role_admin", lang) in page and t("role_staff", lang) in page
    assert "password_hash" not in page and "scrypt:" not in page


def test_users_page_adds_a_user_who_can_sign_in(site):
    admin = client_for(site, "admin")
    response = admin.post(
        "/admin/users/new",
        data={"username": "dora", "role": "staff", "password": NEW_PASSWORD, "csrf_token": CSRF},
    )
    assert response.status_code == 302
    assert t("user_added", "en", name="dora") in text_of(admin.get("/admin/users"))
    assert audit_of(site, "dora") == [("admin:ada", "create_user", '{"role": "staff"}')]
    assert signed_in(site, "dora", NEW_PASSWORD).get("/staff/").status_code == 200


def test_users_page_demotes_resets_disables_and_enables_each_ending_sessions(site):
    admin = client_for(site, "admin")
    gid = user_id(site, "grace")
    # (what is posted, the notice, the password grace signs in with afterwards)
    steps = [
        (
            "role",
            {"role": "staff"},
            t("role_changed", "en", name="grace", role="staff"),
            ADA_PASSWORD,
        ),
        (
            "password",
            {"new_password": NEW_PASSWORD},
            t("password_reset", "en", name="grace"),
            NEW_PASSWORD,
        ),
        ("disabled", {"disabled": "1"}, t("user_disabled", "en", name="grace"), None),
        ("disabled", {"disabled": "0"}, t("user_enabled", "en", name="grace"), NEW_PASSWORD),
    ]
    grace = signed_in(site, "grace")
    for what, form, notice, password in steps:
        response = admin.post(f"/admin/users/{gid}/{what}", data={**form, "csrf_token": CSRF})
        assert response.status_code == 302, what
        assert notice in text_of(admin.get("/admin/users")), what
        assert is_sign_in_page(grace.get("/staff/")), what
        if password is not None:
            grace = signed_in(site, "grace", password)
    assert grace.get("/staff/").status_code == 200
    assert grace.get(AUDIT).status_code == 403  # staff now
    entries = list(reversed(audit_of(site, "grace")))
    assert [(actor, action) for actor, action, _ in entries] == [
        ("test", "create_user"),
        ("admin:ada", "set_role"),
        ("admin:ada", "set_password"),
        ("admin:ada", "disable_user"),
        ("admin:ada", "enable_user"),
    ]
    assert entries[1][2] == '{"from": "admin", "sessions_ended": 1, "to": "staff"}'


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("what", "form", "key", "values"),
    [
        (
            "new",
            {"username": "da ve", "role": "staff", "password": NEW_PASSWORD},
            "user_name_invalid",
            {},
        ),
        (
            "new",
            {"username": "bob", "role": "staff", "password": NEW_PASSWORD},
            "user_exists",
            {"name": "bob"},
        ),
        (
            "new",
            {"username": "dora", "role": "root", "password": NEW_PASSWORD},
            "user_role_invalid",
            {"roles": "admin, staff"},
        ),
        (
            "new",
            {"username": "dora", "role": "staff", "password": "short"},
            "password_too_short",
            {"n": 8},
        ),
        ("ada/disabled", {"disabled": "1"}, "not_yourself", {}),
        ("ada/role", {"role": "staff"}, "not_yourself", {}),
        ("bob/role", {"role": "boss"}, "user_role_invalid", {"roles": "admin, staff"}),
        ("bob/password", {"new_password": "1234567"}, "password_too_short", {"n": 8}),
    ],
)
def test_users_page_refusals_say_why_and_change_nothing(site, lang, what, form, key, values):
    admin = client_for(site, "admin", lang)
    for name in ("ada", "bob"):
        what = what.replace(f"{name}/", f"{user_id(site, name)}/")
    with site.app.app_context():
        before = (storage.list_users(get_db()), len(storage.audit_entries(get_db())))
    response = admin.post(f"/admin/users/{what}", data={**form, "csrf_token": CSRF})
    assert response.status_code == 400
    page = text_of(response)
    assert account_texts.text(key, lang, **values) in page
    if form.get("username"):
        assert f'value="{form["username"]}"' in page  # what was typed is kept
    assert form.get("password", "never shown") not in page
    with site.app.app_context():
        assert (storage.list_users(get_db()), len(storage.audit_entries(get_db()))) == before


@pytest.mark.parametrize(
    "path", ["/admin/users/999/role", "/admin/users/999/password", "/admin/users/999/disabled"]
)
def test_users_page_unknown_user_is_404(site, path):
    response = client_for(site, "admin").post(path, data={"role": "staff", "csrf_token": CSRF})
    assert response.status_code == 404
    assert t("user_not_found", "en") in text_of(response)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/new",
        "/admin/users/1/role",
        "/admin/users/1/password",
        "/admin/users/1/disabled",
    ],
)
def test_users_page_forms_need_the_csrf_token(site, path):
    form = {
        "username": "mallory",
        "role": "admin",
        "password": NEW_PASSWORD,
        "new_password": NEW_PASSWORD,
        "disabled": "1",
    }
    admin = client_for(site, "admin")
    with site.app.app_context():
        before = storage.list_users(get_db())
    response = admin.post(path, data=form)
    assert response.status_code == 400
    with site.app.app_context():
        assert storage.list_users(get_db()) == before


def test_staff_cannot_open_or_post_the_users_page(site):
    alice = client_for(site, "staff")
    assert alice.get("/admin/users").status_code == 403
    bob = user_id(site, "bob")
    assert (
        alice.post(
            f"/admin/users/{bob}/role", data={"role": "admin", "csrf_token": CSRF}
        ).status_code
        == 403
    )
    with site.app.app_context():
        assert storage.get_user_by_name(get_db(), "bob")["role"] == "staff"


# -- the commands ---------------------------------------------------------------------------


def test_commands_disable_enable_set_role_and_set_password(site):
    runner = site.app.test_cli_runner()
    # (command, its output, the password grace signs in with before it, or None: she can't)
    steps = [
        (
            ["set-role", "grace", "--role", "staff"],
            "grace is now staff; their sessions are ended.",
            ADA_PASSWORD,
        ),
        (
            ["set-password", "grace", "--password", NEW_PASSWORD],
            "New password set for grace; their sessions are ended.",
            ADA_PASSWORD,
        ),
        (["disable-user", "grace"], "Disabled grace; their sessions are ended.", NEW_PASSWORD),
    ]
    for args, output, password in steps:
        grace = signed_in(site, "grace", password)
        result = runner.invoke(args=args)
        assert (result.exit_code, result.output) == (0, output + "\n"), args
        assert is_sign_in_page(grace.get("/staff/")), args
    for args, output in [
        (["set-role", "grace", "--role", "staff"], "grace was staff."),
        (["disable-user", "grace"], "grace was disabled."),
        (["enable-user", "grace"], "Enabled grace."),
        (["enable-user", "grace"], "grace was enabled."),
    ]:
        result = runner.invoke(args=args)
        assert (result.exit_code, result.output) == (0, output + "\n"), args
    assert signed_in(site, "grace", NEW_PASSWORD).get("/staff/").status_code == 200
    actors = {actor for actor, _, _ in audit_of(site, "grace")} - {"test"}
    assert len(actors) == 1 and actors.pop().startswith("cli:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["disable-user", "nobody"], "Error: there is no user 'nobody'"),
        (["set-role", "ada", "--role", "root"], "Invalid value for '--role'"),
        (
            ["set-password", "ada", "--password", "short"],
            "Error: a password has at least 8 characters",
        ),
    ],
)
def test_commands_refuse_with_a_reason(site, args, message):
    result = site.app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and message in result.output


def test_commands_keep_the_last_admin(site):
    runner = site.app.test_cli_runner()
    assert runner.invoke(args=["disable-user", "grace"]).exit_code == 0
    result = runner.invoke(args=["set-role", "ada", "--role", "staff"])
    assert result.exit_code == 1
    assert (
        "Error: 'ada' is the last enabled admin: make another account admin first" in result.output
    )


# -- a real browser -------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.browser
def test_admin_manages_users_in_a_browser_and_a_copied_cookie_dies(site, live_server, tmp_path):
    """Sign in, add a user, disable one, in both languages (screenshots at 1280x800 in
    ``tmp_path``); a second browser with a copy of the cookies is signed out with the first."""
    require(CHROMIUM.exists(), "Debian chromium (/usr/bin/chromium) drives the browser tests")
    from playwright.sync_api import expect, sync_playwright

    base = live_server(site.app)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        csp = CspWatch()
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            csp.attach(context)
            page = context.new_page()
            page.goto(f"{base}/admin/users?lang=en")
            page.fill("#username", "ada")
            page.fill("#password", ADA_PASSWORD)
            page.fill("#station", "Office")
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/admin/users?lang=en")

            page.fill("#add-user #username", "dora")
            page.fill("#add-user #password", "short")
            page.evaluate(
                "document.querySelector('#add-user #password').removeAttribute('minlength')"
            )
            page.click("#add-user button[type=submit]")
            expect(page.locator("#error")).to_have_text(
                account_texts.text("password_too_short", "en", n=8)
            )
            expect(page.locator("#add-user #username")).to_have_value("dora")
            page.fill("#add-user #password", NEW_PASSWORD)
            page.select_option("#add-user #role", "admin")
            page.click("#add-user button[type=submit]")
            expect(page.locator(".flash.notice")).to_have_text(t("user_added", "en", name="dora"))

            bob = page.locator(f"#user-{user_id(site, 'bob')}")
            bob.locator("button", has_text="Disable").click()
            expect(page.locator(".flash.notice")).to_have_text(t("user_disabled", "en", name="bob"))
            page.screenshot(path=str(tmp_path / "users-en.png"))
            page.click("#switch-language")
            expect(page.locator("h1")).to_have_text("用户")
            page.screenshot(path=str(tmp_path / "users-zh.png"))

            thief = browser.new_context()
            thief.add_cookies(context.cookies())
            stolen = thief.new_page()
            stolen.goto(f"{base}/admin/audit")
            expect(stolen).to_have_url(f"{base}/admin/audit")
            page.click("text=退出登录")
            stolen.goto(f"{base}/admin/audit")
            assert "/staff/login?next=/admin/audit" in stolen.url
        finally:
            browser.close()
        assert csp.violations == []
