"""What the gunicorn benchmarks and the gunicorn fault test share.

A demo database built with the real CLI, gunicorn started with ``deploy/gunicorn.conf.py``
on a free loopback port, Twilio-signed SMS webhooks sent over keep-alive connections, the
reply read back as a known SMS text, and the overbooking check afterwards. Loopback only.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from shared import storage  # noqa: E402
from sms import texts  # noqa: E402

BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
TWILIO_TO = "+15005550006"  # Twilio's magic test number: the number the SMS were sent to
FENGHUA = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Service:
    """Where a service runs and the secrets it was started with (fresh for each run)."""

    db_path: Path | str  # a SQLite file, or a postgresql:// URL (kept a string: "//")
    port: int
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    twilio_token: str = field(default_factory=lambda: secrets.token_hex(16))
    settings: dict[str, str] = field(default_factory=dict)  # more settings for this run

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """The environment of a production deployment, on loopback."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PICKUP_", "TWILIO_"))}
        env.update(
            PICKUP_ENV="production",
            PICKUP_DB=str(self.db_path),
            SECRET_KEY=self.secret_key,
            TWILIO_AUTH_TOKEN=self.twilio_token,
            PUBLIC_BASE_URL=self.base_url,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
        )
        env.update(self.settings)
        return env


def bookable_start(now: datetime | None = None, hours_ahead: int = 3) -> datetime:
    """A pickup window start a few whole hours from now: every demo slot is still bookable."""
    now = now or datetime.now(FENGHUA)
    return now.astimezone(FENGHUA).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=hours_ahead
    )


