"""Read an operator's roster CSV of recipients: validate every row, return clean rows or all errors.

A roster is one CSV file, one row per recipient (an enterprise that gets disinfectant, a town
that gets masks). The header names the columns, in any order, in English (``COLUMNS``) or in
the Chinese an office already uses in its spreadsheets (``企业名称``, ``联系电话`` ...). Only
``name`` and ``external_id`` are required; a missing optional column is blank in every row.

``parse_roster`` checks the whole file before it returns anything: either every row is good
and you get one typed dict per row, or it raises ``RosterInvalid`` whose ``errors`` lists every
problem it found (``RowError``), each with the row number a spreadsheet shows, so the operator
can fix them all in one pass. Nothing is ever half imported.

Parsed values:

* ``name``, ``external_id``, ``town``, ``contact_name`` - stripped text; blank optional text
  is ``None``. An ``external_id`` that looks like a unified social credit code (USCC, GB
  32100-2015) must have the right check character.
* ``headcount``, ``population``, ``requested_units``, ``floor_units``, ``priority`` - whole
  numbers, 0 or more; blank is ``None`` (``floor_units`` and ``priority`` default to 0).
* ``phone`` - E.164 (``+8613800000000``), read in the default region; blank is ``None``.
* ``language`` - ``"zh"`` or ``"en"``; blank is the default language (``"zh"``).
* ``earliest``, ``latest`` - timezone-aware datetimes in the distribution's timezone; a time
  without an offset is local time there.
* ``site`` (``领取点``) - the name of one of the distribution's pickup sites, where the
  recipient collects; ``site_id`` is its id. Optional while the distribution has one site,
  required for every row once it has several.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from pathlib import Path
from typing import TextIO, TypedDict
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from shared import messages, spreadsheets
from shared.error_texts import Said
from shared.errors import InvalidInput, RosterInvalid
from shared.messages import DEFAULT_LANGUAGE
from shared.storage import RECIPIENT_FIELDS

# The roster's columns are what a recipient row stores, and the pickup site by its name.
COLUMNS: tuple[str, ...] = (*RECIPIENT_FIELDS, "site")
REQUIRED: tuple[str, ...] = ("name", "external_id")

# Offices keep their own Chinese spreadsheets; they should not have to rename the headers.
HEADER_ALIASES: dict[str, str] = {
    "企业名称": "name",
    "名称": "name",
    "单位名称": "name",
    "统一社会信用代码": "external_id",
    "信用代码": "external_id",
    "编号": "external_id",
    "镇街": "town",
    "镇(街道)": "town",
    "所属镇街": "town",
    "人数": "headcount",
    "员工人数": "headcount",
    "人口": "population",
    "申请数量": "requested_units",
    "需求数量": "requested_units",
    "最少数量": "floor_units",
    "保底": "floor_units",
    "联系人": "contact_name",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "语言": "language",
    "优先级": "priority",
    "最早": "earliest",
    "最早时间": "earliest",
    "最晚": "latest",
    "最晚时间": "latest",
    "领取点": "site",
    "领取地点": "site",
}

# The Chinese header of each column: the Chinese template's header row, and how the Chinese
# console names a column in an error. Each is read back as that column (HEADER_ALIASES).
CHINESE_HEADERS: dict[str, str] = {
    "name": "领取单位",
    "external_id": "统一社会信用代码或编号",
    "town": "镇街",
    "headcount": "人数",
    "population": "人口",
    "requested_units": "申请数量",
    "floor_units": "最少数量",
    "contact_name": "联系人",
    "phone": "联系电话",
    "language": "语言",
    "priority": "优先级",
    "earliest": "最早时间",
    "latest": "最晚时间",
    "site": "领取点",
}
HEADER_ALIASES |= {zh: column for column, zh in CHINESE_HEADERS.items()}


def column_label(column: str, language: str) -> str:
    """A column as the operator reads it: ``phone`` in English, ``联系电话`` in Chinese."""
    return CHINESE_HEADERS.get(column, column) if language == "zh" else column


# Every problem a roster can have, in both languages; ``{column}`` is filled with the
# column's name in the message's language.
ROSTER_TEXTS: dict[str, dict[str, str]] = {
    "workbook": {
        "en": "the file is an Excel workbook, not CSV; in Excel use Save As > CSV UTF-8",
        "zh": "这是 Excel 工作簿，不是 CSV；请在 Excel 中“另存为 > CSV UTF-8”",
    },
    "not_text": {
        "en": "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8",
        "zh": "文件既不是 UTF-8 也不是 GBK 文本；请另存为 CSV UTF-8",
    },
    "not_csv": {
        "en": "cannot read this row as CSV ({detail}); look for a quote that is never closed",
        "zh": "此行无法按 CSV 读取（{detail}）；请检查是否有未闭合的引号",
    },
    "missing_columns": {
        "en": "missing required column(s) {columns}; the first non-blank row must be the header",
        "zh": "缺少必填列：{columns}；第一个非空行必须是表头",
    },
    "column_twice": {
        "en": "column {column} appears twice ('{first}' and '{second}')",
        "zh": "“{column}”列出现了两次（“{first}”和“{second}”）",
    },
    "unknown_columns": {
        "en": "unknown column(s) {labels}; use {columns} "
        "or their Chinese names such as 企业名称, 统一社会信用代码, 联系电话",
        "zh": "无法识别的列：{labels}；请使用 {columns}，或英文列名",
    },
    "cell_count": {
        "en": "row has {cells} cells but the header has {width}; check for stray commas",
        "zh": "此行有 {cells} 格，表头有 {width} 格；请检查多余的逗号",
    },
    "no_header": {
        "en": "column {letter} has a value but no header; name it or clear it",
        "zh": "第 {letter} 列有内容但没有表头；请加上列名或清空",
    },
    "required": {"en": "{column} is required", "zh": "“{column}”必填"},
    "site_required": {
        "en": "site is required: this distribution has {count} pickup sites ({known})",
        "zh": "“领取点”必填：此批次有 {count} 个领取点（{known}）",
    },
    "unknown_site": {
        "en": "unknown site '{value}'; this distribution's sites are: {known}",
        "zh": "没有领取点“{value}”；此批次的领取点是：{known}",
    },
    "too_long": {
        "en": "{column} has {length} characters; at most {limit} are allowed",
        "zh": "“{column}”有 {length} 个字符，最多 {limit} 个",
    },
    "uscc_check": {
        "en": "unified social credit code '{code}' has a wrong check character "
        "(expected {expected})",
        "zh": "统一社会信用代码“{code}”的校验位不对（应为 {expected}）",
    },
    "not_whole": {
        "en": "{column} '{value}' is not a whole number",
        "zh": "“{column}”的“{value}”不是整数",
    },
    "negative": {
        "en": "{column} '{value}' must be 0 or more",
        "zh": "“{column}”的“{value}”不能小于 0",
    },
    "too_large": {"en": "{column} '{value}' is too large", "zh": "“{column}”的“{value}”太大"},
    "bad_language": {
        "en": "language '{value}' is not zh or en",
        "zh": "语言“{value}”应为 zh（中文）或 en（英文）",
    },
    "bad_phone": {
        "en": "phone '{value}' is not a valid phone number",
        "zh": "电话“{value}”不是有效的电话号码",
    },
    "bad_datetime": {
        "en": "{column} '{value}' is not a date and time like 2020-02-04 13:00",
        "zh": "“{column}”的“{value}”不是日期时间，应如 2020-02-04 13:00",
    },
    "floor_over_request": {
        "en": "floor_units {floor} is more than requested_units {requested}",
        "zh": "最少数量 {floor} 大于申请数量 {requested}",
    },
    "latest_before_earliest": {
        "en": "latest '{latest}' must be after earliest '{earliest}'",
        "zh": "最晚时间“{latest}”必须晚于最早时间“{earliest}”",
    },
    "duplicate_id": {
        "en": "external_id '{value}' is already used in row {earlier}",
        "zh": "编号“{value}”已在第 {earlier} 行用过",
    },
    "empty": {
        "en": "the file is empty; it needs a header row and one row per recipient",
        "zh": "文件是空的；需要一行表头，每个领取单位一行",
    },
    "no_rows": {
        "en": "the file has a header row but no data rows",
        "zh": "文件只有表头，没有数据行",
    },
}


_INTEGER_COLUMNS = frozenset(
    {"headcount", "population", "requested_units", "floor_units", "priority"}
)
# The longest each text column may be, in characters: a 5,000-character name is a mistake
# (or an attack on every page that shows it).
TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "external_id": 64,
    "town": 100,
    "contact_name": 100,
    "site": 200,
}
_BLANK_VALUES: dict[str, object] = {
    "floor_units": 0,
    "priority": 0,
    "language": DEFAULT_LANGUAGE,
}

# Anything bigger would not fit a 32-bit INTEGER column; in a roster it is a typo anyway.
_MAX_INTEGER = 2**31 - 1

_LANGUAGES = {
    "zh": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "english": "en",
    "英文": "en",
}

# Excel in a Chinese locale writes dates as 2020/2/4 13:00 or 2020年2月4日 13:00, so the
# date separators are looser than ISO 8601. A time of day is required: a bare date is
# ambiguous for ``latest`` (start or end of that day?).
_DATETIME = re.compile(
    r"(?P<year>\d{4})[-/.年](?P<month>\d{1,2})[-/.月](?P<day>\d{1,2})日?"
    r"(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII | re.IGNORECASE,
)
# Whole numbers as spreadsheets write them: 1200, 1,200, 1200.00.
_INTEGER = re.compile(r"(?P<sign>[+-]?)(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?", re.ASCII)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # digits and letters without I O S V Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31
_USCC_VALUE = {char: value for value, char in enumerate(USCC_CHARSET)}
# Registration authority and entity type, a 6-digit administrative division, then the
# 9-character organisation code and the check character.
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}")
_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

# Workbooks start with these bytes; a clearer message than "not UTF-8 nor GBK" for them.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (a zip), .xls (OLE2)

_SHOWN_CHARACTERS = 40  # a cell quoted in a message is cut to this, so one bad cell stays one line


@dataclass(frozen=True)
class RowError:
    """One problem in a roster: where it is and what to fix."""

    row: int  # 1-based line as a spreadsheet shows it (header is row 1); 0 for the whole file
    column: str  # canonical column name, or "" for whole-row/file problems
    message: str  # in English (the commands' language)
    key: str = field(default="", compare=False)  # of ROSTER_TEXTS, to say it in Chinese too
    values: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        place = ", ".join(part for part in (self.row and f"row {self.row}", self.column) if part)
        return f"{place}: {self.message}" if place else self.message

    def text(self, language: str) -> str:
        """The problem in ``language``, column names included."""
        if language == "en" or not self.key:
            return self.message
        values = {
            name: column_label(value, language) if name == "column" else value
            for name, value in self.values
        }
        if "columns" in values:
            values["columns"] = "、".join(column_label(c, language) for c in values["columns"])
        return ROSTER_TEXTS[self.key][language].format(**values)


def _error(row: int, column: str, key: str, /, **values: object) -> RowError:
    """A RowError whose message is ROSTER_TEXTS[key] (English), sayable in Chinese too."""
    shown = {
        name: ", ".join(value) if name == "columns" else value for name, value in values.items()
    }
    message = ROSTER_TEXTS[key]["en"].format(**shown)
    return RowError(row, column, message, key, tuple(values.items()))


class RosterRow(TypedDict):
    name: str
    external_id: str
    town: str | None
    headcount: int | None
    population: int | None
    requested_units: int | None
    floor_units: int
    contact_name: str | None
    phone: str | None
    language: str
    priority: int
    earliest: datetime | None
    latest: datetime | None
    site: str | None
    site_id: int | None


class _BadCell(Exception):
    """A cell's value cannot be read; ``key`` and ``values`` say why (:data:`ROSTER_TEXTS`)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


