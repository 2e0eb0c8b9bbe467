"""SMS segment counting, the worst-case fit of every template, and the command parser."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import demo, outreach_texts
from shared.segments import count_segments, gsm7_length, is_gsm7, ucs2_length
from sms import texts
from sms.conversation import Command, parse_command

# -- segments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("{" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "^", "GSM-7", 161, 2),
        ("é£¥ÄÖÑÜ§¿", "GSM-7", 9, 1),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("a" * 159 + "中", "UCS-2", 160, 3),
        ("中" * 134, "UCS-2", 134, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        ("ç", "UCS-2", 1, 1),  # lower-case c cedilla is not in GSM-7; capital Ç is
        ("`", "UCS-2", 1, 1),
    ],
)
def test_count_segments(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


@pytest.mark.parametrize("ch", list("{}[]~\\|^€"))
def test_extension_characters_count_double(ch):
    assert is_gsm7(ch) and gsm7_length(ch) == 2


def test_ascii_printables_are_gsm7_except_backtick_and_tabs():
    assert {ch for ch in string.printable if not is_gsm7(ch)} == {"`", "\t", "\x0b"}


def test_ucs2_counts_surrogate_pairs():
    assert ucs2_length("a😀") == 3


# -- every template, filled with its longest values ----------------------------------------

LONGEST_SITE = max(
    [
        "区企业服务中心 Enterprise Service Centre",
        "区商务局仓库 Commerce Bureau warehouse",
        "奉化区锦屏街道社区卫生服务中心东门临时发放点 Jinping Sub-district Community "
        "Health Service Centre, east gate temporary distribution point",
    ],
    key=len,
)
LONGEST_ADDRESS = (
    "浙江省宁波市奉化区锦屏街道南山路中山路口东侧一百五十米社区卫生服务中心东门 "
    "(Nanshan Road at Zhongshan Road, 150 m east, Jinping Sub-district, Fenghua, Ningbo)"
)
LONGEST_NAME = max(
    [r["name"] for r in demo.enterprises()] + [r["name"] for r in demo.towns()], key=len
)


def worst_voucher() -> dict:
    return {
        "starts_at": "2020-12-31T15:45:00+00:00",  # 23:45 on 31 Dec in Fenghua
        "ends_at": "2020-12-31T16:00:00+00:00",
        "timezone": "Asia/Shanghai",
        "site_name": LONGEST_SITE,
        "site_address": LONGEST_ADDRESS,
        "units": 9999,
        "unit_size": 12.5,
        "measure": "kilograms of solution",
        "code": "9999999999999999",
        "distribution_name": "消毒用品发放给复工企业和各镇街道办事处 Disinfectant for reopening "
        "enterprises and towns",
        "item": "Disinfectant (hydrogen peroxide solution)",
    }


def worst_values(language: str) -> dict:
    values = outreach_texts.voucher_values(worst_voucher(), language)
    values["which"] = texts.which(values["item"], language)
    values["minutes"] = 120
    values["choices"] = outreach_texts.choices(3, language)
    values["options"] = " ".join(
        f"{n}) {outreach_texts.start_time('2020-12-31T15:45:00+00:00', 'Asia/Shanghai', language)}"
        for n in (1, 2, 3)
    )
    return values


@pytest.mark.parametrize("key", sorted(texts.SMS))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_template_fits_with_longest_values(key, language):
    message = texts.sms_text(key, language, **worst_values(language))
    count = count_segments(message)
    if language == "en":
        assert count.encoding == "GSM-7", message
        assert count.units <= 160, (count.units, message)
    elif key in texts.VOUCHER_KEYS:
        assert count.units <= 134, (count.units, message)
    else:
        assert count.units <= 70, (count.units, message)
    assert LONGEST_NAME not in message


def test_worst_case_values_are_really_long():
    values = worst_values("en")
    assert values["site"] == "Jinping Sub-district"
    assert (
        len(
            outreach_texts.when(
                "2020-12-31T15:45:00+00:00", "2020-12-31T16:00:00+00:00", "Asia/Shanghai", "zh"
            )
        )
        == 17
    )
    assert values["code"] == "9999 9999 9999 9999"


# The texts that name the site and carry its address, by language (see outreach_texts).
WITH_ADDRESS = {
    "zh": {"booked", "changed", "invitation_booked", "reminder", "status"},
    "en": {"booked", "changed", "reminder"},
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_address_follows_the_site_where_the_budget_allows(language):
    with_site = {key for key, text in texts.SMS.items() if "{site}" in text[language]}
    with_address = {key for key, text in texts.SMS.items() if "{address}" in text[language]}
    assert with_address == WITH_ADDRESS[language] and with_address <= with_site
    values = worst_values(language)
    assert (
        values["address"]
        == {
            "zh": "（浙江省宁波市奉化区锦屏街道南山路中山路口东侧一百）",
            "en": " (Nanshan Road at Zhongshan)",
        }[language]
    )


def _demo_vouchers(language: str) -> list[dict]:
    """The demo's sites (the disinfectant's and the masks' two) on the worst day and time."""
    sites = [
        ("区企业服务中心 Enterprise Service Centre", "宁波市奉化区岳林街道 (Yuelin, Fenghua)"),
        *demo.MASK_SITES,
    ]
    return [{**worst_voucher(), "site_name": n, "site_address": a} for n, a in sites]


