"""The operator's commands, their output and their error messages."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from support import DEMO_LOADED_AT, app_settings

from shared import exports, storage
from shared.db import get_db

WINDOW = "2020-02-04T12:00/2020-02-04T14:00"
TOOK = r"%s in \d+\.\d s\.\n"  # a command's summary: what it did and how long it took
CREATE = [
    "create-distribution",
    "--name",
    "Thermometers for clinics",
    "--item",
    "Ear thermometer",
    "--item-key",
    "thermometers",
    "--unit-name",
    "box of 10",
    "--unit-size",
    "10",
    "--measure",
    "thermometers",
    "--stock",
    "915",
    "--site",
    "Health bureau",
    "--address",
    "1 Clinic Road",
    "--window",
    WINDOW,
    "--weight-basis",
    "requested",
    "--slot-minutes",
    "20",
    "--capacity-people",
    "2",
]
ROSTER = (
    "name,external_id,town,requested_units,contact_name,phone,language\n"
    "Clinic A,C-1,Yuelin,400,Li,138 0000 0001,zh\n"
    "Clinic B,C-2,Jinping,300,Wang,+86 138 0000 0002,en\n"
    "Clinic C,C-3,Xikou,600,Zhao,13800000003,zh\n"
)


@pytest.fixture(autouse=True)
def _morning_of_the_day(app):
    """Commands run on the morning of the article's day, before its windows open."""
    app.config["CLOCK"] = lambda: DEMO_LOADED_AT


def _invoke(runner, args, **kwargs):
    result = runner.invoke(args=args, **kwargs)
    return result, result.output


def test_init_db(runner):
    result, output = _invoke(runner, ["init-db"])
    assert result.exit_code == 0
    assert "The database is up to date." in output


def test_whole_flow_from_empty_database(runner, app, tmp_path):
    roster = tmp_path / "clinics.csv"
    roster.write_text(ROSTER)
    assert _invoke(runner, CREATE)[1] == (
        "Created distribution 1: Thermometers for clinics (sites 1: Health bureau)\n"
    )
    result, output = _invoke(runner, ["import-roster", str(roster)])
    assert result.exit_code == 0, output
    assert re.fullmatch(TOOK % "Imported 3 recipients into distribution 1", output)
    result, output = _invoke(runner, ["allocate"])
    assert re.fullmatch(
        TOOK % "Allocated 915 of 915 units by sainte_lague among 3 recipients \\(0 unallocated\\)",
        output,
    )
    result, output = _invoke(runner, ["schedule"])
    assert re.fullmatch(
        TOOK % "3 recipients booked into 6 slots \\(0 already had a booking\\)", output
    )
    out = tmp_path / "bookings.json"
    _invoke(runner, ["export", "bookings", "--format", "json", "--out", str(out)])
    rows = json.loads(out.read_text())
    assert sum(r["units"] for r in rows) == 915
    assert {r["phone"] for r in rows} == {"+8613800000001", "+8613800000002", "+8613800000003"}
    assert all(r["units"] <= {"C-1": 400, "C-2": 300, "C-3": 600}[r["external_id"]] for r in rows)
    # The schedule spread them: three slots of two places hold one each.
    assert len({r["slot_start"] for r in rows}) == 3


def test_import_with_errors_imports_nothing(runner, tmp_path):
    _invoke(runner, CREATE)
    roster = tmp_path / "bad.csv"
    roster.write_text(ROSTER + "Clinic D,C-1,Xikou,ten,Sun,12345,fr\n")
    result, output = _invoke(runner, ["import-roster", str(roster)])
    assert result.exit_code == 1
    assert "row 5, external_id: external_id 'C-1' is already used in row 2" in output
    assert "row 5, requested_units: requested_units 'ten' is not a whole number" in output
    assert "row 5, phone: phone '12345' is not a valid phone number" in output
    assert "Error: 1 row has errors; nothing was imported" in output
    with runner.app.app_context():
        assert storage.count_recipients(get_db(), 1) == 0


