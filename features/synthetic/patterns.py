"""The declared signatures of the synthetic market's fraud patterns.

A planted contract may differ from an honest one only where its pattern says so. Each
pattern declares here which columns it touches and how; the giveaway checker
(:mod:`features.synthetic.giveaways`) scores every other column against the truth, and
``docs/data-standard.md`` renders the same declarations, so a pattern cannot quietly leak
the truth through a column nobody declared.

A declared column is ``"table.column"`` (its value), ``"table.column:derivation"`` (one
derived view, e.g. ``buyer_region:same_as_seller``) or ``"table.column:*"`` (every view).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PatternSpec:
    name: str
    zh: str
    en: str
    columns_touched: tuple[str, ...]
    how: str
    how_zh: str
    detection_p: float  # chance that an audit eventually confirms an event
    conduct_kind: str  # the conduct record an audit of the event yields
    share: float  # share of irregular contracts planted through this pattern
    size: tuple[int, int]  # contracts per event, inclusive range


PATTERN_SPECS: tuple[PatternSpec, ...] = (
    PatternSpec(
        "threshold", "卡线登记", "amount just above a subsidy threshold",
        ("contracts.amount_yuan", "contracts.tech_amount_yuan"),
        "the amount is set within +3 % above a subsidy or tax-relief threshold; honest sellers "
        "price there too, at a lower rate",
        "合同金额定在补贴或减免门槛之上3%以内；诚信卖方也会这样定价，但比例更低",
        0.35, "false_registration", 0.16, (1, 1)),
    PatternSpec(
        "split", "拆分合同", "one deal split into several contracts",
        ("contracts.amount_yuan",),
        "3–8 contracts with the same seller, buyer, type, field and registration day, amounts "
        "within ±3 % of each other",
        "同一买卖双方、同一类型与领域、同一天登记3–8份合同，金额彼此相差不超过3%",
        0.4, "split_contracts", 0.2, (3, 8)),
    PatternSpec(
        "circular", "关联方循环交易", "three related parties trading in a ring",
        ("contracts.amount_yuan", "contracts.buyer_region:same_as_seller"),
        "A→B→C→A among three parties of one province within about three weeks, amounts within "
        "±5 % of each other",
        "同一省份三方在约三周内A→B→C→A循环交易，金额彼此相差不超过5%",
        0.3, "circular_trade", 0.1, (3, 3)),
    PatternSpec(
        "inflated", "虚增金额", "amount many times its peers'",
        ("contracts.amount_yuan", "contracts.tech_amount_yuan:*"),
        "the amount is 8–30 times what the same contract would otherwise be, all of it claimed "
        "as technology",
        "金额为同类合同的8–30倍，且全额申报为技术交易额",
        0.45, "inflated_amount", 0.1, (1, 1)),
    PatternSpec(
        "broker_spike", "经纪人突增", "a broker's burst of contracts",
        ("contracts.broker_id",),
        "one broker registers 8–20 contracts within four weeks, for sellers of the broker's "
        "province",
        "同一经纪人在四周内登记8–20份合同，卖方均在其所在省份",
        0.5, "inflated_amount", 0.14, (8, 20)),
    PatternSpec(
        "long_cycle", "长链循环交易", "a four- or five-party cycle over months",
        ("contracts.amount_yuan",),
        "A→B→C→D(→E)→A among parties of different provinces, one leg every three to nine "
        "weeks, each leg passing on 90–100 % of the previous amount",
        "不同省份的四到五方形成A→B→C→D(→E)→A的长链，每三到九周一笔，每笔金额为上一笔的90–100%",
        0.25, "circular_trade", 0.12, (4, 5)),
    PatternSpec(
        "phantom_buyer", "虚设买方", "buyers that exist only on paper",
        ("contracts.buyer_id",),
        "one seller registers 2–5 contracts within three weeks, each with a buyer that has no "
        "other contract in the registry",
        "同一卖方三周内登记2–5份合同，每份的买方在登记系统中再无其他合同",
        0.3, "false_registration", 0.18, (2, 5)),
)
PATTERNS: tuple[str, ...] = tuple(p.name for p in PATTERN_SPECS)
SPEC_OF: dict[str, PatternSpec] = {p.name: p for p in PATTERN_SPECS}
DETECTION_P: dict[str, float] = {p.name: p.detection_p for p in PATTERN_SPECS}
CONDUCT_OF: dict[str, str] = {p.name: p.conduct_kind for p in PATTERN_SPECS}

# The sixth behaviour lives with the annual reports rather than the contracts.
MISREPORT = PatternSpec(
    "misreport", "虚报业绩", "misreported annual performance",
    ("institution_reports.contracts_reported", "institution_reports.amount_reported_yuan"),
    "a dishonest institution's annual report inflates the registry's figures 1.3–3×",
    "失信机构年度报告将登记系统中的数字夸大1.3–3倍",
    0.3, "misreported_performance", 0.0, (1, 1))


@dataclass(frozen=True)
class Outcome:
    """Columns that legitimately follow from wrongdoing once it is detected or recorded."""

    columns: tuple[str, ...]
    why: str
    why_zh: str


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(("contracts.status", "contracts.status_date:*", "contracts.status_basis:*"),
            "an audited event turns its contracts to false_found",
            "核查认定的事件使其合同状态变为核查认定虚假"),
    Outcome(("conduct_records.*",),
            "conduct records are the audits' findings and recorded misconduct",
            "失信记录即核查结论与记录在案的不良行为"),
    Outcome(("institutions.status:*", "institutions.status_date:*",
             "institutions.status_basis:*"),
            "an institution is warned at the annual assessment after two or more conduct "
            "records confirmed in the year before",
            "机构上一年度被确认两条及以上失信记录的，在年度考核中予以警告"),
    Outcome(MISREPORT.columns_touched, MISREPORT.how, MISREPORT.how_zh),
)

# Identifiers carry no meaning of their own; only whether a nullable one is empty is scored.
IDENTITY_COLUMNS: tuple[str, ...] = (
    "contracts.contract_id", "contracts.seller_id", "contracts.buyer_id",
    "contracts.institution_id", "contracts.broker_id", "contracts.office_id",
    "institutions.institution_id", "institutions.name", "brokers.broker_id",
    "brokers.institution_id", "institution_reports.report_id",
    "institution_reports.institution_id",
)


def declared(table: str, column: str, derivation: str) -> bool:
    """Whether a pattern or an outcome declares this derived view of a column."""
    names = {f"{table}.*", f"{table}.{column}:*", f"{table}.{column}:{derivation}"}
    if derivation == "value":
        names.add(f"{table}.{column}")
    touched = [c for p in (*PATTERN_SPECS, MISREPORT) for c in p.columns_touched]
    touched += [c for o in OUTCOMES for c in o.columns]
    return bool(names & set(touched))
