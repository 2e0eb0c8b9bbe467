"""The district office's CLI path at scale: import-roster, allocate, schedule, export.

Generates a roster CSV of N recipients (UTF-8, the columns an office fills in), creates one
distribution with 10-minute slots of 200 people over ten days, and runs the five steps
(import-roster, allocate, schedule, export bookings as CSV and as JSON) through the real
commands (``flask --app wsgi ...`` in a subprocess, production settings, a fresh SQLite
file), timing each in wall clock and CPU and taking its peak memory (max RSS of that process).

The baseline, measured in the same run: Python's csv module reading the same file and
SQLite inserting its rows three times over (recipients, then two more tables of the same
width) in one transaction with ``executemany``: the floor any importer, allocator and
scheduler that writes one row per recipient per step has to pay.
The floor is measured before the first step and after each, and the median taken, as wall
time and as CPU time: on a machine shared with other work the CPU ratio moves less than the
wall-clock one. Target: the whole path (wall clock, both exports included) within 10x that
floor; 1,000,000 within a few minutes.

Run: ``.venv/bin/python bench/cli_path.py [--size 100000] [--repeat 1] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import BIN, ROOT, Service  # noqa: E402
from shared.roster import uscc_check_char  # noqa: E402

HEADER = ("name", "external_id", "town", "headcount", "contact_name", "phone", "language")
TOWNS = ("锦屏街道", "岳林街道", "江口街道", "西坞街道", "萧王庙街道", "溪口镇", "莼湖镇")
SLOTS_PER_DAY = 51  # 09:00-17:30 in 10-minute slots
DAYS = 10
CAPACITY = 200  # people per slot (more when the roster needs it)


def write_roster(path: Path, size: int, rng: random.Random) -> None:
    """A roster of ``size`` enterprises: USCC ids with good check characters, CN mobiles."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(size):
            body = f"91330213MA{i:07d}"
            writer.writerow(
                (
                    f"宁波测试企业{i}有限公司",
                    body + uscc_check_char(body),
                    rng.choice(TOWNS),
                    rng.randint(5, 900),
                    f"联系人{i}",
                    f"139{i:08d}",
                    "zh" if i % 5 else "en",
                )
            )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_insert_floor(csv_path: Path, db_path: Path) -> tuple[float, float]:
    """Wall and CPU seconds to read the CSV with the csv module and insert it three times."""
    db_path.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), _cpu_seconds()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    columns = ", ".join(f"{c} TEXT" for c in HEADER)
    for table in ("t1", "t2", "t3"):
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {columns})")
    marks = ", ".join("?" for _ in HEADER)
    conn.execute("BEGIN")
    for table in ("t1", "t2", "t3"):
        with csv_path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            conn.executemany(f"INSERT INTO {table} ({', '.join(HEADER)}) VALUES ({marks})", reader)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, _cpu_seconds() - cpu


def run_step(args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Seconds, peak MiB (max RSS), the last line of output and CPU seconds of a command."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # wait4, not wait: it also reports this child's own peak memory.
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        lines = [line for line in output.read().replace("\r", "\n").splitlines() if line.strip()]
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed ({process.returncode}):\n" + "\n".join(lines[-20:])
        )
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, lines[-1][:110] if lines else "", cpu


