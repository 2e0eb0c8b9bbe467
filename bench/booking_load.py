"""Booking load: signed SMS booking webhooks against gunicorn, and a bare Flask baseline.

Builds a fresh demo database with the real CLI (``init-db``, ``demo --start`` a few hours
ahead, so every slot is bookable), serves it with gunicorn and ``deploy/gunicorn.conf.py``
(production settings, on loopback), and lets ``--clients`` concurrent representatives book
by SMS: BOOK, then 1 for the first time offered (with nothing free: QX, 1, and book afresh
the next round), each webhook signed as Twilio signs it. In the same run, the same
gunicorn configuration serves ``bench/bare_app.py``, a Flask endpoint that answers the same
POST with a short TwiML reply and touches no database, under the same clients.

Prints bookings per second, requests per second, p50/p99 latency of both, their ratio
(target: the booking webhook at least half the bare rate), then reads the database:
no slot may hold more people or units than its capacity, and integrity_check must be ok.

Run: ``.venv/bin/python bench/booking_load.py [--clients 16] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (  # noqa: E402
    BOOKED,
    Answer,
    Client,
    Gunicorn,
    Service,
    bookable_start,
    booking_flow,
    demo_phones,
    free_port,
    load_demo,
    overbooked_slots,
    percentile,
    sms_form,
)
from shared import storage  # noqa: E402

TARGET_RATIO = 0.5
UNLIMITED_PHONES = {"PICKUP_SMS_PER_PHONE": "1000000"}


@dataclass
class Tally:
    """Every request of one phase: latencies of the answered ones, and what they said."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer, kind: str) -> None:
        with self.lock:
            if answer.status == 200:
                self.latencies.append(answer.seconds)
            else:
                self.failed += 1
            self.kinds[kind] += 1

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self, label: str) -> str:
        return (
            f"{label:<22} {len(self.latencies):>7} {self.rate:>9.1f} "
            f"{percentile(self.latencies, 0.5) * 1000:>8.1f} "
            f"{percentile(self.latencies, 0.99) * 1000:>8.1f} {self.failed:>6}"
        )


def run_clients(clients: int, seconds: float, work) -> float:
    """Run ``work(n, deadline)`` in ``clients`` threads at once; the wall time they took."""
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=work, args=(n, deadline)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def bare_phase(service: Service, workdir: Path, clients: int, seconds: float) -> Tally:
    tally = Tally()

    def work(n: int, deadline: float) -> None:
        client = Client(service)
        phone = f"+86170000{n:05d}"
        while time.monotonic() < deadline:
            answer = client.post("/sms/inbound", sms_form(phone, "BOOK"))
            tally.add(answer, "bare" if answer.status == 200 else "failed")
        client.close()

    with Gunicorn(service, "bench.bare_app:app", workdir / "bare.log"):
        tally.seconds = run_clients(clients, seconds, work)
    return tally


def booking_phase(
    service: Service, workdir: Path, clients: int, seconds: float, phones: list[str]
) -> Tally:
    tally = Tally()

    def work(n: int, deadline: float) -> None:
        client = Client(service)
        mine = phones[n::clients]
        turn = 0
        while mine and time.monotonic() < deadline:
            booking_flow(client, mine[turn % len(mine)], lambda _form, a, k: tally.add(a, k))
            turn += 1
        client.close()

    with Gunicorn(service, "wsgi:app", workdir / "app.log"):
        tally.seconds = run_clients(clients, seconds, work)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent representatives")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pickup-bench-") as tmp:
        workdir = Path(tmp)
        start = bookable_start()
        # The demo has 124 phones, so each sends far more SMS in a run than a person would:
        # the per-phone limit is raised out of reach, so that it is counted but never hit.
        app = Service(workdir / "demo.sqlite3", free_port(), settings=UNLIMITED_PHONES)
        load_demo(app, start)
        database = storage.open_database(app.db_path)
        phones = demo_phones(database)
        database.conn.close()
        print(
            f"demo database: {len(phones)} phones, pickup window from "
            f"{start:%Y-%m-%d %H:%M} Asia/Shanghai; {args.clients} clients, "
            f"{args.seconds:g} s per phase, gunicorn with deploy/gunicorn.conf.py"
        )

        bare = bare_phase(
            Service(workdir / "unused", free_port()), workdir, args.clients, args.seconds
        )
        booked = booking_phase(app, workdir, args.clients, args.seconds, phones)

        print(f"{'':<22} {'answered':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")
        print(bare.line("bare Flask endpoint"))
        print(booked.line("signed SMS webhooks"))
        bookings = sum(booked.kinds[k] for k in BOOKED)
        print(
            f"bookings: {bookings} in {booked.seconds:.1f} s = {bookings / booked.seconds:.1f} "
            f"per second ({booked.kinds['booked']} new, {booked.kinds['changed']} moved); "
            f"replies: {dict(sorted(booked.kinds.items()))}"
        )
        ratio = booked.rate / bare.rate
        verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
        print(
            f"ratio webhook/bare requests per second: {ratio:.2f} "
            f"(target >= {TARGET_RATIO}: {verdict})"
        )

        database = storage.open_database(app.db_path)
        over = overbooked_slots(database)
        integrity = storage.integrity_check(database)
        slots = sum(
            len(storage.list_slots(database, d["id"])) for d in storage.list_distributions(database)
        )
        database.conn.close()
        print(
            f"overbooked slots: {len(over)} of {slots} "
            f"({over or 'none'}); integrity_check: {integrity}"
        )
        if booked.kinds["other"]:
            print(f"{booked.kinds['other']} replies were none of the SMS texts: see app.log")
        if over or integrity != "ok" or booked.failed or booked.kinds["other"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
