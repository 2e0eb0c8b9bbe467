"""Where a kiosk, a staff station and a scanner stand: /kiosk/<site>, the site chosen at
sign-in, ``create-token --site``; a voucher for another site is refused as wrong site."""

from __future__ import annotations

import base64
import html
import json

import pytest
from kiosk_support import AT, PASSWORD, build_pickup, csrf, login

from auth.guards import SESSION_KEY
from shared import accounts, storage
from shared.db import get_db

# The demo: site 1 is the disinfectant's (today, 12:00-19:00), site 2 the masks' (tomorrow).
WRONG_SITE_EN = (
    "This voucher is for another pickup site: come at 13:00 to 区企业服务中心 Enterprise "
    "Service Centre, 宁波市奉化区岳林街道 (Yuelin, Fenghua)."
)
WRONG_SITE_ZH = (
    "此凭证不在本领取点使用：请于今天 13:00 到区企业服务中心 Enterprise Service Centre"
    "（宁波市奉化区岳林街道 (Yuelin, Fenghua)）领取。"
)


@pytest.fixture
def pickup(demo_app):
    return build_pickup(demo_app)


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- the kiosk -------------------------------------------------------------------------------


def test_kiosk_lists_the_open_sites_to_choose_from(pickup):
    page = _page(pickup.app.test_client().get("/kiosk?lang=en"))
    assert "Which pickup site is this kiosk at?" in page
    assert 'href="/kiosk/1?lang=en"' in page and 'href="/kiosk/2?lang=en"' in page


def test_kiosk_with_one_open_site_goes_straight_there(pickup):
    with pickup.app.app_context():
        db = get_db()
        db.execute("DELETE FROM pickup_windows WHERE site_id IN (2, 3)")  # the masks' day is gone
        db.conn.commit()
    response = pickup.app.test_client().get("/kiosk?lang=zh")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/1?lang=zh")


def test_kiosk_start_names_its_site_and_an_unknown_site_is_404(pickup):
    client = pickup.app.test_client()
    page = _page(client.get("/kiosk/2?lang=en"))
    assert '<span id="site-name">区商务局仓库 Commerce Bureau warehouse</span>' in page
    assert 'action="/kiosk/2/check"' in page and 'data-home="/kiosk/2"' in page
    assert client.get("/kiosk/99").status_code == 404
    assert client.post("/kiosk/99/check", data={"csrf_token": csrf(client)}).status_code == 404


@pytest.mark.parametrize(("lang", "message"), [("en", WRONG_SITE_EN), ("zh", WRONG_SITE_ZH)])
def test_kiosk_at_another_site_refuses_naming_the_right_one(pickup, lang, message):
    client = pickup.app.test_client()
    token = csrf(client, "/kiosk/2")
    response = client.post(
        "/kiosk/2/check", data={"code": pickup.codes["valid"], "lang": lang, "csrf_token": token}
    )
    assert message in _page(response)
    response = client.post(
        "/kiosk/2/checkin", data={"code": pickup.codes["valid"], "lang": lang, "csrf_token": token}
    )
    assert message in _page(response)
    with pickup.app.app_context():
        view = storage.voucher_view(get_db(), int(pickup.codes["valid"][:7]))
    assert view["checked_in_at"] is None


# -- the staff station -----------------------------------------------------------------------


def _sign_in(client, site_id: str, station: str = "Desk 3"):
    token = csrf(client, "/staff/login")
    return client.post(
        "/staff/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "station": station,
            "site_id": site_id,
            "csrf_token": token,
        },
    )


def test_sign_in_offers_the_sites_and_remembers_the_choice(pickup):
    client = pickup.app.test_client()
    page = _page(client.get("/staff/login?lang=en"))
    assert '<option value="1">区企业服务中心 Enterprise Service Centre' in page
    assert '<option value="2">区商务局仓库 Commerce Bureau warehouse' in page
    response = _sign_in(client, "2", "Gate B")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert (session["station"], session["site_id"]) == ("Gate B", 2)
    remembered = base64.urlsafe_b64decode(client.get_cookie("pickup_station").value)
    assert json.loads(remembered) == {
        "station": "Gate B",
        "site_id": 2,
    }
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    page = _page(client.get("/staff/login"))
    assert 'value="Gate B"' in page and '<option value="2" selected>' in page


