import csv
import io
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import InvalidInput, PickupError, RosterInvalid
from shared.roster import (
    COLUMNS,
    REQUIRED,
    USCC_CHARSET,
    RowError,
    decode_roster,
    is_valid_uscc,
    iter_roster,
    parse_roster,
    roster_file_facts,
    template_csv,
    to_e164,
    uscc_check_char,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ",".join(COLUMNS)
BASE = {
    "name": "Acme Disinfectant Co.",
    "external_id": "E0001",
    "town": "Yuelin",
    "headcount": "120",
    "population": "",
    "requested_units": "200",
    "floor_units": "20",
    "contact_name": "Li Lei",
    "phone": "138 0013 8000",
    "language": "en",
    "priority": "1",
    "earliest": "2020-02-04 09:00",
    "latest": "2020-02-04 12:00",
    "site": "",
}
# Codes that real companies publish (the first is Huawei Technologies Co., Ltd.); written down
# independently of this module, so agreeing with them checks the algorithm, not just itself.
PUBLISHED_USCCS = ("914403001922038216", "9144030071526726XG", "91330100716105852F")
# The sample resident identity number of GB 11643-1999: USCC-shaped, but not a USCC.
SAMPLE_RESIDENT_ID = "11010519491231002X"
ACCEPTED_COLUMNS = ", ".join(COLUMNS)
NOTHING = "nothing was imported"


def line(**changes: str) -> str:
    """One CSV data line: BASE with some cells changed."""
    values = BASE | changes
    out = io.StringIO()
    csv.writer(out).writerow([values[column] for column in COLUMNS])
    return out.getvalue().removesuffix("\r\n")


def roster(*lines: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *lines]) + "\r\n"


def rejection(data: bytes | str, **kwargs: str) -> RosterInvalid:
    with pytest.raises(RosterInvalid) as info:
        parse_roster(data, **kwargs)
    return info.value


def messages(data: bytes | str, **kwargs: str) -> list[str]:
    return [str(error) for error in rejection(data, **kwargs).errors]


def only_row(data: bytes | str, **kwargs: str) -> dict:
    rows = parse_roster(data, **kwargs)
    assert len(rows) == 1
    return rows[0]


# --- happy path ---------------------------------------------------------------------------


def test_a_good_row_is_typed() -> None:
    assert parse_roster(roster(line())) == [
        {
            "name": "Acme Disinfectant Co.",
            "external_id": "E0001",
            "town": "Yuelin",
            "headcount": 120,
            "population": None,
            "requested_units": 200,
            "floor_units": 20,
            "contact_name": "Li Lei",
            "phone": "+8613800138000",
            "language": "en",
            "priority": 1,
            "earliest": datetime(2020, 2, 4, 9, 0, tzinfo=SHANGHAI),
            "latest": datetime(2020, 2, 4, 12, 0, tzinfo=SHANGHAI),
            "site": None,
            "site_id": None,
        }
    ]


def test_blank_optional_cells_take_their_defaults() -> None:
    blank = {column: "" for column in COLUMNS if column not in REQUIRED}
    assert only_row(roster(line(**blank))) == {
        "name": "Acme Disinfectant Co.",
        "external_id": "E0001",
        "town": None,
        "headcount": None,
        "population": None,
        "requested_units": None,
        "floor_units": 0,
        "contact_name": None,
        "phone": None,
        "language": "zh",
        "priority": 0,
        "earliest": None,
        "latest": None,
        "site": None,
        "site_id": None,
    }


def test_only_the_required_columns_are_needed() -> None:
    rows = parse_roster("external_id,name\nT-01,西坞街道\nT-02,江口街道\n")
    assert [(row["name"], row["external_id"]) for row in rows] == [
        ("西坞街道", "T-01"),
        ("江口街道", "T-02"),
    ]
    assert all(tuple(row) == (*COLUMNS, "site_id") for row in rows)
    assert rows[0]["floor_units"] == 0 and rows[0]["language"] == "zh"


def test_text_cells_are_stripped() -> None:
    row = only_row(roster(line(name="  Acme  ", town="\tYuelin ", contact_name=" Li Lei ")))
    assert (row["name"], row["town"], row["contact_name"]) == ("Acme", "Yuelin", "Li Lei")


