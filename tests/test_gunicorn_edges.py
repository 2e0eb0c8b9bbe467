"""The real service under ``deploy/gunicorn.conf.py``: what its access log writes.

Production settings on loopback, a demo database made by the CLI. Every spelling of a
voucher code the service accepts is requested as a path, and a path with ``%0A`` tries to
forge a second log line.
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
    service = Service(directory / "demo.sqlite3", free_port())
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