@pytest.mark.parametrize("site_id", ["7", "x", "1 OR 1"])
def test_a_site_not_offered_is_refused_and_nobody_is_signed_in(pickup, site_id):
    client = pickup.app.test_client()
    client.get("/staff/login?lang=zh")
    response = _sign_in(client, site_id)
    assert response.status_code == 400
    assert "请从列表中选择领取点。" in _page(response)
    with client.session_transaction() as session:
        assert SESSION_KEY not in session


@pytest.mark.parametrize(("lang", "message"), [("en", WRONG_SITE_EN), ("zh", WRONG_SITE_ZH)])
def test_station_at_another_site_refuses_the_voucher(pickup, lang, message):
    client = pickup.app.test_client()
    client.get(f"/staff/login?lang={lang}")
    _sign_in(client, "2")
    page = _page(client.get("/staff/voucher", query_string={"code": pickup.codes["valid"]}))
    assert message in page
    token = csrf(client, "/staff/")
    response = client.post(
        "/staff/handover", data={"code": pickup.codes["valid"], "csrf_token": token}
    )
    assert response.status_code == 409 and message in _page(response)
    with pickup.app.app_context():
        view = storage.voucher_view(get_db(), int(pickup.codes["valid"][:7]))
    assert view["handed_units"] == 0


def test_station_at_the_right_site_hands_over(pickup):
    client = pickup.app.test_client()
    _sign_in(client, "1")
    page = _page(client.get("/staff/"))
    assert '<span id="station-site">区企业服务中心 Enterprise Service Centre</span>' in page
    token = csrf(client, "/staff/")
    response = client.post(
        "/staff/handover", data={"code": pickup.codes["valid"], "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("cookie", ["%%%", "bm90IGpzb24", "WzFd"])  # not base64, not JSON, a list
def test_a_spoiled_station_cookie_is_ignored(pickup, cookie):
    client = pickup.app.test_client()
    client.set_cookie("pickup_station", cookie)
    page = _page(client.get("/staff/login"))
    assert 'id="station" name="station" value=""' in page


def test_signing_in_without_a_site_takes_any_site(pickup):
    client = pickup.app.test_client()
    assert login(client).status_code == 302
    with client.session_transaction() as session:
        assert session["site_id"] is None


# -- the scanner API -------------------------------------------------------------------------


def _token(pickup, role: str, site_id: int | None) -> str:
    with pickup.app.app_context():
        return accounts.create_token(get_db(), role, f"{role}-at-{site_id}", AT, "test", site_id)


@pytest.mark.parametrize("action", ["check", "checkin", "handover"])
def test_a_token_at_another_site_gets_wrong_site(pickup, action):
    token = _token(pickup, "staff", 2)
    response = pickup.app.test_client().post(
        f"/api/v1/vouchers/{pickup.codes['valid']}/{action}?lang=en",
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json
    assert body["reason"] == "wrong_site" and body["message"] == WRONG_SITE_EN
    assert body["booking"]["site_id"] == 1
    if action == "check":
        assert (response.status_code, body["valid"]) == (200, False)
    else:
        assert (response.status_code, body["error"]) == (409, "wrong_site")


def test_a_token_at_the_right_site_hands_over(pickup):
    token = _token(pickup, "staff", 1)
    response = pickup.app.test_client().post(
        f"/api/v1/vouchers/{pickup.codes['valid']}/handover",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_create_token_with_a_site(pickup):
    runner = pickup.app.test_cli_runner()
    result = runner.invoke(
        args=["create-token", "--role", "kiosk", "--name", "gate", "--site", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "A kiosk token for gate at site 2." in result.stderr
    token = result.stdout.strip()
    with pickup.app.app_context():
        assert accounts.token_principal(get_db(), token, AT)["site_id"] == 2
    result = runner.invoke(args=["create-token", "--role", "kiosk", "--name", "g", "--site", "9"])
    assert result.exit_code == 1
    assert "there is no site 9; the sites are: 1 (区企业服务中心" in result.output
