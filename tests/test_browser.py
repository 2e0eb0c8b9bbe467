"""The pickup point in a real browser: Debian's Chromium driven by Playwright.

Kiosk by keyboard wedge, keypad and fake camera (a .y4m of a voucher QR); refusal screens;
the idle reset; the staff double scan from two pages; the first-load byte budget; axe-core.
Every page is watched for Content-Security-Policy violations (:class:`CspWatch`): the
kiosk, its camera worker and the staff station must work under the app's policy.
In CI these run and never skip (``require`` fails there when Chromium is missing).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import ARGS, CHROMIUM, CspWatch
from kiosk_support import PASSWORD, Pickup, build_pickup
from PIL import Image
from werkzeug.serving import make_server

from shared.vouchers import qr_content, qr_png

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BUDGET = 60 * 1024  # bytes, gzip-compressed, the kiosk's first load


def write_y4m(path: Path, image: Image.Image, frames: int = 5) -> None:
    """Write ``image`` as a YUV4MPEG2 (C420) video of ``frames`` identical frames."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


def qr_frame(code: str) -> Image.Image:
    """A 640x480 camera frame with the voucher's QR code in the middle, as if held up."""
    from io import BytesIO

    qr = Image.open(BytesIO(qr_png(qr_content(code), box_size=10))).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    return frame


@pytest.fixture
def pickup(demo_app) -> Pickup:
    return build_pickup(demo_app)


@pytest.fixture
def base_url(pickup) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, pickup.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, csp):
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    csp.attach(context)
    yield context.new_page()
    context.close()


def test_csp_watch_sees_a_violation(pickup, browser, base_url):
    """The watch the other tests rely on does catch a refused inline script."""
    from playwright.sync_api import Error as PlaywrightError

    watch = CspWatch()
    context = browser.new_context()
    watch.attach(context)
    try:
        page = context.new_page()
        response = page.goto(f"{base_url}/kiosk/1")
        assert "script-src 'self';" in response.headers["content-security-policy"]
        with (
            page.expect_console_message(lambda m: "Content Security Policy" in m.text),
            pytest.raises(PlaywrightError, match="Content Security Policy"),
        ):
            page.add_script_tag(content="window.injected = 1")
        assert page.evaluate("typeof window.injected") == "undefined"
        assert any("script-src" in v for v in watch.violations), watch.violations
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/?lang=en", "/v/{valid}?lang=en", "/v/{mistyped}"])
def test_pages_load_under_the_policy_with_their_styles(pickup, base_url, page, path):
    """No violation (the ``page`` fixture checks), and the style sheet moved out applies."""
    response = page.goto(base_url + path.format(**pickup.codes))
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    # 18px comes from voucher.css (the browser's default is 16px).
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "18px"


def wait_for_code_focus(page) -> None:
    """A wedge scanner types into whatever has focus: wait until autofocus has placed it."""
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")


def expect_screen(page, screen: str, timeout: float = 10_000) -> None:
    page.wait_for_selector(f"body[data-screen='{screen}']", timeout=timeout)


def acknowledge_and_check_in(page, queue_number: str = "1") -> None:
    page.click("#acknowledge")
    expect_screen(page, "checked-in")
    assert page.inner_text("#queue-number") == queue_number


@pytest.mark.parametrize(
    ("lang", "heading", "checked_in"),
    [("en", "Never mix", "You are checked in"), ("zh", "切勿混用", "签到成功")],
)
def test_kiosk_by_keyboard_wedge(pickup, base_url, page, lang, heading, checked_in):
    page.goto(f"{base_url}/kiosk/1?lang={lang}")
    wait_for_code_focus(page)
    # A wedge scanner types the QR content into the focused input and presses Enter.
    page.keyboard.type(qr_content(pickup.codes["valid"]), delay=5)
    page.keyboard.press("Enter")
    expect_screen(page, "safety")
    assert heading in page.inner_text("main")
    assert page.locator("svg.ghs").count() == 3
    acknowledge_and_check_in(page)
    assert checked_in in page.inner_text("main")


def test_kiosk_by_keypad_and_language_toggle(pickup, base_url, page):
    page.goto(f"{base_url}/kiosk/1")
    for digit in pickup.codes["valid"]:
        page.click(f"[data-key='{digit}']")
    page.click("[data-key='back']")
    page.click(f"[data-key='{pickup.codes['valid'][-1]}']")
    assert page.input_value("#code").replace(" ", "") == pickup.codes["valid"]
    page.click("#scan-form button[type=submit]")
    expect_screen(page, "safety")
    assert "安全" in page.inner_text("main") or "危险" in page.inner_text("main")
    page.click("header .lang")  # one tap to English, same voucher
    expect_screen(page, "safety")
    assert "Hazards" in page.inner_text("main")
    acknowledge_and_check_in(page)