def test_bidi_controls_are_dropped_from_text_cells() -> None:
    """U+202E and its kind would reorder a name wherever it is shown."""
    row = only_row(roster(line(name="Acme \u202eexe.txt", contact_name="\u2066Li\u2069 Lei")))
    assert (row["name"], row["contact_name"]) == ("Acme exe.txt", "Li Lei")


def test_utf8_bytes() -> None:
    assert only_row(roster(line(name="宁波消毒剂厂")).encode())["name"] == "宁波消毒剂厂"


def test_utf8_with_bom_bytes_and_text() -> None:
    data = roster(line(name="宁波消毒剂厂"))
    assert only_row(data.encode("utf-8-sig"))["name"] == "宁波消毒剂厂"
    assert only_row("\ufeff" + data)["name"] == "宁波消毒剂厂"


def test_gbk_bytes_with_chinese_headers_and_names() -> None:
    text = (
        "企业名称,统一社会信用代码,镇（街道）,员工人数,申请数量,保底,联系人,联系电话,语言,优先级,领取点\r\n"
        "宁波华光消毒用品有限公司,914403001922038216,西坞街道,85,100,10,王芳,13800138000,中文,2,"
        " 镇政府 \r\n"
        "奉化江口日化厂,E-02,江口街道,12,,,张伟,０５７４－８８８８８８８８,英文,,\r\n"
    )
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the GBK path is what is under test
    first, second = parse_roster(data, sites=[{"id": 7, "name": "镇政府"}])
    assert first == {
        "name": "宁波华光消毒用品有限公司",
        "external_id": "914403001922038216",
        "town": "西坞街道",
        "headcount": 85,
        "population": None,
        "requested_units": 100,
        "floor_units": 10,
        "contact_name": "王芳",
        "phone": "+8613800138000",
        "language": "zh",
        "priority": 2,
        "earliest": None,
        "latest": None,
        "site": "镇政府",
        "site_id": 7,
    }
    assert (second["name"], second["phone"], second["language"]) == (
        "奉化江口日化厂",
        "+8657488888888",
        "en",
    )


def test_decode_roster() -> None:
    assert decode_roster("名称".encode()) == "名称"
    assert decode_roster("名称".encode("utf-8-sig")) == "名称"
    assert decode_roster("名称".encode("gbk")) == "名称"
    assert decode_roster(b"") == ""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_roster_file_is_read_as_a_stream_to_the_same_rows(tmp_path, encoding: str) -> None:
    text = roster(line(), line(external_id="E0002", name="宁波示例消毒用品有限公司"))
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    # Chunks of 3 bytes split the Chinese characters: the decoders carry them over.
    found, lines = roster_file_facts(path, chunk_size=3)
    assert (found, lines) == ("gb18030" if encoding == "gbk" else "utf-8-sig", 3)
    with path.open(encoding=found, newline="") as f:
        assert list(iter_roster(f)) == parse_roster(text)


WORKBOOK = "the file is an Excel workbook, not CSV; in Excel use Save As > CSV UTF-8"
NOT_TEXT = "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04\x14\x00", WORKBOOK),
        ("name,external_id".encode("utf-16"), NOT_TEXT),
        (b"name,external_id\n\xff\xfe\xfa,E1\n", NOT_TEXT),
    ],
)
def test_a_roster_file_that_is_not_csv_text(tmp_path, data: bytes, expected: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    with pytest.raises(RosterInvalid) as caught:
        roster_file_facts(path, chunk_size=4)
    assert caught.value.errors == [RowError(0, "", expected)]
    assert str(caught.value) == f"{expected}; {NOTHING}"


def test_a_roster_is_bytes_text_or_a_text_file() -> None:
    with pytest.raises(InvalidInput, match="a roster is bytes, str or a text file, not int"):
        list(iter_roster(5))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "header",
    [
        HEADER,
        HEADER.upper(),
        " , ".join(f" {column} " for column in COLUMNS),
        "Name,External ID,Town,Headcount,Population,Requested Units,Floor-Units,Contact Name,"
        "Phone,Language,Priority,Earliest,Latest,Site",
        "企业名称,统一社会信用代码,镇（街道）,人数,人口,申请数量,最少数量,联系人,电话,语言,优先级,"
        "最早时间,最晚时间,领取点",
        "名称,信用代码,镇(街道),员工人数,人口,需求数量,保底,联系人,手机,语言,优先级,最早,最晚,领取点",
        "名称,编号,所属镇街,人数,人口,需求数量,保底,联系人,联系电话,语言,优先级,最早,最晚,领取地点",
        "名称,编号,镇街,人数,人口,需求数量,保底,联系人,电话,语言,优先级,最早,最晚,领取点",
        "ｎａｍｅ,ＥＸＴＥＲＮＡＬ＿ＩＤ,town,headcount,population,requested_units,floor_units,"
        "contact_name,phone,language,priority,earliest,latest,ｓｉｔｅ",
    ],
)
def test_header_aliases_case_spaces_and_widths(header: str) -> None:
    assert parse_roster(roster(line(), header=header)) == parse_roster(roster(line()))


