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

# Detection families: what kind of evidence a detector needs to see the pattern at all.
FAMILIES: tuple[str, ...] = ("amount", "structure", "network", "broker", "newcomer", "report")


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
    family: str  # the detection family a review reports it under (see FAMILIES)
    # True: a variant of its family whose own shape (cycle length, timing, amounts) no feature
    # or rule threshold was chosen on; its family has features, written from the domain
    held_out: bool
    # A chained pattern: each later leg's amount as a share (low, high) of the previous leg's.
    # Declared here because the generator keeps it through the yearly amount fit, pricing and
    # rounding (features.synthetic.amounts), and a test checks every planted leg against it.
    leg_ratio: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"pattern {self.name!r}: unknown family {self.family!r}")


PATTERN_SPECS: tuple[PatternSpec, ...] = (
    PatternSpec(
        "threshold", "卡线登记", "amount just above a subsidy threshold",
        ("contracts.amount_yuan", "contracts.tech_amount_yuan"),
        "the amount is set within +3 % above a subsidy or tax-relief threshold; honest sellers "
        "price there too, at a lower rate",
        "合同金额定在补贴或减免门槛之上3%以内；诚信卖方也会这样定价，但比例更低",
        0.35, "false_registration", 0.128, (1, 1), family="amount", held_out=False),
    PatternSpec(
        "split", "拆分合同", "one deal split into several contracts",
        ("contracts.amount_yuan",),
        "3–8 contracts with the same seller, buyer, type, field and registration day, amounts "
        "within ±3 % of each other",
        "同一买卖双方、同一类型与领域、同一天登记3–8份合同，金额彼此相差不超过3%",
        0.4, "split_contracts", 0.16, (3, 8), family="structure", held_out=False),
    PatternSpec(
        "circular", "关联方循环交易", "three related parties trading in a ring",
        ("contracts.amount_yuan", "contracts.buyer_region:same_as_seller"),
        "A→B→C→A among three parties of one province within about three weeks, each leg "
        "passing on 95–100 % of the previous amount",
        "同一省份三方在约三周内A→B→C→A循环交易，每笔金额为上一笔的95–100%",
        0.3, "circular_trade", 0.08, (3, 3), family="network", held_out=False,
        leg_ratio=(0.95, 1.0)),
    PatternSpec(
        "inflated", "虚增金额", "amount many times its peers'",
        ("contracts.amount_yuan", "contracts.tech_amount_yuan:*"),
        "the amount is 8–30 times what the same contract would otherwise be, all of it claimed "
        "as technology",
        "金额为同类合同的8–30倍，且全额申报为技术交易额",
        0.45, "inflated_amount", 0.08, (1, 1), family="amount", held_out=False),
    PatternSpec(
        "broker_spike", "经纪人突增", "a broker's burst of contracts",
        ("contracts.broker_id",),
        "one broker registers 8–20 contracts within four weeks, for sellers of the broker's "
        "province",
        "同一经纪人在四周内登记8–20份合同，卖方均在其所在省份",
        0.5, "inflated_amount", 0.112, (8, 20), family="broker", held_out=False),
    PatternSpec(
        "long_cycle", "长链循环交易", "a four- or five-party cycle over months",
        ("contracts.amount_yuan",),
        "A→B→C→D(→E)→A among parties of different provinces, one leg every three to nine "
        "weeks, each leg passing on 90–100 % of the previous amount",
        "不同省份的四到五方形成A→B→C→D(→E)→A的长链，每三到九周一笔，每笔金额为上一笔的90–100%",
        0.25, "circular_trade", 0.096, (4, 5), family="network", held_out=True,
        leg_ratio=(0.9, 1.0)),
    PatternSpec(
        "phantom_buyer", "虚设买方", "buyers that exist only on paper",
        ("contracts.buyer_id",),
        "one seller registers 2–5 contracts within three weeks, each with a buyer that has no "
        "other contract in the register",
        "同一卖方三周内登记2–5份合同，每份的买方在登记系统中再无其他合同",
        0.3, "false_registration", 0.144, (2, 5), family="newcomer", held_out=True),
    # Held out: planted so that a review can report recall on what nobody tuned for.
    PatternSpec(
        "wash_pair", "对倒交易", "two parties trading back and forth",
        ("contracts.amount_yuan",),
        "A sells to B, then B sells to A 30–120 days later for 85–100 % of the first amount; "
        "A and B keep their own provinces",
        "A向B出售后，B在30–120天内以首笔金额的85–100%反向出售给A；双方所在省份不限",
        0.3, "circular_trade", 0.07, (2, 2), family="network", held_out=True,
        leg_ratio=(0.85, 1.0)),
    PatternSpec(
        "slow_ring", "慢速环形交易", "a three-party ring over months",
        ("contracts.amount_yuan",),
        "A→B→C→A with 60–150 days between legs (four to ten months in all), each leg passing "
        "on 80–100 % of the previous amount; the parties keep their own provinces",
        "A→B→C→A三方环形交易，每两笔间隔60–150天（共四到十个月），每笔金额为上一笔的80–100%；"
        "各方所在省份不限",
        0.25, "circular_trade", 0.07, (3, 3), family="network", held_out=True,
        leg_ratio=(0.8, 1.0)),
    PatternSpec(
        "newcomer_outsized", "新主体大额合同", "a seller new to the register with outsized deals",
        ("contracts.seller_id", "contracts.amount_yuan", "contracts.tech_amount_yuan"),
        "a seller never seen in the register registers 1–2 contracts within two weeks, each "
        "3–8 times what it would otherwise be; the technology share is the usual one",
        "登记系统中从未出现过的卖方在两周内登记1–2份合同，金额为同类合同的3–8倍，技术交易额占比如常",
        0.35, "inflated_amount", 0.06, (1, 2), family="newcomer", held_out=True),
)
PATTERNS: tuple[str, ...] = tuple(p.name for p in PATTERN_SPECS)
SPEC_OF: dict[str, PatternSpec] = {p.name: p for p in PATTERN_SPECS}
DETECTION_P: dict[str, float] = {p.name: p.detection_p for p in PATTERN_SPECS}
CONDUCT_OF: dict[str, str] = {p.name: p.conduct_kind for p in PATTERN_SPECS}
LEG_RATIO: dict[str, tuple[float, float]] = {
    p.name: p.leg_ratio for p in PATTERN_SPECS if p.leg_ratio is not None}

# One behaviour lives with the annual reports rather than the contracts.
MISREPORT = PatternSpec(
    "misreport", "虚报业绩", "misreported annual performance",
    ("institution_reports.contracts_reported", "institution_reports.amount_reported_yuan"),
    "a dishonest institution's annual report inflates the register's figures 1.3–3×",
    "失信机构年度报告将登记系统中的数字夸大1.3–3倍",
    0.3, "misreported_performance", 0.0, (1, 1), family="report", held_out=False)

# For per-family and per-pattern recall downstream: the truth's ``pattern`` keys both.
FAMILY_OF: dict[str, str] = {p.name: p.family for p in (*PATTERN_SPECS, MISREPORT)}
HELD_OUT: tuple[str, ...] = tuple(p.name for p in (*PATTERN_SPECS, MISREPORT) if p.held_out)


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
