"""Shared set-up for the Twilio webhook and phone menu tests: a signed client and a caller.

:class:`Call` walks a call through the webhooks as Twilio would, parsing every TwiML answer
as XML and checking what every answer must hold (a way out after each ``<Gather>``, a voice
named for each ``<Say>``'s language).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gateway_support import demo_app
from support import app_settings
from twilio.request_validator import RequestValidator

from shared import storage
from shared.db import get_db
from sms.senders import FakeSender
from wsgi import create_app

TOKEN = "twilio-test-token"
BASE = "https://pickup.example.org"
EN_PHONE = "+8617000000009"
ZH_PHONE = "+8617000000001"
STRANGER = "+8613900000000"
TWILIO = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE, "SMS_SENDER": FakeSender()}


def make_app(tmp_path, demo_template, **extra):
    """A test app on a copy of the demo database, with a Twilio token to sign with."""
    return demo_app(tmp_path, demo_template, **{**TWILIO, **extra})


def another_worker(app, **extra):
    """A second app on the same database, as another gunicorn worker would be."""
    return create_app({**app_settings(app.config["PICKUP_DB"]), **TWILIO, **extra})


def signed_post(client, url, data, token=TOKEN, base=BASE):
    """POST ``url`` (a path, or an absolute URL under ``base``) signed as Twilio would."""
    full = url if url.startswith("http") else base + url
    path = full[len(base) :] if full.startswith(base) else url
    signature = RequestValidator(token).compute_signature(full, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


def outbox_bodies(app, phone_number):
    """The SMS queued to ``phone_number``, newest first."""
    with app.app_context():
        return [m["body"] for m in storage.outbox_for_phone(get_db(), phone_number)]


SAY_LANGUAGES = {"cmn-CN": "PICKUP_IVR_VOICE_ZH", "en-US": "PICKUP_IVR_VOICE_EN"}


def check_voices(root, config) -> None:
    """Every <Say> names its language and the voice set for that language."""
    for say in root.iter("Say"):
        assert say.get("language") in SAY_LANGUAGES, say.get("language")
        assert say.get("voice") == config[SAY_LANGUAGES[say.get("language")]]


class Call:
    """Walks a call through the webhooks, as Twilio would, checking every TwiML answer.

    ``caller`` None is a call without caller ID: the form has no ``From``.
    """

    def __init__(self, client, caller, sid="CAwalk"):
        self.client, self.caller, self.sid = client, caller, sid
        self.root = None
        self.spoken: list[tuple[str, str]] = []

    def post(self, url, digits=None):
        data = {"CallSid": self.sid}
        if self.caller:
            data["From"] = self.caller
        if digits is not None:
            data["Digits"] = digits
        response = signed_post(self.client, url, data)
        assert response.status_code == 200 and response.mimetype == "text/xml"
        self.root = ET.fromstring(response.data)
        self._check()
        self.spoken = [(say.get("language"), say.text) for say in self.root.iter("Say")]
        return self

    def _check(self):
        children = list(self.root)
        for index, child in enumerate(children):
            if child.tag == "Gather":
                # A Gather without keys falls through: something must follow it.
                after = children[index + 1 :]
                assert after and after[0].tag in ("Redirect", "Hangup")
                assert child.get("action").startswith(BASE + "/ivr/")
                assert child.get("timeout")
        check_voices(self.root, self.client.application.config)

    @property
    def gather(self):
        return self.root.find("Gather")

    @property
    def redirect(self):
        return self.root.find("Redirect")

    @property
    def hung_up(self):
        return self.root.find("Hangup") is not None

    def start(self):
        return self.post(BASE + "/ivr/voice")

    def press(self, digits):
        return self.post(self.gather.get("action"), digits)

    def wait(self):
        """No key pressed: Twilio follows the Redirect after the Gather."""
        return self.post(self.redirect.text)

    def follow(self):
        while self.gather is None and self.redirect is not None and not self.hung_up:
            self.post(self.redirect.text)
        return self

    def text(self):
        return " ".join(text for _, text in self.spoken)