def test_kiosk_by_camera(pickup, playwright, base_url, tmp_path, csp):
    video = tmp_path / "voucher.y4m"
    write_y4m(video, qr_frame(pickup.codes["valid"]))
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            *ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context()
        csp.attach(context)
        context.grant_permissions(["camera"], origin=base_url)
        page = context.new_page()
        page.goto(f"{base_url}/kiosk/1?lang=en")
        page.click("#camera")
        expect_screen(page, "safety", timeout=30_000)
        assert "Hydrogen peroxide" in page.inner_text("main")
        acknowledge_and_check_in(page)
    finally:
        browser.close()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            "too_early",
            "You are early: come back at 16:45 to 区企业服务中心 Enterprise Service Centre, "
            "宁波市奉化区岳林街道 (Yuelin, Fenghua).",
        ),
        ("collected", "Already collected at 12:55; it cannot be collected twice."),
        ("cancelled", "This booking was cancelled; the voucher is no longer valid."),
        ("missed", "You missed your pickup time. Reply by SMS or call to rebook."),
        ("unknown", "We do not know this voucher. Please ask staff."),
    ],
)
def test_kiosk_refusal_screens(pickup, base_url, page, state, message):
    page.goto(f"{base_url}/kiosk/1?lang=en")
    page.fill("#code", pickup.codes[state])
    page.press("#code", "Enter")
    expect_screen(page, "refused")
    assert page.inner_text("#message") == message
    assert page.get_attribute("body", "data-reason") == {"collected": "already_collected"}.get(
        state, state
    )


def test_kiosk_input_groups_counts_and_keeps_a_mistyped_code(pickup, base_url, page):
    code = pickup.codes["valid"]
    page.goto(f"{base_url}/kiosk/1?lang=en")
    assert page.inner_text("#digit-count") == "0 of 16 digits"
    for digit in code[:15]:
        page.click(f"[data-key='{digit}']")
    assert page.input_value("#code") == " ".join(code[i : i + 4] for i in range(0, 16, 4))[:-1]
    assert page.inner_text("#digit-count") == "15 of 16 digits"
    page.click("#scan-form button[type=submit]")
    expect_screen(page, "retry")
    assert page.inner_text("#message") == (
        "One digit is missing. Compare with your voucher and add it."
    )
    # the digits are still there, grouped: add the last one, no retyping
    assert page.input_value("#code") == f"{code[:4]} {code[4:8]} {code[8:12]} {code[12:15]}"
    page.click(f"[data-key='{code[15]}']")
    assert page.inner_text("#digit-count") == "16 of 16 digits"
    page.click("#scan-form button[type=submit]")
    expect_screen(page, "safety")


def test_kiosk_typing_in_the_middle_keeps_the_caret(pickup, base_url, page):
    code = pickup.codes["mistyped"]
    page.goto(f"{base_url}/kiosk/1?lang=zh")
    page.fill("#code", code)
    page.press("#code", "Enter")
    expect_screen(page, "retry")
    assert page.inner_text("#message") == "凭证号码有误，请核对数字后重新输入。"
    assert page.input_value("#code").replace(" ", "") == code
    page.click("#code")
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type(pickup.codes["valid"][-1])
    assert page.input_value("#code").replace(" ", "") == pickup.codes["valid"]
    page.press("#code", "Enter")
    expect_screen(page, "safety")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kiosk_uses_a_portrait_screen(pickup, browser, base_url, csp, lang):
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    csp.attach(context)
    page = context.new_page()
    try:
        page.goto(f"{base_url}/kiosk/1?lang={lang}")
        body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        key = page.locator("[data-key='5']").bounding_box()
        main = page.locator("main").bounding_box()
        assert body >= 28 and key["height"] >= 120 and main["width"] >= 1000
    finally:
        context.close()


def test_kiosk_goes_back_to_start_when_idle(pickup, base_url, page):
    pickup.app.config["PICKUP_KIOSK_IDLE_SECONDS"] = 1
    page.goto(f"{base_url}/kiosk/1?lang=en")
    page.fill("#code", pickup.codes["too_early"])
    page.press("#code", "Enter")
    expect_screen(page, "refused")
    started = time.monotonic()
    expect_screen(page, "start", timeout=5_000)
    assert 0.8 < time.monotonic() - started < 4
    assert page.url == f"{base_url}/kiosk/1"
    assert page.get_attribute("html", "lang") == "zh-CN"  # the next stranger gets the default


