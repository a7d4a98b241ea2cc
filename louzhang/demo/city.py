"""The demo city, built from the places in the seed report (January 2020, Inner Mongolia).

Places are real (division codes are GB/T 2260; codes below district level are the demo's own);
every person is fictional, with a fictitious ID number whose check character is valid.
The data is generated from a fixed seed, so loading twice produces the same rows, and the
loader inserts only what is missing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from louzhang.areas.models import Level
from louzhang.identifiers.id_numbers import check_character

CN_NUMERALS = "零一二三四五六七八九十"


@dataclass
class AreaSpec:
    code: str
    name: str
    level: Level
    parent: str | None
    ordinal: int = 0


@dataclass
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None
    area: str
    communities: list[str] = field(default_factory=list)


@dataclass
class PersonSpec:
    name: str
    gender: str
    birth_date: date
    id_number: str
    phone: str
    household: str
    residency: str
    is_head: bool
    care_tags: str = ""


@dataclass
class UserSpec:
    username: str
    display_name: str
    role: str
    scopes: list[str]
    police_unit: str | None
    phone: str
    #: printed with its password by `louzhang demo`
    login: bool = False


# GB/T 2260 codes of the three cities of the seed and their districts/banners.
CITIES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("150200", "包头市"): [
        ("150202", "东河区"), ("150203", "昆都仑区"), ("150204", "青山区"), ("150205", "石拐区"),
        ("150206", "白云鄂博矿区"), ("150207", "九原区"), ("150221", "土默特右旗"),
        ("150222", "固阳县"), ("150223", "达尔罕茂明安联合旗"),
    ],
    ("150600", "鄂尔多斯市"): [
        ("150602", "东胜区"), ("150603", "康巴什区"), ("150621", "达拉特旗"),
        ("150622", "准格尔旗"), ("150623", "鄂托克前旗"), ("150624", "鄂托克旗"),
        ("150625", "杭锦旗"), ("150626", "乌审旗"), ("150627", "伊金霍洛旗"),
    ],
    ("150700", "呼伦贝尔市"): [
        ("150702", "海拉尔区"), ("150703", "扎赉诺尔区"), ("150721", "阿荣旗"),
        ("150722", "莫力达瓦达斡尔族自治旗"), ("150723", "鄂伦春自治旗"),
        ("150724", "鄂温克族自治旗"), ("150725", "陈巴尔虎旗"), ("150726", "新巴尔虎左旗"),
        ("150727", "新巴尔虎右旗"), ("150781", "满洲里市"), ("150782", "牙克石市"),
        ("150783", "扎兰屯市"), ("150784", "额尔古纳市"), ("150785", "根河市"),
    ],
}

# (district, sub-district, community, compound, buildings, units per building, floors)
COMPOUNDS = [
    ("150202", ("150202001", "西脑包街道"), ("150202001001", "百合社区"),
     ("150202001001001", "保利百合"), 36, 2, 6),
    ("150207", ("150207001", "沙河街道"), ("150207001001", "富贵社区"),
     ("150207001001001", "富贵佳园"), 12, 2, 6),
]
# Places without compounds yet, but with the police who cover them.
TOWNS = [
    ("150621", ("150621100", "树林召镇"), ("150621100001", "林原社区")),
    ("150782", ("150782101", "库都尔镇"), ("150782101001", "库都尔社区")),
    ("150782", ("150782001", "胜利街道"), ("150782001001", "胜利社区")),
]

POLICE = [
    UnitSpec("BT-PSB", "包头市公安局", "bureau", None, "150200"),
    UnitSpec("BT-DH", "包头市公安局东河区分局", "branch", "BT-PSB", "150202"),
    UnitSpec("BT-DH-XNB", "西脑包派出所", "station", "BT-DH", "150202", ["150202001001"]),
    UnitSpec("BT-JY", "包头市公安局九原区分局", "branch", "BT-PSB", "150207"),
    UnitSpec("BT-JY-SH", "沙河派出所", "station", "BT-JY", "150207", ["150207001001"]),
    UnitSpec("ORD-PSB", "鄂尔多斯市公安局", "bureau", None, "150600"),
    UnitSpec("ORD-TP-DLT", "鄂尔多斯市公安局交通管理支队达拉特旗大队", "brigade", "ORD-PSB", "150621"),
    UnitSpec("HLBE-PSB", "呼伦贝尔市公安局", "bureau", None, "150700"),
    UnitSpec("HLBE-YKS", "牙克石市公安局", "branch", "HLBE-PSB", "150782"),
    UnitSpec("HLBE-YKS-KDE", "库都尔派出所", "station", "HLBE-YKS", "150782", ["150782101001"]),
    UnitSpec("HLBE-YKS-SL", "胜利派出所", "station", "HLBE-YKS", "150782", ["150782001001"]),
]

CHECKPOINT = {
    "code": "DLT-CP1", "name": "达拉特旗进城检查站（24小时）", "road": "210国道进城方向",
    "area": "150621", "operating_unit": "ORD-TP-DLT",
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志新海峰亮成"
GIVEN_F = "芳娜敏静丽艳娟霞燕玲桂琳丹萍红玉兰英梅莉婷雪慧颖洁佳倩晶月秀凤霞琴云蓉"
# birthplaces for ID numbers: mostly local, some from elsewhere, one retired code (伊克昭盟达拉特旗,
# 152722, before 2001) — the registry must treat region codes as information, not a rule.
BIRTHPLACES = ["150202", "150207", "150203", "150204", "150221", "152722", "420106", "110105"]


def _name(rng: random.Random, gender: str) -> str:
    given = GIVEN_M if gender == "M" else GIVEN_F
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "18", "17", "19"]) + "".join(str(rng.randrange(10)) for _ in range(9))


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A fictitious GB 11643 number with a valid check character."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


@dataclass
class VehicleSpec:
    plate: str
    vehicle_type: str
    owner_id_number: str
    compound: str
    registered_year: int


def lead_wardens() -> dict[str, str]:
    """The lead wardens (牵头楼长) the stations have named: compound code -> username. 郝志东,
    the warden of 保利百合 building 7 and 31–36, answers for the whole compound: a visitor's
    fever at its gates, a key-region car bound for it."""
    return {"150202001001001": "warden"}


@dataclass
class DemoCity:
    areas: list[AreaSpec]
    police: list[UnitSpec]
    residents: list[PersonSpec]
    users: list[UserSpec]
    checkpoint: dict[str, str]
    vehicles: list[VehicleSpec] = field(default_factory=list)
    #: compound code -> username of its lead warden (`lead_wardens`)
    leads: dict[str, str] = field(default_factory=lead_wardens)


def build_demo_city(seed: int = 2020) -> DemoCity:
    rng = random.Random(seed)
    areas: list[AreaSpec] = []
    for (city_code, city_name), districts in CITIES.items():
        areas.append(AreaSpec(city_code, city_name, Level.CITY, None))
        for i, (code, name) in enumerate(districts):
            areas.append(AreaSpec(code, name, Level.DISTRICT, city_code, i))
    for district, (sub_code, sub_name), (com_code, com_name) in TOWNS:
        areas.append(AreaSpec(sub_code, sub_name, Level.SUBDISTRICT, district))
        areas.append(AreaSpec(com_code, com_name, Level.COMMUNITY, sub_code))

    residents: list[PersonSpec] = []
    used_ids: set[str] = set()
    buildings_of: dict[str, list[str]] = {}
    units_of: dict[tuple[str, int], str] = {}
    for district, (sub_code, sub_name), (com_code, com_name), (cp_code, cp_name), n_buildings, n_units, floors in COMPOUNDS:
        areas.append(AreaSpec(sub_code, sub_name, Level.SUBDISTRICT, district))
        areas.append(AreaSpec(com_code, com_name, Level.COMMUNITY, sub_code))
        areas.append(AreaSpec(cp_code, cp_name, Level.COMPOUND, com_code))
        buildings_of[cp_code] = []
        for b in range(1, n_buildings + 1):
            b_code = f"{cp_code}-{b}"
            buildings_of[cp_code].append(b_code)
            areas.append(AreaSpec(b_code, f"{b}号楼", Level.BUILDING, cp_code, b))
            for u in range(1, n_units + 1):
                u_code = f"{b_code}-{u}"
                units_of[(b_code, u)] = u_code
                areas.append(AreaSpec(u_code, f"{CN_NUMERALS[u]}单元", Level.UNIT, b_code, u))
                for floor in range(1, floors + 1):
                    for door, door_name in ((1, "西"), (2, "东")):
                        h_code = f"{u_code}-{floor:02d}{door:02d}"
                        areas.append(AreaSpec(h_code, f"{floor}楼{door_name}户", Level.HOUSEHOLD,
                                              u_code, floor * 10 + door))
                        residents.extend(_household(rng, h_code, district, used_ids))

    police = POLICE
    users = _users(rng, buildings_of, units_of)
    vehicles = _vehicles(rng, residents)
    return DemoCity(areas=areas, police=police, residents=residents, users=users,
                    checkpoint=CHECKPOINT, vehicles=vehicles)


def _vehicles(rng: random.Random, residents: list[PersonSpec]) -> list[VehicleSpec]:
    """Residents' cars; among them the grey Buick with Wuhan plates parked under building 34,
    whose owner is a permanent resident of 保利百合 and which has not left the city since 2018."""
    heads = [p for p in residents if p.is_head and p.residency == "permanent"]
    baoli = [p for p in heads if p.household.startswith("150202001001001-")]
    buick_owner = next(p for p in baoli if p.household.startswith("150202001001001-34-1-"))
    cars = [VehicleSpec("鄂A5K2B8", "灰色别克轿车", buick_owner.id_number, "150202001001001", 2018)]
    serial = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    for owner in rng.sample(heads, 60):
        plate = "蒙B" + "".join(rng.choice(serial) for _ in range(5))
        compound = owner.household.split("-")[0]
        cars.append(VehicleSpec(plate, rng.choice(["小型轿车", "SUV", "面包车"]), owner.id_number,
                                compound, rng.randint(2008, 2019)))
    return cars


def _household(rng: random.Random, h_code: str, district: str, used: set[str]) -> list[PersonSpec]:
    if rng.random() < 0.08:
        return []  # empty flat
    residency = rng.choices(["permanent", "temporary", "tenant"], weights=[80, 8, 12])[0]
    size = rng.choices([1, 2, 3, 4, 5], weights=[14, 30, 30, 18, 8])[0]
    today = date(2020, 1, 28)
    people = []
    head_age = rng.randint(25, 88)
    for i in range(size):
        if i == 0:
            age = head_age
        elif i == 1:
            age = max(20, head_age + rng.randint(-5, 5))
        else:
            age = rng.randint(0, max(1, head_age - 20))
        gender = rng.choice("MF")
        born = today - timedelta(days=age * 365 + rng.randint(0, 364))
        region = district if rng.random() < 0.8 else rng.choice(BIRTHPLACES)
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            number = make_id_number(region, born, seq)
            if number not in used:
                used.add(number)
                break
        people.append(PersonSpec(
            name=_name(rng, gender), gender=gender, birth_date=born, id_number=number,
            phone=_phone(rng) if age >= 14 else "", household=h_code,
            residency=residency, is_head=i == 0,
        ))
    # care tags follow from age and household (no random draw: the rest of the city stays as is)
    for person in people:
        age = (today - person.birth_date).days // 365
        tags = []
        if age >= 80:
            tags.append("elderly")
        if age >= 70 and len(people) == 1:
            tags.append("elderly_alone")
        person.care_tags = ",".join(sorted(tags))
    return people


def _users(rng: random.Random, buildings_of: dict[str, list[str]], units_of: dict[tuple[str, int], str]) -> list[UserSpec]:
    baoli = buildings_of["150202001001001"]
    fugui = buildings_of["150207001001001"]
    users = [
        UserSpec("commander", "包头市局指挥中心值班长", "commander", ["150200"], "BT-PSB", _phone(rng), True),
        # the warden of building 7 in 保利百合, who also answers for 34号楼 where the tip came from
        UserSpec("warden", "郝志东", "warden", [baoli[6], *baoli[30:36]], "BT-DH-XNB", _phone(rng), True),
        UserSpec("warden_jy", "吕建平", "warden", fugui[:6], "BT-JY-SH", _phone(rng), True),
        UserSpec("checkpoint", "达拉特旗大队值勤民警", "checkpoint", ["150621"], "ORD-TP-DLT", _phone(rng), True),
        UserSpec("gate", "保利百合物业门岗", "gate", ["150202001001001"], None, _phone(rng), True),
        UserSpec("unit_rep", "34号楼二单元代表", "unit_rep", [units_of[(baoli[33], 2)]], None, _phone(rng), True),
        UserSpec("health", "东河区疾控联络员", "health", ["150202"], None, _phone(rng), True),
        UserSpec("station_kde", "库都尔派出所所长", "commander", ["HLBE-YKS-KDE"], "HLBE-YKS-KDE", _phone(rng), True),
    ]
    # the rest of 保利百合 and 富贵佳园: every building has a warden
    others = [(baoli[0:6], "BT-DH-XNB"), (baoli[7:14], "BT-DH-XNB"), (baoli[14:22], "BT-DH-XNB"),
              (baoli[22:30], "BT-DH-XNB"), (fugui[6:12], "BT-JY-SH")]
    for i, (buildings, unit) in enumerate(others, start=1):
        gender = rng.choice("MF")
        users.append(UserSpec(f"warden{i:02d}", _name(rng, gender), "warden", buildings, unit, _phone(rng)))
    # the commanders a follow-up climbs to when nobody acts: the station, then the branch (their
    # own random source, so the rest of the demo city stays as it was)
    own = random.Random("louzhang-demo-commanders")
    users += [
        UserSpec("station_xnb", "西脑包派出所所长", "commander", ["BT-DH-XNB"], "BT-DH-XNB", _phone(own), True),
        UserSpec("branch_dh", "东河区分局指挥室值班长", "commander", ["BT-DH"], "BT-DH", _phone(own), True),
    ]
    return users
