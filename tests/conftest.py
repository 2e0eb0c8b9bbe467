"""Fixtures: `app`, `client`, `runner` on a database in tmp_path; `demo_app` with the demo."""

from __future__ import annotations

import shutil

import pytest
from support import DEMO_LOADED_AT, DEMO_START, app_settings, make_code

from shared import demo, storage
from shared.db import get_db
from wsgi import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app(app_settings(tmp_path / "test.sqlite3"))
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
    return create_app(app_settings(path))


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