def _staff_page(browser, base_url: str, name: str, station: str, csp=None, **options):
    context = browser.new_context(**options)
    if csp is not None:
        csp.attach(context)
    page = context.new_page()
    page.goto(f"{base_url}/staff/?lang=en")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.fill("#station", station)
    page.click("form button[type=submit]")
    page.wait_for_selector("#queue-section")
    return context, page


def test_staff_double_scan_from_two_pages(pickup, browser, base_url, csp):
    code = pickup.codes["valid"]
    (ctx_a, alice), (ctx_b, bob) = (
        _staff_page(browser, base_url, "alice", "Desk 1", csp),
        _staff_page(browser, base_url, "bob", "Desk 2", csp),
    )
    try:
        for page in (alice, bob):
            page.fill("#code", qr_content(code))
            page.press("#code", "Enter")
            page.wait_for_selector("#hand-over-all")
        alice.click("#hand-over-all", no_wait_after=True)
        bob.click("#hand-over-all", no_wait_after=True)
        for page in (alice, bob):
            page.wait_for_selector("#flash, #alert")
        texts = sorted(
            page.inner_text("#flash")
            if page.locator("#flash").count()
            else page.inner_text("#alert")
            for page in (alice, bob)
        )
        handed = [t for t in texts if t.startswith("Handed over")]
        told = [t for t in texts if t.startswith("Already handed over by")]
        assert len(handed) == 1 and len(told) == 1, texts
        assert told[0].endswith("at 13:00; not again.")
        assert ("alice at Desk 1" in told[0]) != ("bob at Desk 2" in told[0])
    finally:
        ctx_a.close()
        ctx_b.close()


def _check_in_at_kiosk(context, base_url: str, code: str, queue_number: str) -> None:
    kiosk = context.new_page()
    kiosk.goto(f"{base_url}/kiosk/1")
    kiosk.fill("#code", code)
    kiosk.press("#code", "Enter")
    expect_screen(kiosk, "safety")
    acknowledge_and_check_in(kiosk, queue_number)
    kiosk.close()


def test_staff_queue_updates_live(pickup, browser, base_url, csp):
    context, page = _staff_page(browser, base_url, "alice", "Desk 1", csp)
    try:
        assert "Nobody is waiting." in page.inner_text("#queue-section")
        _check_in_at_kiosk(context, base_url, pickup.codes["valid"], "1")
        page.wait_for_selector("#queue th.number", timeout=8_000)
        assert page.inner_text("#queue th.number") == "1"
        assert page.locator("#call-next").is_visible()
    finally:
        context.close()


def test_call_next_shows_the_number_on_the_board(pickup, browser, base_url, csp):
    context, staff = _staff_page(
        browser, base_url, "alice", "Desk 1", csp, viewport={"width": 1280, "height": 800}
    )
    try:
        _check_in_at_kiosk(context, base_url, pickup.codes["valid"], "1")
        _check_in_at_kiosk(context, base_url, pickup.codes["valid_2"], "2")
        board = context.new_page()
        board.set_viewport_size({"width": 1080, "height": 1920})
        board.goto(f"{base_url}/kiosk/1/board?lang=en")
        assert board.inner_text("#now-calling") == "–"
        assert board.inner_text("#waiting-line") == "2 waiting to be called"
        staff.reload()
        # the queue and its call-next button are above the fold of a 1280x800 station
        box = staff.locator("#call-next").bounding_box()
        last_row = staff.locator("#queue tbody tr").last.bounding_box()
        assert box["y"] + box["height"] <= 800 and last_row["y"] + last_row["height"] <= 800
        staff.click("#call-next")
        staff.wait_for_selector("#flash")
        assert staff.inner_text("#flash").startswith("Calling number 1")
        board.wait_for_function(
            "() => document.getElementById('now-calling').textContent === '1'", timeout=8_000
        )
        assert board.inner_text("#waiting-line") == "1 waiting to be called"
        # readable across a room: the called number is drawn very large
        size = board.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('now-calling')).fontSize)"
        )
        assert size >= 300
        staff.click("#call-next")
        board.wait_for_function(
            "() => document.getElementById('now-calling').textContent === '2'", timeout=8_000
        )
        assert board.inner_text("#called") == "1"
        staff.click("#skip-1")
        board.wait_for_function(
            "() => document.getElementById('called').textContent === ''", timeout=8_000
        )
    finally:
        context.close()