def test_columns_can_come_in_any_order() -> None:
    text = "phone,external_id,name\r\n13800138000,E1,Acme\r\n"
    row = only_row(text)
    assert (row["name"], row["external_id"], row["phone"]) == ("Acme", "E1", "+8613800138000")


def test_blank_lines_are_skipped_and_a_cell_may_span_lines() -> None:
    text = "\r\n" + HEADER + "\r\n\r\n" + line(name="Acme\nNorth") + "\r\n,,,,,,,,,,,,\r\n   \r\n"
    assert [row["name"] for row in parse_roster(text)] == ["Acme\nNorth"]


def test_unnamed_empty_columns_are_ignored() -> None:
    assert only_row(roster(line() + ",,", header=HEADER + ",,"))["name"] == BASE["name"]


def test_template_round_trips() -> None:
    template = template_csv()
    assert template.splitlines()[0] == HEADER
    rows = parse_roster(template)
    assert [row["language"] for row in rows] == ["zh", "en"]
    assert is_valid_uscc(rows[0]["external_id"])
    assert all(row["phone"] and row["phone"].startswith("+86") for row in rows)
    assert parse_roster(template.encode("utf-8-sig")) == rows
    assert parse_roster(template.encode("gbk")) == rows


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("138 0000 0000", "+8613800000000"),
        ("13800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("１３８ ００１３ ８０００", "+8613800138000"),  # full-width digits
        ("\u3000138 0013 8000\u3000", "+8613800138000"),  # full-width spaces
        ("＋８６ １３８００１３８０００", "+8613800138000"),
        ("0574-8888 8888", "+8657488888888"),  # a Ningbo landline
        ("+1 650-253-0000", "+16502530000"),
        ("", None),
    ],
)
def test_phone_is_normalised_to_e164(raw: str, expected: str | None) -> None:
    assert only_row(roster(line(phone=raw)))["phone"] == expected


