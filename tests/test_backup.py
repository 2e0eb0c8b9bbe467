"""deploy/backup.sh and deploy/restore.sh on a live demo database.

A backup taken while bookings are cancelled and made again is whole (integrity_check,
every booking with its voucher); a restore brings back exactly the bookings backed up,
keeps the database it replaced, and refuses a damaged backup without touching anything.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from backup_support import Rebooker, live_bookings
from support import DEMO_LOADED_AT, require

from shared import booking, storage

ROOT = Path(__file__).resolve().parents[1]
BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"


@pytest.fixture
def live_db(tmp_path, demo_sqlite_template) -> Path:
    require(shutil.which("sqlite3") is not None, "the sqlite3 command (apt-get install sqlite3)")
    path = tmp_path / "pickup.sqlite3"
    shutil.copy(demo_sqlite_template, path)
    return path


def run(script: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script), *map(str, args)], capture_output=True, text=True, timeout=60
    )


def bookings(path: Path) -> list[tuple]:
    """Every live booking with its voucher; the file passes integrity_check."""
    db = storage.open_database(path)
    try:
        assert storage.integrity_check(db) == "ok"
        return live_bookings(db)
    finally:
        db.conn.close()


def test_backup_while_writing_then_restore(live_db, tmp_path):
    backups = tmp_path / "backups"
    writer = Rebooker(live_db)
    writer.start()
    try:
        while writer.writes < 20:
            writer.stop.wait(0.01)
        before = writer.writes
        taken = run(BACKUP, live_db, backups, 2)
        assert taken.returncode == 0, taken.stderr
        assert writer.writes > before  # the service kept writing during the backup
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    hot_copy = Path(taken.stdout.strip())
    # A snapshot between two transactions: one representative may be between cancel and rebook.
    assert hot_copy.parent == backups and len(bookings(hot_copy)) in {123, 124}

    # Quiet now: two more backups; only the newest two are kept.
    for _ in range(2):
        latest = run(BACKUP, live_db, backups, 2)
        assert latest.returncode == 0, latest.stderr
    newest = Path(latest.stdout.strip())
    assert sorted(backups.iterdir())[-1] == newest and len(list(backups.iterdir())) == 2
    assert not hot_copy.exists()
    expected = bookings(live_db)

    # Later writes, then the restore brings back exactly what was backed up.
    db = storage.open_database(live_db)
    booking.cancel_booking(db, storage.list_recipients(db, 1)[0]["id"], DEMO_LOADED_AT, "test")
    db.conn.close()
    assert bookings(live_db) != expected
    restored = run(RESTORE, newest, live_db)
    assert restored.returncode == 0, restored.stderr
    assert bookings(live_db) == expected
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("pickup.sqlite3.before-restore-")]
    assert len(kept) == 1 and len(bookings(kept[0])) == len(expected) - 1


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        (BACKUP, ["{db}", "{dir}", "0"], "backup.sh: KEEP must be at least 1"),
        (BACKUP, ["{db}", "{dir}", "x"], "backup.sh: KEEP must be a whole number, got 'x'"),
        (BACKUP, ["{dir}/missing.sqlite3", "{dir}"], "backup.sh: no database at {dir}/missing"),
        (RESTORE, [], "usage: restore.sh BACKUP [DATABASE]"),
        (RESTORE, ["{dir}/none.sqlite3", "{db}"], "restore.sh: no backup at {dir}/none.sqlite3"),
        (RESTORE, ["{damaged}", "{db}"], "restore.sh: the backup failed integrity_check"),
    ],
)
def test_scripts_refuse_clearly_and_change_nothing(live_db, tmp_path, script, args, message):
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(live_db.read_bytes())
    data[4096 * 3 : 4096 * 6] = b"\xff" * (4096 * 3)  # trash a few b-tree pages
    damaged.write_bytes(bytes(data))
    values = {"db": live_db, "dir": tmp_path, "damaged": damaged}
    before = bookings(live_db)
    result = run(script, *(a.format(**values) for a in args))
    assert result.returncode != 0
    assert result.stderr.startswith(message.format(**values))
    assert bookings(live_db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.sqlite3", "pickup.sqlite3"]