def run(size: int, workdir: Path) -> dict[str, object]:
    rng = random.Random(20200204)
    csv_path = workdir / f"roster-{size}.csv"
    write_roster(csv_path, size, rng)
    floor_db = workdir / f"floor-{size}.sqlite3"
    floors = [raw_insert_floor(csv_path, floor_db)]
    db_path = workdir / f"cli-{size}.sqlite3"
    for leftover in workdir.glob(f"cli-{size}.sqlite3*"):
        leftover.unlink()
    env = Service(db_path=db_path, port=0).environ()
    # The commands run as installed: Python keeps their compiled modules (__pycache__), as
    # it does unless told not to. Without it every command compiles ~70 modules (~0.3 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Ten days of 10-minute slots; a roster too big for 200 a slot gets bigger slots.
    capacity = max(CAPACITY, -(-size // (SLOTS_PER_DAY * DAYS)))
    windows = []
    for day in range(DAYS):
        date = f"2030-03-{1 + day:02d}"
        windows += ["--window", f"{date}T09:00/{date}T17:30"]
    run_step(["init-db"], env)
    run_step(
        [
            "create-distribution",
            "--name=Province masks",
            "--item=Masks",
            "--unit-name=box",
            "--unit-size=50",
            "--measure=masks",
            f"--stock={size * 6}",
            "--site=Fenghua hall",
            "--address=1 Main St",
            "--slot-minutes=10",
            f"--capacity-people={capacity}",
            *windows,
        ],
        env,
    )
    steps = {
        "import-roster": ["import-roster", str(csv_path)],
        "allocate": ["allocate"],
        "schedule": ["schedule"],
        "export": ["export", "bookings", "--format", "csv", "--out", str(workdir / "out.csv")],
        "export json": [
            *("export", "bookings", "--format", "json", "--out", str(workdir / "out.json")),
        ],
    }
    result: dict[str, object] = {"size": size}
    for name, args in steps.items():
        result[name] = run_step(args, env)
        # The machine is shared: the floor is measured between the steps too, and the
        # median taken, so that a burst of someone else's work moves both sides alike.
        floors.append(raw_insert_floor(csv_path, floor_db))
    result["floor"] = statistics.median(f[0] for f in floors)
    result["floor_cpu"] = statistics.median(f[1] for f in floors)
    # Not part of the four-step path: queuing an invitation SMS to everyone allotted.
    result["send-invitations"] = run_step(["send-invitations"], env)
    with (workdir / "out.csv").open(encoding="utf-8-sig", newline="") as f:
        exported = sum(1 for _ in csv.reader(f)) - 1
    booked = int(str(result["schedule"][2]).split()[0])  # type: ignore[index]  # "N recipients booked"
    if exported != booked:
        raise SystemExit(f"the export has {exported} bookings, the schedule booked {booked}")
    with (workdir / "out.json").open(encoding="utf-8") as f:
        # Counted by line, not loaded: at 1,000,000 the parsed list would be gigabytes.
        in_json = sum(1 for line in f if line.startswith('    "recipient": '))
    if in_json != booked:
        raise SystemExit(f"the JSON export has {in_json} bookings, the schedule booked {booked}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", "--size", default="100000", help="comma-separated roster sizes, e.g. 1000000"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per size, to see the spread")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep the files")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="cli-path-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        print(
            f"{'recipients':>10} {'import s':>9} {'allocate s':>10} {'schedule s':>10} "
            f"{'csv s':>6} {'json s':>6} {'total s':>8} {'floor s':>8} {'ratio':>6} "
            f"{'CPU s':>7} {'floor CPU':>9} {'ratio':>6} {'peak MiB':>9}"
        )
        verdicts = []
        steps = ("import-roster", "allocate", "schedule", "export", "export json")
        for size in sizes:
            for _ in range(args.repeat):
                r = run(size, workdir)
                seconds = [r[s][0] for s in steps]  # type: ignore[index]
                cpu = sum(r[s][3] for s in steps)  # type: ignore[index]
                peak = max(r[s][1] for s in steps)  # type: ignore[index]
                total = sum(seconds)
                ratio = total / r["floor"]  # type: ignore[operator]
                cpu_ratio = cpu / r["floor_cpu"]  # type: ignore[operator]
                print(
                    f"{size:>10,} {seconds[0]:>9.2f} {seconds[1]:>10.2f} {seconds[2]:>10.2f} "
                    f"{seconds[3]:>6.2f} {seconds[4]:>6.2f} {total:>8.2f} {r['floor']:>8.2f} "
                    f"{ratio:>6.1f} {cpu:>7.2f} {r['floor_cpu']:>9.2f} {cpu_ratio:>6.1f} "
                    f"{peak:>9.0f}",
                    flush=True,
                )
                for step in steps:
                    # What the command said it did, its CPU time and its own peak memory.
                    _, mib, said, step_cpu = r[step]  # type: ignore[misc]
                    print(f"    {step}: {step_cpu:.2f} s CPU, {mib:.0f} MiB: {said}")
                invite = r["send-invitations"]
                print(
                    f"    send-invitations: {invite[0]:.2f} s, {invite[3]:.2f} s CPU, "  # type: ignore[index]
                    f"{invite[1]:.0f} MiB: {invite[2][:70]}"  # type: ignore[index]
                )
                verdicts.append((size, total, ratio))
        for size, total, ratio in verdicts:
            if size == 100_000:
                verdict = "meets" if ratio <= 10 else "MISSES"
                print(
                    f"target: 100,000 within 10x the raw-insert floor -> {ratio:.1f}x ({verdict})"
                )
            if size >= 1_000_000:
                verdict = "meets" if total <= 300 else "MISSES"
                print(f"target: {size:,} within a few minutes (300 s) -> {total:.0f} s ({verdict})")


if __name__ == "__main__":
    main()
