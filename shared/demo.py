"""The source article's day as demo data: 12,280 kg of disinfectant for 112 enterprises.

Fenghua, Ningbo, 4 February 2020: the district's enterprise service centre handed 12.28
tonnes of disinfectant to 112 enterprises in batches between 12:00 and 19:00. Here the
same stock goes out as 614 drums of 20 kg, allotted by headcount with Sainte-Laguë (at
least one drum each), in 15-minute slots. A second distribution sends 192,400 masks
(3,848 boxes of 50) to the district's towns and sub-districts by population, the next day,
from two sites: the Commerce Bureau's warehouse in town, and Xikou's town hall for the
four towns in the west (:data:`WEST_TOWNS`).

Every enterprise, person and phone number here is fictional; the phone numbers use the
+86 170 0000 prefix, and are generated, not real subscribers.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from shared import accounts, distributions, planning, storage
from shared.roster import uscc_check_char

TIMEZONE = "Asia/Shanghai"
SEED = 20200204

# Towns and sub-districts of Fenghua with rounded, illustrative populations.
TOWNS: tuple[tuple[str, str, int], ...] = (
    ("锦屏街道", "Jinping", 118_000),
    ("岳林街道", "Yuelin", 126_000),
    ("江口街道", "Jiangkou", 62_000),
    ("西坞街道", "Xiwu", 51_000),
    ("萧王庙街道", "Xiaowangmiao", 43_000),
    ("方桥街道", "Fangqiao", 31_000),
    ("莼湖街道", "Chunhu", 58_000),
    ("尚田街道", "Shangtian", 39_000),
    ("溪口镇", "Xikou", 83_000),
    ("裘村镇", "Qiucun", 29_000),
    ("大堰镇", "Dayan", 11_000),
    ("松岙镇", "Song'ao", 16_000),
)

# The towns that collect their masks at Xikou rather than at the warehouse in town.
WEST_TOWNS = frozenset({"溪口镇", "萧王庙街道", "尚田街道", "大堰镇"})
MASK_SITES = (
    ("区商务局仓库 Commerce Bureau warehouse", "锦屏街道南山路 (Jinping, Fenghua)"),
    ("溪口镇政府 Xikou town hall", "溪口镇中兴路 (Xikou, Fenghua)"),
)

_BRANDS = (
    ("恒达", "Hengda"),
    ("甬顺", "Yongshun"),
    ("锦丰", "Jinfeng"),
    ("宏远", "Hongyuan"),
    ("奉新", "Fengxin"),
    ("立信", "Lixin"),
    ("东海", "Donghai"),
    ("明辉", "Minghui"),
    ("博盛", "Bosheng"),
    ("华联", "Hualian"),
    ("金鼎", "Jinding"),
    ("天成", "Tiancheng"),
    ("宁丰", "Ningfeng"),
    ("凯越", "Kaiyue"),
    ("嘉禾", "Jiahe"),
    ("汇通", "Huitong"),
    ("瑞祥", "Ruixiang"),
    ("鑫源", "Xinyuan"),
    ("腾飞", "Tengfei"),
    ("永泰", "Yongtai"),
    ("新锐", "Xinrui"),
    ("万达", "Wanda"),
    ("正泰", "Zhengtai"),
    ("联丰", "Lianfeng"),
    ("康乐", "Kangle"),
    ("海纳", "Haina"),
    ("科达", "Keda"),
    ("富林", "Fulin"),
)
_TRADES = (
    ("机械", "Machinery"),
    ("电子", "Electronics"),
    ("纺织", "Textiles"),
    ("汽车配件", "Auto Parts"),
    ("塑料制品", "Plastics"),
    ("模具", "Moulds"),
    ("服装", "Garments"),
    ("食品", "Foods"),
    ("五金", "Hardware"),
    ("气动元件", "Pneumatics"),
)
_SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
_GIVEN = ("伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超")
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(rng: random.Random) -> str:
    """A well-formed, fictional unified social credit code registered in Fenghua (330213)."""
    body = "91330213" + "".join(rng.choice(_USCC_CHARSET) for _ in range(9))
    return body + uscc_check_char(body)


def _phone(n: int) -> str:
    return f"+86170000{n:05d}"


def enterprises(count: int = 112, seed: int = SEED) -> list[dict[str, Any]]:
    """Fictional enterprises spread over the towns, headcounts from 8 to about 900."""
    rng = random.Random(seed)
    rows = []
    used: set[str] = set()
    for n in range(1, count + 1):
        town_zh, town_en, _ = TOWNS[rng.randrange(len(TOWNS))]
        brand, brand_en = rng.choice(_BRANDS)
        trade_zh, trade_en = rng.choice(_TRADES)
        name = f"宁波{brand}{trade_zh}有限公司"
        branch = 1
        while name in used:  # two draws can coincide; a branch number keeps names unique
            branch += 1
            name = f"宁波{brand}{trade_zh}{branch}厂有限公司"
        used.add(name)
        english = n % 9 == 0  # about one in nine contacts prefers English
        rows.append(
            {
                "name": (
                    f"Ningbo {brand_en} {trade_en}"
                    + (f" No. {branch}" if branch > 1 else "")
                    + " Co., Ltd."
                )
                if english
                else name,
                "external_id": _uscc(rng),
                "town": town_en if english else town_zh,
                "headcount": max(8, int(rng.lognormvariate(4.6, 0.85))),
                "population": None,
                "requested_units": None,
                "floor_units": 1,
                "contact_name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                "phone": _phone(n),
                "language": "en" if english else "zh",
                "priority": 1 if n % 14 == 0 else 0,
                "earliest": None,
                "latest": None,
            }
        )
    return rows


def towns() -> list[dict[str, Any]]:
    """The towns' offices, each with the mask site it collects at (the roster's ``site``)."""
    rng = random.Random(SEED + 1)
    return [
        {
            "name": f"{zh}办事处",
            "site": MASK_SITES[1 if zh in WEST_TOWNS else 0][0],
            "external_id": f"FH-{i:02d}",
            "town": zh,
            "headcount": None,
            "population": population,
            "requested_units": None,
            "floor_units": 0,
            "contact_name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "phone": _phone(900 + i),
            "language": "zh",
            "priority": 0,
            "earliest": None,
            "latest": None,
        }
        for i, (zh, _en, population) in enumerate(TOWNS, start=1)
    ]


def default_start(now: datetime) -> datetime:
    """The current hour in Fenghua, so the pickup is live when someone tries the kiosk."""
    return now.astimezone(ZoneInfo(TIMEZONE)).replace(minute=0, second=0, microsecond=0)


def load_demo(
    db: Database,
    now: datetime,
    make_code: Callable[[int], str],
    start: datetime | None = None,
    actor: str = "demo",
) -> list[int]:
    """Create both demo distributions, allocate and schedule them. Returns their ids."""
    # A replay of a given day is scheduled as of its start, so its slots are all still ahead;
    # a live demo (the current hour) only uses the slots that have not started.
    replay = start is not None
    start = start or default_start(now)
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(TIMEZONE))
    scheduled_at = min(now, start) if replay else now
    disinfectant = distributions.create_distribution(
        db,
        {
            "name": "消毒用品发放 Disinfectant for reopening enterprises",
            "item": "Disinfectant (hydrogen peroxide solution)",
            "item_key": "hydrogen_peroxide",
            "unit_name": "桶",
            "unit_name_en": "20 kg drum",
            "unit_size": 20,
            "measure": "kg",
            "stock_units": 614,
            "timezone": TIMEZONE,
            "slot_minutes": 15,
            "capacity_people": 5,
            "capacity_units": 60,
            "early_minutes": 15,
            "grace_minutes": 30,
            "weight_basis": "headcount",
            "allocation_method": "sainte_lague",
        },
        [
            distributions.SiteSpec(
                "区企业服务中心 Enterprise Service Centre",
                "宁波市奉化区岳林街道 (Yuelin, Fenghua)",
                [(start, start + timedelta(hours=7))],
            )
        ],
        now,
        actor,
    )
    with storage.transaction(db):
        storage.insert_recipients(db, disinfectant, enterprises())
    masks_start = start + timedelta(days=1)
    masks = distributions.create_distribution(
        db,
        {
            "name": "口罩下拨 Masks to towns and sub-districts",
            "item": "Masks (civil, disposable)",
            "item_key": "masks",
            "unit_name": "盒",
            "unit_name_en": "box of 50",
            "unit_size": 50,
            "measure": "masks",
            "stock_units": 3848,
            "timezone": TIMEZONE,
            "slot_minutes": 20,
            "capacity_people": 2,
            "capacity_units": None,
            "early_minutes": 15,
            "grace_minutes": 30,
            "weight_basis": "population",
            "allocation_method": "sainte_lague",
        },
        [
            distributions.SiteSpec(name, address, [(masks_start, masks_start + timedelta(hours=3))])
            for name, address in MASK_SITES
        ],
        now,
        actor,
    )
    site_ids = {site["name"]: site["id"] for site in storage.list_sites(db, masks)}
    with storage.transaction(db):
        storage.insert_recipients(
            db, masks, [{**row, "site_id": site_ids[row["site"]]} for row in towns()]
        )
    for distribution_id in (disinfectant, masks):
        planning.allocate_distribution(db, distribution_id, now, actor)
        planning.schedule_distribution(db, distribution_id, scheduled_at, actor, make_code)
    return [disinfectant, masks]


DEMO_ACCOUNTS = (("admin", "admin"), ("staff", "staff"))


def demo_accounts(db: Database, instance_path: str | Path, now: datetime) -> dict[str, str]:
    """Development only: an admin and a staff login with random passwords, made once.

    They are kept in ``instance/demo-accounts.json`` (mode 0600) so that ``make run``
    can show them again; a production database never gets them.
    """
    path = Path(instance_path) / "demo-accounts.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    for username, role in DEMO_ACCOUNTS:
        password = known.setdefault(username, secrets.token_urlsafe(9))
        # The file outlives a deleted database: recreate the account with the same password.
        if storage.get_user_by_name(db, username) is None:
            accounts.create_user(db, username, password, role, now, "demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(known))
    return known