# -- USCC ------------------------------------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a USCC."""
    body = first17.upper()
    if len(body) != 17 or any(char not in _USCC_VALUE for char in body):
        raise InvalidInput("uscc_body_invalid", charset=USCC_CHARSET, body=first17)
    return _uscc_check(body)


def _uscc_check(body: str) -> str:
    """The check character of 17 characters already known to be from :data:`USCC_CHARSET`."""
    value = _USCC_VALUE
    total = sum(map(int.__mul__, map(value.__getitem__, body), USCC_WEIGHTS))
    return USCC_CHARSET[-total % 31]


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` is 18 USCC characters and its last one is the right check character."""
    code = code.upper()
    if len(code) != 18 or any(char not in USCC_CHARSET for char in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def _is_resident_id(code: str) -> bool:
    """True for an 18-digit resident identity card number with a good ISO 7064 check.

    Such numbers fit the USCC alphabet too; a town's roster may key people by them, and
    they must not be reported as USCCs with a wrong check character.
    """
    if not _RESIDENT_ID_SHAPE.fullmatch(code):
        return False
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(code[:17]))
    return "10X98765432"[total % 11] == code[17]


def _looks_like_uscc(code: str) -> bool:
    return bool(_USCC_SHAPE.fullmatch(code)) and not _is_resident_id(code)


# -- decoding and CSV ------------------------------------------------------------------------


def decode_roster(data: bytes) -> str:
    """The text of a roster file: UTF-8 (with or without BOM), else GB18030/GBK.

    Excel in a Chinese locale saves "CSV" as GBK; "CSV UTF-8" adds a BOM. GB18030 is a
    superset of GBK, so it reads both.
    """
    data = bytes(data)
    return data.decode(roster_encoding([data])).removeprefix("\ufeff")


def roster_encoding(chunks: Iterable[bytes]) -> str:
    """The encoding of a roster read as ``chunks`` of bytes: ``utf-8-sig`` or ``gb18030``.

    The chunks are decoded and dropped one by one, so a file of any size is checked in a
    few KB; ``RosterInvalid`` says what else the file is (a workbook, UTF-16, not text).
    """
    decoders = {
        encoding: codecs.getincrementaldecoder(encoding)() for encoding in ("utf-8-sig", "gb18030")
    }
    first = True
    for chunk in chunks:
        if first and chunk.startswith(_WORKBOOK_MAGIC):
            error = _error(0, "", "workbook")
            raise _rejected(error)
        first = first and not chunk
        # NUL never appears in CSV text, but fills UTF-16 ("Unicode text") files, which
        # would otherwise decode as UTF-8 garbage.
        if b"\x00" in chunk:
            decoders.clear()
        for encoding, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[encoding]
        if not decoders:
            break
    for encoding, decoder in decoders.items():
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    error = _error(0, "", "not_text")
    raise _rejected(error)


def roster_file_facts(path: Path, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """The encoding of the roster file at ``path`` and how many lines it has, read in chunks.

    Open it with that encoding and ``newline=""`` and give the file to :func:`iter_roster`:
    the roster is then read as it is imported, never held whole.
    """
    lines = 0

    def chunks() -> Iterator[bytes]:
        nonlocal lines
        with path.open("rb") as f:
            while chunk := f.read(chunk_size):
                lines += chunk.count(b"\n")
                yield chunk

    encoding = roster_encoding(chunks())
    return encoding, lines


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """The non-blank CSV records with their spreadsheet row numbers, one at a time.

    A record is one spreadsheet row even when a quoted cell spans lines, and blank lines
    still count as rows, so numbering records (not lines) matches what the operator sees.
    """
    reader = csv.reader(lines)
    restore = spreadsheets.restore_cell
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            if "".join(cells).strip():
                # Only a cell starting with ' can be one that safe_cell escaped.
                yield row, [restore(cell) if cell[:1] == "'" else cell for cell in cells]
    except csv.Error as exc:
        error = _error(row + 1, "", "not_csv", detail=str(exc))
        raise _rejected(error) from exc


# -- header ----------------------------------------------------------------------------------


def _header_key(label: str) -> str:
    """A header label reduced so that case, widths, spaces and hyphens do not matter."""
    key = unicodedata.normalize("NFKC", label).strip().casefold()
    return re.sub(r"[\s\-]+", "_", key)


_HEADER_NAMES = {_header_key(name): name for name in COLUMNS} | {
    _header_key(alias): name for alias, name in HEADER_ALIASES.items()
}


def _read_header(row: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    """Map each canonical column to its cell index; list what is wrong with the header."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    problems: list[RowError] = []
    for index, label in enumerate(cells):
        label = label.strip()
        if not label:
            continue  # an unnamed column; its cells must stay empty (checked per row)
        column = _HEADER_NAMES.get(_header_key(label))
        if column is None:
            unknown.append(f"'{_shown(label)}'")
        elif column in positions:
            first = _shown(cells[positions[column]].strip())
            problems.append(
                _error(row, "", "column_twice", column=column, first=first, second=_shown(label))
            )
        else:
            positions[column] = index
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        problems.insert(0, _error(row, "", "missing_columns", columns=missing))
    if unknown:
        problems.append(
            _error(row, "", "unknown_columns", labels=", ".join(unknown), columns=list(COLUMNS))
        )
    return positions, problems


# -- cells -----------------------------------------------------------------------------------


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN_CHARACTERS else raw[: _SHOWN_CHARACTERS - 1] + "…"


def _text(column: str, raw: str) -> str:
    # Bidi controls (U+202E ...) would reorder how the name is shown on every page.
    text = messages.without_bidi_controls(raw).strip()
    if len(text) > TEXT_LIMITS[column]:
        raise _BadCell("too_long", column=column, length=len(text), limit=TEXT_LIMITS[column])
    return text


def _external_id(column: str, raw: str) -> str:
    # Full-width letters and digits from a Chinese IME are the same id as ASCII ones.
    code = unicodedata.normalize("NFKC", _text(column, raw))
    if not _looks_like_uscc(code.upper()):
        return code
    code = code.upper()  # the standard writes USCCs in capitals
    expected = _uscc_check(code[:17])
    if code[17] != expected:
        raise _BadCell("uscc_check", code=code, expected=expected)
    return code


def _integer(column: str, raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) < len(str(_MAX_INTEGER)):
        return int(raw)  # plain digits, too few to be too large: most cells
    number = unicodedata.normalize("NFKC", raw).strip()
    match = _INTEGER.fullmatch(number)
    if match is None:
        raise _BadCell("not_whole", column=column, value=_shown(raw))
    if match["sign"] == "-" and match["digits"].strip("0,"):
        raise _BadCell("negative", column=column, value=_shown(raw))
    digits = match["digits"].replace(",", "").lstrip("0") or "0"
    if len(digits) > len(str(_MAX_INTEGER)) or int(digits) > _MAX_INTEGER:
        raise _BadCell("too_large", column=column, value=_shown(raw))
    return int(digits)


def _language(column: str, raw: str) -> str:
    if raw in _LANGUAGES:  # already a key as written (zh, en, 中文): most cells
        return _LANGUAGES[raw]
    key = unicodedata.normalize("NFKC", raw).strip().casefold().replace("_", "-")
    if key not in _LANGUAGES:
        raise _BadCell("bad_language", value=_shown(raw))
    return _LANGUAGES[key]


def to_e164(raw: str, region: str) -> str | None:
    """A phone number as E.164, reading it as ``region`` dials it; None if not a valid one.

    ``13800000000``, ``+86 138 0000 0000`` and ``008613800000000`` with region CN all give
    ``+8613800000000``: the form the roster keeps, so a phone's texts find its recipient.
    """
    text = raw or ""
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()
    if region == "CN":
        fast = _cn_mobile(text)
        if fast is not None:
            return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A roster of 100,000 is 100,000 phone numbers, nearly all Chinese mobiles written one of a
# few ways; phonenumbers.parse takes ~50 us for each. This reads those few ways directly,
# with the mobile pattern of phonenumbers' own metadata, and leaves the rest to it.
_CN_MOBILE = re.compile(PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)
# 1[3-9] and 11 digits; not 179: 179xx is also a carrier prefix phonenumbers may strip.
_CN_MOBILE_SHAPE = re.compile(r"1(?:[3-68-9]\d|7[0-8])\d{8}", re.ASCII)
_CN_MOBILE_PREFIXES = ("+86", "0086")  # +86 and CN's international prefix 00, then 86


def _cn_mobile(text: str) -> str | None:
    """``text`` as E.164 when it is a valid Chinese mobile number in a common form, read in
    region CN: ``13800000000``, ``138 0000 0000``, ``138-0000-0000``, with ``+86`` or
    ``0086`` in front or not. None means "ask phonenumbers", never "invalid": for these
    forms the answer is the one ``phonenumbers.parse`` and ``is_valid_number`` give (a
    number matching the mobile pattern is valid), which ``tests/test_roster.py`` checks."""
    digits = text.replace(" ", "").replace("-", "")
    for prefix in _CN_MOBILE_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if _CN_MOBILE_SHAPE.fullmatch(digits) and _CN_MOBILE.fullmatch(digits):
        return "+86" + digits
    return None


def _phone_parser(region: str) -> Callable[[str, str], str]:
    def parse(column: str, raw: str) -> str:
        phone = to_e164(raw, region)
        if phone is None:
            raise _BadCell("bad_phone", value=_shown(raw))
        return phone

    return parse


def _datetime_parser(zone: tzinfo) -> Callable[[str, str], datetime]:
    def parse(column: str, raw: str) -> datetime:
        moment = _to_datetime(raw, zone)
        if moment is None:
            raise _BadCell("bad_datetime", column=column, value=_shown(raw))
        return moment

    return parse


def _to_datetime(raw: str, zone: tzinfo) -> datetime | None:
    """``raw`` as an aware datetime in ``zone``, or None when it is not a real date and time."""
    # NFKC turns the full-width digits, colon and space of a Chinese IME into ASCII.
    match = _DATETIME.fullmatch(unicodedata.normalize("NFKC", raw).strip())
    if match is None:
        return None
    parts = ("year", "month", "day", "hour", "minute", "second")
    try:
        moment = datetime(*(int(match[part] or 0) for part in parts))
        if match["offset"] is None:
            return moment.replace(tzinfo=zone)
        return moment.replace(tzinfo=_fixed_offset(match["offset"])).astimezone(zone)
    except (ValueError, OverflowError):  # 30 February, hour 25, offset past 24 h, year 0
        return None


def _fixed_offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return fixed_offset(-delta if text[0] == "-" else delta)


def _cell_parsers(zone: tzinfo, region: str) -> dict[str, Callable[[str, str], object]]:
    parsers: dict[str, Callable[[str, str], object]] = {
        column: _integer for column in _INTEGER_COLUMNS
    }
    parsers |= {column: _text for column in TEXT_LIMITS}
    parsers |= {
        "external_id": _external_id,
        "phone": _phone_parser(region),
        "language": _language,
        "earliest": _datetime_parser(zone),
        "latest": _datetime_parser(zone),
    }
    return parsers


# -- rows ------------------------------------------------------------------------------------


def _spreadsheet_column(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names the column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _row_parser(
    width: int, positions: dict[str, int], parsers: dict[str, Callable[[str, str], object]]
) -> Callable[[int, list[str]], tuple[dict[str, object], list[RowError]]]:
    """:func:`_parse_row` for one header: what depends only on the header is worked out once."""
    unnamed = [i for i in range(width) if i not in positions.values()]
    present = [
        (column, positions[column], parsers[column], column in REQUIRED)
        for column in COLUMNS
        if column in positions
    ]
    # Every column, in order, blank until read: the header has every required column, so
    # a column it lacks stays blank and is never missing.
    blank = {column: _BLANK_VALUES.get(column) for column in COLUMNS}

    def parse(row: int, cells: list[str]) -> tuple[dict[str, object], list[RowError]]:
        """The typed values of one data row and the problems found in it."""
        if len(cells) != width:
            # The cells no longer line up with the header: checking them would only add noise.
            return {}, [_error(row, "", "cell_count", cells=len(cells), width=width)]
        errors = [
            _error(row, "", "no_header", letter=_spreadsheet_column(i))
            for i in unnamed
            if cells[i].strip()
        ]
        values = blank.copy()
        for column, index, parser, required in present:
            raw = cells[index].strip()
            if not raw:
                values[column] = _BLANK_VALUES.get(column)
                if required:
                    errors.append(_error(row, column, "required", column=column))
                continue
            try:
                values[column] = parser(column, raw)
            except _BadCell as exc:
                values[column] = None
                errors.append(_error(row, column, exc.key, **exc.values))
        if values["floor_units"] or values["latest"]:  # the cross-checks need one of them
            errors += _cross_checks(row, values, cells, positions)
        return values, errors

    return parse


def _cross_checks(
    row: int, values: dict[str, object], cells: list[str], positions: dict[str, int]
) -> list[RowError]:
    """Rules between columns of one row, checked only when both values were read."""
    errors = []
    floor, requested = values["floor_units"], values["requested_units"]
    if isinstance(floor, int) and isinstance(requested, int) and floor > requested:
        errors.append(
            _error(row, "floor_units", "floor_over_request", floor=floor, requested=requested)
        )
    earliest, latest = values["earliest"], values["latest"]
    if isinstance(earliest, datetime) and isinstance(latest, datetime) and earliest >= latest:
        shown = {
            column: _shown(cells[positions[column]].strip()) for column in ("earliest", "latest")
        }
        errors.append(_error(row, "latest", "latest_before_earliest", **shown))
    return errors


def _duplicate_check(row: int, external_id: object, first_row_of: dict[str, int]) -> list[RowError]:
    """An error when an earlier row has this external_id; otherwise remember it."""
    if not isinstance(external_id, str):
        return []  # blank or unreadable: already reported
    if external_id not in first_row_of:
        first_row_of[external_id] = row
        return []
    earlier = first_row_of[external_id]
    return [_error(row, "external_id", "duplicate_id", value=_shown(external_id), earlier=earlier)]


def _site_checker(
    sites: Sequence[Mapping[str, object]],
) -> Callable[[int, dict[str, object]], list[RowError]]:
    """A check of one row's site against ``sites``: it sets ``site_id`` from the row's site
    name and returns an error when the name is missing (several sites) or not one of them."""
    known = ", ".join(str(site["name"]) for site in sites) or "none"
    by_key = {}
    for site in reversed(sites):  # the first site of a name wins, as a search would find it
        by_key[_header_key(str(site["name"]))] = site

    def check(row: int, values: dict[str, object]) -> list[RowError]:
        values["site_id"] = None
        named = values.get("site")
        if not isinstance(named, str):
            if len(sites) > 1:
                return [_error(row, "site", "site_required", count=len(sites), known=known)]
            return []
        site = by_key.get(_header_key(named))
        if site is None:
            return [_error(row, "site", "unknown_site", value=_shown(named), known=known)]
        values["site"], values["site_id"] = site["name"], site["id"]
        return []

    return check


# -- the roster ------------------------------------------------------------------------------


def _rejected(error: RowError) -> RosterInvalid:
    """The file as a whole is refused for ``error``."""
    problem = Said(error.text("zh"), str(error) if error.row else error.message)
    return RosterInvalid("roster_file_rejected", [error], problem=problem)


def _rows_rejected(errors: list[RowError]) -> RosterInvalid:
    count = len({error.row for error in errors})
    if count == 1:
        return RosterInvalid("roster_row_rejected", errors)
    return RosterInvalid("roster_rows_rejected", errors, rows=count)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInput("timezone_unknown", name=name) from exc


def _region(code: str) -> str:
    region = code.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("region_unknown", code=code)
    return region


def parse_roster(
    data: bytes | str,
    timezone: str = "Asia/Shanghai",
    default_region: str = "CN",
    sites: Sequence[Mapping[str, object]] = (),
) -> list[RosterRow]:
    """Every row of a roster CSV, typed and validated; ``RosterInvalid`` lists every problem.

    ``timezone`` is where times without an offset are; ``default_region`` is how phone
    numbers without a ``+country`` prefix are read; ``sites`` are the distribution's pickup
    sites (rows with ``id`` and ``name``) the ``site`` column may name. A bad argument
    raises ``InvalidInput``.
    """
    return list(iter_roster(data, timezone, default_region, sites))


def iter_roster(
    data: bytes | str | TextIO,
    timezone: str = "Asia/Shanghai",
    default_region: str = "CN",
    sites: Sequence[Mapping[str, object]] = (),
) -> Iterator[RosterRow]:
    """:func:`parse_roster` one good row at a time, for a caller that writes as it reads.

    The rows before the first bad one are yielded too, so the caller must write them in a
    transaction: ``RosterInvalid`` with every problem is raised only after the last row,
    and the caller rolls back on it so that nothing is imported. ``data`` may also be a
    text file opened as :func:`roster_file_facts` says: it is then read as it is parsed.
    """
    zone, region = _zone(timezone), _region(default_region)
    if isinstance(data, bytes | bytearray):
        lines: Iterable[str] = io.StringIO(decode_roster(data), newline="")
    elif isinstance(data, str):
        lines = io.StringIO(data.removeprefix("\ufeff"), newline="")
    elif isinstance(data, io.TextIOBase):
        lines = _without_bom(data)
    else:
        raise InvalidInput("roster_not_text", kind=type(data).__name__)

    records = _records(lines)
    first = next(records, None)
    if first is None:
        error = _error(0, "", "empty")
        raise _rejected(error)
    header_row, header = first
    positions, errors = _read_header(header_row, header)
    if errors:
        # Every row would repeat the same complaint; the header has to be fixed first.
        raise RosterInvalid("roster_header_rejected", errors)

    parse_row = _row_parser(len(header), positions, _cell_parsers(zone, region))
    site_check = _site_checker(sites)
    # external_id -> the row that used it first: the one part of a roster held whole.
    first_row_of: dict[str, int] = {}
    data_rows = 0
    for row, cells in records:
        data_rows += 1
        values, row_errors = parse_row(row, cells)
        row_errors += _duplicate_check(row, values.get("external_id"), first_row_of)
        if values:
            row_errors += site_check(row, values)
        errors += row_errors
        if not row_errors and not errors:
            yield RosterRow(**values)  # type: ignore[typeddict-item]
    if not data_rows:
        error = _error(0, "", "no_rows")
        raise _rejected(error)
    if errors:
        raise _rows_rejected(errors)


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` with a byte order mark taken off the first (GB18030 keeps it as text)."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from iterator


def template_csv(language: str = "en") -> str:
    """A roster to start from: the header and two example rows, one Chinese, one English.

    In Chinese the header is :data:`CHINESE_HEADERS` and the languages are written 中文 and
    英文; both read back as the same roster. Serve it encoded as ``utf-8-sig``: Excel only
    shows the Chinese right with the BOM.
    """
    body = "91330213MA0000001"  # fictional, registered in Fenghua (330213)
    zh, en = ("中文", "英文") if language == "zh" else ("zh", "en")
    examples = (
        ("宁波示例消毒用品有限公司", body + uscc_check_char(body), "西坞街道", "120", "",
         "200", "20", "王芳", "138 0013 8000", zh, "0", "2020-02-04 09:00", "2020-02-04 12:00",
         ""),
        ("Example Trading Co., Ltd.", "EX-0001", "Yuelin", "35", "", "", "5", "John Smith",
         "+86 574 8888 8888", en, "1", "2020-02-04 13:00", "2020-02-04 17:00", ""),
    )  # fmt: skip
    header = [column_label(column, language) for column in COLUMNS]
    return spreadsheets.csv_text(header, examples, line_end="\r\n")
