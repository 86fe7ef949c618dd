"""The demo's world as plain data: one project, its units and customers, who held what when, and the
documents to file. Built from a seeded random generator, so every run plans the same archive.

Names, ID numbers and phones are made up. ID numbers use the city-level code 440300, which no
resident district uses, so they cannot be anybody's.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..core.enums import Carrier, Category, CustomerKind, Level, OccupancyRole, UnitKind
from . import kinds as k

SEED = 20240601
TODAY = date(2024, 10, 31)  # the demo's "now": nothing is dated after it

PROJECT_CODE, PROJECT_NAME = "LJY", "丽景苑"
PROJECT_ADDRESS = "深圳市南山区粤海街道科苑南路2888号"
DEVELOPER = "深圳市丽景苑置业有限公司"
MANAGER = "深圳市丽景物业服务有限公司丽景苑管理处"
COURT = "深圳市南山区人民法院"
BUILDINGS = (("03", "3栋"), ("05", "5栋"))
BANKS = ("中国建设银行深圳南山支行", "招商银行深圳科技园支行", "中国工商银行深圳蛇口支行")
# The staff named on the papers; the demo users carry the same names.
STAFF = {"sales_agent": "林晓", "ca_agent": "郑雅琴", "csc_agent": "黄振宇", "com_agent": "何嘉欣",
         "archivist": "苏婉", "legal_agent": "罗一鸣"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧"
GIVEN_NAMES = ("子涵", "浩然", "雨桐", "思远", "嘉怡", "俊杰", "晓薇", "志强", "文博", "婉清", "明轩", "佳琪",
               "国栋", "丽娟", "建华", "秀英", "海涛", "静怡", "永康", "慧敏", "伟民", "若曦", "振东", "玉兰")
REPAIRS = (("卫生间地面渗水", "重做防水层并闭水试验四十八小时"), ("外墙窗边渗漏", "窗框四周重新打胶"),
           ("入户门锁芯损坏", "更换锁芯"), ("厨房墙砖空鼓", "重新铺贴墙砖"),
           ("空调冷凝水管堵塞", "疏通冷凝水管"), ("阳台栏杆松动", "加固栏杆预埋件"))

TRANSFER_UNIT, SECOND_HOME, LITIGATION_UNIT = "03/1-1501", "03/2-1602", "03/1-1602"
CASE = {"case_no": "（2023）粤0305民初18426号", "case_claim": 186500.0, "case_award": 98200.0,
        "case_low": 60000.0, "case_high": 120000.0, "case_cap": 90000.0, "case_fee": 4030.0,
        "case_lawyer_fee": 45000.0, "case_survey_fee": 12800.0}
CASE_FILED = date(2023, 3, 6)
MOVE_IN_DAY = date(2021, 12, 18)  # the collective move-in (集中入伙)


@dataclass(frozen=True)
class UnitPlan:
    building: str
    code: str
    name: str
    kind: UnitKind
    floor: int
    area_m2: float

    @property
    def key(self) -> str:
        return f"{self.building}/{self.code}"

    @property
    def full_name(self) -> str:
        return dict(BUILDINGS)[self.building] + self.name


@dataclass(frozen=True)
class CustomerPlan:
    key: str
    name: str
    kind: CustomerKind
    id_number: str
    phone: str


@dataclass(frozen=True)
class HoldingPlan:
    unit_key: str
    customer_key: str
    role: OccupancyRole
    start: date
    end: date | None = None
    business: str = ""  # a tenant's trade
    rent: float = 0.0  # a tenant's monthly rent


@dataclass(frozen=True)
class DocumentPlan:
    category: Category
    kind: k.Kind
    unit_key: str
    filed_in: str
    title: str
    heading: str
    responsible_party: str
    doc_number: str
    doc_date: date
    department: str
    level: Level
    scope: tuple[str, ...]
    is_original: bool
    carrier: Carrier
    location: tuple[str, str, str]  # room, box, shelf
    remarks: str
    lines: tuple[str, ...]
    pages: tuple[tuple[str, ...], ...]
    signature: tuple[str, str] | None
    scan: bool

    @property
    def filename(self) -> str:
        return f"{self.title}.{'jpg' if self.scan else 'pdf'}"


@dataclass(frozen=True)
class DemoPlan:
    units: list[UnitPlan]
    customers: list[CustomerPlan]
    holdings: list[HoldingPlan]
    litigation_title: str
    documents: list[DocumentPlan]


def _units() -> list[UnitPlan]:
    units = []
    for entrance in (1, 2):
        for floor in (15, 16, 17):
            for room, area in ((1, 128.35), (2, 89.56 + entrance * 13.71)):
                units.append(UnitPlan("03", f"{entrance}-{floor}{room:02d}", f"{entrance}单元{floor}{room:02d}",
                                      UnitKind.RESIDENTIAL, floor, area))
    for floor in (8, 9):
        for room, area in ((1, 118.64), (2, 96.12)):
            units.append(UnitPlan("05", f"1-{floor:02d}{room:02d}", f"1单元{floor:02d}{room:02d}",
                                  UnitKind.RESIDENTIAL, floor, area))
    for number, area in zip(range(101, 107), (48.2, 52.6, 66.8, 85.3, 126.5, 58.9)):
        units.append(UnitPlan("05", f"S{number}", f"商铺{number}", UnitKind.SHOP, 1, area))
    for number in ("B1-018", "B1-019"):
        units.append(UnitPlan("05", number, f"地下车位{number}", UnitKind.PARKING, -1, 12.5))
    return units


def _id_number(rng: random.Random, serial: int) -> str:
    """An 18-digit resident ID number with a correct check digit (GB 11643) on the unused code 440300."""
    birthday = date(1962, 1, 1) + timedelta(days=rng.randrange(365 * 33))
    body = f"440300{birthday:%Y%m%d}{serial:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _customers(rng: random.Random, count: int) -> list[CustomerPlan]:
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        if name not in names and name not in STAFF.values():
            names.append(name)
    people = [CustomerPlan(f"p{i}", name, CustomerKind.PERSON, _id_number(rng, 101 + 2 * i),
                           "138" + "".join(rng.choices("0123456789", k=8))) for i, name in enumerate(names)]
    licence = "91440300MA5" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=7))
    company = CustomerPlan("company", "深圳市味之源餐饮管理有限公司", CustomerKind.COMPANY, licence,
                           "138" + "".join(rng.choices("0123456789", k=8)))
    return people + [company]


def _holdings(units: list[UnitPlan], sale_dates: dict[str, date]) -> list[HoldingPlan]:
    """Owners of every home and of three shops; the rest of the shops are let. One home changes hands,
    one customer owns a home and a parking space, one shop's tenant leaves and another moves in."""
    homes = [u for u in units if u.kind is UnitKind.RESIDENTIAL]
    shops = [u for u in units if u.kind is UnitKind.SHOP]
    owner = OccupancyRole.OWNER
    holdings, people = [], iter(f"p{i}" for i in range(100))
    owner_of: dict[str, str] = {}
    for unit in homes + shops[:3]:
        owner_of[unit.key] = next(people)
        end = date(2023, 3, 31) if unit.key == TRANSFER_UNIT else None
        holdings.append(HoldingPlan(unit.key, owner_of[unit.key], owner, sale_dates[unit.key], end))
    holdings.append(HoldingPlan(TRANSFER_UNIT, next(people), owner, date(2023, 4, 1)))
    holdings.append(HoldingPlan("05/B1-018", owner_of[SECOND_HOME], owner, sale_dates["05/B1-018"]))
    holdings.append(HoldingPlan("05/B1-019", owner_of["05/1-0801"], owner, sale_dates["05/B1-019"]))
    tenant = OccupancyRole.TENANT
    holdings += [
        HoldingPlan(shops[3].key, next(people), tenant, date(2021, 9, 1), date(2023, 12, 31), "便利店", 21500.0),
        HoldingPlan(shops[4].key, "company", tenant, date(2022, 3, 1), None, "餐饮（粤式茶餐厅）", 38600.0),
        HoldingPlan(shops[5].key, next(people), tenant, date(2023, 6, 1), None, "社区药房", 17800.0),
        HoldingPlan(shops[3].key, next(people), tenant, date(2024, 3, 1), None, "烘焙甜品", 22800.0),
    ]
    return holdings


