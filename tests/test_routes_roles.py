"""Roles on every route: each endpoint of ``app.url_map`` tried by every kind of caller.

:data:`ENDPOINTS` names the access policy of every endpoint; a route added without an entry
fails :func:`test_every_route_has_an_access_policy`. The outcomes are what the caller gets:
``ok`` (served: any answer that is not a refusal), ``login`` (sent to the sign-in page with
``next=``), ``401``, ``403``, ``404`` (the route does not exist for them).
"""

from __future__ import annotations

from typing import Any

import pytest
from hardening_support import CSRF, ROLES, build_site, client_for, row_counts, rules, url_of

OK, LOGIN = "ok", "login"


def _policy(anonymous, kiosk_token, staff_token, staff, admin) -> dict[str, str]:
    return dict(zip(ROLES, (anonymous, kiosk_token, staff_token, staff, admin), strict=True))


PUBLIC = _policy(OK, OK, OK, OK, OK)
# A bearer token is for the API only: on the pages it is as good as nothing.
STAFF_PAGE = _policy(LOGIN, LOGIN, LOGIN, OK, OK)
STAFF_POLL = _policy("401", "401", "401", OK, OK)  # polled by script: no redirect
ADMIN_PAGE = _policy(LOGIN, LOGIN, LOGIN, "403", OK)
ADMIN_POLL = _policy("401", "401", "401", "403", OK)
# The API takes tokens only: a browser session (and its cookie) does not count.
API_SCAN = _policy("401", OK, OK, "401", "401")
API_STAFF = _policy("401", "403", OK, "401", "401")
# An offline station's copy and upload: a device token, or a signed-in station (whose POST
# must carry X-CSRF-Token; without it the answer is 400, which is not a refusal of the role).
API_SYNC = _policy("401", OK, OK, OK, OK)
# Twilio's webhooks: only a valid signature gets in, whoever calls.
TWILIO = _policy("403", "403", "403", "403", "403")
# The Android gateway's webhook: only a body signed with its key gets in.
ANDROID = _policy("401", "401", "401", "401", "401")
# The phone simulator: anyone in development (the walk below), nobody elsewhere.
DEV_ONLY = PUBLIC

