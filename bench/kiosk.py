"""Kiosk: bytes and time of the kiosk's first load on emulated "Regular 2G".

The real app under gunicorn (``deploy/gunicorn.conf.py``, production settings, demo
database), compressed as the nginx site compresses, opened in Debian's Chromium driven by
Playwright with an empty cache. Prints the bytes on the wire (headers and gzip bodies, as
Chromium counted them) and the time to the ``load`` event, on Regular 2G and unthrottled,
and an empty page on Regular 2G as the floor that latency alone sets; then the ratios.
Targets (the browser test's budget): at most 60 KiB and under 8 s on Regular 2G.

Run: ``.venv/bin/python bench/kiosk.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import Gunicorn, Service, bookable_start, free_port, load_demo  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Chrome DevTools' "Regular 2G" preset: 250 kbit/s down, 50 kbit/s up, 300 ms latency.
REGULAR_2G = {
    "offline": False,
    "latency": 300,
    "downloadThroughput": 250 * 1024 / 8,
    "uploadThroughput": 50 * 1024 / 8,
}
BUDGET_BYTES = 60 * 1024
BUDGET_SECONDS = 8.0


def first_load(browser, url: str, network: dict | None) -> tuple[int, int, float]:
    """(requests, bytes on the wire, seconds to ``load``) of ``url`` in a fresh context."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if network:
        cdp.send("Network.emulateNetworkConditions", network)
    wire: dict[str, float] = {}
    cdp.on(
        "Network.loadingFinished", lambda e: wire.update({e["requestId"]: e["encodedDataLength"]})
    )
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    seconds = time.perf_counter() - started
    page.wait_for_timeout(200)  # the last loadingFinished events
    context.close()
    return len(wire), int(sum(wire.values())), seconds


def measure(browser, url: str, network: dict | None, runs: int) -> tuple[int, int, float]:
    """:func:`first_load` ``runs`` times: the last run's counts and the median seconds."""
    results = [first_load(browser, url, network) for _ in range(runs)]
    requests, wire, _ = results[-1]
    return requests, wire, statistics.median(r[2] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="loads per case (median time)")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit("bench/kiosk.py needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="pickup-kiosk-") as tmp:
        service = Service(Path(tmp) / "demo.sqlite3", free_port())
        load_demo(service, bookable_start())
        spec = "bench.support:gzipped_pickup_app()"
        with Gunicorn(service, spec, Path(tmp) / "gunicorn.log"), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            kiosk = f"{service.base_url}/kiosk/1"  # the first site's kiosk
            cases = {
                "kiosk, Regular 2G": measure(browser, kiosk, REGULAR_2G, args.runs),
                "kiosk, unthrottled": measure(browser, kiosk, None, args.runs),
                "empty page, Regular 2G": measure(
                    browser, f"{service.base_url}/healthz", REGULAR_2G, args.runs
                ),
            }
            browser.close()

    print(f"{'first load (empty cache)':<24} {'requests':>8} {'bytes':>8} {'seconds':>8}")
    for label, (requests, wire, seconds) in cases.items():
        print(f"{label:<24} {requests:>8} {wire:>8,} {seconds:>8.2f}")
    _, wire, on_2g = cases["kiosk, Regular 2G"]
    fast = cases["kiosk, unthrottled"][2]
    floor = cases["empty page, Regular 2G"][2]
    print(f"ratio Regular 2G / unthrottled: {on_2g / fast:.1f}")
    print(f"ratio kiosk / empty page on Regular 2G: {on_2g / floor:.1f}")
    bytes_ok = wire <= BUDGET_BYTES
    time_ok = on_2g < BUDGET_SECONDS
    print(
        f"target: <= {BUDGET_BYTES:,} bytes ({'meets' if bytes_ok else 'MISSES'}), "
        f"< {BUDGET_SECONDS:g} s on Regular 2G ({'meets' if time_ok else 'MISSES'})"
    )
    if not (bytes_ok and time_ok):
        sys.exit(1)


if __name__ == "__main__":
    main()
