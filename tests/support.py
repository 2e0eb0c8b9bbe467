"""Helpers the tests share: the test secret, the article's day, a small distribution.

Fixtures live in ``conftest.py``; everything a test imports by name lives here.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared import distributions, planning, storage
from shared.vouchers import voucher_code

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


def fresh_demo(demo_template, directory) -> str:
    """PICKUP_DB of a new copy of the demo database (the ``demo_template`` fixture): a file
    in ``directory`` on SQLite, a database of its own on PostgreSQL."""
    if callable(demo_template):
        return demo_template()
    path = Path(directory) / "demo.sqlite3"
    shutil.copy(demo_template, path)
    return str(path)


def app_settings(path) -> dict:
    """The settings of a test app whose database is ``path``."""
    return {"TESTING": True, "SECRET_KEY": SECRET, "PICKUP_DB": str(path), "PICKUP_ENV": "test"}


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
    distribution_id = distributions.create_distribution(
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
        [
            distributions.SiteSpec(
                "Test site", "1 Test Road", [(start, start + timedelta(hours=hours))]
            )
        ],
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