def test_kiosk_first_load_within_budget_on_regular_2g(pickup, browser, base_url):
    context = browser.new_context()
    page = context.new_page()
    loaded: list[tuple[str, int, int]] = []

    def record(response) -> None:
        body = response.body()
        loaded.append((response.url, len(body), len(gzip.compress(body, 6))))

    page.on("response", record)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    # Chrome DevTools' "Regular 2G" preset: 250 kbit/s down, 50 up, 300 ms latency.
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 300,
            "downloadThroughput": 250 * 1024 / 8,
            "uploadThroughput": 50 * 1024 / 8,
        },
    )
    started = time.monotonic()
    page.goto(f"{base_url}/kiosk/1", wait_until="load")
    seconds = time.monotonic() - started
    page.wait_for_timeout(300)
    total = sum(compressed for _url, _raw, compressed in loaded)
    context.close()
    urls = [url.removeprefix(base_url) for url, _, _ in loaded]
    # the page, its style, the screens' script and the offline script; the service worker
    # and what it keeps are fetched after the load, outside the page's own requests
    assert urls[0] == "/kiosk/1" and len(urls) == 4, urls
    assert urls[3] == "/kiosk/static/offline.js", urls
    assert not any("qr-scanner" in url for url in urls)  # loaded when the camera opens
    assert total <= BUDGET, loaded
    assert seconds < 8, f"first load took {seconds:.1f} s on Regular 2G"
    print(f"kiosk first load: {total} bytes gzip over {len(urls)} requests, {seconds:.2f} s on 2G")


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_accessibility_has_no_serious_violations(pickup, browser, base_url):
    # axe-core is injected as an inline script, which the policy refuses: bypass it here
    # (the other tests check the pages under the policy).
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    screens = []
    page.goto(f"{base_url}/kiosk/1")
    screens.append(("start", _axe_violations(page)))
    page.fill("#code", pickup.codes["valid"])
    page.press("#code", "Enter")
    expect_screen(page, "safety")
    screens.append(("safety", _axe_violations(page)))
    page.click("#acknowledge")
    expect_screen(page, "checked-in")
    screens.append(("checked-in", _axe_violations(page)))
    page.goto(f"{base_url}/kiosk/1?lang=en")
    page.fill("#code", pickup.codes["mistyped"])
    page.press("#code", "Enter")
    expect_screen(page, "retry")
    screens.append(("retry", _axe_violations(page)))
    page.goto(f"{base_url}/kiosk/1?lang=en")
    page.fill("#code", pickup.codes["cancelled"])
    page.press("#code", "Enter")
    expect_screen(page, "refused")
    screens.append(("refused", _axe_violations(page)))
    page.goto(f"{base_url}/kiosk/1/board?lang=en")
    screens.append(("board", _axe_violations(page)))
    page.goto(f"{base_url}/v/{pickup.codes['valid']}?lang=en")
    screens.append(("voucher page", _axe_violations(page)))
    context.close()
    context, staff = _staff_page(browser, base_url, "alice", "Desk 1", bypass_csp=True)
    screens.append(("staff station", _axe_violations(staff)))
    staff.fill("#code", pickup.codes["valid_2"])
    staff.press("#code", "Enter")
    staff.wait_for_selector("#hand-over-all")
    screens.append(("staff voucher", _axe_violations(staff)))
    context.close()
    assert [s for s in screens if s[1]] == []


# -- sites -----------------------------------------------------------------------------------


def test_kiosk_site_choice_and_wrong_site_in_the_browser(page, pickup, base_url):
    """/kiosk lists the three demo sites; a masks' kiosk refuses a disinfectant voucher."""
    page.goto(f"{base_url}/kiosk?lang=en")
    assert page.locator(".site-choice").count() == 3
    page.locator(".site-choice").nth(1).click()
    assert page.url == f"{base_url}/kiosk/2?lang=en"
    assert page.locator("#site-name").inner_text() == "区商务局仓库 Commerce Bureau warehouse"
    page.fill("#code", pickup.codes["valid"])
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-screen=refused]")
    assert "This voucher is for another pickup site: come at 13:00 to 区企业服务中心" in (
        page.inner_text("main")
    )
    page.click("text=Start again")
    assert page.url.startswith(f"{base_url}/kiosk/2")


def test_staff_sign_in_picks_the_site_and_remembers_it(page, pickup, base_url):
    page.goto(f"{base_url}/staff/login?lang=en")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.fill("#station", "Gate B")
    page.select_option("#site_id", "2")
    page.click("button[type=submit]")
    page.wait_for_selector("#station-site")
    assert page.inner_text("#station-site") == "区商务局仓库 Commerce Bureau warehouse"
    page.goto(f"{base_url}/staff/voucher?code={pickup.codes['valid']}")
    assert "This voucher is for another pickup site" in page.inner_text("main")
    page.click("text=Sign out")
    page.wait_for_selector("#username")
    assert page.input_value("#station") == "Gate B"
    assert page.input_value("#site_id") == "2"
