"""Reason codes of the credit model, declared once: what a reason says, and what to do about it.

A score's reasons are read by the entity and by the regulator deciding on it, so each one must
be a fact about the entity's own conduct or contracts that someone can act on. Every credit
feature therefore maps to one code below, or is declared **not a reason**: the entity kind and
pure attributes (training hours, certification level, size, age, …) carry no evidence of
conduct, so they may move a score but are never given as its reason.

A code is ``actionable`` when the entity's own future conduct moves the features behind it (a
trailing-window share, a report it files); those are the features the repair search
(:mod:`models.repair`) may change, each toward its ``better`` end. Conduct records and a
warning are history: they are reasons with an action (rectify, apply for credit repair) but no
search moves them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonCode:
    """One reason as people read it, in Chinese and English, with what the entity can do."""

    code: str
    zh: str
    en: str
    action_zh: str
    action_en: str
    actionable: bool  # the entity's own conduct moves it (the repair search may change it)


@dataclass(frozen=True)
class Lever:
    """How a feature of an actionable code improves: toward ``better`` (the value of a clean
    record: 0 for a share of suspicious contracts, the required share for training)."""

    better: float


CODES: tuple[ReasonCode, ...] = (
    ReasonCode("C01", "失信记录", "confirmed dishonest conduct on record",
               "完成整改并按规定申请信用修复；此后不再发生失信行为，记录的影响随时间减弱",
               "rectify and apply for credit repair as the rules allow; with no new record "
               "its weight fades over time", False),
    ReasonCode("C02", "处于警告状态", "under a warning of the assessment",
               "按考核整改要求完成整改，申请解除警告",
               "complete the rectification the assessment asked for and apply to lift the "
               "warning", False),
    ReasonCode("C03", "撤销、争议或认定虚假的合同", "revoked, disputed or false contracts",
               "如实登记合同，避免撤销与争议；被认定虚假的合同须纠正",
               "register contracts truthfully and avoid revocations and disputes; correct "
               "contracts found false", True),
    ReasonCode("C04", "拆分、循环或互为买卖方的合同", "split, circular or reciprocal contracts",
               "不拆分合同、不做循环或对倒交易：一项交易登记一份合同",
               "do not split contracts or trade in circles or back and forth: one deal, one "
               "registered contract", True),
    ReasonCode("C05", "金额集中于补贴门槛或整数", "amounts bunched at subsidy thresholds or "
               "round figures", "按真实成交价格登记金额", "register the real transaction price",
               True),
    ReasonCode("C06", "交易对象或时间过于集中", "business concentrated on few parties or "
               "at year end", "拓展真实的交易对象，按业务实际时间登记",
               "widen the real client base and register contracts when the business happens",
               True),
    ReasonCode("C07", "年报与登记数据不符", "annual report differs from the register",
               "年报如实填报，与登记的合同数和成交额一致",
               "report truthfully: the annual report must match the registered contracts and "
               "amounts", True),
    ReasonCode("C08", "年报未按时报送", "annual report overdue",
               "按时报送年度报告", "file the annual report on time", True),
    ReasonCode("C09", "受训人员比例不足", "too few staff trained in technology transfer",
               "组织从业人员参加技术转移培训，受训比例达到70%以上",
               "have staff trained in technology transfer, to at least the required 70 %",
               True),
    ReasonCode("C10", "客户投诉较多", "many client complaints",
               "处理并减少客户投诉，改进服务质量", "resolve complaints and improve the service",
               True),
    ReasonCode("C11", "经手合同的异常概率高", "contracts that look irregular",
               "经手的合同应真实、定价合理、双方独立；配合登记机构核查",
               "handle only real contracts at fair prices between independent parties; "
               "cooperate with the registration office's checks", True),
    ReasonCode("C12", "合同量短期激增", "sudden surge of contracts",
               "按业务实际节奏登记合同，不集中突击登记",
               "register contracts as the business happens, not in bursts", True),
    ReasonCode("C13", "所属机构的合同被标记异常",
               "its institution's contracts flagged as irregular",
               "配合机构和登记机构核查，不参与虚假或异常合同",
               "cooperate with the institution's and the registration office's checks; take "
               "no part in false or irregular contracts", False),
    ReasonCode("C14", "与有失信记录的交易对手往来", "dealings with counterparties on record for "
               "dishonest conduct", "交易前核实对方信用记录，避免为失信主体促成合同",
               "check a party's credit record before dealing; do not broker contracts for "
               "parties on record for dishonesty", False),
)
BY_CODE: Mapping[str, ReasonCode] = {c.code: c for c in CODES}

NOT_A_REASON = "—"  # the code of a feature never given as a reason

# feature stem (name without the inst_/brk_ prefix and the window) → code, and for actionable
# codes the lever: where the feature's clean value lies
STEMS: Mapping[str, tuple[str, Lever | None]] = {
    "conduct": ("C01", None),
    "conduct_serious": ("C01", None),
    "days_since_conduct": ("C01", None),
    "warned": ("C02", None),
    "bad_status_share": ("C03", Lever(0.0)),
    "false_found": ("C03", None),  # a count of audits already done: history
    "split_share": ("C04", Lever(0.0)),
    "cycle_share": ("C04", Lever(0.0)),
    "reciprocal_share": ("C04", Lever(0.0)),
    "threshold_share": ("C05", Lever(0.0)),
    "round_share": ("C05", Lever(0.0)),
    "buyer_hhi": ("C06", Lever(0.0)),
    "seller_hhi": ("C06", Lever(0.0)),
    "region_hhi": ("C06", Lever(0.0)),
    "repeat_pair_share": ("C06", Lever(0.0)),
    "december_share": ("C06", Lever(1 / 12)),
    "report_amount_gap": ("C07", Lever(0.0)),
    "report_count_gap": ("C07", Lever(0.0)),
    "report_gap_max": ("C07", None),  # the worst of three years: history
    "report_gap_years": ("C07", None),
    "report_age_days": ("C08", Lever(0.0)),
    "trained_share": ("C09", Lever(1.0)),
    "trained_gap": ("C09", Lever(0.3)),
    "complaints_per_client": ("C10", Lever(0.0)),
    "anomaly_max": ("C11", Lever(0.0)),
    "anomaly_mean": ("C11", Lever(0.0)),
    "anomaly_expected": ("C11", Lever(0.0)),
    # contracts already flagged weigh less each month without new flags: history, no lever
    "anomaly_flagged_decayed": ("C11", None),
    "anomaly_decayed": ("C11", None),
    "institution_flagged_decayed": ("C13", None),
    "counterparty_conduct_decayed": ("C14", None),
    "spike_ratio": ("C12", Lever(1.0)),
    # no evidence of conduct: kind, attributes, size and mix of business
    **dict.fromkeys(
        ("entity_kind", "training_hours", "cert_rank", "affiliated", "national", "staff",
         "tenure_days", "contracts", "amount", "amount_growth", "type_development_share",
         "type_transfer_share", "type_licensing_share", "type_consulting_share",
         "type_service_share", "institutions_served", "clients_served", "revenue_per_staff"),
        (NOT_A_REASON, None)),
}

_PREFIX = re.compile(r"^(inst|brk)_")
_WINDOW = re.compile(r"_(\d+d|all)$")


def stem(feature: str) -> str:
    """``inst_split_share_365d`` → ``split_share``: the measure, whatever the entity and window."""
    return _WINDOW.sub("", _PREFIX.sub("", feature))


def code_of(feature: str) -> ReasonCode | None:
    """The feature's reason code; None when it is not a reason. Unknown features raise, so a
    new feature cannot reach a score's reasons without a declared code (a test lists them)."""
    try:
        code, _ = STEMS[stem(feature)]
    except KeyError:
        raise KeyError(f"feature {feature!r} has no reason code: declare its stem "
                       f"{stem(feature)!r} in models/reason_codes.py") from None
    return None if code == NOT_A_REASON else BY_CODE[code]


