"""The safety instructions as first shipped, loaded by migration ``0003_pickup_point``.

This is seed data, frozen with the migration that loads it: the operator edits the stored
rows (``flask --app wsgi safety-content export`` / ``import``), not this file. Each text
field is a list of short lines, shown as a bulleted list. ``sms`` is the short version for
one SMS segment: at most 70 characters in Chinese, 160 GSM-7 characters in English.

Dilutions follow the Chinese CDC's household disinfection guidance of February 2020
(84 disinfectant at 500 mg/L available chlorine for surfaces, 75 % ethanol undiluted).
"""

from __future__ import annotations

from typing import Any

FIELDS = (
    "title",
    "hazards",
    "protective_equipment",
    "dilution",
    "storage",
    "never_mix",
    "first_aid",
    "sms",
)

SEED: dict[str, dict[str, Any]] = {
    "hydrogen_peroxide": {
        "pictograms": ["GHS03", "GHS05", "GHS07"],
        "zh": {
            "title": "过氧化氢消毒液",
            "hazards": [
                "强氧化剂：可加剧燃烧，远离可燃物。",
                "浓溶液可致严重眼损伤和皮肤灼伤。",
                "吞食有害。",
            ],
            "protective_equipment": [
                "佩戴防溅护目镜、丁腈或橡胶手套。",
                "在通风处操作，穿长袖或围裙。",
            ],
            "dilution": [
                "物体表面用3%溶液：1份30%原液加9份清水。",
                "用干净的塑料或玻璃容器，当天配当天用。",
            ],
            "storage": [
                "原装桶直立存放于阴凉、避光、通风处，30℃以下。",
                "远离可燃物、金属和儿童。",
            ],
            "never_mix": [
                "不要与还原剂、金属或金属盐（铁、铜）混合。",
                "不要与84消毒液、酒精或其他清洁剂混合。",
            ],
            "first_aid": [
                "溅入眼睛：立即用清水冲洗至少15分钟，并就医。",
                "皮肤接触：用大量清水冲洗。",
                "误服：漱口，不要催吐，立即就医。",
            ],
            "sms": "过氧化氢：戴手套和护目镜；勿与金属、还原剂或其他消毒剂混合；"
            "阴凉避光存放；溅入眼睛用清水冲洗15分钟并就医。",
        },
        "en": {
            "title": "Hydrogen peroxide disinfectant",
            "hazards": [
                "Oxidiser: may intensify fire; keep away from anything that burns.",
                "The concentrate causes serious eye damage and skin burns.",
                "Harmful if swallowed.",
            ],
            "protective_equipment": [
                "Splash goggles and nitrile or rubber gloves.",
                "Work where air moves; wear long sleeves or an apron.",
            ],
            "dilution": [
                "For surfaces use a 3 % solution: 1 part of 30 % concentrate to 9 parts water.",
                "Use clean plastic or glass containers; mix only what you use that day.",
            ],
            "storage": [
                "Upright in the original drum, in a cool, dark, ventilated place below 30 °C.",
                "Away from anything that burns, from metals, and from children.",
            ],
            "never_mix": [
                "Never mix with reducing agents, metals or metal salts (iron, copper).",
                "Never mix with bleach (84), alcohol or other cleaners.",
            ],
            "first_aid": [
                "Eyes: rinse with water for at least 15 minutes, then see a doctor.",
                "Skin: rinse with plenty of water.",
                "Swallowed: rinse the mouth, do not induce vomiting, see a doctor at once.",
            ],
            "sms": "Hydrogen peroxide: wear gloves and goggles. Never mix with metals, reducing "
            "agents or other disinfectants. Store cool and dark. Eyes: rinse 15 min, see doctor.",
        },
    },
    "sodium_hypochlorite": {
        "pictograms": ["GHS05", "GHS09"],
        "zh": {
            "title": "84消毒液（次氯酸钠）",
            "hazards": [
                "可致皮肤灼伤和眼损伤。",
                "遇酸或氨会放出有毒的氯气。",
                "对水生生物毒性极大；会使衣物褪色。",
            ],
            "protective_equipment": [
                "佩戴橡胶手套和护目镜。",
                "开窗通风；通风差时戴口罩。",
            ],
            "dilution": [
                "一般物体表面：1份84消毒液加100份冷水（约500毫克/升有效氯）。",
                "污染较重处：1份加50份冷水。作用30分钟后用清水擦净。",
                "用冷水，现配现用。",
            ],
            "storage": [
                "密封、避光、阴凉处存放，远离酸性物品和儿童。",
                "不要分装到饮料瓶里。",
            ],
            "never_mix": [
                "不要与洁厕灵、醋等酸性物品混合：会产生氯气。",
                "不要与含氨清洁剂、酒精或过氧化氢混合。",
            ],
            "first_aid": [
                "溅入眼睛：立即用清水冲洗至少15分钟，并就医。",
                "皮肤接触：用大量清水冲洗。",
                "吸入气体：立即到空气新鲜处，不适时就医。",
                "误服：漱口，不要催吐，立即就医。",
            ],
            "sms": "84消毒液：1份加100份冷水，戴手套；"
            "切勿与洁厕灵、酸、氨或酒精混合，会产生有毒氯气；通风，避光密封存放。",
        },
        "en": {
            "title": "84 disinfectant (sodium hypochlorite)",
            "hazards": [
                "Causes skin burns and eye damage.",
                "Gives off toxic chlorine gas with acids or ammonia.",
                "Very toxic to aquatic life; bleaches clothes.",
            ],
            "protective_equipment": [
                "Rubber gloves and goggles.",
                "Open windows; wear a mask where air does not move.",
            ],
            "dilution": [
                "Surfaces: 1 part 84 to 100 parts cold water (about 500 mg/L available chlorine).",
                "Heavy soiling: 1 part to 50. Leave 30 minutes, then wipe with clean water.",
                "Use cold water and mix fresh each time.",
            ],
            "storage": [
                "Closed, dark and cool; away from acids and from children.",
                "Never pour it into drink bottles.",
            ],
            "never_mix": [
                "Never mix with toilet cleaner, vinegar or other acids: it makes chlorine gas.",
                "Never mix with ammonia cleaners, alcohol or hydrogen peroxide.",
            ],
            "first_aid": [
                "Eyes: rinse with water for at least 15 minutes, then see a doctor.",
                "Skin: rinse with plenty of water.",
                "Gas breathed in: go to fresh air; see a doctor if unwell.",
                "Swallowed: rinse the mouth, do not induce vomiting, see a doctor at once.",
            ],
            "sms": "84 disinfectant: 1 part to 100 parts cold water, wear gloves. Never mix with "
            "toilet cleaner, acids, ammonia or alcohol: toxic gas. Ventilate. Store closed.",
        },
    },
    "ethanol_75": {
        "pictograms": ["GHS02", "GHS07"],
        "zh": {
            "title": "75%酒精",
            "hazards": [
                "高度易燃液体，蒸气遇火花或静电即可燃烧。",
                "可致严重眼刺激。",
            ],
            "protective_equipment": [
                "使用时远离明火、炉灶和香烟。",
                "长时间使用戴手套，保持通风。",
            ],
            "dilution": [
                "直接使用，不要稀释。",
                "擦拭小面积物体表面和手；不要大面积喷洒，不要喷在衣物上。",
            ],
            "storage": [
                "密封，放在阴凉处，远离热源、明火和阳光。",
                "家中少量存放；夏天不要放在车内。",
            ],
            "never_mix": [
                "不要与84消毒液混合。",
                "不要与过氧化氢等氧化剂混合；不要在明火附近使用。",
            ],
            "first_aid": [
                "溅入眼睛：用清水冲洗至少15分钟。",
                "着火：用湿布或灭火器扑灭，烧伤处用冷水冲。",
                "误服：立即就医。",
            ],
            "sms": "75%酒精：易燃！远离明火和炉灶，不要大面积喷洒；"
            "勿与84消毒液混合；密封阴凉存放；溅入眼睛用清水冲洗。",
        },
        "en": {
            "title": "75 % ethanol",
            "hazards": [
                "Highly flammable liquid; its vapour catches fire from sparks or static.",
                "Causes serious eye irritation.",
            ],
            "protective_equipment": [
                "Keep away from flames, stoves and cigarettes while using it.",
                "Gloves for long use; keep the air moving.",
            ],
            "dilution": [
                "Use as supplied; do not dilute.",
                "Wipe hands and small surfaces; never spray large areas or clothes.",
            ],
            "storage": [
                "Closed, cool, away from heat, flames and sunlight.",
                "Keep small amounts at home; never leave it in a car in summer.",
            ],
            "never_mix": [
                "Never mix with 84 disinfectant (bleach).",
                "Never mix with oxidisers such as hydrogen peroxide; never use near flames.",
            ],
            "first_aid": [
                "Eyes: rinse with water for at least 15 minutes.",
                "Fire: smother with a wet cloth or extinguisher; cool burns with water.",
                "Swallowed: see a doctor at once.",
            ],
            "sms": "75% ethanol: FLAMMABLE. Keep away from flames and stoves, do not spray large "
            "areas. Never mix with bleach (84). Store closed and cool. Eyes: rinse with water.",
        },
    },
    "masks": {
        "pictograms": [],
        "zh": {
            "title": "口罩",
            "hazards": [
                "口罩本身无害；只有贴合、干燥、清洁时才有防护作用。",
            ],
            "protective_equipment": [
                "戴口罩前和摘口罩后都要洗手。",
            ],
            "dilution": [
                "无需稀释。佩戴：深色面朝外，金属条在上，按压鼻夹，盖住口鼻和下巴。",
                "一次性口罩连续佩戴不超过4小时，潮湿或污染后立即更换。",
            ],
            "storage": [
                "放在干燥清洁处，保持包装密封；不要与他人共用。",
            ],
            "never_mix": [
                "不要用酒精或消毒液喷洒口罩，不要水洗一次性口罩。",
                "佩戴时不要触摸口罩外面。",
            ],
            "first_aid": [
                "呼吸困难时，走到空气新鲜、远离人群处摘下口罩；持续不适请就医。",
            ],
            "sms": "口罩：深色面朝外，金属条在上，盖住口鼻；"
            "4小时或潮湿即换；勿喷酒精；摘后洗手，用过的口罩密封丢弃。",
        },
        "en": {
            "title": "Masks",
            "hazards": [
                "A mask is harmless; it only protects when it fits, and is dry and clean.",
            ],
            "protective_equipment": [
                "Wash your hands before putting it on and after taking it off.",
            ],
            "dilution": [
                "Nothing to dilute. Coloured side out, metal strip on top, press it round "
                "the nose, cover nose, mouth and chin.",
                "Change a disposable mask after 4 hours, or at once when damp or dirty.",
            ],
            "storage": [
                "Dry and clean, in the closed pack; never share masks.",
            ],
            "never_mix": [
                "Never spray a mask with alcohol or disinfectant; never wash a disposable mask.",
                "Do not touch the front while wearing it.",
            ],
            "first_aid": [
                "Short of breath: step away from others into fresh air and take it off; "
                "see a doctor if it lasts.",
            ],
            "sms": "Masks: coloured side out, metal strip on top, cover nose and chin. Change "
            "after 4 h or when damp. No alcohol spray. Wash hands after; bin used masks closed.",
        },
    },
    "thermometers": {
        "pictograms": [],
        "zh": {
            "title": "体温计（红外额温枪）",
            "hazards": [
                "正常使用无害。",
                "纽扣电池被吞下很危险，放在儿童拿不到的地方。",
            ],
            "protective_equipment": [
                "每测一人后用75%酒精擦拭探头。",
            ],
            "dilution": [
                "无需稀释。在室内避风处停留10分钟后测量，距额头3至5厘米。",
                "体温达到37.3℃时复测，并按规定报告。",
            ],
            "storage": [
                "干燥、常温、避光存放；长期不用请取出电池。",
            ],
            "never_mix": [
                "不要浸入液体，不要向机身喷洒消毒液。",
            ],
            "first_aid": [
                "误吞电池：立即去医院，不要催吐。",
                "水银体温计打破：开窗通风，不要用吸尘器，用硬纸收集汞珠密封。",
            ],
            "sms": "额温枪：室内静候10分钟后测，距额头3-5厘米；"
            "37.3℃以上复测并报告；每人用后酒精擦探头；电池远离儿童。",
        },
        "en": {
            "title": "Thermometers (infrared forehead)",
            "hazards": [
                "Harmless in normal use.",
                "Button batteries are dangerous if swallowed: keep them from children.",
            ],
            "protective_equipment": [
                "Wipe the probe with 75 % ethanol after each person.",
            ],
            "dilution": [
                "Nothing to dilute. Measure indoors after 10 minutes out of the wind, "
                "3 to 5 cm from the forehead.",
                "At 37.3 °C or more, measure again and report as instructed.",
            ],
            "storage": [
                "Dry, at room temperature, out of the sun; remove batteries if unused for long.",
            ],
            "never_mix": [
                "Never dip it in liquid or spray disinfectant into it.",
            ],
            "first_aid": [
                "Battery swallowed: go to hospital at once; do not induce vomiting.",
                "Broken mercury thermometer: open windows, no vacuum cleaner; scoop the beads "
                "onto stiff paper and seal them in a jar.",
            ],
            "sms": "Thermometer: measure indoors after 10 min, 3-5 cm from the forehead. 37.3 C "
            "or more: measure again, report. Wipe probe with alcohol. Batteries away from kids.",
        },
    },
}