def _phonenumbers_e164(text: str, region: str) -> str | None:
    """What phonenumbers itself says, without the roster's fast path for Chinese mobiles."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_the_fast_path_for_chinese_mobiles_agrees_with_phonenumbers() -> None:
    # Every prefix 100-199 with random tails, in the forms the fast path reads and some it
    # must leave to phonenumbers (a digit short or over, 86 or 0 in front, a carrier code).
    rng = random.Random(14)
    for prefix in range(100, 200):
        for _ in range(4):
            number = f"{prefix}{rng.randrange(10**8):08d}"
            forms = (
                number,
                f"{number[:3]} {number[3:7]} {number[7:]}",
                f"{number[:3]}-{number[3:7]}-{number[7:]}",
                f"+86{number}",
                f"+86 {number[:3]} {number[3:7]} {number[7:]}",
                f"0086{number}",
                f"86{number}",
                f"0{number}",
                f"17951{number}",
                number[:-1],
                number + "5",
            )
            for form in forms:
                assert to_e164(form, "CN") == _phonenumbers_e164(form, "CN"), form


def test_phone_without_a_country_code_uses_the_default_region() -> None:
    assert only_row(roster(line(phone="650 253 0000")), default_region="US")["phone"] == (
        "+16502530000"
    )


@pytest.mark.parametrize("raw", ["12345", "138001380", "+86 12", "not a phone", "13800138000000"])
def test_invalid_phone(raw: str) -> None:
    assert messages(roster(line(phone=raw))) == [
        f"row 2, phone: phone '{raw}' is not a valid phone number"
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zh", "zh"),
        ("ZH-cn", "zh"),
        ("zh_CN", "zh"),
        ("中文", "zh"),
        ("CN", "zh"),
        ("en", "en"),
        ("English", "en"),
        ("英文", "en"),
        (" EN ", "en"),
        ("", "zh"),
    ],
)
def test_language(raw: str, expected: str) -> None:
    assert only_row(roster(line(language=raw)))["language"] == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("120", 120),
        ("+7", 7),
        ("007", 7),
        ("１２０", 120),
        ("\u3000120\u3000", 120),
        ("1,200", 1200),
        ("120.00", 120),
        ("2147483647", 2147483647),
        ("", None),
    ],
)
def test_whole_numbers(raw: str, expected: int | None) -> None:
    assert only_row(roster(line(headcount=raw)))["headcount"] == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-02-04T13:00", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020-02-04 13:00", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020-02-04 13:00:30", datetime(2020, 2, 4, 13, 0, 30, tzinfo=SHANGHAI)),
        ("2020/2/4 13:00", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020年2月4日 13:00", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("２０２０－０２－０４　１３：００", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020-02-04T13:00+08:00", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020-02-04T05:00Z", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
        ("2020-02-04 06:00 +0100", datetime(2020, 2, 4, 13, 0, tzinfo=SHANGHAI)),
    ],
)
def test_times_are_aware_and_in_the_timezone(raw: str, expected: datetime) -> None:
    earliest = only_row(roster(line(earliest=raw, latest="2020-02-05 00:00")))["earliest"]
    assert earliest == expected
    assert earliest.tzinfo == SHANGHAI


def test_a_naive_time_is_local_to_the_given_timezone() -> None:
    row = only_row(roster(line()), timezone="Europe/London")
    assert row["earliest"] == datetime(2020, 2, 4, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert row["earliest"].utcoffset() == timedelta(0)


def test_external_ids_are_compared_after_width_normalisation() -> None:
    code = PUBLISHED_USCCS[1]
    full_width = code.translate({ord(c): ord(c) + 0xFEE0 for c in code})
    row = only_row(roster(line(external_id=full_width)))
    assert row["external_id"] == code
    assert only_row(roster(line(external_id=code.lower())))["external_id"] == code


def test_a_resident_id_number_is_not_taken_for_a_uscc() -> None:
    assert not is_valid_uscc(SAMPLE_RESIDENT_ID)
    assert only_row(roster(line(external_id=SAMPLE_RESIDENT_ID)))["external_id"] == (
        SAMPLE_RESIDENT_ID
    )


# --- errors ---------------------------------------------------------------------------------

WRONG_USCC = "91330213MA0000001A"  # the right check character is F


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ""}, ["row 2, name: name is required"]),
        ({"name": "   "}, ["row 2, name: name is required"]),
        ({"external_id": ""}, ["row 2, external_id: external_id is required"]),
        ({"headcount": "ten"}, ["row 2, headcount: headcount 'ten' is not a whole number"]),
        ({"headcount": "1.5"}, ["row 2, headcount: headcount '1.5' is not a whole number"]),
        ({"headcount": "-3"}, ["row 2, headcount: headcount '-3' must be 0 or more"]),
        ({"population": "3000000000"}, ["row 2, population: population '3000000000' is too large"]),
        ({"priority": "high"}, ["row 2, priority: priority 'high' is not a whole number"]),
        (
            {"floor_units": "50", "requested_units": "30"},
            ["row 2, floor_units: floor_units 50 is more than requested_units 30"],
        ),
        ({"phone": "12345"}, ["row 2, phone: phone '12345' is not a valid phone number"]),
        ({"language": "fr"}, ["row 2, language: language 'fr' is not zh or en"]),
        (
            {"earliest": "tomorrow"},
            ["row 2, earliest: earliest 'tomorrow' is not a date and time like 2020-02-04 13:00"],
        ),
        (
            {"earliest": "2020-02-04"},
            ["row 2, earliest: earliest '2020-02-04' is not a date and time like 2020-02-04 13:00"],
        ),
        (
            {"latest": "2020-02-30 12:00"},
            [
                "row 2, latest: latest '2020-02-30 12:00' is not a date and time like "
                "2020-02-04 13:00"
            ],
        ),
        (
            {"earliest": "2020-02-04 12:00", "latest": "2020-02-04 12:00"},
            ["row 2, latest: latest '2020-02-04 12:00' must be after earliest '2020-02-04 12:00'"],
        ),
        (
            {"earliest": "2020-02-04 13:00", "latest": "2020-02-04T12:00"},
            ["row 2, latest: latest '2020-02-04T12:00' must be after earliest '2020-02-04 13:00'"],
        ),
        (
            {"external_id": WRONG_USCC},
            [
                f"row 2, external_id: unified social credit code '{WRONG_USCC}' has a wrong "
                "check character (expected F)"
            ],
        ),
        (
            {"external_id": WRONG_USCC.lower()},
            [
                f"row 2, external_id: unified social credit code '{WRONG_USCC}' has a wrong "
                "check character (expected F)"
            ],
        ),
        (
            {"name": "", "headcount": "-1", "phone": "x", "language": "de"},
            [
                "row 2, name: name is required",
                "row 2, headcount: headcount '-1' must be 0 or more",
                "row 2, phone: phone 'x' is not a valid phone number",
                "row 2, language: language 'de' is not zh or en",
            ],
        ),
        (
            {"phone": "9" * 60},
            [f"row 2, phone: phone '{'9' * 39}…' is not a valid phone number"],
        ),
        (
            {"name": "x" * 5000},
            ["row 2, name: name has 5000 characters; at most 200 are allowed"],
        ),
        (
            {"external_id": "E" * 65, "town": "t" * 101, "contact_name": "李" * 101},
            [
                "row 2, external_id: external_id has 65 characters; at most 64 are allowed",
                "row 2, town: town has 101 characters; at most 100 are allowed",
                "row 2, contact_name: contact_name has 101 characters; at most 100 are allowed",
            ],
        ),
    ],
)
def test_row_error_messages(changes: dict[str, str], expected: list[str]) -> None:
    assert messages(roster(line(**changes))) == expected


def test_ragged_rows() -> None:
    assert messages(roster(line() + ",extra", line(external_id="E2").rsplit(",", 2)[0])) == [
        "row 2: row has 15 cells but the header has 14; check for stray commas",
        "row 3: row has 12 cells but the header has 14; check for stray commas",
    ]


def test_a_value_under_an_unnamed_column() -> None:
    assert messages(roster(line() + ",note", header=HEADER + ",")) == [
        "row 2: column O has a value but no header; name it or clear it"
    ]


def test_duplicate_external_id_names_the_earlier_row() -> None:
    text = roster(line(), line(external_id="E2"), line(), line(external_id="E2"))
    assert messages(text) == [
        "row 4, external_id: external_id 'E0001' is already used in row 2",
        "row 5, external_id: external_id 'E2' is already used in row 3",
    ]


def test_every_error_is_collected_with_spreadsheet_row_numbers() -> None:
    text = "\r\n".join(
        [
            HEADER,  # row 1
            line(name="Acme\nNorth"),  # row 2: one spreadsheet row over two lines
            "",  # row 3: blank
            line(external_id="E2", phone="12345"),  # row 4
            line(external_id="E3"),  # row 5
            line(headcount="many", floor_units="9", requested_units="1"),  # row 6
            ",,,,,,,,,,,,",  # row 7: blank
            line(external_id="E2", language="fr"),  # row 8
        ]
    )
    error = rejection(text)
    assert str(error) == f"3 rows have errors; {NOTHING}"
    assert [str(e) for e in error.errors] == [
        "row 4, phone: phone '12345' is not a valid phone number",
        "row 6, headcount: headcount 'many' is not a whole number",
        "row 6, floor_units: floor_units 9 is more than requested_units 1",
        "row 6, external_id: external_id 'E0001' is already used in row 2",
        "row 8, language: language 'fr' is not zh or en",
        "row 8, external_id: external_id 'E2' is already used in row 4",
    ]


def test_one_bad_row_means_nothing_is_returned() -> None:
    error = rejection(roster(line(), line(external_id="E2", phone="1"), line(external_id="E3")))
    assert str(error) == f"1 row has errors; {NOTHING}"
    assert [e.row for e in error.errors] == [3]
    assert isinstance(error, PickupError)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", ["the file is empty; it needs a header row and one row per recipient"]),
        (
            "\r\n  \r\n,,,\r\n",
            ["the file is empty; it needs a header row and one row per recipient"],
        ),
        (HEADER + "\r\n", ["the file has a header row but no data rows"]),
        (HEADER + "\r\n\r\n,,\r\n", ["the file has a header row but no data rows"]),
        (
            "name,town\r\nAcme,Yuelin\r\n",
            [
                "row 1: missing required column(s) external_id; "
                "the first non-blank row must be the header"
            ],
        ),
        (
            "2020年2月消毒液分配表\r\n名称,编号\r\nAcme,E1\r\n",
            [
                "row 1: missing required column(s) name, external_id; "
                "the first non-blank row must be the header",
                f"row 1: unknown column(s) '2020年2月消毒液分配表'; use {ACCEPTED_COLUMNS} "
                "or their Chinese names such as 企业名称, 统一社会信用代码, 联系电话",
            ],
        ),
        (
            "name,external_id,fax,Email\r\nAcme,E1,1,a@b.c\r\n",
            [
                f"row 1: unknown column(s) 'fax', 'Email'; use {ACCEPTED_COLUMNS} "
                "or their Chinese names such as 企业名称, 统一社会信用代码, 联系电话",
            ],
        ),
        (
            "name,external_id,名称\r\nAcme,E1,Acme\r\n",
            ["row 1: column name appears twice ('name' and '名称')"],
        ),
    ],
)
def test_file_and_header_errors(data: str, expected: list[str]) -> None:
    assert messages(data) == expected


def test_header_errors_stop_before_the_rows() -> None:
    error = rejection("name,external_id,fax\r\n,,\r\n")
    assert str(error) == f"the header row has errors; {NOTHING}"
    assert [e.row for e in error.errors] == [1]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"\xff\xfen\x00a\x00m\x00e\x00",
            "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8",
        ),
        (
            b"name,external_id\r\n\x80\xff,E1\r\n",
            "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "the file is an Excel workbook, not CSV; in Excel use Save As > CSV UTF-8",
        ),
    ],
)
def test_undecodable_files(data: bytes, expected: str) -> None:
    error = rejection(data)
    assert error.errors == [RowError(0, "", expected)]
    assert str(error) == f"{expected}; {NOTHING}"
    with pytest.raises(RosterInvalid):
        decode_roster(data)


def test_an_unclosed_quote_that_swallows_the_file() -> None:
    text = roster(line(), '"never closed,E2' + "\r\nAcme,E3" * 20_000)
    message = (
        "cannot read this row as CSV (field larger than field limit (131072)); "
        "look for a quote that is never closed"
    )
    error = rejection(text)
    assert error.errors == [RowError(3, "", message)]
    assert str(error) == f"row 3: {message}; {NOTHING}"


def test_row_error_text() -> None:
    assert str(RowError(7, "phone", "phone '12345' is not a valid phone number")) == (
        "row 7, phone: phone '12345' is not a valid phone number"
    )
    assert str(RowError(3, "", "row has 2 cells")) == "row 3: row has 2 cells"
    assert str(RowError(0, "", "the file is empty")) == "the file is empty"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"timezone": "../etc"}, "unknown timezone '../etc'"),
        ({"default_region": "XX"}, "unknown phone region 'XX'; use a code such as CN"),
    ],
)
def test_bad_arguments(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_roster(roster(line()), **kwargs)


def test_data_must_be_bytes_or_text() -> None:
    with pytest.raises(InvalidInput):
        parse_roster(123)  # type: ignore[arg-type]


# --- USCC -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    assert is_valid_uscc(code)
    assert is_valid_uscc(code.lower())
    assert only_row(roster(line(external_id=code)))["external_id"] == code


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038217",  # wrong check character
        "91440300192203821",  # too short
        "9144030019220382160",  # too long
        "91440300192203821I",  # I is not in the alphabet
        "",
        "９１４４０３００１９２２０３８２１６",  # full-width: normalise first
    ],
)
def test_invalid_codes(code: str) -> None:
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("body", ["9144030019220382", "91440300192203821O", "9144030019220382!"])
def test_check_char_needs_17_characters_of_the_alphabet(body: str) -> None:
    with pytest.raises(InvalidInput):
        uscc_check_char(body)


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17), st.data())
def test_any_single_substitution_is_detected(body: str, data: st.DataObject) -> None:
    code = body + uscc_check_char(body)
    assert is_valid_uscc(code)
    position = data.draw(st.integers(min_value=0, max_value=17))
    other = data.draw(st.sampled_from(USCC_CHARSET).filter(lambda c: c != code[position]))
    assert not is_valid_uscc(code[:position] + other + code[position + 1 :])


# --- robustness -----------------------------------------------------------------------------


def check_outcome(data: bytes | str) -> None:
    """Either typed rows with exactly COLUMNS, or RosterInvalid listing RowErrors."""
    try:
        rows = parse_roster(data)
    except RosterInvalid as exc:
        assert exc.errors and all(isinstance(e, RowError) for e in exc.errors)
        assert str(exc).endswith(NOTHING)
        return
    assert isinstance(rows, list) and rows
    assert all(isinstance(row, dict) and tuple(row) == COLUMNS for row in rows)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    check_outcome(data)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_arbitrary_text(data: str) -> None:
    check_outcome(data)


FRAGMENTS = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "１２",
        "1,2",
        "9" * 30,
        "+86 138 0013 8000",
        "+",
        "zh",
        "英文",
        "2020-02-04 13:00",
        "2020/2/4 9:00Z",
        "9999-12-31T23:59-23:59",
        "0001-01-01 00:00+23:59",
        "0000-01-01 00:00",
        "2020-02-04T25:00",
        WRONG_USCC,
        PUBLISHED_USCCS[0],
        SAMPLE_RESIDENT_ID,
        '"',
        "\n",
        "\x00",
    ]
)


@settings(max_examples=300)
@given(
    st.lists(st.lists(FRAGMENTS | st.text(max_size=8), min_size=11, max_size=14), max_size=5),
    st.permutations(COLUMNS),
)
def test_arbitrary_cells_under_a_real_header(rows: list[list[str]], header: list[str]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    check_outcome(out.getvalue())


# --- the pickup site ------------------------------------------------------------------------

TWO_SITES = [{"id": 3, "name": "Town Hall"}, {"id": 4, "name": "西坞仓库"}]


@pytest.mark.parametrize(
    ("cell", "site", "site_id"),
    [("Town Hall", "Town Hall", 3), (" town  hall ", "Town Hall", 3), ("西坞仓库", "西坞仓库", 4)],
)
def test_site_names_one_of_the_distributions_sites(cell, site, site_id) -> None:
    row = only_row(roster(line(site=cell)), sites=TWO_SITES)
    assert (row["site"], row["site_id"]) == (site, site_id)


@pytest.mark.parametrize(
    ("cell", "sites", "message"),
    [
        (
            "City Hall",
            TWO_SITES,
            "row 2, site: unknown site 'City Hall'; this distribution's sites are: "
            "Town Hall, 西坞仓库",
        ),
        (
            "",
            TWO_SITES,
            "row 2, site: site is required: this distribution has 2 pickup sites "
            "(Town Hall, 西坞仓库)",
        ),
        (
            "Depot",
            TWO_SITES[:1],
            "row 2, site: unknown site 'Depot'; this distribution's sites are: Town Hall",
        ),
    ],
)
def test_a_site_that_is_not_ours_names_the_row(cell, sites, message) -> None:
    assert messages(roster(line(site=cell)), sites=sites) == [message]


def test_with_one_site_the_site_is_optional() -> None:
    row = only_row(roster(line(site="")), sites=TWO_SITES[:1])
    assert (row["site"], row["site_id"]) == (None, None)
