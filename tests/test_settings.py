"""Settings: defaults, parsing, and a secret key that fails closed."""

from __future__ import annotations

import pytest

from shared import settings
from shared.errors import InvalidInput
from wsgi import create_app


def test_defaults(tmp_path):
    config = settings.load_settings({}, tmp_path)
    assert config["PICKUP_ENV"] == "production"
    assert config["PICKUP_DB"] == str(tmp_path / "pickup.sqlite3")
    assert config["PICKUP_HOLD_MINUTES"] == 5


def test_values_are_parsed(tmp_path):
    config = settings.load_settings(
        {"PICKUP_BUSY_TIMEOUT_MS": "250", "PICKUP_LOG_SQL": "yes"}, tmp_path
    )
    assert config["PICKUP_BUSY_TIMEOUT_MS"] == 250
    assert config["PICKUP_LOG_SQL"] is True


@pytest.mark.parametrize("name", ["VOUCHER_SECRET", "CLOCK", "SMS_SENDER"])
def test_settings_the_app_makes_are_never_read_from_the_environment(tmp_path, name):
    config = settings.load_settings({name: "from the environment"}, tmp_path)
    assert config[name] is None


def test_voucher_secret_is_the_secret_key(tmp_path):
    app = create_app({"SECRET_KEY": "k" * 32, "PICKUP_DB": str(tmp_path / "db.sqlite3")})
    assert app.config["VOUCHER_SECRET"] == b"k" * 32


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PICKUP_BUSY_TIMEOUT_MS": "soon"}, "setting PICKUP_BUSY_TIMEOUT_MS: invalid literal"),
        ({"PICKUP_LOG_SQL": "maybe"}, "setting PICKUP_LOG_SQL: expected true or false"),
    ],
)
def test_bad_values_name_the_setting(tmp_path, env, message):
    with pytest.raises(InvalidInput, match=message):
        settings.load_settings(env, tmp_path)


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PICKUP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"PICKUP_DB": str(tmp_path / "x.sqlite3")})


def test_development_key_is_generated_once_and_kept(tmp_path):
    config = {"PICKUP_ENV": "development"}
    settings.ensure_secret_key(config, tmp_path)
    again = {"PICKUP_ENV": "development"}
    settings.ensure_secret_key(again, tmp_path)
    assert config["SECRET_KEY"] == again["SECRET_KEY"]
    assert len(config["SECRET_KEY"]) == 64
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0


def test_no_secret_literal_in_code():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for path in [*root.glob("*.py"), *root.glob("shared/*.py"), *root.glob("kiosk/*.py")]:
        text = path.read_text()
        assert "you-will-never-guess" not in text and "SECRET_KEY = '" not in text, path
