"""Stand-ins and phones for the SMS gateway tests.

:class:`LoopbackAndroidGateway` is a real HTTP server on 127.0.0.1 that answers like SMS
Gateway for Android's API (``POST /messages`` with basic auth), so the real client and the
real sender talk to it over a socket. :class:`GatewayPhone` is a roster phone texting the
service through either gateway's webhook and reading the reply it gets back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support import app_settings, fresh_demo
from twilio.request_validator import RequestValidator

from shared import storage
from shared.db import get_db
from sms import worker
from sms.conversation import Reply
from sms.senders import AndroidSender
from wsgi import create_app

LOGIN, PASSWORD = "pickup", "gateway-password"
SIGNING_KEY = "android-signing-key"
TWILIO_TOKEN = "twilio-test-token"
BASE = "https://pickup.example.org"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection the test dropped on purpose


class LoopbackAndroidGateway:
    """The Android gateway's API on a loopback port.

    ``posted`` lists every accepted message (the JSON the client sent); ``requests`` every
    request with its Authorization header. ``script`` holds answers for the next requests:
    a status code to answer with, ``"accept-then-drop"`` (take the message, then close the
    connection without answering) or ``("slow", seconds)``. A message id it has already
    taken gets 409, as the real gateway answers.
    """

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, authorization)
        self.script: deque[Any] = deque()
        self.lock = threading.Lock()
        self.port = 0
        self._server: _QuietServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                data = json.loads(self.rfile.read(length) or b"{}")
                gateway.answer(self, data)

        self._server = _QuietServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The phone is off: connections to its port are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def answer(self, handler: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(("POST", handler.path, handler.headers.get("Authorization")))
            step = self.script.popleft() if self.script else None
            if step is None or step == "accept-then-drop":
                if data.get("id") in {m.get("id") for m in self.posted}:
                    self._json(handler, 409, {"message": "Message with the same ID already exists"})
                    return
                self.posted.append(data)
                if step == "accept-then-drop":
                    handler.close_connection = True
                    handler.connection.shutdown(2)
                    return
        if isinstance(step, tuple) and step[0] == "slow":
            time.sleep(step[1])
            self._json(handler, 503, {"message": "too late"})
            return
        if isinstance(step, int):
            self._json(handler, step, {"message": f"scripted {step}"})
            return
        recipients = [{"phoneNumber": p, "state": "Pending"} for p in data["phoneNumbers"]]
        state = {"id": data["id"], "state": "Pending", "recipients": recipients}
        self._json(handler, 202, {**state, "isHashed": False, "isEncrypted": False})

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def texts_to(self, phone: str) -> list[str]:
        return [m["textMessage"]["text"] for m in self.posted if m["phoneNumbers"] == [phone]]


def demo_app(tmp_path, demo_template, **config: Any):
    """An app on a copy of the demo database, with ``config`` over the test settings."""
    return create_app({**app_settings(fresh_demo(demo_template, tmp_path)), **config})


def basic_auth(login: str = LOGIN, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def android_sender(gateway: LoopbackAndroidGateway, timeout: float = 5) -> AndroidSender:
    return AndroidSender(gateway.url, LOGIN, PASSWORD, timeout_seconds=timeout)


def sign(body: bytes, timestamp: int | str, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode(), body + str(timestamp).encode(), hashlib.sha256).hexdigest()


_event_ids = itertools.count(1)


def sms_event(phone: str, text: str, event_id: str | None = None) -> dict[str, Any]:
    """An ``sms:received`` event as the app sends it."""
    return {
        "id": event_id or f"ev{next(_event_ids):08d}",
        "event": "sms:received",
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "webhookId": "wh-received",
        "payload": {
            "messageId": hashlib.sha1(f"{phone}{text}".encode()).hexdigest()[:12],
            "message": text,
            "phoneNumber": phone,
            "simNumber": 1,
            "receivedAt": "2020-02-04T09:00:00.000+08:00",
        },
    }


def status_event(kind: str, message_id: str, event_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"messageId": message_id, "phoneNumber": "+8617000000009"}
    if kind == "sms:failed":
        payload["reason"] = "RESULT_ERROR_GENERIC_FAILURE"
    return {
        "id": event_id or f"ev{next(_event_ids):08d}",
        "event": kind,
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "webhookId": f"wh-{kind}",
        "payload": payload,
    }


def post_android(client, event: Any, now: datetime, key: str = SIGNING_KEY, body=None):
    """POST an event to /sms/android signed as the app signs it at ``now``."""
    raw = body if body is not None else json.dumps(event).encode()
    stamp = int(now.timestamp())
    return client.post(
        "/sms/android",
        data=raw,
        content_type="application/json",
        headers={"X-Signature": sign(raw, stamp, key), "X-Timestamp": str(stamp)},
    )


def post_twilio(client, data: dict[str, str], path: str = "/sms/inbound"):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + path, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


class GatewayPhone:
    """A phone texting the service through one gateway; :meth:`sms` returns the reply.

    Twilio answers inline (TwiML); the Android gateway's reply goes through the outbox and
    the worker to the loopback gateway, and is read from what the gateway was given. The
    reply's language is the one the conversation recorded for the message.
    """

    def __init__(self, kind: str, app, clock: list[datetime]) -> None:
        self.kind = kind
        self.app = app
        self.client = app.test_client()
        self.clock = clock
        self.gateway = LoopbackAndroidGateway() if kind == "android" else None

    def sms(
        self, phone: str, text: str, now: datetime | None = None, message_id: str | None = None
    ) -> Reply:
        """Text ``text`` from ``phone`` at ``now`` (default: the clock as it stands)."""
        now = self.clock[0] = now or self.clock[0]
        message_id = message_id or f"SM{next(_event_ids):032d}"
        if self.kind == "twilio":
            data = {"From": phone, "To": "+15005550006", "Body": text, "MessageSid": message_id}
            response = post_twilio(self.client, data)
            assert response.status_code == 200, response.data
            messages = ET.fromstring(response.data).findall("Message")
            return self._reply(message_id, messages[0].text if messages else "")
        assert self.gateway is not None
        before = len(self.gateway.posted)
        response = post_android(self.client, sms_event(phone, text, message_id), now)
        assert response.status_code == 200, response.data
        with self.app.app_context():
            db = get_db()
            pacer = worker.Pacer(1000, lambda: 0.0, lambda _s: None)
            sender = android_sender(self.gateway)
            while worker.drain(db, sender, lambda: now, 5, 30, pacer).attempted:
                pass
            assert not db.execute("SELECT 1 FROM sms_outbox WHERE status != 'sent'").fetchall()
        new = [m for m in self.gateway.posted[before:] if m["phoneNumbers"] == [phone]]
        assert len(new) <= 1
        return self._reply(f"android:{message_id}", new[0]["textMessage"]["text"] if new else "")

    def _reply(self, message_id: str, text: str) -> Reply:
        with self.app.app_context():
            row = storage.get_inbound(get_db(), message_id)
        return Reply(text or "", row["language"] if row else "")

    def close(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()


def outbox_rows(db) -> list[dict[str, Any]]:
    cursor = db.execute("SELECT * FROM sms_outbox ORDER BY id")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]
