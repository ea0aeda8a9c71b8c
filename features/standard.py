"""The techcredit data standard (技术交易数据标准), declared once.

Validation (Great Expectations suites), the synthetic market, the ingest mapping and
``docs/data-standard.md`` are all derived from the declarations below, so the standard
cannot drift from the code that enforces it. Change a rule here and every consumer follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pyarrow as pa

DType = Literal["str", "int", "float", "date", "bool"]


@dataclass(frozen=True)
class Code:
    """One enum member: the stable English code stored in data and its Chinese label."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Enum:
    name: str
    members: tuple[Code, ...]

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.members]

    def label(self, code: str, lang: str = "zh") -> str:
        for m in self.members:
            if m.code == code:
                return m.zh if lang == "zh" else m.en
        raise KeyError(f"{code!r} is not a member of enum {self.name}")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    zh: str
    en: str
    nullable: bool = False
    enum: Enum | None = None
    min: float | None = None
    max: float | None = None
    unique: bool = False
    references: str | None = None  # "table.column" foreign key
    pattern: str | None = None  # regular expression a text value must match
    not_in_future: bool = False  # dates only: never after the load date


@dataclass(frozen=True)
class Rule:
    """A cross-field rule ``left <op> right`` that a valid row obeys (nulls pass)."""

    name: str
    left: str
    op: Literal["<=", "<", ">=", ">"]
    right: str
    zh: str
    en: str


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    key: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()
    partition_date: str | None = None  # date column whose year partitions the curated store
    event_date: str | None = None  # the date a record becomes known (point-in-time filter)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable]


def _enum(name: str, *members: tuple[str, str, str]) -> Enum:
    return Enum(name, tuple(Code(*m) for m in members))


# --- enums -----------------------------------------------------------------------------------

CONTRACT_TYPE = _enum(
    "contract_type",
    ("development", "技术开发", "technology development"),
    ("transfer", "技术转让", "technology transfer"),
    ("licensing", "技术许可", "technology licensing"),
    ("consulting", "技术咨询", "technology consulting"),
    ("service", "技术服务", "technology service"),
)

PARTY_KIND = _enum(
    "party_kind",
    ("enterprise", "企业", "enterprise"),
    ("university", "高校", "university"),
    ("research_institute", "科研院所", "research institute"),
    ("other", "其他", "other (government, individual, NGO)"),
)

CONTRACT_STATUS = _enum(
    "contract_status",
    ("registered", "已登记", "registered"),
    ("revoked", "已撤销", "revoked"),
    ("disputed", "有争议", "disputed"),
    ("false_found", "核查认定虚假", "audited and found false"),
)

TECH_FIELD = _enum(
    "tech_field",
    ("electronic_information", "电子信息", "electronic information"),
    ("advanced_manufacturing", "先进制造", "advanced manufacturing"),
    ("new_materials", "新材料及其应用", "new materials"),
    ("biomedicine", "生物、医药和医疗器械", "biomedicine and medical devices"),
    ("new_energy", "新能源与高效节能", "new energy and energy efficiency"),
    ("modern_agriculture", "现代农业", "modern agriculture"),
    ("urban_social", "城市建设与社会发展", "urban construction and social development"),
    ("environment", "环境保护与资源综合利用", "environmental protection"),
    ("aerospace", "航空航天", "aerospace"),
    ("modern_transport", "现代交通", "modern transport"),
    ("nuclear", "核应用技术", "nuclear applications"),
    ("other", "其他", "other"),
)

INSTITUTION_TYPE = _enum(
    "institution_type",
    ("university", "高校技术转移机构", "university technology transfer office"),
    ("research_institute", "科研院所技术转移机构", "research institute transfer office"),
    ("enterprise", "企业型技术转移机构", "enterprise-type transfer institution"),
    ("public_platform", "公共服务平台/技术交易市场", "public platform or technology exchange"),
    ("private", "民营服务机构", "private service firm"),
)