def _money(value: float) -> str:
    return f"{value:,.2f}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Planner:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.units = _units()
        self.by_key = {u.key: u for u in self.units}
        self.sale_dates = {u.key: self._sale_date(u) for u in self.units}
        # A person for each home and each of three sold shops, the buyer of the transferred home, three tenants.
        people = sum(1 for u in self.units if u.kind is UnitKind.RESIDENTIAL) + 3 + 1 + 3
        self.customers = _customers(self.rng, people)
        self.customer = {c.key: c for c in self.customers}
        self.holdings = _holdings(self.units, self.sale_dates)
        self.facts = {u.key: self._unit_facts(i, u) for i, u in enumerate(self.units)}
        self.boxes: dict[str, int] = {}
        self.titles: Counter[tuple[str, str]] = Counter()

    def _sale_date(self, unit: UnitPlan) -> date:
        first = date(2021, 5, 1) if unit.kind is UnitKind.PARKING else date(2020, 4, 1)
        return first + timedelta(days=self.rng.randrange(200))

    def _unit_facts(self, index: int, unit: UnitPlan) -> dict[str, Any]:
        """What stays the same on every paper of one unit: price, contract numbers, key dates."""
        rng = random.Random(f"{self.seed}:{unit.key}")
        sale = self.sale_dates[unit.key]
        if unit.kind is UnitKind.PARKING:
            unit_price = round(rng.randrange(380000, 460000, 1000) / unit.area_m2, 2)
        else:
            low, high = (95000, 130000) if unit.kind is UnitKind.SHOP else (68000, 82000)
            unit_price = rng.randrange(low, high, 100)
        price = round(unit_price * unit.area_m2, 2)
        discount = rng.choice((98, 97, 95))
        list_price = round(price * 100 / discount, 2)
        down = round(price * rng.choice((0.3, 0.4, 0.5)), -3)
        move_in = MOVE_IN_DAY + timedelta(days=rng.randrange(40))
        measured = round(unit.area_m2 + rng.uniform(-0.6, 0.6), 2)
        fee_rate = {UnitKind.RESIDENTIAL: 4.8, UnitKind.SHOP: 12.0, UnitKind.PARKING: 1.5}[unit.kind]
        renovation = 5000.0 if unit.kind is UnitKind.SHOP else 3000.0
        serial = f"{158 + index * 7:04d}"
        others = [u for u in self.units if u.kind is unit.kind and u.key != unit.key]
        return {
            "unit": unit.full_name, "building": dict(BUILDINGS)[unit.building], "area": f"{unit.area_m2:.2f}",
            "inner_area": f"{unit.area_m2 * 0.78:.2f}", "measured_area": f"{measured:.2f}",
            "area_difference": f"{measured - unit.area_m2:+.2f}",
            "area_money": _money((measured - unit.area_m2) * unit_price),
            "use": {UnitKind.RESIDENTIAL: "住宅", UnitKind.SHOP: "商业", UnitKind.PARKING: "车位"}[unit.kind],
            "unit_price": _money(unit_price), "price": _money(price), "list_price": _money(list_price),
            "discount": f"{discount / 10:.1f}", "discount_amount": _money(list_price - price),
            "cap_price": _money(unit_price * 1.08), "floor_price": _money(unit_price * 0.93),
            "deposit": _money(10000 if unit.kind is UnitKind.PARKING else 50000), "intent": _money(20000),
            "queue_no": f"{rng.randrange(1, 400):03d}", "down_payment": _money(down), "loan": _money(price - down),
            "term": rng.choice((20, 25, 30)), "basis_points": rng.choice((30, 45, 60)), "pay_day": rng.randrange(1, 29),
            "bank": rng.choice(BANKS), "serial": serial, "sale_year": sale.year,
            "contract_no": f"HT-{sale.year}-{serial}", "sale_date": chinese_date(sale),
            "contract_date": chinese_date(sale + timedelta(days=7)),
            "contract_deadline": chinese_date(sale + timedelta(days=7)),
            "other_unit": rng.choice(others).full_name if others else unit.full_name,
            "difference": _money(rng.randrange(20000, 180000, 100)),
            "move_in_date": chinese_date(move_in), "move_in_end": chinese_date(move_in + timedelta(days=30)),
            "management_fee": _money(unit.area_m2 * fee_rate * 12), "fee_rate": f"{fee_rate:.2f}",
            "renovation_deposit": _money(renovation),
            "settlement_total": _money(
                (measured - unit.area_m2) * unit_price + unit.area_m2 * fee_rate * 12 + renovation),
            "water_meter": f"{rng.randrange(0, 30):05d}", "power_meter": f"{rng.randrange(0, 200):05d}",
            "gas_meter": f"{rng.randrange(0, 20):05d}", "certificate_no": f"{rng.randrange(1000000, 9999999)}",
            "deed_tax": _money(price * 0.015), "tracking": "".join(rng.choices("0123456789", k=12)),
            "_anchors": {k.SALE: sale, k.MOVE_IN: move_in,
                         k.CERTIFICATE: date(2022, 7, 1) + timedelta(days=rng.randrange(150))},
        }

    def holder(self, unit_key: str, day: date, role: OccupancyRole | None = None) -> HoldingPlan:
        """Who held the unit that day (owner before tenant); before the first holding, the first holder."""
        held = sorted((h for h in self.holdings if h.unit_key == unit_key and (role is None or h.role is role)),
                      key=lambda h: (h.role is not OccupancyRole.OWNER, h.start))
        current = [h for h in held if h.start <= day and (h.end is None or day <= h.end)]
        return current[0] if current else min(held, key=lambda h: h.start)

    def eligible(self, category: Category) -> list[Any]:
        """The dossiers (or, for leases, the tenancies) each category's papers belong to."""
        sold = [u.key for u in self.units if any(h.unit_key == u.key and h.role is OccupancyRole.OWNER
                                                  for h in self.holdings)]
        homes = [u.key for u in self.units if u.kind is UnitKind.RESIDENTIAL]
        shops = [u.key for u in self.units if u.kind is UnitKind.SHOP]
        buildings = [key for key in sold if self.by_key[key].kind is not UnitKind.PARKING]
        return {
            Category.XS: sold, Category.QY: sold, Category.BZ: buildings, Category.RH: buildings,
            Category.WX: homes + shops, Category.PF: homes, Category.SS: [LITIGATION_UNIT],
            Category.ZL: sorted((h for h in self.holdings if h.role is OccupancyRole.TENANT), key=lambda h: h.start),
            Category.QT: [u.key for u in self.units],
        }[category]

    def document(self, category: Category, index: int) -> DocumentPlan:
        kinds = k.KINDS[category]
        kind = kinds[index % len(kinds)]
        targets = self.eligible(category)
        target = targets[(index + 5 * list(Category).index(category)) % len(targets)]
        lease = target if isinstance(target, HoldingPlan) else None
        unit_key = lease.unit_key if lease else target
        facts = self.facts[unit_key]
        day = self._date(kind, facts, lease)
        holding = lease or self.holder(unit_key, day)
        values = {**facts, **STAFF, **self._document_values(day, lease, unit_key),
                  "customer": self.customer[holding.customer_key].name,
                  "id_number": self.customer[holding.customer_key].id_number,
                  "phone": self.customer[holding.customer_key].phone}

        def fill(text: str) -> str:
            return text.format_map(values)

        heading = kind.title
        title = f"{heading}（{facts['unit']}）"
        self.titles[(unit_key + kind.filed_in, title)] += 1
        repeat = self.titles[(unit_key + kind.filed_in, title)]
        if repeat > 1:
            title = f"{heading}（{facts['unit']}，第{repeat}份）"
        return DocumentPlan(
            category=category, kind=kind, unit_key=unit_key, filed_in=kind.filed_in, title=title, heading=heading,
            responsible_party=fill(kind.party), doc_number=fill(kind.number), doc_date=day,
            department=kind.department or k.CATEGORY_DEPARTMENT[category], level=kind.level, scope=kind.scope,
            is_original=kind.original, carrier=Carrier.PAPER if kind.paper else Carrier.ELECTRONIC,
            location=self._location(unit_key + kind.filed_in, kind) if kind.paper else ("", "", ""),
            remarks=kind.remarks, lines=tuple(fill(line) for line in kind.body),
            pages=tuple(tuple(fill(line) for line in page) for page in kind.pages),
            signature=(fill(kind.signature[0]), fill(kind.signature[1])) if kind.signature else None,
            scan=kind.scan,
        )

    def _date(self, kind: k.Kind, facts: dict[str, Any], lease: HoldingPlan | None) -> date:
        anchors = facts["_anchors"]
        if kind.anchor == k.SERVICE:
            first = anchors[k.MOVE_IN] + timedelta(days=60)
            base = first + timedelta(days=self.rng.randrange((TODAY - first).days - 30))
        elif kind.anchor == k.LEASE:
            base = lease.start if lease else anchors[k.SALE]
        elif kind.anchor == k.CASE:
            base = CASE_FILED
        else:
            base = anchors[kind.anchor]
        return min(base + timedelta(days=kind.days), TODAY - timedelta(days=self.rng.randrange(1, 20)))

    def _document_values(self, day: date, lease: HoldingPlan | None, unit_key: str) -> dict[str, Any]:
        rng = self.rng
        issue, fix = rng.choice(REPAIRS)
        claim = rng.randrange(8000, 60000, 100)
        values: dict[str, Any] = {
            "project": PROJECT_NAME, "developer": DEVELOPER, "manager": MANAGER, "address": PROJECT_ADDRESS,
            "court": COURT, "date": chinese_date(day), "service_year": day.year, "issue": issue, "fix": fix,
            "repair_no": f"WX-{day.year}-{rng.randrange(1, 3000):04d}",
            "repair_cost": _money(rng.randrange(800, 9000, 10)),
            "claim": _money(claim), "settlement": _money(claim * rng.choice((0.5, 0.6, 0.7))),
            **{key: _money(value) if isinstance(value, float) else value for key, value in CASE.items()},
        }
        if lease:
            years = 5 if lease.end is None else round((lease.end - lease.start).days / 365)
            rent_per_m2 = lease.rent / self.by_key[unit_key].area_m2
            values.update(
                business=lease.business, rent=_money(lease.rent), raised_rent=_money(lease.rent * 1.05),
                lease_deposit=_money(lease.rent * 3), lease_start=chinese_date(lease.start),
                lease_year=lease.start.year,
                lease_end=chinese_date(lease.end or lease.start.replace(year=lease.start.year + years) - timedelta(1)),
                lease_years=years, market_rent=_money(rent_per_m2 * 1.1), floor_rent=_money(rent_per_m2 * 0.9),
                free_months=rng.choice((2, 3)), open_date=chinese_date(lease.start + timedelta(days=90)),
            )
        return values

    def _location(self, dossier_key: str, kind: k.Kind) -> tuple[str, str, str]:
        """Paper originals: one box per dossier, twelve boxes to a shelf; A-level papers in the locked cabinet."""
        box = self.boxes.setdefault(dossier_key, len(self.boxes) + 1)
        if kind.level is Level.A:
            return "档案室A-3F 保密柜01", f"第{box:04d}盒", "保密柜第1层"
        room = "档案室B-3F" if kind.filed_in == k.LITIGATION else "档案室A-3F"
        return room, f"第{box:04d}盒", f"第{(box - 1) // 12 + 1:02d}架"


def build_plan(documents_per_category: int, seed: int = SEED) -> DemoPlan:
    planner = _Planner(seed)
    documents = [planner.document(category, i) for category in Category for i in range(documents_per_category)]
    litigant = planner.customer[planner.holder(LITIGATION_UNIT, CASE_FILED).customer_key].name
    unit = planner.by_key[LITIGATION_UNIT].full_name
    return DemoPlan(planner.units, planner.customers, planner.holdings,
                    f"{unit}商品房销售合同纠纷诉讼案卷（{litigant}诉{DEVELOPER}）", documents)
