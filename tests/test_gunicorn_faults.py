"""Faults at the gunicorn level: workers killed with SIGKILL while phones book by SMS.

The real service (``deploy/gunicorn.conf.py``, production settings) on loopback, a demo
database made by the CLI, Twilio-signed webhooks from 16 clients at once. Every booking a
phone was told about must be in the database afterwards, whole; the database must pass
integrity_check, no slot may be overbooked, and the service must answer again.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time

import pytest
from support import require

from bench.support import (
    VOUCHER_RE,
    Answer,
    Client,
    Gunicorn,
    Service,
    bookable_start,
    booking_flow,
    free_port,
    load_demo,
    overbooked_slots,
    reply_kind,
    reply_text,
    send_sms,
    sms_form,
)
from shared import booking, storage
from shared.vouchers import parse_code

CLIENTS = 16


@pytest.fixture
def service(tmp_path) -> Service:
    """A demo database whose disinfectant bookings are all cancelled: every phone books anew."""
    require(sys.platform == "linux", "finds gunicorn's workers in /proc")
    service = Service(tmp_path / "demo.sqlite3", free_port())
    load_demo(service, bookable_start())
    db = storage.open_database(service.db_path)
    for recipient in storage.list_recipients(db, 1):
        booking.cancel_booking(db, recipient["id"], storage.now_utc(), "test")
    db.conn.close()
    return service


def test_sigkilled_workers_lose_no_confirmed_booking(service, tmp_path):
    db = storage.open_database(service.db_path)
    phones = [r["phone"] for r in storage.list_recipients(db, 1)]
    db.conn.close()
    confirmed: list[tuple[str, str, str]] = []  # (phone, voucher code, MessageSid)
    dropped = []
    lock = threading.Lock()

    def log(form: dict[str, str], answer: Answer, kind: str) -> None:
        with lock:
            if answer.status == 0:
                dropped.append(form["MessageSid"])
            if kind == "booked":
                code = VOUCHER_RE.search(reply_text(answer.body)).group()
                confirmed.append((form["From"], code.replace(" ", ""), form["MessageSid"]))

    outcomes: list[str] = []
    enough = threading.Event()

    def representative(n: int) -> None:
        client = Client(service)
        for phone in phones[n::CLIENTS]:
            outcome = booking_flow(client, phone, log)
            with lock:
                outcomes.append(outcome)
        # Keep requests in flight until the kills have cut some off: on a fast, idle machine
        # the bookings alone can end before a kill lands mid-request. Each SMS comes from a
        # new number, so no per-phone limit answers instead of the service; bounded.
        for extra in range(2000):
            if enough.is_set():
                break
            send_sms(client, sms_form(f"+8615{n:03d}{extra:06d}", "STATUS"), log)
        client.close()

    with Gunicorn(service, "wsgi:app", tmp_path / "gunicorn.log") as server:
        first_workers = set(server.worker_pids())
        threads = [threading.Thread(target=representative, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        kills = 0
        rng = random.Random(6)
        # Keep killing until some request in flight has been cut off (and retried), so the
        # test proves something however fast the machine answers; bounded all the same.
        while any(t.is_alive() for t in threads) and (kills < 8 or not dropped) and kills < 40:
            time.sleep(0.15)
            workers = server.worker_pids()
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills += 1
        enough.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        # gunicorn replaced the killed workers, and the service answers, reads and writes.
        server.wait_ready(30)
        assert set(server.worker_pids()) - first_workers
        after = send_sms(Client(service), sms_form(phones[0], "STATUS"), lambda *_: None)
        assert after in {"status", "no_booking"}

    assert kills >= 3 and dropped  # workers died with requests in flight, which were retried
    assert len(outcomes) == len(phones) and "failed" not in outcomes, dropped
    assert len(confirmed) >= len(phones) // 2
    db = storage.open_database(service.db_path)
    assert storage.integrity_check(db) == "ok"
    assert overbooked_slots(db) == []
    secret = service.secret_key.encode()
    for phone, code, message_id in confirmed:
        view = storage.voucher_view(db, parse_code(code, secret))
        assert view is not None and view["status"] != "cancelled", code
        assert view["phone"] == phone
        assert reply_kind(storage.get_inbound(db, message_id)["reply"]) == "booked"
    live = storage.count_live_bookings(db, 1)
    assert live >= len({phone for phone, _, _ in confirmed})
    db.conn.close()