INSTITUTION_LEVEL = _enum(
    "institution_level",
    ("national", "国家技术转移示范机构", "national demonstration institution"),
    ("provincial", "省级技术转移机构", "provincial institution"),
    ("other", "其他技术转移机构", "other institution"),
)

INSTITUTION_STATUS = _enum(
    "institution_status",
    ("active", "正常", "active"),
    ("warned", "警告", "warned"),
    ("exited", "已退出", "exited"),
)

BROKER_LEVEL = _enum(
    "broker_level",
    ("junior", "初级技术经纪人", "junior broker"),
    ("intermediate", "中级技术经纪人", "intermediate broker"),
    ("senior", "高级技术经理人", "senior technology manager"),
)

SUBJECT_KIND = _enum(
    "subject_kind",
    ("institution", "技术转移机构", "technology transfer institution"),
    ("broker", "技术经纪人", "technology broker"),
    ("party", "合同当事人", "contract party"),
)

CONDUCT_KIND = _enum(
    "conduct_kind",
    ("false_registration", "虚假登记骗取优惠", "false registration for tax relief or subsidy"),
    ("split_contracts", "拆分合同", "split contracts"),
    ("circular_trade", "关联方循环交易", "circular trade among related parties"),
    ("inflated_amount", "虚增合同金额", "inflated contract amount"),
    ("misreported_performance", "虚报业绩", "misreported performance"),
    ("breach_of_contract", "违约", "breach of contract"),
    ("research_integrity", "科研失信", "research-integrity violation"),
)

SEVERITY = _enum(
    "severity",
    ("minor", "一般", "minor"),
    ("serious", "较重", "serious"),
    ("severe", "严重", "severe"),
)

# GB/T 2260 province-level codes, with the market's (skewed) share of contracts used by the
# synthetic market: Beijing, Guangdong, Jiangsu, Shanghai, Shaanxi lead the real registry.
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("110000", "北京市", "Beijing"),
    ("120000", "天津市", "Tianjin"),
    ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"),
    ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"),
    ("220000", "吉林省", "Jilin"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"),
    ("320000", "江苏省", "Jiangsu"),
    ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"),
    ("350000", "福建省", "Fujian"),
    ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"),
    ("410000", "河南省", "Henan"),
    ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"),
    ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"),
    ("460000", "海南省", "Hainan"),
    ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"),
    ("520000", "贵州省", "Guizhou"),
    ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"),
    ("610000", "陕西省", "Shaanxi"),
    ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"),
    ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"),
)
REGION = _enum("region", *PROVINCES)

# --- tables ----------------------------------------------------------------------------------

_ID = r"^[A-Z]{1,3}[0-9A-Z]{4,20}$"

INSTITUTIONS = Table(
    name="institutions",
    zh="技术转移机构",
    en="technology transfer institutions",
    key="institution_id",
    event_date="founded_date",
    columns=(
        Column("institution_id", "str", "机构编号", "institution id", unique=True, pattern=_ID),
        Column("name", "str", "机构名称", "name"),
        Column("institution_type", "str", "机构类型", "type", enum=INSTITUTION_TYPE),
        Column("region", "str", "所在省份(GB/T 2260)", "province code", enum=REGION),
        Column("level", "str", "级别", "level", enum=INSTITUTION_LEVEL),
        Column("founded_date", "date", "成立日期", "founding date", not_in_future=True),
        Column(
            "designated_date", "date", "认定为示范机构日期", "date designated national",
            nullable=True, not_in_future=True,
        ),
        Column("status", "str", "状态", "status", enum=INSTITUTION_STATUS),
        Column(
            "status_date", "date", "状态变更日期", "date of the last status change",
            nullable=True, not_in_future=True,
        ),
    ),
    rules=(
        Rule("founded_before_designated", "founded_date", "<=", "designated_date",
             "成立日期不晚于认定日期", "founded on or before designation"),
        Rule("founded_before_status", "founded_date", "<=", "status_date",
             "成立日期不晚于状态变更日期", "founded on or before the status change"),
    ),
)

