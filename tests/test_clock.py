"""The one clock: ``shared.clock.now`` is ``app.config["CLOCK"]`` inside an app, else UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import clock, storage

REPLAYED = datetime(2020, 2, 20, 9, 30, tzinfo=UTC)


def test_outside_an_app_it_is_the_real_time_in_utc():
    before = storage.now_utc()
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert before <= moment <= storage.now_utc() + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(lambda: REPLAYED, REPLAYED), (None, None)],
    ids=["replayed", "unset"],
)
def test_inside_an_app_it_asks_the_configured_clock(app, monkeypatch, configured, expected):
    monkeypatch.setattr(storage, "now_utc", lambda: REPLAYED - timedelta(days=1))
    app.config["CLOCK"] = configured
    with app.app_context():
        assert clock.now() == (expected or REPLAYED - timedelta(days=1))


def test_a_request_sees_the_replayed_time(app):
    app.config["CLOCK"] = lambda: REPLAYED
    with app.test_request_context("/"):
        assert clock.now() == REPLAYED
