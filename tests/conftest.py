"""Fixtures: `app`, `client`, `runner` on a fresh database; `demo_app` with the demo.

Every test that uses them runs twice, on SQLite (a file in tmp_path) and on PostgreSQL (a
database of its own, copied from a migrated template): ids ``[sqlite]`` and
``[postgresql]``. A test about SQLite itself is marked ``sqlite_only``. The PostgreSQL
server is ``PICKUP_TEST_POSTGRESQL`` (a URL; ``.ci/run`` starts one), else a throwaway
cluster the session starts itself (tests/postgresql_cluster.py); without either, only
the PostgreSQL half is skipped, and with ``CI=true`` it fails instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import postgresql_cluster
import pytest
from browser_support import ARGS, CHROMIUM, CspWatch
from kiosk_support import AT, PASSWORD
from support import DEMO_LOADED_AT, DEMO_START, SECRET, app_settings, make_code, require

from shared import accounts, booking, demo, storage
from shared.db import get_db
from shared.handover import hand_over
from shared.verification import check_in
from wsgi import create_app

ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """Run every test that reaches the ``engine`` fixture once per engine."""
    if "engine" in metafunc.fixturenames:
        engines = ["sqlite"] if metafunc.definition.get_closest_marker("sqlite_only") else ENGINES
        metafunc.parametrize("engine", engines, indirect=True, ids=list(engines))


@pytest.fixture
def engine(request) -> str:
    """The database engine this run of the test uses: ``sqlite`` or ``postgresql``."""
    return request.param


class PostgresqlDatabases:
    """Databases on one PostgreSQL server: a template made once, a copy for each test."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.prefix = f"pickup_test_{os.getpid()}"
        self.counter = itertools.count()
        self.templates: dict[str, str] = {}

    def url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        copy = f" TEMPLATE {template}" if template else ""
        self.admin.execute(f"CREATE DATABASE {name}{copy}")
        return name

    def drop(self, name: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def template(self, kind: str, fill) -> str:
        """The template database ``kind``, made on first use by ``fill(database)``."""
        if kind not in self.templates:
            name = self.create()
            database = storage.open_database(self.url(name))
            fill(database)
            database.conn.close()
            self.templates[kind] = name
        return self.templates[kind]

    def close(self) -> None:
        for name in self.templates.values():
            self.drop(name)
        self.admin.close()


@pytest.fixture(scope="session")
def postgresql_databases():
    given = os.environ.get("PICKUP_TEST_POSTGRESQL")
    cluster = None
    if not given:
        require(
            postgresql_cluster.binaries() is not None,
            f"PostgreSQL is not installed: {postgresql_cluster.INSTALL_HINT}",
        )
        cluster, given = postgresql_cluster.start()
    databases = PostgresqlDatabases(given)
    yield databases
    databases.close()
    if cluster is not None:
        postgresql_cluster.stop(cluster)


def _database(request, engine: str, tmp_path, kind: str, fill, sqlite_file):
    """A fresh database for one test: the SQLite file ``sqlite_file()`` makes, or a copy of
    the PostgreSQL template ``kind``; yields the value for PICKUP_DB."""
    if engine == "sqlite":
        yield sqlite_file()
        return
    databases = request.getfixturevalue("postgresql_databases")
    name = databases.create(databases.template(kind, fill))
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture
def database_target(request, engine, tmp_path):
    """PICKUP_DB of a fresh, migrated database on the test's engine."""
    yield from _database(
        request, engine, tmp_path, "migrated", storage.migrate, lambda: tmp_path / "test.sqlite3"
    )


@pytest.fixture
def app(database_target):
    app = create_app(app_settings(database_target))
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


def load_demo(database) -> None:
    storage.migrate(database)
    demo.load_demo(database, DEMO_LOADED_AT, make_code, DEMO_START)


@pytest.fixture(scope="session")
def demo_sqlite_template(tmp_path_factory):
    """The demo database as a SQLite file, built once per session and copied for each test
    that needs it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = storage.open_database(path)
    load_demo(database)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.conn.close()
    return path


@pytest.fixture
def demo_template(request, engine):
    """Where a test's demo databases come from, for ``support.fresh_demo``: on SQLite the
    session's demo file; on PostgreSQL a maker of databases copied from the demo template
    (dropped after the test)."""
    if engine == "sqlite":
        yield request.getfixturevalue("demo_sqlite_template")
        return
    databases = request.getfixturevalue("postgresql_databases")
    made: list[str] = []

    def make() -> str:
        made.append(databases.create(databases.template("demo", load_demo)))
        return databases.url(made[-1])

    yield make
    for name in made:
        databases.drop(name)


@pytest.fixture
def demo_target(request, engine, tmp_path):
    """PICKUP_DB of a fresh copy of the demo database on the test's engine."""

    def copy_file():
        path = tmp_path / "demo.sqlite3"
        shutil.copy(request.getfixturevalue("demo_sqlite_template"), path)
        return path

    yield from _database(request, engine, tmp_path, "demo", load_demo, copy_file)


@pytest.fixture
def demo_app(demo_target):
    return create_app(app_settings(demo_target))


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


def _starting(rows, hour, minute):
    return [
        r
        for r in rows
        if storage.from_db_time(r["starts_at"]).astimezone(DEMO_START.tzinfo).strftime("%H:%M")
        == f"{hour:02d}:{minute:02d}"
    ]


@pytest.fixture
def office_day(demo_app):
    """The demo at 13:00 with a booking in every state (:func:`set_up_office_day`)."""
    return set_up_office_day(demo_app)


def set_up_office_day(demo_app):
    """The demo at 13:00 with a booking in every state, as the article's day would have it.

    At 12:00 nobody came (missed); at 12:45 one collected all, one part; at 13:00 one
    checked in; one cancelled and has no booking; another cancelled and booked again;
    one more recipient joined the roster after scheduling and has no booking.
    """
    demo_app.config["CLOCK"] = lambda: AT
    key = SECRET.encode()
    with demo_app.app_context():
        db = get_db()
        accounts.create_user(db, "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
        accounts.create_user(db, "sam", PASSWORD, "staff", DEMO_LOADED_AT, "test")
        rows = storage.voucher_views_for_distribution(db, 1)
        quarter = _starting(rows, 12, 45)
        hand_over(db, quarter[0]["code"], key, AT - timedelta(minutes=10), "sam", "Desk 1")
        hand_over(db, quarter[1]["code"], key, AT - timedelta(minutes=9), "sam", "Desk 1", 1)
        check_in(db, _starting(rows, 13, 0)[0]["code"], key, AT, "kiosk")
        gone, back = _starting(rows, 15, 0)[:2]
        booking.cancel_booking(db, gone["recipient_id"], DEMO_LOADED_AT, "sms")
        booking.cancel_booking(db, back["recipient_id"], DEMO_LOADED_AT, "sms")
        later = booking.free_slots(db, back["recipient_id"], DEMO_LOADED_AT)[0]
        booking.book_slot(db, back["recipient_id"], later["id"], DEMO_LOADED_AT, "sms", make_code)
        with storage.transaction(db):
            storage.insert_recipients(
                db, 1, [{"name": "Latecomer Ltd", "external_id": "L1", "headcount": 5}]
            )
    return demo_app


# -- the browser tests: Debian's Chromium under Playwright ----------------------------------
@pytest.fixture
def csp():
    """A :class:`CspWatch`; the test fails if any attached context saw a violation."""
    watch = CspWatch()
    yield watch
    assert watch.violations == []


@pytest.fixture(scope="module")
def playwright():
    require(CHROMIUM.exists(), "Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()
