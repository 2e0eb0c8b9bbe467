"""Two app nodes on one PostgreSQL database, as ``deploy/`` runs them behind nginx.

Two gunicorn masters (``deploy/gunicorn.conf.py``, production settings, their own ports)
serve one demo database; an outbox worker (``send-outbox --loop``) runs beside each, both
sending through a loopback stand-in for the Android SMS gateway. Phones book by signed SMS
webhooks whose steps alternate between the nodes, every one racing for the first slot
offered; scanners on both nodes hand over the same vouchers at once; a webhook is retried
on the other node. Afterwards: no slot over capacity, one handover per voucher, the retry
answered with the stored reply, and no message sent twice.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from gateway_support import LoopbackAndroidGateway
from support import require

from bench.support import (
    BIN,
    ROOT,
    Answer,
    Client,
    Gunicorn,
    Service,
    bookable_start,
    free_port,
    load_demo,
    overbooked_slots,
    reply_kind,
    reply_text,
    send_sms,
    sms_form,
)
from shared import accounts, booking, storage

PHONES = 48
PHONE_CLIENTS = 8
TRIES = 6  # BOOK and 1 again after losing the race for the first slot offered
SCANNERS_PER_VOUCHER = 4  # two on each node


@pytest.fixture
def nodes(postgresql_databases, tmp_path):
    """Two services (ports) on one new PostgreSQL database with the demo, its disinfectant
    bookings cancelled so that every phone books anew."""
    require(sys.platform == "linux", "finds gunicorn's workers in /proc")
    name = postgresql_databases.create()
    url = postgresql_databases.url(name)
    # Two workers a node: four processes serving on a two-core machine are plenty. A phone
    # that loses the race for a slot again and again sends more than the default 10 SMS in
    # 10 minutes, and the retried webhook below comes after that: the per-phone limit (its
    # own tests count it in the database) is set out of this test's way.
    small = {"GUNICORN_WORKERS": "2", "PICKUP_SMS_PER_PHONE": "1000"}
    first = Service(url, free_port(), settings=small)
    second = Service(url, free_port(), first.secret_key, first.twilio_token, small)
    load_demo(first, bookable_start())
    db = storage.open_database(url)
    for recipient in storage.list_recipients(db, 1):
        booking.cancel_booking(db, recipient["id"], storage.now_utc(), "test")
    db.conn.close()
    yield first, second
    postgresql_databases.drop(name)


def flask(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=service.environ(),
        check=True,
        capture_output=True,
        text=True,
    )


def hand_over(service: Service, token: str, code: str) -> int:
    """A scanner's handover of ``code`` on ``service``: the HTTP status."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/api/v1/vouchers/{code}/handover",
            json.dumps({"override_reason": "staff_decision"}),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_two_nodes_share_one_postgresql(nodes, tmp_path):
    first, second = nodes
    url = first.db_path
    db = storage.open_database(url)
    phones = [r["phone"] for r in storage.list_recipients(db, 1)][:PHONES]
    masks = storage.voucher_views_for_distribution(db, 2)
    token = accounts.create_token(db, "staff", "scanner", storage.now_utc(), "test")
    gateway = LoopbackAndroidGateway()  # listening already
    sockets = tempfile.mkdtemp(prefix="pk")
    worker_env = {
        "PICKUP_SMS_GATEWAY": "android",
        "ANDROID_SMS_GATEWAY_URL": gateway.url,
        "ANDROID_SMS_GATEWAY_PASSWORD": "gateway-password",
    }
    workers = [
        subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "send-outbox", "--loop"]
            + ["--per-second", "100", "--poll-seconds", "0.2"],
            cwd=ROOT,
            env={
                **service.environ(),
                **worker_env,
                # Each node's worker signs in as itself: the gateway tells who sent what.
                "ANDROID_SMS_GATEWAY_LOGIN": f"node{n}",
                "PICKUP_OUTBOX_SOCKET": f"{sockets}/outbox{n}.sock",
            },
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{n}.log").open("wb"),
        )
        for n, service in enumerate(nodes)
    ]
    lock = threading.Lock()
    booked: list[str] = []
    lost: Counter[str] = Counter()  # replies to "1" other than booked: the race was lost

    def log(form: dict[str, str], answer: Answer, kind: str) -> None:
        assert answer.status in (0, 200), answer
        with lock:
            if kind == "booked":
                booked.append(form["From"])
            elif form["Body"] == "1" and kind != "cancelled":
                lost[kind] += 1

    def representative(n: int) -> None:
        # Each step of a conversation goes to the other node than the step before.
        clients = [Client(first), Client(second)]
        step = n
        for phone in phones[n::PHONE_CLIENTS]:
            for _ in range(TRIES):
                step += 2
                if send_sms(clients[step % 2], sms_form(phone, "BOOK"), log) != "offer":
                    break
                if send_sms(clients[(step + 1) % 2], sms_form(phone, "1"), log) == "booked":
                    break
        for client in clients:
            client.close()

    def scanner(args: tuple[int, str]) -> int:
        n, code = args
        return hand_over(nodes[n % 2], token, code)

    try:
        with (
            Gunicorn(first, "wsgi:app", tmp_path / "node1.log"),
            Gunicorn(second, "wsgi:app", tmp_path / "node2.log"),
        ):
            threads = [threading.Thread(target=representative, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            attempts = [(n, v["code"]) for v in masks for n in range(SCANNERS_PER_VOUCHER)]
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(scanner, attempts))
            for thread in threads:
                thread.join(timeout=120)
            assert not any(t.is_alive() for t in threads)

            # A webhook retried on the other node gets the reply the first node stored, and
            # books nothing again: cancel on one node, then BOOK and 1 on the other, then the
            # same "1" (same MessageSid) once more on the first.
            phone = phones[0]
            a, b = Client(first), Client(second)
            assert send_sms(a, sms_form(phone, "QX"), log) == "confirm_cancel"
            send_sms(a, sms_form(phone, "1"), log)
            assert send_sms(b, sms_form(phone, "BOOK"), log) == "offer"
            choice = sms_form(phone, "1")
            answers = [b.post("/sms/inbound", choice), a.post("/sms/inbound", choice)]
            assert [x.status for x in answers] == [200, 200]
            assert reply_kind(reply_text(answers[0].body)) == "booked"
            assert answers[1].body == answers[0].body  # the stored reply, voucher code and all
            # A new "1" now (another MessageSid) is not a choice any more: it gets another reply.
            fresh = a.post("/sms/inbound", sms_form(phone, "1"))
            assert reply_text(fresh.body) != reply_text(answers[0].body)
            a.close()
            b.close()
            # Invitations for every phone, sent by both workers at once.
            flask(first, "send-invitations", "--distribution", "1")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = storage.outbox_counts(db)
                if not counts.get("queued") and not counts.get("sending"):
                    break
                time.sleep(0.2)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=30)
        gateway.stop()
        shutil.rmtree(sockets, ignore_errors=True)

    # Every phone booked once, and no slot holds more than its capacity.
    assert sorted(booked) == sorted(phones), lost
    assert lost  # phones did race for the same slot (and the losers were told so)
    assert overbooked_slots(db) == []
    recipients = [r["id"] for r in storage.list_recipients(db, 1) if r["phone"] in phones]
    # One live booking each: the retry booked nothing more.
    assert all(storage.live_booking_for(db, r) for r in recipients)
    assert storage.count_live_bookings(db, 1) == len(phones)
    assert storage.get_inbound(db, choice["MessageSid"]) is not None

    # One handover per voucher: one scanner got 200, the three others 409.
    by_voucher = [statuses[i : i + SCANNERS_PER_VOUCHER] for i in range(0, len(statuses), 4)]
    assert all(sorted(s) == [200, 409, 409, 409] for s in by_voucher), by_voucher
    for voucher in masks:
        assert len(storage.handovers_for_booking(db, voucher["booking_id"])) == 1

    # Every message the outbox holds went to the gateway exactly once, from either node.
    sent = db.execute("SELECT id FROM sms_outbox WHERE status = 'sent' ORDER BY id").fetchall()
    assert storage.outbox_counts(db).get("sent", 0) == len(sent) >= len(phones)
    outbox_ids = Counter(
        int(re.fullmatch(r"pk-(\d+)-\w+", message["id"]).group(1)) for message in gateway.posted
    )
    assert len(gateway.requests) == len(gateway.posted)  # no second try of one message
    assert outbox_ids == Counter(row[0] for row in sent)
    senders = Counter(auth for _, _, auth in gateway.requests)
    assert len(senders) == 2, senders  # both nodes' workers sent
    db.conn.close()
