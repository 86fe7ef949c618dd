"""Vocabularies of the domain (DOMAIN.md). Values are stored as short codes; labels are translated in the UI."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Level(str, enum.Enum):
    """Classification levels, lowest to highest (密级). Never 绝密/机密/秘密: those are state secrets."""

    C = "C"  # 内部 — default for every customer document
    B = "B"  # 普通商密
    A = "A"  # 核心商密

    @property
    def rank(self) -> int:
        return {"C": 1, "B": 2, "A": 3}[self.value]

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])

    def covered(self) -> list["Level"]:
        """Levels a clearance of this level may read."""
        return [lvl for lvl in Level if lvl.rank <= self.rank]


LEVEL_LABELS = {Level.C: _l("C 内部"), Level.B: _l("B 普通商密"), Level.A: _l("A 核心商密")}


class LevelPeriod(str, enum.Enum):
    """How long a classification level holds (保密期限), set by an approved classification change."""

    DATE = "date"  # until a date: declassified to C when the date has passed
    LONG_TERM = "long_term"  # 长期
    UNTIL_PUBLISHED = "until_published"  # 公布前: until the company publishes it

    @property
    def label(self) -> str:
        return str(
            {
                LevelPeriod.DATE: _l("Until a date"),
                LevelPeriod.LONG_TERM: _l("Long-term 长期"),
                LevelPeriod.UNTIL_PUBLISHED: _l("Until published 公布前"),
            }[self]
        )


class Role(str, enum.Enum):
    CLERK = "clerk"
    DEPT_HEAD = "dept_head"
    ARCHIVIST = "archivist"
    ARCHIVE_HEAD = "archive_head"
    COMPLIANCE = "compliance"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.CLERK: _l("Clerk"),
    Role.DEPT_HEAD: _l("Department head"),
    Role.ARCHIVIST: _l("Archivist"),
    Role.ARCHIVE_HEAD: _l("Archive head"),
    Role.COMPLIANCE: _l("Compliance officer"),
    Role.ADMIN: _l("Administrator"),
}

# Roles whose work is reading documents of every department (up to their clearance).
CROSS_DEPARTMENT_ROLES = frozenset({Role.ARCHIVIST, Role.ARCHIVE_HEAD, Role.COMPLIANCE})
# Roles that work with dossiers at all; the administrator alone is not one of them (三员分立).
READING_ROLES = frozenset({Role.CLERK, Role.DEPT_HEAD, *CROSS_DEPARTMENT_ROLES})
# Roles that may file documents and keep the register of projects, units and customers.
FILING_ROLES = frozenset({Role.CLERK, Role.DEPT_HEAD, Role.ARCHIVIST, Role.ARCHIVE_HEAD})
REGISTER_ROLES = frozenset({Role.ARCHIVIST, Role.ARCHIVE_HEAD})


class Category(str, enum.Enum):
    XS = "XS"
    QY = "QY"
    BZ = "BZ"
    RH = "RH"
    WX = "WX"
    PF = "PF"
    SS = "SS"
    ZL = "ZL"
    QT = "QT"

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])


CATEGORY_LABELS = {
    Category.XS: _l("Sales 销售资料"),
    Category.QY: _l("Contract 签约资料"),
    Category.BZ: _l("Certificate 办证资料"),
    Category.RH: _l("Move-in 入伙资料"),
    Category.WX: _l("Repair 维修资料"),
    Category.PF: _l("Compensation 赔付资料"),
    Category.SS: _l("Litigation 诉讼资料"),
    Category.ZL: _l("Shop lease 商铺租赁资料"),
    Category.QT: _l("Other 其他资料"),
}


class Retention(str, enum.Enum):
    PERMANENT = "Y"
    YEARS_30 = "D30"
    YEARS_10 = "D10"

    @property
    def label(self) -> str:
        return str(RETENTION_LABELS[self])


RETENTION_LABELS = {
    Retention.PERMANENT: _l("Permanent 永久"),
    Retention.YEARS_30: _l("30 years"),
    Retention.YEARS_10: _l("10 years"),
}

# Company schedule minimums per category (DOMAIN.md, Retention and disposal).
DEFAULT_RETENTION = {
    Category.XS: Retention.PERMANENT,
    Category.QY: Retention.PERMANENT,
    Category.BZ: Retention.PERMANENT,
    Category.SS: Retention.PERMANENT,
    Category.RH: Retention.YEARS_30,
    Category.PF: Retention.YEARS_30,
    Category.ZL: Retention.YEARS_30,
    Category.WX: Retention.YEARS_10,
    Category.QT: Retention.YEARS_10,
}


class Carrier(str, enum.Enum):
    PAPER = "paper"
    ELECTRONIC = "electronic"

    @property
    def label(self) -> str:
        return str({Carrier.PAPER: _l("Paper"), Carrier.ELECTRONIC: _l("Electronic")}[self])


class UnitKind(str, enum.Enum):
    RESIDENTIAL = "residential"
    SHOP = "shop"
    PARKING = "parking"

    @property
    def label(self) -> str:
        return str(
            {
                UnitKind.RESIDENTIAL: _l("Residential 住宅"),
                UnitKind.SHOP: _l("Shop 商铺"),
                UnitKind.PARKING: _l("Parking 车位"),
            }[self]
        )


class CustomerKind(str, enum.Enum):
    PERSON = "person"
    COMPANY = "company"

    @property
    def label(self) -> str:
        return str({CustomerKind.PERSON: _l("Person"), CustomerKind.COMPANY: _l("Company")}[self])


class OccupancyRole(str, enum.Enum):
    OWNER = "owner"
    TENANT = "tenant"

    @property
    def label(self) -> str:
        return str({OccupancyRole.OWNER: _l("Owner 业主"), OccupancyRole.TENANT: _l("Tenant 租户")}[self])


class DossierKind(str, enum.Enum):
    UNIT = "unit"
    LITIGATION = "litigation"


class LinkReason(str, enum.Enum):
    SAME_CUSTOMER = "same_customer"
    LITIGATION = "litigation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(
            {
                LinkReason.SAME_CUSTOMER: _l("Same customer"),
                LinkReason.LITIGATION: _l("Litigation file"),
                LinkReason.OTHER: _l("Related"),
            }[self]
        )
