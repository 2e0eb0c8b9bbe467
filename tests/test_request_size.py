"""Request size: every route refuses a body over its limit with 413, says so in the user's
language, and writes nothing; the roster check alone takes a file of a few MB."""

from __future__ import annotations

import html
import io

import pytest
from hardening_support import CSRF, build_site, client_for, row_counts, signed_post

SMALL_LIMIT = "64 KB"
TOO_BIG = b"x" * (64 * 1024 + 1)
EN = "What was sent is larger than the limit of {limit}; nothing was saved."
ZH = "提交的内容超过上限 {limit}，未保存任何内容。"


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_sqlite_template):
    # Shared by the module's tests, so on one engine (SQLite).
    return build_site(tmp_path_factory.mktemp("request-size"), demo_sqlite_template)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("anonymous", "/kiosk/1/check"),
        ("anonymous", "/staff/login"),
        ("staff", "/staff/handover"),
        ("admin", "/admin/d/1/edit"),
        ("admin", "/admin/new"),
    ],
)
def test_a_large_form_gets_413_in_the_users_language(site, role, path, lang):
    before = row_counts(site.app)
    response = client_for(site, role, lang).post(
        path, data={"csrf_token": CSRF, "code": TOO_BIG.decode()}
    )
    assert response.status_code == 413
    assert (EN if lang == "en" else ZH).format(limit=SMALL_LIMIT) in _text(response)
    assert response.mimetype == "text/html"
    assert row_counts(site.app) == before


def test_a_signed_webhook_over_the_limit_gets_413(site):
    before = row_counts(site.app)
    form = {"From": "+8617000000009", "Body": TOO_BIG.decode(), "MessageSid": "SMbig"}
    response = signed_post(site.app.test_client(), "/sms/inbound", form)
    assert response.status_code == 413
    assert row_counts(site.app) == before


@pytest.mark.parametrize(
    "path", ["/sms/inbound", "/api/v1/vouchers/{code}/check", "/api/v1/handovers/1/undo"]
)
def test_a_route_that_never_reads_its_body_refuses_a_large_one_too(site, path):
    """Unsigned, no token, or a route that ignores its body: 413 before anything else."""
    client = client_for(site, "kiosk_token")
    response = client.post(path.format(code=site.codes["valid"]), data=TOO_BIG)
    assert response.status_code == 413


@pytest.mark.parametrize(("lang", "message"), [("en", EN), ("zh", ZH)])
def test_the_api_says_413_in_json(site, lang, message):
    client = client_for(site, "staff_token")
    response = client.post(
        f"/api/v1/vouchers/{site.codes['valid']}/handover?lang={lang}",
        data=TOO_BIG,
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json["error"] == "too_large"
    assert response.json["message"].startswith(message.format(limit=SMALL_LIMIT))


def _roster(size: int) -> bytes:
    """A clean roster CSV of about ``size`` bytes."""
    header = b"name,external_id,town,headcount,phone,language\n"
    rows = []
    total = len(header)
    n = 0
    while total < size:
        n += 1
        row = f"Enterprise {n:06d} {'x' * 120},BIG-{n:06d},Yuelin,10,,en\n".encode()
        rows.append(row)
        total += len(row)
    return header + b"".join(rows)


def test_the_roster_check_takes_a_few_megabytes(site):
    client = client_for(site, "admin")
    data = _roster(4 * 1024 * 1024)
    response = client.post(
        "/admin/d/1/roster",
        data={"csrf_token": CSRF, "file": (io.BytesIO(data), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, _text(response)[:300]
    assert "The file is clean:" in _text(response)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_roster_over_the_upload_limit_gets_413(site, lang):
    before = row_counts(site.app)
    response = client_for(site, "admin", lang).post(
        "/admin/d/1/roster",
        data={"csrf_token": CSRF, "file": (io.BytesIO(_roster(5 * 1024 * 1024 + 1)), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert (EN if lang == "en" else ZH).format(limit="5 MB") in _text(response)
    assert row_counts(site.app) == before


def test_only_the_roster_check_takes_a_file(site):
    """The import form sends a token, not a file: it keeps the small limit."""
    response = client_for(site, "admin").post(
        "/admin/d/1/roster/import", data={"csrf_token": CSRF, "preview": TOO_BIG.decode()}
    )
    assert response.status_code == 413