def lever_of(feature: str) -> Lever | None:
    """Where an actionable feature's clean value lies; None for every other feature."""
    entry = STEMS.get(stem(feature))
    return entry[1] if entry is not None else None


def undeclared(features: Iterable[str]) -> list[str]:
    """Features without a code or a 'not a reason' mark."""
    return [f for f in features if stem(f) not in STEMS]


def render_reason_codes_doc() -> str:
    """The table of ``docs/reason-codes.md`` (regenerated by ``techcredit docs``)."""
    lines = [
        "# Reason codes (原因代码)",
        "",
        "Generated from `models/reason_codes.py` by `techcredit docs`; do not edit by hand.",
        "",
        "| code | reason (zh) | reason (en) | what the entity can do (zh) | what the entity can do "
        "(en) | repair search moves it |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in CODES:
        lines.append(f"| {c.code} | {c.zh} | {c.en} | {c.action_zh} | {c.action_en} | "
                     f"{'yes' if c.actionable else 'no (history)'} |")
    lines += ["", "| feature stem | code | clean value (repair search) |", "| --- | --- | --- |"]
    for s, (code, lever) in STEMS.items():
        label = "not a reason (no evidence of conduct)" if code == NOT_A_REASON else code
        lines.append(f"| `{s}` | {label} | {'' if lever is None else f'{lever.better:g}'} |")
    return "\n".join(lines) + "\n"