BROKERS = Table(
    name="brokers",
    zh="技术经纪人",
    en="technology brokers",
    key="broker_id",
    event_date="certified_date",
    columns=(
        Column("broker_id", "str", "经纪人编号", "broker id", unique=True, pattern=_ID),
        Column(
            "institution_id", "str", "所属机构", "affiliated institution", nullable=True,
            references="institutions.institution_id",
        ),
        Column("cert_level", "str", "资格等级", "certification level", enum=BROKER_LEVEL),
        Column("region", "str", "所在省份", "province code", enum=REGION),
        Column("certified_date", "date", "取得资格日期", "certification date", not_in_future=True),
        Column("training_hours", "int", "培训学时", "training hours", min=0, max=2000),
    ),
)

CONTRACTS = Table(
    name="contracts",
    zh="技术合同认定登记",
    en="technology contract registrations",
    key="contract_id",
    partition_date="registered_date",
    event_date="registered_date",
    columns=(
        Column("contract_id", "str", "合同登记编号", "contract id", unique=True, pattern=_ID),
        Column("signed_date", "date", "签订日期", "signing date", not_in_future=True),
        Column("registered_date", "date", "登记日期", "registration date", not_in_future=True),
        Column("contract_type", "str", "合同类型", "contract type", enum=CONTRACT_TYPE),
        Column("seller_id", "str", "卖方编号", "seller id", pattern=_ID),
        Column("seller_kind", "str", "卖方类型", "seller kind", enum=PARTY_KIND),
        Column("seller_region", "str", "卖方省份", "seller province", enum=REGION),
        Column("buyer_id", "str", "买方编号", "buyer id", pattern=_ID),
        Column("buyer_kind", "str", "买方类型", "buyer kind", enum=PARTY_KIND),
        Column("buyer_region", "str", "买方省份", "buyer province", enum=REGION),
        Column(
            "institution_id", "str", "服务机构", "facilitating institution", nullable=True,
            references="institutions.institution_id",
        ),
        Column(
            "broker_id", "str", "技术经纪人", "broker", nullable=True,
            references="brokers.broker_id",
        ),
        Column("amount_yuan", "float", "合同成交额(元)", "contract amount (yuan)",
               min=0.01, max=5e10),
        Column("tech_amount_yuan", "float", "技术交易额(元)", "technology-transaction amount (yuan)",
               min=0.0, max=5e10),
        Column("tech_field", "str", "技术领域", "technology field", enum=TECH_FIELD),
        Column("office_id", "str", "登记机构", "registration office", pattern=_ID),
        Column("status", "str", "状态", "status", enum=CONTRACT_STATUS),
        Column("status_date", "date", "状态变更日期", "status change date", nullable=True,
               not_in_future=True),
    ),
    rules=(
        Rule("tech_within_amount", "tech_amount_yuan", "<=", "amount_yuan",
             "技术交易额不超过合同成交额", "technology amount not above the contract amount"),
        Rule("signed_before_registered", "signed_date", "<=", "registered_date",
             "签订日期不晚于登记日期", "signed on or before registration"),
        Rule("registered_before_status", "registered_date", "<=", "status_date",
             "登记日期不晚于状态变更日期", "registered on or before the status change"),
    ),
)

INSTITUTION_REPORTS = Table(
    name="institution_reports",
    zh="机构年度报告",
    en="institution annual reports",
    key="report_id",
    partition_date="submitted_date",
    event_date="submitted_date",
    columns=(
        Column("report_id", "str", "报告编号", "report id", unique=True, pattern=_ID),
        Column("institution_id", "str", "机构编号", "institution id",
               references="institutions.institution_id"),
        Column("report_year", "int", "报告年度", "report year", min=1990, max=2100),
        Column("submitted_date", "date", "提交日期", "submission date", not_in_future=True),
        Column("staff", "int", "从业人员数", "staff", min=0, max=100_000),
        Column("trained_staff", "int", "受过技术转移培训人数", "staff trained in technology transfer",
               min=0, max=100_000),
        Column("contracts_reported", "int", "报告促成合同数", "contracts facilitated (reported)",
               min=0, max=10_000_000),
        Column("amount_reported_yuan", "float", "报告促成成交额(元)",
               "amount facilitated (reported, yuan)", min=0.0, max=1e13),
        Column("service_revenue_yuan", "float", "服务收入(元)", "service revenue (yuan)",
               min=0.0, max=1e12),
        Column("clients_served", "int", "服务客户数", "clients served", min=0, max=10_000_000),
        Column("complaints", "int", "投诉数", "complaints", min=0, max=1_000_000),
    ),
    rules=(
        Rule("trained_within_staff", "trained_staff", "<=", "staff",
             "受训人数不超过从业人数", "trained staff not above staff"),
    ),
)