def test_import_in_batches_rolls_back_when_a_late_row_is_bad(runner, tmp_path, monkeypatch):
    # Batches of two: rows 2-5 are written before row 6 is found bad, and all are undone.
    monkeypatch.setattr("shared.cli.IMPORT_BATCH", 2)
    _invoke(runner, CREATE)
    roster = tmp_path / "late.csv"
    roster.write_text(ROSTER + "Clinic D,C-4,Xikou,10,Sun,,\nClinic E,,Xikou,10,Sun,,\n")
    result, output = _invoke(runner, ["import-roster", str(roster)])
    assert result.exit_code == 1
    assert "row 6, external_id: external_id is required" in output
    assert "Error: 1 row has errors; nothing was imported" in output
    with runner.app.app_context():
        assert storage.count_recipients(get_db(), 1) == 0
        assert "import_roster" not in {e["action"] for e in storage.audit_entries(get_db())}


def test_import_in_batches_imports_every_row(runner, tmp_path, monkeypatch):
    monkeypatch.setattr("shared.cli.IMPORT_BATCH", 2)
    _invoke(runner, CREATE)
    roster = tmp_path / "clinics.csv"
    roster.write_text(ROSTER)
    result, output = _invoke(runner, ["import-roster", str(roster)])
    assert re.fullmatch(TOOK % "Imported 3 recipients into distribution 1", output)
    with runner.app.app_context():
        assert storage.count_recipients(get_db(), 1) == 3


def test_export_bookings_csv_to_a_file_streams_every_booking(runner, tmp_path):
    _invoke(runner, ["demo", "--start", "2020-02-04T12:00"])
    out = tmp_path / "bookings.csv"
    result = runner.invoke(args=["export", "bookings", "--distribution", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote 12 bookings to {out}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeffrecipient,external_id,")  # the BOM Excel needs
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    stdout = runner.invoke(args=["export", "bookings", "--distribution", "2"]).stdout
    assert rows == list(csv.DictReader(io.StringIO(stdout)))
    assert len(rows) == 12 and sum(int(r["amount"]) for r in rows) == 192_400


def test_gbk_roster_with_chinese_headers(runner, tmp_path):
    _invoke(runner, CREATE)
    roster = tmp_path / "gbk.csv"
    roster.write_bytes("企业名称,统一社会信用代码,申请数量\n奉化诊所,Z-1,20\n".encode("gbk"))
    result, output = _invoke(runner, ["import-roster", str(roster)])
    assert result.exit_code == 0, output
    with runner.app.app_context():
        assert storage.list_recipients(get_db(), 1)[0]["name"] == "奉化诊所"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["allocate"], "There is no distribution yet: run `create-distribution` or `demo` first."),
        (["allocate", "--distribution", "7"], "Error: distribution 7 does not exist"),
        (["export", "ledger", "--distribution", "7"], "Error: distribution 7 does not exist"),
    ],
)
def test_errors_on_empty_database(runner, args, message):
    result, output = _invoke(runner, args)
    assert result.exit_code == 1
    assert message in output


def test_schedule_before_allocate_says_what_to_do(runner):
    _invoke(runner, CREATE)
    result, output = _invoke(runner, ["schedule"])
    assert result.exit_code == 1
    assert "Error: the distribution has no allotments yet; run allocate first" in output


def test_allocate_without_roster(runner):
    _invoke(runner, CREATE)
    result, output = _invoke(runner, ["allocate"])
    assert "Error: the distribution has no recipients yet; import a roster first" in output


def test_schedule_with_too_little_capacity(runner, tmp_path):
    _invoke(runner, [*CREATE[:-1], "1", "--slot-minutes", "60"])  # 2 slots of 1 place
    roster = tmp_path / "clinics.csv"
    roster.write_text(ROSTER)
    _invoke(runner, ["import-roster", str(roster)])
    _invoke(runner, ["allocate"])
    result, output = _invoke(runner, ["schedule"])
    assert result.exit_code == 1
    assert "3 recipients but the slots hold only 2" in output


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("2020-02-04T12:00", "give a window as START/END"),
        ("noon/2020-02-04T14:00", "'noon' is not a date and time like 2020-02-04T12:00"),
    ],
)
def test_create_distribution_bad_window(runner, window, message):
    args = list(CREATE)
    args[args.index(WINDOW)] = window
    result, output = _invoke(runner, args)
    assert result.exit_code == 2
    assert message in output