@pytest.mark.parametrize("key", sorted(set().union(*WITH_ADDRESS.values())))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_segments_before_and_after_the_address(key, language):
    """The address costs no extra segment with the demo's sites, and stays within budget
    with the longest site, time and amount."""
    budget = 160 if language == "en" else 134
    for n, voucher in enumerate([worst_voucher(), *_demo_vouchers(language)]):
        values = outreach_texts.voucher_values(voucher, language)
        values["which"] = texts.which(values["item"], language)
        before = count_segments(texts.sms_text(key, language, **{**values, "address": ""}))
        after = count_segments(texts.sms_text(key, language, **values))
        assert after.units <= budget, (after.units, voucher["site_address"])
        if key in WITH_ADDRESS[language]:
            assert after.units == before.units + len(values["address"]) > before.units
            if n:  # a demo site
                assert after.segments == before.segments
        else:
            assert after == before


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [
        ("区企业服务中心 Enterprise Service Centre", "en", "Enterprise Service Centre"),
        ("区企业服务中心 Enterprise Service Centre", "zh", "区企业服务中心"),
        ("Town hall", "zh", "Town hall"),
        ("镇政府", "en", ""),
        ("Ågård Station {east}", "en", "Ågård Station {east}"),
    ],
)
def test_language_part(name, language, expected):
    assert outreach_texts.language_part(name, language, 40) == expected


def test_spoken_code_is_read_in_groups_digit_by_digit():
    assert texts.spoken_code("4821993017345562") == [
        "4, 8, 2, 1",
        "9, 9, 3, 0",
        "1, 7, 3, 4",
        "5, 5, 6, 2",
    ]


# -- the parser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HELP", Command("help")),
        ("  help  ", Command("help")),
        ("?", Command("help")),
        ("？", Command("help")),
        ("帮助", Command("help")),
        ("ＨＥＬＰ", Command("help")),
        ("status", Command("status")),
        ("查询。", Command("status")),
        ("【查询】", Command("status")),
        ("BOOK", Command("book")),
        ("预约！", Command("book")),
        ("change", Command("change")),
        ("改期", Command("change")),
        ("QX", Command("cancel")),
        ("qx", Command("cancel")),
        ("取消", Command("cancel")),
        ("取消 4821 9930 1734 5562", Command("cancel", "4821993017345562")),
        ("取消4821993017345562", Command("cancel", "4821993017345562")),
        ("cancel 4821-9930-1734-5562", Command("cancel", "4821993017345562")),
        ("CANCEL ４８２１９９３０１７３４５５６２", Command("cancel", "4821993017345562")),
        ("cancel my booking", Command("cancel")),
        # A bare CANCEL is an opt-out at Twilio: never a booking cancel.
        ("CANCEL", Command("opt_out")),
        ("cancel", Command("opt_out")),
        (" Cancel. ", Command("opt_out")),
        ("STOP", Command("opt_out")),
        ("stopall", Command("opt_out")),
        ("UNSUBSCRIBE", Command("opt_out")),
        ("END", Command("opt_out")),
        ("QUIT", Command("opt_out")),
        ("退订", Command("opt_out")),
        ("START", Command("opt_in")),
        ("unstop", Command("opt_in")),
        ("YES", Command("yes")),
        ("是", Command("yes")),
        ("1", Command("choose", "1")),
        ("１", Command("choose", "1")),
        (" 3。", Command("choose", "3")),
        ("EN", Command("english")),
        ("English", Command("english")),
        ("中文", Command("chinese")),
        ("zh", Command("chinese")),
        ("EN please", Command("unknown")),
        ("12", Command("unknown")),
        ("", Command("unknown")),
        ("hello", Command("unknown")),
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


KINDS = {
    "help",
    "status",
    "book",
    "change",
    "cancel",
    "choose",
    "yes",
    "opt_out",
    "opt_in",
    "english",
    "chinese",
    "unknown",
}


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parser_never_raises(text):
    command = parse_command(text)
    assert command.kind in KINDS
    if command.kind == "cancel" and command.arg:
        assert command.arg.isdigit()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("BOKSTAUCNGEQXHLP 0123456789?取消预约查询改期退订，。")))
def test_parser_never_raises_on_near_commands(text):
    assert parse_command(text).kind in KINDS
