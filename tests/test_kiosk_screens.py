"""The kiosk's input and screens without a browser: a mistyped code kept to correct, the
number of digits said plainly, the check-in screen, a cancelled voucher's page."""

from __future__ import annotations

import re

import pytest
from kiosk_support import build_pickup, csrf

from shared import messages
from shared.verification import verify_voucher

KEY = b"unused: these codes fail before the secret is needed"


@pytest.fixture
def pickup(demo_app):
    return build_pickup(demo_app)


def _post(client, code: str, lang: str = "en"):
    return client.post(
        "/kiosk/1/check", data={"code": code, "lang": lang, "csrf_token": csrf(client)}
    )


@pytest.mark.parametrize(
    ("typed", "lang", "message"),
    [
        ("4821 9930 1734 556", "en", "One digit is missing. Compare with your voucher and add it."),
        ("482199301734556", "zh", "少了一位数字。请对照凭证补上。"),
        ("4821 9930 1734", "en", "4 digits are missing. Compare with your voucher and add them."),
        (
            "48219930173455621",
            "en",
            "One digit too many. Compare with your voucher and remove it.",
        ),
        ("48219930173455621", "zh", "多了一位数字。请对照凭证删去多余的数字。"),
        (
            "4821993017345562123",
            "en",
            "3 digits too many. Compare with your voucher and remove them.",
        ),
        ("", "en", "16 digits are missing. Compare with your voucher and add them."),
    ],
)
def test_a_code_of_the_wrong_length_says_how_many_digits(typed, lang, message):
    verdict = verify_voucher(None, typed, KEY, None)
    assert messages.verdict_message(verdict, lang) == message


def test_a_check_digit_error_is_still_a_typo(pickup):
    verdict = verify_voucher(None, pickup.codes["mistyped"], KEY, None)
    assert messages.verdict_message(verdict, "en") == (
        "This code has a typo. Check the digits and try again."
    )


def test_a_mistyped_code_stays_on_screen_to_correct(pickup):
    client = pickup.app.test_client()
    typed = pickup.codes["valid"][:15]
    page = _post(client, typed).get_data(as_text=True)
    assert 'data-screen="retry"' in page
    assert f'value="{typed}"' in page
    assert "One digit is missing." in page
    assert 'id="digit-count"' in page and "15 of 16 digits" in page
    wrong = _post(client, pickup.codes["mistyped"], "zh").get_data(as_text=True)
    assert f'value="{pickup.codes["mistyped"]}"' in wrong and "已输入 16 / 16 位数字" in wrong
    # a code that is not mistyped but refused still gets its own screen, nothing kept
    refused = _post(client, pickup.codes["cancelled"]).get_data(as_text=True)
    assert 'data-screen="refused"' in refused and pickup.codes["cancelled"] not in re.sub(
        r'name="code" value="\d+"', "", refused
    )


def test_the_check_in_screen_does_not_send_people_elsewhere(pickup):
    client = pickup.app.test_client()
    token = csrf(client)
    page = client.post(
        "/kiosk/1/checkin", data={"code": pickup.codes["valid"], "lang": "en", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Please wait here. When the board shows your number, come to the counter." in page
    assert "Wait at" not in page


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", "This voucher is cancelled: there is no QR code to show."),
        ("zh", "此凭证已取消，没有可出示的二维码。"),
    ],
)
def test_a_cancelled_vouchers_page_shows_no_qr_and_says_so(pickup, lang, says):
    client = pickup.app.test_client()
    code = pickup.codes["cancelled"]
    page = client.get(f"/v/{code}?lang={lang}").get_data(as_text=True)
    assert 'class="qr"' not in page and says in page
    assert messages.text("cancelled", lang) in page
    assert client.get(f"/v/{code}/qr.svg").status_code == 404
    assert client.get(f"/v/{code}/qr.png").status_code == 404
    live = client.get(f"/v/{pickup.codes['valid']}?lang={lang}").get_data(as_text=True)
    assert 'class="qr"' in live and says not in live