CONDUCT_RECORDS = Table(
    name="conduct_records",
    zh="失信行为记录",
    en="dishonest-conduct records",
    key="record_id",
    partition_date="confirmed_date",
    event_date="confirmed_date",
    columns=(
        Column("record_id", "str", "记录编号", "record id", unique=True, pattern=_ID),
        Column("subject_kind", "str", "主体类型", "subject kind", enum=SUBJECT_KIND),
        Column("subject_id", "str", "主体编号", "subject id", pattern=_ID),
        Column("conduct_kind", "str", "失信行为类型", "conduct kind", enum=CONDUCT_KIND),
        Column("severity", "str", "严重程度", "severity", enum=SEVERITY),
        Column("occurred_date", "date", "行为发生日期", "date the conduct occurred",
               not_in_future=True),
        Column("confirmed_date", "date", "认定日期", "date the conduct was confirmed",
               not_in_future=True),
        Column("related_contract_id", "str", "关联合同", "related contract", nullable=True,
               references="contracts.contract_id"),
        Column("source", "str", "来源部门", "source agency"),
    ),
    rules=(
        Rule("occurred_before_confirmed", "occurred_date", "<=", "confirmed_date",
             "发生日期不晚于认定日期", "occurred on or before confirmation"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (INSTITUTIONS, BROKERS, CONTRACTS, INSTITUTION_REPORTS, CONDUCT_RECORDS)
}

# Order in which tables must be loaded so that foreign keys resolve.
LOAD_ORDER: tuple[str, ...] = (
    "institutions", "brokers", "contracts", "institution_reports", "conduct_records",
)

ENUMS: tuple[Enum, ...] = (
    CONTRACT_TYPE, PARTY_KIND, CONTRACT_STATUS, TECH_FIELD, INSTITUTION_TYPE, INSTITUTION_LEVEL,
    INSTITUTION_STATUS, BROKER_LEVEL, SUBJECT_KIND, CONDUCT_KIND, SEVERITY, REGION,
)

_ARROW = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}


def table(name: str) -> Table:
    """Look a table up by name with an error that lists the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None


def arrow_schema(t: Table) -> pa.Schema:
    """The Parquet schema of a table: one declaration, one physical layout everywhere."""
    return pa.schema([pa.field(c.name, _ARROW[c.dtype], nullable=c.nullable) for c in t.columns])


def conform(t: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Cast an already-valid frame to the standard's dtypes and column order.

    Dates are ``datetime64[s]`` (day precision is enforced by validation), ints are nullable
    ``Int64`` only where the column is nullable, so that pandas never silently turns ints
    into floats.
    """
    out = {}
    for c in t.columns:
        s = df[c.name]
        if c.dtype == "str":
            s = s.astype("str")
        elif c.dtype == "int":
            s = s.astype("Int64" if c.nullable else "int64")
        elif c.dtype == "float":
            s = s.astype("float64")
        elif c.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[s]")
        elif c.dtype == "bool":
            s = s.astype("boolean" if c.nullable else "bool")
        out[c.name] = s
    return pd.DataFrame(out, index=df.index)


def to_arrow(t: Table, df: pd.DataFrame) -> pa.Table:
    """Convert a conforming frame to Arrow with the standard's schema (dates as date32)."""
    return pa.Table.from_pandas(conform(t, df), schema=arrow_schema(t), preserve_index=False)