def test_demo_then_exports(runner):
    result, output = _invoke(runner, ["demo", "--start", "2020-02-04T12:00"])
    assert result.exit_code == 0, output
    assert "Distribution 1: 消毒用品发放" in output and "112 bookings" in output
    assert "12 bookings" in output
    result, output = _invoke(runner, ["demo"])
    assert result.exit_code == 1 and "already has distributions" in output
    result, output = _invoke(runner, ["demo", "--if-empty"])
    assert result.exit_code == 0 and "was not loaded again" in output
    result, output = _invoke(runner, ["allocate"])
    assert "There are 2 distributions; choose one with --distribution (1: " in output
    result = runner.invoke(args=["export", "ledger", "--distribution", "1"])
    assert result.stdout.splitlines()[0].startswith("recipient,external_id,units,amount")
    assert "Stock 614 = handed over 0 + outstanding 614 + unallocated 0: balanced" in (
        result.stderr
    )
    result = runner.invoke(args=["export", "bookings", "--distribution", "2"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 12 and sum(int(r["amount"]) for r in rows) == 192_400


@pytest.mark.parametrize(
    ("args", "action"),
    [
        (["create-user", "lee", "--role", "staff", "--password", "a long password"], "create_user"),
        (["create-token", "--role", "kiosk", "--name", "gate-1"], "create_token"),
        (CREATE, "create_distribution"),
    ],
)
def test_changes_by_command_name_the_operating_system_user(runner, app, monkeypatch, args, action):
    monkeypatch.setenv("LOGNAME", "ops-lee")
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        entry = storage.audit_entries(get_db(), limit=1)[0]
    assert (entry["actor"], entry["action"]) == ("cli:ops-lee", action)


def test_every_command_has_help(runner, app):
    for command in app.cli.commands.values():
        result = runner.invoke(args=[command.name, "--help"])
        assert result.exit_code == 0
        assert command.help and " ".join(command.help.split()[:4]) in " ".join(
            result.output.split()
        )


# -- the CLI path at size: streamed files, progress, summaries --------------------------------


def _big_roster(path, size: int) -> None:
    """``size`` enterprises with Chinese names and mobiles, written as an office exports them."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("企业名称", "编号", "镇街", "申请数量", "联系电话", "语言"))
        for i in range(size):
            writer.writerow(
                (f"测试企业{i}", f"E-{i:04d}", "西坞街道", 1 + i % 7, f"139 {i:04d} 0000", "zh")
            )


def _roomy(*changes: str) -> list[str]:
    """CREATE with room for a few hundred recipients: 60 people a slot, six slots."""
    args = list(CREATE)
    args[args.index("--capacity-people") + 1] = "60"
    args[args.index("--stock") + 1] = "2000"
    return [*args, *changes]


def test_a_few_hundred_rows_stream_in_and_out_in_batches(runner, tmp_path, monkeypatch):
    monkeypatch.setattr("shared.cli.IMPORT_BATCH", 64)
    _invoke(runner, _roomy())
    roster = tmp_path / "roster.csv"
    _big_roster(roster, 300)
    assert re.fullmatch(
        TOOK % "Imported 300 recipients into distribution 1",
        _invoke(runner, ["import-roster", str(roster)])[1],
    )
    _invoke(runner, ["allocate"])
    assert re.fullmatch(
        TOOK % "300 recipients booked into 6 slots \\(0 already had a booking\\)",
        _invoke(runner, ["schedule"])[1],
    )
    as_csv, as_json = tmp_path / "bookings.csv", tmp_path / "bookings.json"
    for fmt, out in (("csv", as_csv), ("json", as_json)):
        result = runner.invoke(args=["export", "bookings", "--format", fmt, "--out", str(out)])
        assert re.fullmatch(TOOK % f"Wrote 300 bookings to {re.escape(str(out))}", result.stderr)
    rows = list(csv.DictReader(io.StringIO(as_csv.read_text(encoding="utf-8-sig"))))
    written = json.loads(as_json.read_text(encoding="utf-8"))
    assert [r["voucher_code"] for r in rows] == [r["voucher_code"] for r in written]
    assert {r["phone"] for r in written} == {f"+86139{i:04d}0000" for i in range(300)}
    assert sum(r["units"] for r in written) == sum(1 + i % 7 for i in range(300))  # capped
    with runner.app.app_context():
        # The streamed JSON is the text the whole list would have made.
        whole = exports.to_json(exports.booking_rows(get_db(), 1, DEMO_LOADED_AT))
    assert as_json.read_text(encoding="utf-8") == whole
    stdout = runner.invoke(args=["export", "bookings", "--format", "json"])
    assert stdout.stdout == whole
    assert re.fullmatch(TOOK % "Wrote 300 bookings", stdout.stderr)


def test_no_bookings_export_as_an_empty_list(runner, tmp_path):
    _invoke(runner, CREATE)
    result = runner.invoke(args=["export", "bookings", "--format", "json"])
    assert (result.stdout, result.exit_code) == ("[]\n", 0)
    assert re.fullmatch(TOOK % "Wrote 0 bookings", result.stderr)


def test_without_a_terminal_there_is_no_progress_bar(runner, tmp_path):
    # The runner's stderr is no terminal (as a pipe or a log file): only the summaries.
    _invoke(runner, _roomy())
    roster = tmp_path / "roster.csv"
    _big_roster(roster, 20)
    for args in (["import-roster", str(roster)], ["schedule"], ["export", "bookings"]):
        if args == ["schedule"]:
            _invoke(runner, ["allocate"])
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert not {"Importing", "Scheduling", "Exporting"} & set(result.stderr.split())


def _flask_on_a_terminal(tmp_path, *args: str) -> tuple[int, str]:
    """Run ``flask --app wsgi ARGS`` with stderr on a pseudo-terminal; exit status and
    what the terminal showed."""
    import os
    import pty
    import subprocess
    import sys
    from pathlib import Path

    from support import SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PICKUP_", "TWILIO_"))}
    env |= {"PICKUP_DB": str(tmp_path / "tty.sqlite3"), "SECRET_KEY": SECRET}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=60), shown.decode()


@pytest.mark.parametrize(
    ("quiet", "shows_bar"), [([], True), (["--quiet"], False), (["-q"], False)]
)
def test_a_terminal_shows_the_progress_bar_unless_quiet(tmp_path, quiet, shows_bar):
    roster = tmp_path / "roster.csv"
    _big_roster(roster, 30)
    status, _ = _flask_on_a_terminal(tmp_path, *_roomy())
    assert status == 0
    status, shown = _flask_on_a_terminal(tmp_path, "import-roster", str(roster), *quiet)
    assert status == 0
    assert ("Importing" in shown and "100%" in shown) is shows_bar


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{}],
        [{"text": 'quote " backslash \\ newline \n 中文 \u2028 \x01', "empty": "", "none": None}],
        [{"true": True, "false": False, "int": -7, "big": 10**20, "float": 1.5, "zero": -0.0}],
        [{"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}, {"a": 1}],
        [{"nested": [1, {"x": 2}], "after": "y"}, {"a": "b"}],
    ],
)
def test_streamed_json_is_the_text_json_dumps_writes(rows):
    out = io.StringIO()
    assert exports.write_json(out, rows) == len(rows)
    assert out.getvalue() == exports.to_json(rows)


UNREACHABLE = "postgresql://pickup:secret@127.0.0.1:9/pickup"


@pytest.mark.parametrize(
    "args",
    [
        ["init-db"],
        ["demo"],
        ["allocate", "--distribution", "1"],
        ["schedule", "--distribution", "1"],
        ["export", "ledger", "--distribution", "1"],
        ["mark-no-shows"],
        ["send-outbox"],
    ],
    ids=lambda args: args[0],
)
def test_an_unreachable_database_is_one_error_line_not_a_traceback(args):
    """Every command goes through one error translation: the operator reads why, exit 1."""
    from wsgi import create_app

    app = create_app({**app_settings("unused"), "PICKUP_DB": UNREACHABLE})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith(
        "Error: cannot reach the database at postgresql://pickup:***@127.0.0.1:9/pickup: "
    )
    assert "secret" not in result.output
