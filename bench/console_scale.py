"""The console at province scale: each page's time and weight at 100,000 recipients.

Run through ``bench/scale.py --part console`` (its docstring says what is measured). The
database is built with the real commands, as ``bench/cli_path.py`` runs them; the pages are
asked through the Flask test client of an app on that database, signed in as an admin,
with the clock set in the middle of the pickup days.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.cli_path import CAPACITY, DAYS, SLOTS_PER_DAY, run_step, write_roster
from bench.support import Service
from shared import accounts, storage
from shared.db import get_db
from shared.handover import hand_over
from shared.verification import check_in
from wsgi import create_app

TZ = ZoneInfo("Asia/Shanghai")
# The pickup days are 2030-03-01 to 03-10 (bench/cli_path.py); the clock stands on day 3 at
# noon, so two and a half days of slots have passed (their no-shows count as missed).
CLOCK = datetime(2030, 3, 3, 12, 0, tzinfo=TZ)
PASSWORD = "correct horse battery"
PAGE_SECONDS = 1.0
PAGE_KB = 300
SEARCH_SECONDS = 0.1
REPEAT = 3  # requests per page; the median is reported


def build(size: int, workdir: Path) -> dict[str, Any]:
    """A database of ``size`` recipients, allotted, scheduled and invited, with some handed
    over, some checked in and some cancelled. Returns what the measurements need."""
    db_path = workdir / f"console-{size}.sqlite3"
    facts_path = workdir / f"console-{size}.json"
    if facts_path.exists() and db_path.exists():
        return json.loads(facts_path.read_text())
    for leftover in workdir.glob(f"console-{size}.sqlite3*"):
        leftover.unlink()
    csv_path = workdir / f"console-roster-{size}.csv"
    write_roster(csv_path, size, random.Random(20200204))
    service = Service(db_path=db_path, port=0)
    env = service.environ()
    capacity = max(CAPACITY, -(-size // (SLOTS_PER_DAY * DAYS)))
    windows = []
    for day in range(DAYS):
        date = f"2030-03-{1 + day:02d}"
        windows += ["--window", f"{date}T09:00/{date}T17:30"]
    started = time.perf_counter()
    for args in (
        ["init-db"],
        [
            "create-distribution",
            "--name=Province masks",
            "--item=Masks",
            "--unit-name=箱",
            "--unit-name-en=box",
            "--unit-size=50",
            "--measure=masks",
            f"--stock={size * 6}",
            "--site=Fenghua hall",
            "--address=1 Main St",
            "--slot-minutes=10",
            f"--capacity-people={capacity}",
            *windows,
        ],
        ["import-roster", str(csv_path)],
        ["allocate"],
        ["schedule"],
        ["send-invitations"],
    ):
        seconds = run_step(args, env)[0]
        print(f"    built: {args[0]} in {seconds:.1f} s", flush=True)
    app = _app(db_path, service.secret_key)
    with app.app_context():
        db = get_db()
        facts = _activity(db, service.secret_key.encode())
        accounts.create_user(db, "ada", PASSWORD, "admin", CLOCK, "bench")
        accounts.create_user(db, "sam", PASSWORD, "staff", CLOCK, "bench")
        facts["token"] = accounts.create_token(db, "staff", "scanner 1", CLOCK, "bench")
    facts["secret_key"] = service.secret_key
    facts["db_path"] = str(db_path)
    print(f"    built {size:,} recipients in {time.perf_counter() - started:.0f} s", flush=True)
    facts_path.write_text(json.dumps(facts))
    return facts


def _activity(db, secret: bytes) -> dict[str, Any]:
    """Hand over, check in and cancel some of the vouchers of the days so far."""
    views = storage.voucher_views_for_distribution(db, 1)
    today = [v for v in views if v["starts_at"] < storage.to_db_time(CLOCK)][-3000:]
    for n, view in enumerate(today):
        moment = storage.from_db_time(view["starts_at"]) + timedelta(minutes=1)
        if n % 3 == 0:
            hand_over(db, view["code"], secret, moment, "sam", "Desk 1")
        elif n % 3 == 1:
            check_in(db, view["code"], secret, moment, "staff:sam")
    later = [v for v in views if v["starts_at"] > storage.to_db_time(CLOCK)]
    from shared.booking import cancel_booking

    for view in later[:: max(1, len(later) // 500)]:
        cancel_booking(db, view["recipient_id"], CLOCK - timedelta(hours=1), "bench")
    sample = later[len(later) // 2]
    return {
        "code": sample["code"],
        "recipient_id": sample["recipient_id"],
        "name": sample["recipient_name"],
        "phone": sample["phone"],
        "external_id": sample["external_id"],
    }


def _app(db_path: Path, secret_key: str):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secret_key,
            "PICKUP_DB": str(db_path),
            "PICKUP_ENV": "test",
            "CLOCK": lambda: CLOCK,
        }
    )


def _signed_in(app, name: str):
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/staff/login",
        data={"username": name, "password": PASSWORD, "station": "Desk 1", "csrf_token": token},
    )
    assert response.status_code in (302, 303), response.status_code
    return client


def measure(ask: Callable[[], Any]) -> tuple[float, int, int]:
    """Median seconds of :data:`REPEAT` requests, the body's bytes and the status."""
    times, size, status = [], 0, 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = ask()
        body = response.get_data()
        times.append(time.perf_counter() - started)
        size, status = len(body), response.status_code
    return statistics.median(times), size, status


