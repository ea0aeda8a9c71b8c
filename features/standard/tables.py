"""The techcredit data standard (技术交易数据标准), declared once.

Validation (Great Expectations suites), the synthetic market, the ingest mapping and
``docs/data-standard.md`` are all derived from the declarations below, so the standard
cannot drift from the code that enforces it. Change a rule here and every consumer follows.
"""

from __future__ import annotations

from features.standard.enums import (
    BROKER_LEVEL,
    CONDUCT_KIND,
    CONTRACT_STATUS,
    CONTRACT_TYPE,
    INSTITUTION_LEVEL,
    INSTITUTION_STATUS,
    INSTITUTION_TYPE,
    PARTY_KIND,
    REGION,
    SEVERITY,
    SUBJECT_KIND,
    TECH_FIELD,
)
from features.standard.schema import Column, Rule, Table

# The technology market opened with the State Council's 1984 decision to commercialise
# technology (technology contracts registered from then on): an earlier contract date is a
# typing error (0001-01-01, 1900-01-01 as a spreadsheet's zero), never a contract.
MARKET_OPENED = "1984-01-01"

_ID = r"^[A-Z]{1,3}[0-9A-Z]{4,20}$"

INSTITUTIONS = Table(
    name="institutions",
    zh="技术转移机构",
    en="technology transfer institutions",
    key="institution_id",
    event_date="founded_date",
    version_date="status_date",
    final_statuses=("exited",),
    status_basis="status_basis",
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
        Column(
            "status_basis", "str", "状态变更依据(文号)", "basis of a status change (decision)",
            nullable=True,
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
    version_date="status_date",
    final_statuses=("false_found", "revoked"),
    status_basis="status_basis",
    columns=(
        Column("contract_id", "str", "合同登记编号", "contract id", unique=True, pattern=_ID),
        Column("signed_date", "date", "签订日期", "signing date", not_in_future=True,
               not_before=MARKET_OPENED),
        Column("registered_date", "date", "登记日期", "registration date", not_in_future=True,
               not_before=MARKET_OPENED),
        Column("contract_type", "str", "合同类型", "contract type", enum=CONTRACT_TYPE),
        Column("seller_id", "str", "卖方编号", "seller id", pattern=_ID),
        Column("seller_kind", "str", "卖方类型", "seller kind", enum=PARTY_KIND),
        Column("seller_region", "str", "卖方省份", "seller province", enum=REGION),
        Column("buyer_id", "str", "买方编号", "buyer id", pattern=_ID),
        Column("buyer_kind", "str", "买方类型", "buyer kind", enum=PARTY_KIND),
        Column("buyer_region", "str", "买方省份", "buyer province", enum=REGION),
        Column(
            "institution_id",
            "str",
            "服务机构",
            "facilitating institution",
            nullable=True,
            references="institutions.institution_id",
        ),
        Column(
            "broker_id",
            "str",
            "技术经纪人",
            "broker",
            nullable=True,
            references="brokers.broker_id",
        ),
        Column(
            "amount_yuan", "float", "合同成交额(元)", "contract amount (yuan)", min=0.01, max=5e10
        ),
        Column(
            "tech_amount_yuan",
            "float",
            "技术交易额(元)",
            "technology-transaction amount (yuan)",
            min=0.0,
            max=5e10,
        ),
        Column("tech_field", "str", "技术领域", "technology field", enum=TECH_FIELD),
        Column("office_id", "str", "登记机构", "registration office", pattern=_ID),
        Column("status", "str", "状态", "status", enum=CONTRACT_STATUS),
        Column(
            "status_date",
            "date",
            "状态变更日期",
            "status change date",
            nullable=True,
            not_in_future=True,
            not_before=MARKET_OPENED,
        ),
        Column(
            "status_basis", "str", "状态变更依据(文号)", "basis of a status change (decision)",
            nullable=True,
        ),
    ),
    rules=(
        Rule(
            "tech_within_amount",
            "tech_amount_yuan",
            "<=",
            "amount_yuan",
            "技术交易额不超过合同成交额",
            "technology amount not above the contract amount",
        ),
        Rule(
            "signed_before_registered",
            "signed_date",
            "<=",
            "registered_date",
            "签订日期不晚于登记日期",
            "signed on or before registration",
        ),
        Rule(
            "registered_before_status",
            "registered_date",
            "<=",
            "status_date",
            "登记日期不晚于状态变更日期",
            "registered on or before the status change",
        ),
    ),
)

INSTITUTION_REPORTS = Table(
    name="institution_reports",
    zh="机构年度报告",
    en="institution annual reports",
    key="report_id",
    partition_date="submitted_date",
    event_date="submitted_date",
    version_date="submitted_date",
    columns=(
        Column("report_id", "str", "报告编号", "report id", unique=True, pattern=_ID),
        Column(
            "institution_id",
            "str",
            "机构编号",
            "institution id",
            references="institutions.institution_id",
        ),
        Column("report_year", "int", "报告年度", "report year", min=1990, max=2100),
        Column("submitted_date", "date", "提交日期", "submission date", not_in_future=True),
        Column("staff", "int", "从业人员数", "staff", min=0, max=100_000),
        Column(
            "trained_staff",
            "int",
            "受过技术转移培训人数",
            "staff trained in technology transfer",
            min=0,
            max=100_000,
        ),
        Column(
            "contracts_reported",
            "int",
            "报告促成合同数",
            "contracts facilitated (reported)",
            min=0,
            max=10_000_000,
        ),
        Column(
            "amount_reported_yuan",
            "float",
            "报告促成成交额(元)",
            "amount facilitated (reported, yuan)",
            min=0.0,
            max=1e13,
        ),
        Column(
            "service_revenue_yuan",
            "float",
            "服务收入(元)",
            "service revenue (yuan)",
            min=0.0,
            max=1e12,
        ),
        Column("clients_served", "int", "服务客户数", "clients served", min=0, max=10_000_000),
        Column("complaints", "int", "投诉数", "complaints", min=0, max=1_000_000),
    ),
    rules=(
        Rule(
            "trained_within_staff",
            "trained_staff",
            "<=",
            "staff",
            "受训人数不超过从业人数",
            "trained staff not above staff",
        ),
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


def table(name: str) -> Table:
    """Look a table up by name with an error that lists the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None
