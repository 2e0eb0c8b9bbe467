"""deploy/pg-backup.sh on a live PostgreSQL demo database, as test_backup.py tests the
SQLite script: a dump taken while bookings are cancelled and made again restores (with
pg_restore, as the script's header says) to a whole database; old dumps rotate out; bad
arguments and an unreachable server are refused clearly and keep nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from backup_support import Rebooker, live_bookings
from support import DEMO_LOADED_AT, DEMO_START, make_code, require

from shared import demo, storage

ROOT = Path(__file__).resolve().parents[1]
PG_BACKUP = ROOT / "deploy" / "pg-backup.sh"


@pytest.fixture
def pg(postgresql_databases):
    """(make a new database from a template or empty, its URL): dropped after the test."""
    require(shutil.which("pg_dump") is not None, "pg_dump (apt-get install postgresql-client)")
    made: list[str] = []

    def load_demo(database) -> None:  # the same demo template as the fixtures' demo_template
        storage.migrate(database)
        demo.load_demo(database, DEMO_LOADED_AT, make_code, DEMO_START)

    def new(demo: bool = False) -> str:
        template = postgresql_databases.template("demo", load_demo) if demo else None
        made.append(postgresql_databases.create(template))
        return postgresql_databases.url(made[-1])

    yield new
    for name in made:
        postgresql_databases.drop(name)


def run(*args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PICKUP_DB"}
    return subprocess.run(
        ["sh", str(PG_BACKUP), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def bookings(url: str) -> list[tuple]:
    db = storage.open_database(url)
    try:
        return live_bookings(db)
    finally:
        db.conn.close()


def restore(dump: Path, url: str) -> None:
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", url, str(dump)],
        check=True,
        capture_output=True,
    )


def test_pg_backup_while_writing_then_restore(pg, tmp_path):
    live = pg(demo=True)
    backups = tmp_path / "backups"
    writer = Rebooker(live)
    writer.start()
    try:
        while writer.writes < 20:
            writer.stop.wait(0.01)
        before = writer.writes
        taken = run(live, backups, 2)
        assert taken.returncode == 0, taken.stderr
        assert writer.writes > before  # the nodes kept writing during the dump
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    hot_copy = Path(taken.stdout.strip())
    assert hot_copy.parent == backups and hot_copy.name.endswith(".pgdump")
    hot_restored = pg()
    restore(hot_copy, hot_restored)
    # One snapshot between two transactions: one representative may be between cancel and
    # rebook.
    assert len(bookings(hot_restored)) in {123, 124}
    assert storage.pending_migrations(storage.open_database(hot_restored)) == []

    # Quiet now: two more dumps; only the newest two are kept.
    for _ in range(2):
        latest = run(live, backups, 2)
        assert latest.returncode == 0, latest.stderr
    newest = Path(latest.stdout.strip())
    assert sorted(backups.iterdir())[-1] == newest and len(list(backups.iterdir())) == 2
    assert not hot_copy.exists()
    restored = pg()
    restore(newest, restored)
    assert bookings(restored) == bookings(live)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{live}", "{dir}/b", "0"], "pg-backup.sh: KEEP must be at least 1"),
        (["{live}", "{dir}/b", "x"], "pg-backup.sh: KEEP must be a whole number, got 'x'"),
        (
            ["{dir}/pickup.sqlite3", "{dir}/b"],
            "pg-backup.sh: not a postgresql:// URL; for a SQLite file use deploy/backup.sh",
        ),
        (["", "{dir}/b"], "pg-backup.sh: give the database's URL (or set PICKUP_DB)"),
        (
            ["postgresql://pickup@127.0.0.1:9/pickup", "{dir}/b"],
            'pg_dump: error: connection to server at "127.0.0.1", port 9 failed',
        ),
    ],
)
def test_pg_backup_refuses_clearly_and_keeps_nothing(pg, tmp_path, args, message):
    live = pg()
    values = {"live": live, "dir": tmp_path}
    result = run(*(a.format(**values) for a in args))
    assert result.returncode != 0
    assert result.stderr.startswith(message.format(**values)), result.stderr
    if "pg_dump: error" in message:
        assert result.stderr.rstrip().endswith("pg-backup.sh: pg_dump failed, kept nothing")
    assert not any((tmp_path / "b").glob("*")) and not any((tmp_path / "b").glob(".*"))
