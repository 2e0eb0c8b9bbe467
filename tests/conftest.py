"""Fixtures: `app`, `client`, `runner` on a database in tmp_path; `demo_app` with the demo."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared import demo, storage
from shared.db import get_db
from shared.vouchers import voucher_code
from wsgi import create_app

SECRET = "test-secret-key-not-for-production"
TZ = ZoneInfo("Asia/Shanghai")
# The article's day: the window opens at 12:00 Fenghua time on 4 February 2020.
DEMO_START = datetime(2020, 2, 4, 12, 0, tzinfo=TZ)
DEMO_LOADED_AT = datetime(2020, 2, 4, 9, 0, tzinfo=TZ)


def make_code(serial: int) -> str:
    return voucher_code(serial, SECRET.encode())


def require(condition: bool, reason: str) -> None:
    """Skip when a tool is missing on a developer's machine; fail in CI, where it must be."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _config(path) -> dict:
    return {"TESTING": True, "SECRET_KEY": SECRET, "PICKUP_DB": str(path), "PICKUP_ENV": "test"}


@pytest.fixture
def app(tmp_path):
    app = create_app(_config(tmp_path / "test.sqlite3"))
    with app.app_context():
        storage.migrate(get_db())
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    with app.app_context():
        yield get_db()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo database, built once per session and copied for each test that needs it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = storage.open_database(path)
    storage.migrate(database)
    demo.load_demo(database, DEMO_LOADED_AT, make_code, DEMO_START)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.conn.close()
    return path


@pytest.fixture
def demo_app(tmp_path, demo_template):
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    return create_app(_config(path))


@pytest.fixture
def demo_db(demo_app):
    with demo_app.app_context():
        yield get_db()


@pytest.fixture
def live_server():
    """Serve an app on a free local port for a real browser: ``base_url = live_server(app)``.

    Threaded like gunicorn's workers, so a page's parallel requests are served; every
    server started is shut down after the test.
    """
    import threading

    from werkzeug.serving import make_server

    servers = []

    def start(flask_app) -> str:
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def small_distribution(
    database,
    recipients: int = 4,
    stock: int = 10,
    capacity_people: int = 2,
    capacity_units: int | None = None,
    slot_minutes: int = 30,
    hours: int = 2,
    start: datetime = DEMO_START,
    weight_basis: str = "headcount",
) -> int:
    """A distribution with ``recipients`` enterprises, allotted but not yet scheduled."""
    from datetime import timedelta

    from shared import planning

    distribution_id = demo.create_distribution(
        database,
        {
            "name": "Test distribution",
            "item": "Disinfectant",
            "item_key": "hydrogen_peroxide",
            "unit_name": "5 kg bottle",
            "unit_size": 5,
            "measure": "kg",
            "stock_units": stock,
            "timezone": "Asia/Shanghai",
            "slot_minutes": slot_minutes,
            "capacity_people": capacity_people,
            "capacity_units": capacity_units,
            "weight_basis": weight_basis,
        },
        ("Test site", "1 Test Road"),
        [(start, start + timedelta(hours=hours))],
        DEMO_LOADED_AT,
        "test",
    )
    rows = [
        {
            "name": f"Enterprise {i}",
            "external_id": f"E{i:04d}",
            "town": "Yuelin",
            "headcount": 10 * i,
            "phone": f"+8617000001{i:03d}",
            "language": "en",
        }
        for i in range(1, recipients + 1)
    ]
    with storage.transaction(database):
        storage.insert_recipients(database, distribution_id, rows)
    planning.allocate_distribution(database, distribution_id, DEMO_LOADED_AT, "test")
    return distribution_id
