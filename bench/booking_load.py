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
import contextlib
import dataclasses
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
            f"{label:<26} {len(self.latencies):>7} {self.rate:>9.1f} "
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


def nodes_of(service: Service, count: int) -> list[Service]:
    """``count`` app nodes on the service's database, one port each, the same secrets
    (a voucher code or a Twilio signature made on one node is good on every node)."""
    return [service] + [dataclasses.replace(service, port=free_port()) for _ in range(count - 1)]


@contextlib.contextmanager
def serving(nodes: list[Service], app_spec: str, workdir: Path, log_name: str):
    """gunicorn with deploy/gunicorn.conf.py on every node, each logging to its own file."""
    with contextlib.ExitStack() as stack:
        for n, node in enumerate(nodes):
            stack.enter_context(Gunicorn(node, app_spec, workdir / f"{log_name}-{n + 1}.log"))
        yield


def bare_phase(nodes: list[Service], workdir: Path, clients: int, seconds: float) -> Tally:
    tally = Tally()

    def work(n: int, deadline: float) -> None:
        client = Client(nodes[n % len(nodes)])
        phone = f"+86170000{n:05d}"
        while time.monotonic() < deadline:
            answer = client.post("/sms/inbound", sms_form(phone, "BOOK"))
            tally.add(answer, "bare" if answer.status == 200 else "failed")
        client.close()

    with serving(nodes, "bench.bare_app:app", workdir, "bare"):
        tally.seconds = run_clients(clients, seconds, work)
    return tally


def booking_phase(
    nodes: list[Service], workdir: Path, clients: int, seconds: float, phones: list[str]
) -> Tally:
    """Every client texts through one node (client n through node n mod N)."""
    tally = Tally()

    def work(n: int, deadline: float) -> None:
        client = Client(nodes[n % len(nodes)])
        mine = phones[n::clients]
        turn = 0
        while mine and time.monotonic() < deadline:
            booking_flow(client, mine[turn % len(mine)], lambda _form, a, k: tally.add(a, k))
            turn += 1
        client.close()

    with serving(nodes, "wsgi:app", workdir, f"app-{len(nodes)}-nodes"):
        tally.seconds = run_clients(clients, seconds, work)
    return tally


def fresh_database(target: str | None, workdir: Path) -> str:
    """The database to fill with the demo: ``--db`` if given (it must be new, as the run
    changes it: a new SQLite file path or an empty PostgreSQL database), else a new SQLite
    file in the run's temporary directory."""
    if target is None:
        return str(workdir / "demo.sqlite3")
    if storage.engine_of(target) == "postgresql":
        database = storage.open_database(target)
        tables = storage.table_names(database)
        database.conn.close()
        if tables:
            sys.exit(f"--db {storage.describe_target(target)}: not empty; give a new database")
        return target
    if Path(target).exists() and Path(target).stat().st_size:
        sys.exit(f"--db {target}: the file exists; give a new path (the run fills it)")
    return target


def check_database(target: str) -> bool:
    """Print the overbooking check and the integrity check; True if both pass."""
    database = storage.open_database(target)
    over = overbooked_slots(database)
    # PostgreSQL has no check as cheap as SQLite's integrity_check (amcheck reads every index).
    sqlite = database.engine == "sqlite"
    integrity = storage.integrity_check(database) if sqlite else "not checked (PostgreSQL)"
    slots = sum(
        len(storage.list_slots(database, d["id"])) for d in storage.list_distributions(database)
    )
    database.conn.close()
    print(f"overbooked slots: {len(over)} of {slots} ({over or 'none'}); integrity: {integrity}")
    return not over and (integrity == "ok" or not sqlite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent representatives")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument(
        "--db",
        help="the database to fill and load: a new SQLite file path, or an empty "
        "PostgreSQL database's postgresql:// URL (default: a SQLite file in a temp directory)",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        nargs="+",
        default=[1],
        metavar="N",
        help="gunicorn servers on the one database, the clients spread over them; several "
        "counts (--nodes 1 2) are measured one after the other in the same run",
    )
    args = parser.parse_args()
    if min(args.nodes) < 1:
        parser.error("--nodes: at least one node")

    with tempfile.TemporaryDirectory(prefix="pickup-bench-") as tmp:
        workdir = Path(tmp)
        start = bookable_start()
        target = fresh_database(args.db, workdir)
        # The demo has 124 phones, so each sends far more SMS in a run than a person would:
        # the per-phone limit is raised out of reach, so that it is counted but never hit.
        app = Service(target, free_port(), settings=UNLIMITED_PHONES)
        load_demo(app, start)
        database = storage.open_database(target)
        phones = demo_phones(database)
        database.conn.close()
        print(
            f"demo database: {len(phones)} phones, pickup window "
            f"from {start:%Y-%m-%d %H:%M} Asia/Shanghai; {args.clients} clients, "
            f"{args.seconds:g} s per phase, each node gunicorn with deploy/gunicorn.conf.py"
        )

        unused = Service(workdir / "unused", free_port())
        results = []
        for count in args.nodes:
            bare = bare_phase(nodes_of(unused, count), workdir, args.clients, args.seconds)
            booked = booking_phase(
                nodes_of(app, count), workdir, args.clients, args.seconds, phones
            )
            results.append((count, bare, booked))

        print(f"{'':<26} {'answered':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")
        for count, bare, booked in results:
            nodes = f"{count} node{'s' if count > 1 else ''}"
            print(bare.line(f"bare Flask, {nodes}"))
            print(booked.line(f"SMS webhooks, {nodes}"))
        ok = True
        for count, bare, booked in results:
            bookings = sum(booked.kinds[k] for k in BOOKED)
            ratio = booked.rate / bare.rate
            verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
            print(
                f"{count} node(s): bookings: {bookings} in {booked.seconds:.1f} s = "
                f"{bookings / booked.seconds:.1f} per second ({booked.kinds['booked']} new, "
                f"{booked.kinds['changed']} moved); replies: {dict(sorted(booked.kinds.items()))}"
            )
            print(
                f"{count} node(s): ratio webhook/bare requests per second: {ratio:.2f} "
                f"(target >= {TARGET_RATIO}: {verdict})"
            )
            if booked.kinds["other"]:
                print(f"{booked.kinds['other']} replies were none of the SMS texts: see the logs")
            ok = ok and not booked.failed and not booked.kinds["other"]
        if len(results) > 1:
            first = results[0]
            for count, _bare, booked in results[1:]:
                print(
                    f"webhooks {first[0]} -> {count} nodes: "
                    f"{booked.rate / first[2].rate:.2f}x requests per second"
                )
        if not check_database(target) or not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