def load_demo(service: Service, start: datetime) -> None:
    """``flask init-db`` and ``flask demo --start`` into the service's (new) database."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    stamp = start.astimezone(FENGHUA).strftime("%Y-%m-%dT%H:%M")
    for args in (["init-db"], ["demo", "--start", stamp]):
        subprocess.run(
            flask + args, cwd=ROOT, env=service.environ(), check=True, capture_output=True
        )


class Gunicorn:
    """gunicorn with ``deploy/gunicorn.conf.py`` serving ``app_spec`` for ``service``.

    A context manager: started and ready (``ready_path`` answers) on entry, stopped on exit.
    Its log goes to ``log_path``, not the terminal, as the access log would drown the figures.
    """

    def __init__(
        self, service: Service, app_spec: str, log_path: Path, ready_path: str = "/healthz"
    ) -> None:
        self.service = service
        self.app_spec = app_spec
        self.log_path = log_path
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        command = [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONF), self.app_spec]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.service.environ(), stdout=log, stderr=log
            )
        self.wait_ready(30)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def answers(self) -> bool:
        """True when ``ready_path`` returns 200 right now."""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.service.port, timeout=5)
            connection.request("GET", self.ready_path)
            ok = connection.getresponse().status == 200
            connection.close()
            return ok
        except OSError:
            return False

    def wait_ready(self, seconds: float) -> None:
        """Wait until the service answers; raise with the log's tail if it does not."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            if self.answers():
                return
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"gunicorn did not answer on {self.service.base_url}:\n{tail}")

    def worker_pids(self) -> list[int]:
        """The worker processes the master runs now (Linux: read from /proc)."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]


def sms_form(phone: str, body: str, message_id: str | None = None) -> dict[str, str]:
    """The form Twilio posts for an incoming SMS."""
    return {
        "From": phone,
        "To": TWILIO_TO,
        "Body": body,
        "MessageSid": message_id or "SM" + uuid.uuid4().hex,
    }


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the connection failed (reset, refused, timed out)
    body: bytes
    seconds: float


class Client:
    """One keep-alive connection that posts forms, signed as Twilio signs them."""

    def __init__(self, service: Service, timeout: float = 30) -> None:
        self.service = service
        self.timeout = timeout
        self.validator = RequestValidator(service.twilio_token)
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, form: dict[str, str]) -> Answer:
        """POST ``form`` to ``path`` with a valid X-Twilio-Signature; never raises on I/O."""
        signature = self.validator.compute_signature(self.service.base_url + path, form)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.service.port, timeout=self.timeout
                )
            self.connection.request("POST", path, urlencode(form), headers)
            response = self.connection.getresponse()
            body = response.read()
            if response.will_close:
                self.close()
            return Answer(response.status, body, time.perf_counter() - started)
        except (OSError, http.client.HTTPException):
            self.close()
            return Answer(0, b"", time.perf_counter() - started)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def reply_text(twiml: bytes) -> str:
    """The text of the one ``<Message>`` in a TwiML answer; empty if there is none."""
    message = ET.fromstring(twiml).find("Message")
    return (message.text or "") if message is not None else ""


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\Z", re.S)


# Which SMS a reply is, from the templates themselves, so that the texts can change freely.
_KINDS = [
    (key, _template_pattern(template))
    for key, languages in texts.SMS.items()
    for template in languages.values()
]


def reply_kind(text: str) -> str:
    """The key in ``sms.texts.SMS`` whose template ``text`` was made from, or ``other``."""
    for key, pattern in _KINDS:
        if pattern.match(text):
            return key
    return "other"


BOOKED = frozenset({"booked", "changed"})
VOUCHER_RE = re.compile(r"\d{4} ?\d{4} ?\d{4} ?\d{4}")


Log = Callable[[dict[str, str], Answer, str], None]


def send_sms(client: Client, form: dict[str, str], log: Log, attempts: int = 5) -> str:
    """Deliver one SMS webhook; the kind of its reply, or ``failed``.

    A dropped connection is retried with the same MessageSid, as Twilio retries: the
    service answers a repeat with the reply it stored, and books nothing twice.
    """
    for attempt in range(attempts):
        answer = client.post("/sms/inbound", form)
        kind = reply_kind(reply_text(answer.body)) if answer.status == 200 else "failed"
        log(form, answer, kind)
        if answer.status != 0:
            return kind
        time.sleep(0.05 * (attempt + 1))
    return "failed"


def booking_flow(client: Client, phone: str, log: Log) -> str:
    """One representative books by SMS: BOOK, then 1 for the first time offered.

    With nothing free they cancel (QX, then 1) to book afresh next time, as people did when
    they could not move a booking. Returns the kind of the last reply. ``log`` gets every
    request's form, answer and reply kind.
    """

    def send(body: str) -> str:
        return send_sms(client, sms_form(phone, body), log)

    kind = send("BOOK")
    if kind == "offer":
        return send("1")
    if kind == "no_slots" and send("QX") == "confirm_cancel":
        return send("1")
    return kind


def overbooked_slots(db: Any) -> list[dict[str, Any]]:
    """Every slot holding more people or units than its capacity, from live bookings only."""
    after_all_holds = datetime(9999, 1, 1, tzinfo=ZoneInfo("UTC"))
    found = []
    for distribution in storage.list_distributions(db):
        loads = storage.slot_loads(db, distribution["id"], after_all_holds)
        for slot in storage.list_slots(db, distribution["id"]):
            people, units = loads.get(slot["id"], (0, 0))
            too_many_units = slot["capacity_units"] is not None and units > slot["capacity_units"]
            if people > slot["capacity_people"] or too_many_units:
                found.append({**slot, "people": people, "units": units})
    return found


def demo_phones(db: Any) -> list[str]:
    """Every phone on a demo roster, once."""
    phones: dict[str, None] = {}
    for distribution in storage.list_distributions(db):
        for recipient in storage.list_recipients(db, distribution["id"]):
            if recipient["phone"]:
                phones[recipient["phone"]] = None
    return list(phones)


def percentile(values: Iterable[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank]


# -- serving the kiosk as nginx does --------------------------------------------------------

# nginx compresses text/html always and these through `gzip_types` (deploy/nginx-pickup.conf).
GZIP_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg",
)


def gzipped(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterator[bytes]]:
    """WSGI middleware compressing responses as the nginx site does, for the kiosk benchmark."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda _data: None

        chunks = app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        kind = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        accepts = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        if accepts and kind.startswith(GZIP_TYPES) and len(body) > 20:
            body = gzip.compress(body, 6)  # nginx's default gzip_comp_level is 1; 6 is typical
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured["exc_info"])
        yield body

    return wrapped


def gzipped_pickup_app() -> Callable[..., Iterator[bytes]]:
    """The real app behind the nginx-like compression: ``bench.support:gzipped_pickup_app()``."""
    from wsgi import create_app

    return gzipped(create_app())
