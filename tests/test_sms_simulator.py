"""``/dev/phone``: the phone simulator, in development only."""

from __future__ import annotations

import re
import shutil
from html import unescape

import pytest
from support import DEMO_LOADED_AT, SECRET

from shared import storage
from sms import texts
from wsgi import create_app


def make_app(tmp_path, demo_template, env):
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    return create_app(
        {"TESTING": True, "SECRET_KEY": SECRET, "PICKUP_DB": str(path), "PICKUP_ENV": env}
    )


@pytest.fixture(autouse=True)
def demo_morning(monkeypatch):
    monkeypatch.setattr(storage, "now_utc", lambda: DEMO_LOADED_AT)


@pytest.mark.parametrize("env", ["production", "test"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/dev/phone"), ("post", "/dev/phone/sms"), ("post", "/dev/phone/call")],
)
def test_simulator_is_off_outside_development(tmp_path, demo_template, env, method, path):
    client = make_app(tmp_path, demo_template, env).test_client()
    assert getattr(client, method)(path, data={"phone": "+8617000000009"}).status_code == 404


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_simulator_sms_and_call(tmp_path, demo_template):
    client = make_app(tmp_path, demo_template, "development").test_client()
    page = client.get("/dev/phone")
    assert page.status_code == 200 and "+8617000000009" in page.get_data(as_text=True)
    assert "<script" not in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]

    refused = client.post("/dev/phone/sms", data={"phone": "+8617000000009", "text": "HELP"})
    assert refused.status_code == 400
    sent = client.post(
        "/dev/phone/sms", data={"phone": "+8617000000009", "text": "HELP", "csrf_token": token}
    )
    assert sent.status_code == 302
    shown = page_text(client.get("/dev/phone?phone=%2B8617000000009"))
    assert texts.sms_text("help", "en") in shown

    call = client.post(
        "/dev/phone/call",
        data={"phone": "+8617000000009", "mode": "start", "csrf_token": token},
    )
    assert "For English, press 2." in page_text(call)
    html = call.get_data(as_text=True)
    fields = dict(re.findall(r'name="(call_id|action|caller|transcript)" value="([^"]*)"', html))
    fields = {k: unescape(v) for k, v in fields.items()}
    menu = client.post(
        "/dev/phone/call",
        data={
            **fields,
            "phone": "+8617000000009",
            "mode": "keys",
            "digits": "2",
            "csrf_token": token,
        },
    )
    text = page_text(menu)
    assert "(pressed 2)" in text and texts.spoken("menu", "en") in text
