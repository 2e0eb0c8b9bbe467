"""The composition root: builds the app from settings, storage and the channel blueprints.

``flask --app wsgi <command>`` for the CLI; ``gunicorn wsgi:app`` in production.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify

import web
from shared import db, settings, storage


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app. ``test_config`` overrides the environment (tests use it)."""
    # No app-wide static folder: each blueprint serves its own files.
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    config = settings.load_settings(os.environ, app.instance_path)
    if test_config:
        config.update(test_config)
    settings.ensure_secret_key(config, app.instance_path)
    app.config.update(config)
    app.config["VOUCHER_SECRET"] = app.config["SECRET_KEY"].encode()
    app.json.ensure_ascii = False

    web.init_app(app)
    db.init_app(app)

    # Each channel is a blueprint; imported here, not at module level, so that importing
    # wsgi never builds anything.
    from admin import bp as admin_bp
    from admin import cli as admin_cli
    from auth import bp as auth_bp
    from kiosk import api_bp, staff_bp
    from kiosk import bp as kiosk_bp
    from kiosk import cli as kiosk_cli
    from shared import cli as core_cli
    from sms import bp as sms_bp
    from sms import cli as sms_cli

    for blueprint in (kiosk_bp, auth_bp, staff_bp, api_bp, sms_bp, admin_bp):
        app.register_blueprint(blueprint)
    # Every command the one way: each package's cli.COMMANDS, top level of `flask`.
    for package_cli in (core_cli, kiosk_cli, sms_cli, admin_cli):
        core_cli.add_commands(app.cli, package_cli.COMMANDS)

    @app.get("/healthz")
    def healthz():
        """Liveness and readiness: the database answers and has every migration."""
        database = db.get_db()
        pending = storage.pending_migrations(database)
        ok = not pending
        body = {"status": "ok" if ok else "migrations pending", "pending": pending}
        return jsonify(body), 200 if ok else 503

    return app


def __getattr__(name: str) -> Flask:
    # `app` is built on first use, not at import, so importing wsgi (tests, the CLI's
    # --app lookup of create_app) never reads the environment or opens the database.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