def console(size: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="console-scale-") as scratch:
        workdir = keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"console at {size:,} recipients", flush=True)
        facts = build(size, workdir)
        app = _app(Path(facts["db_path"]), facts["secret_key"])
        with app.app_context():
            storage.migrate(get_db())  # a kept database built by an earlier version
        admin = _signed_in(app, "ada")
        staff = _signed_in(app, "sam")
        d = "/admin/d/1"
        code, digits = facts["code"], "".join(ch for ch in facts["phone"] if ch.isdigit())
        pages: list[tuple[str, Callable[[], Any]]] = [
            ("distributions", lambda: admin.get("/admin/")),
            ("overview", lambda: admin.get(f"{d}/")),
            ("recipients", lambda: admin.get(f"{d}/recipients")),
            ("recipients, page 200", lambda: admin.get(f"{d}/recipients?page=200")),
            ("recipients, missed", lambda: admin.get(f"{d}/recipients?state=missed")),
            ("recipients, waiting", lambda: admin.get(f"{d}/recipients?state=waiting")),
            ("recipients, town", lambda: admin.get(f"{d}/recipients?town=溪口镇")),
            ("recipients, by name", lambda: admin.get(f"{d}/recipients?q={facts['name']}")),
            ("recipients, by phone", lambda: admin.get(f"{d}/recipients?q={digits[-8:]}")),
            ("recipients, by voucher", lambda: admin.get(f"{d}/recipients?q={code[-6:]}")),
            ("recipient", lambda: admin.get(f"{d}/recipients/{facts['recipient_id']}")),
            ("allocation preview", lambda: admin.get(f"{d}/allocate")),
            ("schedule preview", lambda: admin.get(f"{d}/schedule")),
            ("dashboard", lambda: admin.get(f"{d}/dashboard")),
            ("dashboard live", lambda: admin.get(f"{d}/dashboard/live")),
            ("dashboard live 304", lambda: admin.get(f"{d}/dashboard/live", headers=unchanged)),
            ("invitations", lambda: admin.get(f"{d}/invite")),
        ]
        downloads: list[tuple[str, Callable[[], Any]]] = [
            ("allocation CSV", lambda: admin.get(f"{d}/allocate.csv")),
            ("schedule CSV", lambda: admin.get(f"{d}/schedule.csv")),
        ]
        etag = admin.get(f"{d}/dashboard/live").headers.get("ETag", "")
        unchanged = {"If-None-Match": etag}
        bearer = {"Authorization": f"Bearer {facts['token']}"}
        fast: list[tuple[str, Callable[[], Any]]] = [
            ("staff search, name", lambda: staff.get(f"/staff/search?q={facts['name']}")),
            ("staff search, phone", lambda: staff.get(f"/staff/search?q={digits[-4:]}")),
            ("staff search, code", lambda: staff.get(f"/staff/search?q={code[-4:]}")),
            ("staff search, id", lambda: staff.get(f"/staff/search?q={facts['external_id']}")),
            (
                "scanner API check",
                lambda: staff.post(f"/api/v1/vouchers/{code}/check", headers=bearer),
            ),
        ]
        print(f"{'page':<26} {'status':>6} {'seconds':>8} {'KB':>8}  target")
        misses = 0
        for name, ask in pages:
            seconds, weight, status = measure(ask)
            ok = status in (200, 304) and seconds <= PAGE_SECONDS and weight <= PAGE_KB * 1024
            misses += not ok
            verdict = "meets" if ok else "MISSES"
            print(
                f"{name:<26} {status:>6} {seconds:>8.3f} {weight / 1024:>8.1f}  "
                f"{PAGE_SECONDS:g} s, {PAGE_KB} KB ({verdict})",
                flush=True,
            )
        for name, ask in downloads:
            seconds, weight, status = measure(ask)
            print(
                f"{name:<26} {status:>6} {seconds:>8.3f} {weight / 1024:>8.1f}  (a download)",
                flush=True,
            )
        for name, ask in fast:
            seconds, weight, status = measure(ask)
            ok = status == 200 and seconds <= SEARCH_SECONDS
            misses += not ok
            verdict = "meets" if ok else "MISSES"
            print(
                f"{name:<26} {status:>6} {seconds:>8.3f} {weight / 1024:>8.1f}  "
                f"{SEARCH_SECONDS:g} s ({verdict})",
                flush=True,
            )
        print(f"console target: {'all met' if not misses else f'{misses} MISSED'}")
