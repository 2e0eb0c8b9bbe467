"""The real service under ``deploy/gunicorn.conf.py``: its access log, large and idle clients.

Production settings on loopback, a demo database made by the CLI, one worker with two
threads (so that two stuck threads would show). Every spelling of a voucher code the
service accepts is requested as a path, and a path with ``%0A`` tries to forge a second log
line; a 50 MB body is announced; browsers keep idle connections open.
"""

from __future__ import annotations

import http.client
import sys
from urllib.parse import quote

import pytest
from hardening_support import accepted_spellings
from support import require

from bench.support import Gunicorn, Service, bookable_start, free_port, load_demo
from shared import storage

FORGED = "127.0.0.1 GET /admin/audit 200 0 0.001s"


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Service:
    require(sys.platform == "linux", "gunicorn runs on Linux here")
    directory = tmp_path_factory.mktemp("gunicorn-edges")
    service = Service(
        directory / "demo.sqlite3",
        free_port(),
        settings={"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2"},
    )
    load_demo(service, bookable_start())
    return service


def _get(service: Service, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


def test_access_log_redacts_every_spelling_and_escapes_control_characters(service, tmp_path):
    db = storage.open_database(service.db_path)
    code = storage.voucher_views_for_distribution(db, 1)[0]["code"]
    db.conn.close()
    spellings = accepted_spellings(code)
    log_path = tmp_path / "gunicorn.log"
    with Gunicorn(service, "wsgi:app", log_path):
        for spelling in spellings:
            assert _get(service, "/v/" + quote(spelling)) == 200, spelling
        assert _get(service, "/v/x%0A" + quote(FORGED)) == 404
    log = log_path.read_text(encoding="utf-8")
    voucher_lines = [line for line in log.splitlines() if '"GET /v/' in line]
    assert len(voucher_lines) == len(spellings) + 1
    assert sum('"GET /v/[voucher]" 200' in line for line in voucher_lines) == len(spellings)
    for spelling in spellings:
        for written in (spelling, quote(spelling)):
            assert written not in log
    assert code not in log and code[:8] not in log and code[8:] not in log
    # The forged request is one line, with the newline written as \n.
    assert "/v/x\\n" + FORGED in log
    assert not any(line.startswith(FORGED) for line in log.splitlines())


def _announce(service: Service, path: str, content_type: str, length: int) -> tuple[int, str]:
    """Send only the headers of a POST announcing ``length`` bytes; the status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=20)
    connection.putrequest("POST", path)
    for name, value in (
        ("Content-Type", content_type),
        ("Content-Length", str(length)),
        ("Accept-Language", "en"),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    answer = response.status, response.read().decode("utf-8", "replace")
    connection.close()
    return answer


@pytest.mark.parametrize(
    ("path", "content_type", "status", "says"),
    [
        ("/kiosk/1/check", "application/x-www-form-urlencoded", 413, "the limit of 64 KB"),
        ("/api/v1/vouchers/1/check", "application/json", 413, "the limit of 64 KB"),
        ("/admin/d/1/roster", "multipart/form-data; boundary=x", 413, "the limit of 5 MB"),
    ],
)
def test_an_announced_50_mb_body_is_refused_without_being_read(
    service, tmp_path, path, content_type, status, says
):
    """The body is never sent: each answer comes from the headers alone, at once."""
    with Gunicorn(service, "wsgi:app", tmp_path / "gunicorn.log"):
        answer = _announce(service, path, content_type, 50 * 1024 * 1024)
    assert answer[0] == status and says in answer[1], answer


def test_idle_kept_alive_connections_do_not_take_the_threads(service, tmp_path):
    """Twelve browsers holding kept-alive connections, two threads: a new client is served.

    (A connection that has sent nothing yet does hold a thread for up to 5 s in gunicorn's
    gthread worker: that is why production puts nginx in front, see deploy/README.md.)
    """
    with Gunicorn(service, "wsgi:app", tmp_path / "gunicorn.log"):
        browsers = []
        try:
            for _ in range(12):
                browser = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
                browser.request("GET", "/healthz")
                response = browser.getresponse()
                response.read()
                assert response.status == 200
                assert response.getheader("Connection", "keep-alive").lower() != "close"
                browsers.append(browser)
            assert _get(service, "/kiosk") == 200
        finally:
            for browser in browsers:
                browser.close()
