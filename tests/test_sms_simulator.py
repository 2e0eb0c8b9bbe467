"""``/dev/phone``: the phone simulator, in development only."""

from __future__ import annotations

import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from support import DEMO_LOADED_AT, SECRET, fresh_demo

from shared import storage
from shared.messages import day_and_clock
from sms import texts
from wsgi import create_app


def make_app(tmp_path, demo_template, env):
    path = fresh_demo(demo_template, tmp_path)
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
    page = client.get("/dev/phone?lang=en")
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


def simulator_walk(client, language):
    """Call as a hidden caller in ``language``'s interface: a wrong key, then silence."""
    page = client.get(f"/dev/phone?lang={language}")
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    form = {"phone": "+8617000000009", "csrf_token": token}
    call = client.post("/dev/phone/call", data={**form, "mode": "start", "hide_caller": "1"})
    pages = [page, call]
    for step in (
        {"mode": "keys", "digits": "7"},
        {"mode": "timeout"},
        {"mode": "keys", "digits": ""},
    ):
        html = call.get_data(as_text=True)
        fields = re.findall(
            r'name="(call_id|action|caller|transcript|timeout)" value="([^"]*)"', html
        )
        call = client.post(
            "/dev/phone/call", data={**form, **{k: unescape(v) for k, v in fields}, **step}
        )
        pages.append(call)
    return [page_text(p) for p in pages]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_simulator_speaks_the_interfaces_language(tmp_path, demo_template, language):
    client = make_app(tmp_path, demo_template, "development").test_client()
    pages = simulator_walk(client, language)
    other = "en" if language == "zh" else "zh"
    last = pages[-1]
    for key in ("title", "call", "call_now", "hide_caller", "outbox", "stay_silent"):
        assert texts.simulator_text(key, language) in pages[1]
        assert texts.simulator_text(key, other) not in pages[1]
    assert texts.simulator_text("ended", language) in last  # three tries, then goodbye
    assert texts.simulator_text("pressed", language, keys="7") in last
    assert texts.simulator_text("silence", language) in last
    assert texts.simulator_text("pressed_nothing", language) in last
    if language == "zh":
        # Nothing of the page itself is English. Left aside: what the caller heard in English
        # (the welcome asks in both languages), the roster's names and the link to English.
        for page in pages[1:]:
            rest = "\n".join(line for line in page.splitlines() if "+86" not in line)
            for spoken in sorted((t["en"] for t in texts.SPOKEN.values()), key=len, reverse=True):
                rest = rest.replace(spoken, "")
            rest = rest.replace(texts.simulator_text("switch_language", "zh"), "")
            assert re.findall(r"[A-Za-z]{2,}", rest) == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_simulator_shows_when_a_message_came_in_local_time(tmp_path, demo_template, language):
    """The roster's people read times in their distribution's zone, not stored UTC."""
    app = make_app(tmp_path, demo_template, "development")
    client = app.test_client()
    page = client.get(f"/dev/phone?lang={language}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post(
        "/dev/phone/sms", data={"phone": "+8617000000009", "text": "HELP", "csrf_token": token}
    )
    with app.app_context():
        from shared.db import get_db

        received = storage.inbound_for_phone(get_db(), "+8617000000009")[0]["received_at"]
    local = storage.from_db_time(received).astimezone(ZoneInfo("Asia/Shanghai"))
    shown = page_text(client.get("/dev/phone?phone=%2B8617000000009"))
    assert texts.simulator_text("sent_at", language, at=day_and_clock(local, language)) in shown
    assert "+00:00" not in shown