# endpoint -> policy, or -> {method: policy} where the methods differ.
ENDPOINTS: dict[str, dict[str, Any]] = {
    # public: the landing page, health, the voucher page, the kiosk, sign-in, static files
    "kiosk.home": PUBLIC,
    "healthz": PUBLIC,
    "kiosk.voucher_page": PUBLIC,
    "kiosk.voucher_qr_png": PUBLIC,
    "kiosk.voucher_qr_svg": PUBLIC,
    "kiosk.kiosk_sites": PUBLIC,
    "kiosk.kiosk_start": PUBLIC,
    "kiosk.kiosk_check": PUBLIC,
    "kiosk.kiosk_checkin": PUBLIC,
    "kiosk.board": PUBLIC,
    "kiosk.board_json": PUBLIC,
    "kiosk.static": PUBLIC,
    "kiosk.offline_worker": PUBLIC,
    "kiosk.kiosk_safety_text": PUBLIC,
    "web.static": PUBLIC,
    "sms.static": PUBLIC,
    # A sign-in without a right password is answered 401, whoever sends it.
    "auth.login": {"GET": PUBLIC, "POST": _policy("401", "401", "401", "401", "401")},
    # the staff station
    "staff.station": STAFF_PAGE,
    "auth.logout": STAFF_PAGE,
    "staff.search": STAFF_PAGE,
    "staff.voucher": STAFF_PAGE,
    "staff.handover": STAFF_PAGE,
    "staff.undo": STAFF_PAGE,
    "staff.checkin": STAFF_PAGE,
    "staff.acknowledge": STAFF_PAGE,
    "staff.queue_json": STAFF_POLL,
    "staff.queue_fragment": STAFF_POLL,
    "staff.call_next": STAFF_PAGE,
    "staff.recall": STAFF_PAGE,
    "staff.skip": STAFF_PAGE,
    # the operator console
    "admin.index": ADMIN_PAGE,
    "admin.new_distribution": ADMIN_PAGE,
    "admin.overview": ADMIN_PAGE,
    "admin.edit_distribution": ADMIN_PAGE,
    "admin.roster_template": ADMIN_PAGE,
    "admin.roster_form": ADMIN_PAGE,
    "admin.roster_check": ADMIN_PAGE,
    "admin.roster_import": ADMIN_PAGE,
    "admin.allocation": ADMIN_PAGE,
    "admin.allocation_csv": ADMIN_PAGE,
    "admin.allocate": ADMIN_PAGE,
    "admin.schedule_preview": ADMIN_PAGE,
    "admin.schedule_csv": ADMIN_PAGE,
    "admin.schedule": ADMIN_PAGE,
    "admin.invitations": ADMIN_PAGE,
    "admin.invite": ADMIN_PAGE,
    "admin.retry_invitations": ADMIN_PAGE,
    "admin.recipients": ADMIN_PAGE,
    "admin.recipient": ADMIN_PAGE,
    "admin.offer_recipient": ADMIN_PAGE,
    "admin.move_recipient": ADMIN_PAGE,
    "admin.cancel_recipient": ADMIN_PAGE,
    "admin.resend_recipient": ADMIN_PAGE,
    "admin.day_list_page": ADMIN_PAGE,
    "admin.dashboard_page": ADMIN_PAGE,
    "admin.dashboard_live": ADMIN_POLL,
    "admin.no_shows": ADMIN_PAGE,
    "admin.offer_waiting": ADMIN_PAGE,
    "admin.export_ledger": ADMIN_PAGE,
    "admin.export_bookings": ADMIN_PAGE,
    "admin.audit_log": ADMIN_PAGE,
    "admin.users": ADMIN_PAGE,
    "admin.add_user": ADMIN_PAGE,
    "admin.set_user_disabled": ADMIN_PAGE,
    "admin.set_user_role": ADMIN_PAGE,
    "admin.reset_user_password": ADMIN_PAGE,
    "admin.static": ADMIN_PAGE,
    "admin.conflicts": ADMIN_PAGE,
    "admin.resolve_conflict": ADMIN_PAGE,
    # the scanner API
    "api.check": API_SCAN,
    "api.checkin": API_SCAN,
    "api.handover": API_STAFF,
    "api.undo": API_STAFF,
    "api.sync_copy": API_SYNC,
    "api.sync_upload": API_SYNC,
    # Twilio
    "sms.sms_inbound": TWILIO,
    "sms.sms_status": TWILIO,
    "sms.ivr_voice": TWILIO,
    "sms.ivr_step": TWILIO,
    "sms.android_webhook": ANDROID,
    # development only
    "sms.phone_page": DEV_ONLY,
    "sms.phone_sms": DEV_ONLY,
    "sms.phone_call": DEV_ONLY,
}
DEV_ENDPOINTS = {"sms.phone_page", "sms.phone_sms", "sms.phone_call"}
# Each policy belongs with its URL prefix, so that a route cannot be listed in the wrong group.
PREFIX_OF = {
    id(STAFF_PAGE): "/staff/",
    id(STAFF_POLL): "/staff/",
    id(ADMIN_PAGE): "/admin/",
    id(ADMIN_POLL): "/admin/",
    id(API_SCAN): "/api/v1/",
    id(API_STAFF): "/api/v1/",
    id(API_SYNC): "/api/v1/",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_sqlite_template):
    # Shared by the module's tests, so on one engine (SQLite).
    return build_site(tmp_path_factory.mktemp("roles"), demo_sqlite_template)


def expected(endpoint: str, method: str) -> dict[str, str]:
    policy = ENDPOINTS[endpoint]
    return policy.get(method, policy)


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/staff/login?next="):
        return LOGIN
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    return OK


def request(site, role: str, method: str, rule):
    client = client_for(site, role)
    url = url_of(site, rule)
    if method == "GET":
        return client.get(url, query_string={"code": site.codes["valid_2"]})
    form = {"csrf_token": CSRF, "code": site.codes["valid_2"], "lang": "en"}
    return client.post(url, data=form)


