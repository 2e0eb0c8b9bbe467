"""Set-up for the hardening tests: the demo app, a client per role, a URL for every route."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import url_for
from kiosk_support import AT, Pickup, build_pickup
from support import DEMO_LOADED_AT, SECRET, fresh_demo
from twilio.request_validator import RequestValidator

from auth.guards import SESSION_KEY
from shared import accounts, storage
from shared.db import get_db
from shared.handover import hand_over
from sms.senders import FakeSender
from wsgi import create_app

TWILIO_TOKEN = "twilio-test-token"
BASE = "https://pickup.example.org"
CSRF = "csrf-token-of-this-test-session"
FORM_EXPIRED = "The form has expired. Go back, reload the page and try again."
ROLES = ("anonymous", "kiosk_token", "staff_token", "staff", "admin")
# A sample value for each URL argument of the app's routes.
STATIC_FILES = {
    "kiosk.static": "staff.js",
    "web.static": "screens.css",
    "admin.static": "console.css",
    "sms.static": "phone.css",
}


@dataclass
class Site:
    """The demo at 13:00 on the article's day with a voucher per state, users and tokens."""

    pickup: Pickup
    token_handover_id: int  # a handover the staff token made (a token undoes only its own)

    @property
    def app(self):
        return self.pickup.app

    @property
    def codes(self) -> dict[str, str]:
        return self.pickup.codes


def build_site(directory: Path, demo_template: Path, env: str = "development", **extra) -> Site:
    path = fresh_demo(demo_template, directory)
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "PICKUP_DB": str(path),
        "PICKUP_ENV": env,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PUBLIC_BASE_URL": BASE,
        "SMS_SENDER": FakeSender(),
        **extra,
    }
    pickup = build_pickup(create_app(config))
    with pickup.app.app_context():
        db = get_db()
        accounts.create_user(db, "ada", "an admin password", "admin", DEMO_LOADED_AT, "test")
        token_id = accounts.token_principal(db, pickup.staff_token, AT)["id"]
        spare = next(
            v["code"]
            for v in storage.voucher_views_for_distribution(db, 1)
            if v["starts_at"] == storage.to_db_time(AT) and v["code"] not in pickup.codes.values()
        )
        handed = hand_over(
            db, spare, SECRET.encode(), AT, "api:handheld-1", "handheld-1", 1, api_token_id=token_id
        )
    return Site(pickup, handed.id)


def client_for(site: Site, role: str, lang: str = "en"):
    """A test client acting as ``role``, with a CSRF token in its session (:data:`CSRF`).

    Sessions are written directly: the sign-in itself is tested in test_hardening.py, and
    a password hash per request would make walking every route slow.
    """
    client = site.app.test_client()
    with client.session_transaction() as session:
        session["csrf"] = CSRF
        session["lang"] = lang
        if role in ("staff", "admin"):
            name = "alice" if role == "staff" else "ada"
            with site.app.app_context():
                db = get_db()
                user = storage.get_user_by_name(db, name)
                session[SESSION_KEY] = accounts.start_session(db, user["id"], AT)
            session["station"] = "Desk 1"
    token = {"kiosk_token": site.pickup.kiosk_token, "staff_token": site.pickup.staff_token}
    if role in token:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token[role]}"
    return client


def sample_args(site: Site, rule) -> dict[str, Any]:
    values = {
        "distribution_id": 1,
        "site_id": 1,
        "recipient_id": 1,
        "booking_id": 1,
        "handover_id": site.token_handover_id,
        "user_id": 2,  # bob, a staff account no test signs in as
        "code": site.codes["valid"],
        "step": "menu",
        "filename": STATIC_FILES.get(rule.endpoint, "none.txt"),
    }
    return {name: values[name] for name in rule.arguments}


def url_of(site: Site, rule) -> str:
    with site.app.test_request_context():
        return url_for(rule.endpoint, **sample_args(site, rule))


def rules(app, method: str | None = None) -> list:
    """Every rule of the app (that takes ``method``), in a stable order."""
    found = [r for r in app.url_map.iter_rules() if method is None or method in r.methods]
    return sorted(found, key=lambda r: (r.rule, r.endpoint))


# Sessions are left out: :func:`client_for` signs a client in by writing one, wherever a
# test makes its client; only a right password makes one (tests/test_sessions.py).
NOT_COUNTED = {"user_sessions"}


def row_counts(app) -> dict[str, int]:
    """Rows in every table: a request that failed must leave them all as they were."""
    with app.app_context():
        db = get_db()
        return {
            t: storage.count_rows(db, t) for t in storage.table_names(db) if t not in NOT_COUNTED
        }


def signed_post(client, path: str, data: dict[str, str]):
    """POST ``path`` signed as Twilio would sign it for :data:`BASE`."""
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + path, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


def accepted_spellings(code: str) -> list[str]:
    """``code`` as people and scanners write it: every one is accepted by normalise_code."""
    groups = [code[i : i + 4] for i in range(0, 16, 4)]
    pairs = [code[i : i + 2] for i in range(0, 16, 2)]
    return [
        code,
        "PV1" + code,
        "pv1" + code,
        "Pv1 " + " ".join(groups),
        " ".join(groups),
        ".".join(groups),
        "-".join(pairs),
        "\u00a0".join(groups),
        "\u200b".join(groups),
        "\u3000".join(groups),
        code.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "\u2014".join(groups),
    ]
