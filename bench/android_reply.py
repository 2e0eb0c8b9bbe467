"""How soon a reply through the Android gateway reaches the phone's API.

The Android gateway has no inline reply: an incoming SMS's answer goes into the outbox and
the worker, another process, sends it. This measures, over real processes on loopback, the
time from the webhook's 200 to the gateway receiving the reply:

- gunicorn with ``deploy/gunicorn.conf.py`` serving the demo, ``PICKUP_SMS_GATEWAY=android``;
- ``flask send-outbox --loop`` as a separate process, sending to a stand-in for the phone's
  API (an ``http.server`` in this process that answers ``POST /messages`` as the app does);
- signed ``sms:received`` webhooks (HMAC-SHA256 over body + timestamp), one at a time.

Woken: the worker listens on ``PICKUP_OUTBOX_SOCKET`` and the webhook rings it. Baseline
(same run): a worker with nobody ringing it, which finds the reply at its next poll (the
default ``--poll-seconds 2``). Target: the reply within about a second, p95 under 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (  # noqa: E402
    BIN,
    ROOT,
    Gunicorn,
    Service,
    bookable_start,
    free_port,
    load_demo,
    percentile,
)

SIGNING_KEY = secrets.token_hex(16)
PHONE = "+8617000000009"  # a demo representative who prefers English


class PhoneApi:
    """The phone's API on loopback: records when each message arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # reply text -> monotonic time
        self.event = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with api.event:
                    api.arrived[data["id"]] = time.monotonic()
                    api.event.notify_all()
                recipients = [{"phoneNumber": p, "state": "Pending"} for p in data["phoneNumbers"]]
                body = json.dumps({"id": data["id"], "state": "Pending", "recipients": recipients})
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def count(self) -> int:
        with self.event:
            return len(self.arrived)

    def wait_for(self, count: int, seconds: float) -> float | None:
        """When the ``count``-th message arrived, or None if not within ``seconds``."""
        deadline = time.monotonic() + seconds
        with self.event:
            while len(self.arrived) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.event.wait(left)
            return sorted(self.arrived.values())[count - 1]


def post_event(port: int, text: str) -> None:
    import http.client

    event = {
        "id": uuid.uuid4().hex,
        "event": "sms:received",
        "deviceId": "bench",
        "webhookId": "bench",
        "payload": {"messageId": "m", "message": text, "phoneNumber": PHONE, "simNumber": 1},
    }
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "X-Signature": signature, "X-Timestamp": stamp}
    connection.request("POST", "/sms/android", body, headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"webhook answered {response.status}")


def measure(service: Service, api: PhoneApi, socket_path: str, count: int, log: Path) -> list:
    """Latencies (seconds) of ``count`` replies with a worker listening on ``socket_path``."""
    env = service.environ()
    env["PICKUP_OUTBOX_SOCKET"] = socket_path
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "send-outbox", "--loop"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        time.sleep(2)  # the worker is up and waiting
        latencies = []
        for _ in range(count):
            expected = api.count() + 1
            post_event(service.port, "HELP")
            answered = time.monotonic()
            arrived = api.wait_for(expected, 30)
            if arrived is None:
                raise RuntimeError("no reply reached the phone's API within 30 s")
            latencies.append(max(0.0, arrived - answered))
            time.sleep(0.37)  # not in step with the worker's poll
        return latencies
    finally:
        worker.terminate()
        worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=20, help="replies per worker")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pkb"))
    try:
        api = PhoneApi()
        service = Service(
            work / "pickup.sqlite3",
            free_port(),
            settings={
                "PICKUP_SMS_GATEWAY": "android",
                "ANDROID_SMS_GATEWAY_URL": api.url,
                "ANDROID_SMS_GATEWAY_LOGIN": "bench",
                "ANDROID_SMS_GATEWAY_PASSWORD": secrets.token_hex(8),
                "ANDROID_SMS_GATEWAY_SIGNING_KEY": SIGNING_KEY,
                "PICKUP_OUTBOX_SOCKET": str(work / "outbox.sock"),
                "PICKUP_SMS_PER_SECOND": "50",
                "PICKUP_SMS_PER_PHONE": "0",
            },
        )
        load_demo(service, bookable_start())
        log = work / "bench.log"
        with Gunicorn(service, "wsgi:app", log):
            woken = measure(service, api, str(work / "outbox.sock"), args.replies, log)
            polled = measure(service, api, str(work / "nobody.sock"), args.replies, log)
        print(
            f"{args.replies} replies each; gunicorn and a separate send-outbox --loop worker, "
            "loopback"
        )
        print(f"{'worker':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for name, values in (
            ("woken by the webhook (doorbell)", woken),
            ("polling every 2 s (baseline)", polled),
        ):
            print(
                f"{name:<34}{percentile(values, 0.5) * 1000:>9.0f}"
                f"{percentile(values, 0.95) * 1000:>9.0f}{max(values) * 1000:>9.0f}"
            )
        ratio = percentile(polled, 0.5) / max(percentile(woken, 0.5), 1e-6)
        met = percentile(woken, 0.95) < 1.0
        verdict = "yes" if met else "no"
        print(f"median ratio baseline/woken: {ratio:.0f}; target p95 < 1 s: {verdict}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