def missing_policies(app) -> list[str]:
    return sorted({rule.endpoint for rule in rules(app)} - ENDPOINTS.keys())


def test_a_route_added_without_a_policy_is_caught(tmp_path, demo_template):
    site = build_site(tmp_path, demo_template)
    site.app.add_url_rule("/new-page", "new_page", lambda: "hello")
    assert missing_policies(site.app) == ["new_page"]


def test_every_route_has_an_access_policy(site):
    endpoints = {rule.endpoint for rule in rules(site.app)}
    assert missing_policies(site.app) == [], "new routes need an entry in ENDPOINTS"
    assert sorted(ENDPOINTS.keys() - endpoints) == [], "ENDPOINTS lists routes that are gone"
    for rule in rules(site.app):
        prefix = PREFIX_OF.get(id(expected(rule.endpoint, "GET")))
        assert prefix is None or rule.rule.startswith(prefix), (rule.rule, rule.endpoint)


def _method_rules(app) -> list[tuple[str, object]]:
    return [
        (method, rule)
        for rule in rules(app)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


@pytest.fixture(scope="module")
def walk(site):
    return _method_rules(site.app)


def test_each_role_gets_what_the_table_says(site, walk):
    wrong = {}
    for method, rule in walk:
        seen = {}
        for role in ROLES:
            response = request(site, role, method, rule)
            assert response.status_code < 500, (method, rule.rule, role)
            seen[role] = outcome(response)
        if seen != expected(rule.endpoint, method):
            wrong[f"{method} {rule.rule}"] = seen
    assert wrong == {}, "\n".join(f"{route}: {seen}" for route, seen in wrong.items())


# Over each route's size limit: 64 KB everywhere, 5 MB for the one route that takes a file.
UPLOAD_ENDPOINTS = {"admin.roster_check"}


def oversized_post(site, role: str, rule):
    size = (5 * 1024 + 1) * 1024 if rule.endpoint in UPLOAD_ENDPOINTS else 64 * 1024 + 1
    form = {"csrf_token": CSRF, "code": site.codes["valid_2"], "padding": "x" * size}
    return client_for(site, role).post(url_of(site, rule), data=form)


def test_each_role_gets_413_or_its_refusal_for_a_body_over_the_limit(site, walk):
    """Whoever may use a route gets 413 for too large a body, and nothing is written; whoever
    may not is refused as the table says (before the body is read) or gets the 413."""
    wrong = {}
    before = row_counts(site.app)
    for method, rule in walk:
        if method != "POST":
            continue
        for role in ROLES:
            response = oversized_post(site, role, rule)
            allowed = expected(rule.endpoint, method)[role]
            seen = "413" if response.status_code == 413 else outcome(response)
            if seen != "413" and (allowed == OK or seen != allowed):
                wrong[f"POST {rule.rule} as {role}"] = seen
            if seen == "413":
                assert "MB" in response.get_data(as_text=True) or "KB" in response.get_data(
                    as_text=True
                ), rule.rule
    assert wrong == {}, "\n".join(f"{route}: {seen}" for route, seen in wrong.items())
    assert row_counts(site.app) == before


@pytest.mark.parametrize("role", ROLES)
def test_simulator_does_not_exist_outside_development(tmp_path, demo_template, role):
    site = build_site(tmp_path, demo_template, env="production")
    for method, rule in _method_rules(site.app):
        if rule.endpoint in DEV_ENDPOINTS:
            assert request(site, role, method, rule).status_code == 404, rule.rule


@pytest.mark.parametrize(
    "planted",
    [
        {"user": {"id": 1, "username": "ada", "role": "admin"}},
        {"user": {"id": 1, "username": "alice", "role": "superuser"}},
        {"sid": "a guessed token"},
        {"sid": 12345},
    ],
)
def test_a_session_cookie_that_claims_a_user_or_role_is_not_signed_in(site, planted):
    """The cookie names no user or role the server believes: only a live session token."""
    client = site.app.test_client()
    with client.session_transaction() as session:
        session.update(planted)
        session["lang"] = "en"
    assert client.get("/admin/").status_code == 302
    assert client.get("/staff/").status_code == 302
