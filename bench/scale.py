"""Scale: the algorithms at 1 k, 100 k and 1 M recipients, and the console at 100 k.

Algorithms: prints, for each size, the time and peak memory (max RSS growth) of allocate_units
(Sainte-Laguë) and assign_slots, the growth exponent between sizes (1.0 = linear),
and the ratio to a baseline measured in the same run: sorting the same number of
random floats with ``sorted``, which any machine does at its own speed.
Target: 1 M in 10 s on one core.

Console: builds a distribution of 100,000 recipients with the real commands (import-roster,
allocate, schedule, send-invitations, as ``bench/cli_path.py`` runs them), hands over and
checks in a few thousand vouchers, and with the clock in the middle of the ten pickup days
(so every state has its share) measures each console page signed in as admin (Flask test
client, the median of a few requests, the weight of its HTML), staff search and the
scanner API. Targets: every page within 1 s and 300 KB; staff search and the scanner API
within 100 ms.

Run: ``.venv/bin/python bench/scale.py [--part algorithms|console|all]
[--sizes 1000,100000,1000000] [--recipients 100000] [--keep DIR]`` (``--keep`` builds the
console's database once in DIR and reuses it on the next run).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.allocation import Claimant, allocate_units  # noqa: E402
from shared.scheduling import Demand, assign_slots, generate_slots  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn):
    """Seconds of one call, and how much it raised the process's peak memory (MiB).

    The peak (max RSS) only grows, so each size runs in a fresh process (see main) and the
    step it takes during the call is what the call needed beyond its inputs.
    """
    before = _max_rss_mib()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    return result, seconds, _max_rss_mib() - before


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(size: int, rng: random.Random) -> dict[str, float]:
    claimants = [Claimant(str(i), rng.randint(5, 900), floor=1) for i in range(size)]
    stock = size * 6  # about six units each, like the article's drums
    allocation, alloc_s, alloc_mb = measure(lambda: allocate_units(stock, claimants))
    assert allocation.allocated == stock
    # Enough 15-minute slots over several days for everyone, four people a slot.
    slots_needed = math.ceil(size / 4) + 1
    days = math.ceil(slots_needed / 28)
    start = datetime(2020, 2, 4, 12, tzinfo=TZ)
    windows = [(start + timedelta(days=d), start + timedelta(days=d, hours=7)) for d in range(days)]
    slots = generate_slots(windows, 15, 4, None)
    demands = [Demand(c.key, u) for c, u in zip(claimants, allocation.units, strict=True)]
    assignment, sched_s, sched_mb = measure(lambda: assign_slots(demands, slots))
    assert len(assignment) == size
    values = [rng.random() for _ in range(size)]
    baseline_s = timed(lambda: sorted(values))
    return {
        "alloc_s": alloc_s,
        "alloc_mb": alloc_mb,
        "sched_s": sched_s,
        "sched_mb": sched_mb,
        "baseline_s": baseline_s,
    }


def algorithms(sizes: list[int]) -> None:
    print(
        f"{'recipients':>10} {'allocate s':>10} {'MiB':>7} {'schedule s':>10} {'MiB':>7} "
        f"{'total s':>8} {'sort s':>8} {'ratio':>7}"
    )
    results = []
    for size in sizes:
        # A fresh process per size, so that peak memory is that size's own.
        output = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(output)
        total = r["alloc_s"] + r["sched_s"]
        results.append((size, total))
        print(
            f"{size:>10,} {r['alloc_s']:>10.3f} {r['alloc_mb']:>7.1f} {r['sched_s']:>10.3f} "
            f"{r['sched_mb']:>7.1f} {total:>8.3f} {r['baseline_s']:>8.3f} "
            f"{total / r['baseline_s']:>7.1f}"
        )
    for (n1, t1), (n2, t2) in zip(results, results[1:], strict=False):
        exponent = math.log(t2 / t1) / math.log(n2 / n1)
        print(f"growth exponent {n1:,} -> {n2:,}: {exponent:.2f}")
    largest, seconds = results[-1]
    verdict = "meets" if seconds <= 10 or largest < 1_000_000 else "MISSES"
    print(f"target: 1,000,000 in 10 s on one core -> {seconds:.1f} s for {largest:,} ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("algorithms", "console", "all"), default="all")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--recipients", type=int, default=100_000, help="the console's roster")
    parser.add_argument("--keep", type=Path, help="build the console's database here, reuse it")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, as JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, random.Random(20200204))))
        return
    if args.part in ("algorithms", "all"):
        algorithms([int(s) for s in args.sizes.split(",")])
    if args.part in ("console", "all"):
        from bench.console_scale import console

        console(args.recipients, args.keep)


if __name__ == "__main__":
    main()
