"""The feature catalogue (特征目录): every feature declared once.

A declaration names the entity it describes, the family that computes it, the base
``measure`` and the ``window`` it is taken over. The family modules compute exactly the
declared (measure, window) pairs, :func:`features.point_in_time.build.build_features` returns
columns in
catalogue order, ``docs/features.md`` is rendered from here, and the models read the Chinese
and English wording and the monotone ``risk_direction`` hint for reason codes and LightGBM
monotone constraints. Adding a window to a measure is therefore a one-line change here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from features.standard.enums import CONTRACT_TYPE
from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN

Entity = Literal["institution", "broker", "contract"]
ENTITIES: tuple[Entity, ...] = ("institution", "broker", "contract")
PREFIX: dict[str, str] = {"institution": "inst", "broker": "brk", "contract": "ctr"}

# An amount is "round" when it is a whole multiple of this (1 万元).
ROUND_UNIT_YUAN = 10_000.0
# A credit label looks this many months past the as-of date.
LABEL_MONTHS = 12
# Trained-staff share the 14th plan requires of transfer institutions.
TRAINED_SHARE_REQUIRED = 0.70
# Peer groups thinner than this fall back to the contract type alone.
MIN_PEERS = 20
# Parties with more distinct counterparties than this in the window are left out of the
# entity-level 3-cycle share (a sparse path count); contract-level search samples them instead.
CYCLE_MAX_DEGREE = 50
# Contract-level network patterns (:mod:`features.point_in_time.contract_graph`): trailing
# window, the most parties on a cycle looked for, the short window of fan-in/fan-out, and how
# many distinct counterparties a search step follows at most (the closest in amount).
FLOW_WINDOW_DAYS = 365
CYCLE_MAX_LEN = 6
FAN_SHORT_DAYS = 30
# A cycle passes similar amounts along: its legs lie within this factor of the contract's amount.
CYCLE_AMOUNT_BAND = 2.0
SEARCH_FANOUT = 16
RELAY_DAYS = 90
RELAY_BAND = 0.10
# Weight, in contracts, of the peer mean when a party's own mean amount is shrunk toward it.
OWN_SHRINK = 5.0
# A report's amount gap at or above this log ratio (1.5x) counts as a year of over-reporting.
REPORT_GAP_YEAR = math.log(1.5)
REPORT_HISTORY_DAYS = 1095
# Evidence that should fade, not drop out of a window all at once, halves in weight every so many
# days (an entity's dealings with dishonest counterparties; its flagged contracts, in
# models.entity_evidence).
EVIDENCE_HALF_LIFE_DAYS = 180


@dataclass(frozen=True)
class Feature:
    """One declared feature.

    ``risk_direction`` is a monotone hint: +1 means a higher value never lowers risk, -1 means
    it never raises it, 0 means no constraint.
    """

    entity: Entity
    family: str
    measure: str
    window_days: int | None
    zh: str
    en: str
    definition: str
    risk_direction: int = 0
    point: str | None = None  # what a point-in-time value is taken from, when not a window

    @property
    def name(self) -> str:
        suffix = "" if self.point else (
            "_all" if self.window_days is None else f"_{self.window_days}d")
        return f"{PREFIX[self.entity]}_{self.measure}{suffix}"

    @property
    def window(self) -> str:
        if self.point:
            return self.point
        return "all history" if self.window_days is None else f"{self.window_days} days"


def _windowed(entity: Entity, family: str, measure: str, windows: tuple[int | None, ...],
              zh: str, en: str, definition: str, risk_direction: int = 0) -> list[Feature]:
    def zh_of(w: int | None) -> str:
        return f"{zh}(累计)" if w is None else f"{zh}(近{w}天)"

    def en_of(w: int | None) -> str:
        return f"{en} (all history)" if w is None else f"{en} (last {w} days)"

    return [Feature(entity, family, measure, w, zh_of(w), en_of(w), definition, risk_direction)
            for w in windows]


_THRESHOLDS = ", ".join(f"{t / 1e4:,.0f}万" for t in SUBSIDY_THRESHOLDS_YUAN)
_JUST_ABOVE = (f"within +{JUST_ABOVE:.0%} above one of the subsidy/tax thresholds "
               f"({_THRESHOLDS} yuan)")
_WINDOW = "contracts registered in (as_of - window, as_of]"


def _entity_features(entity: Entity, noun_zh: str, noun_en: str) -> list[Feature]:
    """Features that institutions and brokers share, computed over the contracts they handled."""
    e = entity
    f: list[Feature] = []
    f += _windowed(e, "activity", "contracts", (30, 90, 365, None), f"{noun_zh}合同数",
                   f"contracts {noun_en}", f"count of {_WINDOW}")
    f += _windowed(e, "activity", "amount", (90, 365, None), f"{noun_zh}成交额(元)",
                   f"amount {noun_en} (yuan)", f"sum of amount_yuan of {_WINDOW}")
    f += [
        Feature(e, "activity", "amount_growth", 365, "成交额同比增长(对数)",
                "year-on-year amount growth (log)",
                "ln((amount in the last 365 days + 1) / (amount in the 365 days before + 1))"),
        Feature(e, "activity", "december_share", 365, "十二月登记合同占比",
                "share registered in December", f"share of {_WINDOW} registered in December"),
    ]
    f += [Feature(e, "activity", f"type_{t.code}_share", 365, f"{t.zh}合同占比",
                  f"share of {t.en} contracts", f"share of {_WINDOW} of type {t.code}")
          for t in CONTRACT_TYPE.members]
    f += [
        Feature(e, "concentration", "buyer_hhi", 365, "买方集中度(HHI)",
                "buyer concentration (HHI)",
                "sum over buyers of (buyer's share of the amount)^2, contracts in the window"),
        Feature(e, "concentration", "seller_hhi", 365, "卖方集中度(HHI)",
                "seller concentration (HHI)",
                "sum over sellers of (seller's share of the amount)^2, contracts in the window"),
        Feature(e, "concentration", "region_hhi", 365, "买方地区集中度(HHI)",
                "buyer-region concentration (HHI)",
                "sum over buyer provinces of (province's share of the amount)^2"),
        Feature(e, "concentration", "repeat_pair_share", 365, "重复买卖双方合同占比",
                "share of repeated buyer-seller pairs",
                "share of contracts in the window whose (seller, buyer) pair occurs twice or more"),
        Feature(e, "integrity", "threshold_share", 365, "金额略高于补贴门槛占比",
                "share just above subsidy thresholds",
                f"share of contracts with amount {_JUST_ABOVE}"),
        Feature(e, "integrity", "round_share", 365, "整数金额合同占比", "share of round amounts",
                f"share of contracts whose amount is a multiple of {ROUND_UNIT_YUAN:,.0f} yuan"),
        Feature(e, "integrity", "split_share", 365, "同日同双方拆分合同占比",
                "share of same-day same-pair contracts",
                "share of contracts whose (seller, buyer, registered_date) has two or more "
                "contracts in the market", 1),
        Feature(e, "integrity", "reciprocal_share", 365, "互为买卖方合同占比",
                "share of reciprocal flows",
                "share of contracts whose reverse pair (buyer sells to seller) is registered "
                "in the market within the window"),
        Feature(e, "integrity", "cycle_share", 365, "循环交易合同占比", "share on circular flows",
                "share of contracts lying on a directed 3-cycle A->B->C->A of the market's "
                f"contract network in the window (parties with at most {CYCLE_MAX_DEGREE} "
                "counterparties)"),
        Feature(e, "integrity", "bad_status_share", None, "撤销/争议/虚假合同占比",
                "revoked, disputed or false share",
                "share of contracts registered up to as_of whose status known at as_of is revoked, "
                "disputed or false_found", 1),
        Feature(e, "integrity", "false_found", None, "核查认定虚假合同数", "contracts found false",
                "count of contracts with status false_found and status_date <= as_of", 1),
        *_windowed(e, "conduct", "conduct", (365, None), "失信记录数", "conduct records",
                   "conduct records of the subject confirmed in (as_of - window, as_of]", 1),
        Feature(e, "conduct", "conduct_serious", None, "较重及严重失信记录数",
                "serious or severe conduct records",
                "conduct records with severity serious or severe, confirmed_date <= as_of", 1),
        Feature(e, "conduct", "days_since_conduct", None, "距最近失信记录天数",
                "days since the last conduct record",
                "as_of - latest confirmed_date <= as_of; empty when there is none"),
        Feature(e, "conduct", "counterparty_conduct_decayed", None,
                f"与有失信记录交易对手的合同数(半衰期{EVIDENCE_HALF_LIFE_DAYS}天)",
                "contracts with counterparties on record for dishonesty (decayed)",
                "contracts handled, registered on or before as_of, whose seller or buyer has "
                "a party conduct record confirmed on or before as_of, each weighted "
                f"2^(-age / {EVIDENCE_HALF_LIFE_DAYS} days)", 1,
                point=f"decayed, half-life {EVIDENCE_HALF_LIFE_DAYS} days"),
        Feature(e, "profile", "tenure_days", None, "成立/取得资格天数",
                "days since founding or certification",
                "as_of - founded_date (institutions) or certified_date (brokers)"),
    ]
    return f


INSTITUTION_FEATURES: list[Feature] = _entity_features("institution", "促成", "facilitated") + [
    Feature("institution", "integrity", "report_amount_gap", None, "年报成交额与登记差异(对数)",
            "reported vs registered amount (log ratio)",
            "ln((amount_reported_yuan + 1) / (registered amount of that report_year + 1)), latest "
            "report submitted <= as_of"),
    Feature("institution", "integrity", "report_count_gap", None, "年报合同数与登记差异(对数)",
            "reported vs registered contracts (log ratio)",
            "ln((contracts_reported + 1) / (registered contracts of that report_year + 1))"),
    Feature("institution", "integrity", "report_gap_max", REPORT_HISTORY_DAYS,
            "近三年年报成交额最大差异(对数)", "largest reported vs registered gap, 3 years",
            "max of report_amount_gap over the latest report of each year submitted in "
            "(as_of - 1095 days, as_of]", 1),
    Feature("institution", "integrity", "report_gap_years", REPORT_HISTORY_DAYS,
            "近三年年报夸大年数", "years over-reported, 3 years",
            "reports submitted in (as_of - 1095 days, as_of] whose amount or count gap is at "
            f"least ln 1.5 ({REPORT_GAP_YEAR:.3f}); a year re-submitted counts once, as its latest "
            "report", 1),
    Feature("institution", "capacity", "staff", None, "从业人员数", "staff",
            "staff, latest report"),
    Feature("institution", "capacity", "trained_share", None, "受训人员占比", "trained-staff share",
            "trained_staff / staff, latest report"),
    Feature("institution", "capacity", "trained_gap", None, "受训占比与70%要求之差",
            "trained share minus the 70% requirement",
            f"trained_staff / staff - {TRAINED_SHARE_REQUIRED:.2f}, latest report"),
    Feature("institution", "capacity", "clients_served", None, "服务客户数", "clients served",
            "clients_served, latest report"),
    Feature("institution", "capacity", "revenue_per_staff", None, "人均服务收入(元)",
            "service revenue per staff (yuan)", "service_revenue_yuan / staff, latest report"),
    Feature("institution", "capacity", "complaints_per_client", None, "每客户投诉数",
            "complaints per client", "complaints / clients_served, latest report"),
    Feature("institution", "capacity", "report_age_days", None, "最近年报距今天数",
            "days since the latest report", "as_of - submitted_date of the latest report"),
    Feature("institution", "profile", "national", None, "是否国家示范机构",
            "national demonstration", "1 when level is national and designated_date <= as_of"),
    Feature("institution", "profile", "warned", None, "是否处于警告状态", "warned",
            "1 when status is warned and status_date <= as_of", 1),
]

BROKER_FEATURES: list[Feature] = _entity_features("broker", "经手", "handled") + [
    Feature("broker", "broker", "spike_ratio", 30, "近30天合同量激增比", "30-day volume spike",
            "(contracts in the last 30 days + 1) / (30-day average over the 335 days before + 1)"),
    Feature("broker", "broker", "institutions_served", 365, "服务机构数", "institutions served",
            f"distinct institution_id of {_WINDOW}"),
    Feature("broker", "broker", "institutions_served", None, "累计服务机构数",
            "institutions served (all history)", "distinct institution_id of all contracts"),
    Feature("broker", "profile", "training_hours", None, "培训学时", "training hours",
            "training_hours"),
    Feature("broker", "profile", "cert_rank", None, "资格等级", "certification level",
            "0 junior, 1 intermediate, 2 senior"),
    Feature("broker", "profile", "affiliated", None, "是否有所属机构",
            "affiliated to an institution", "1 when institution_id is set"),
]

_BEFORE = "contracts registered before it ((registered_date, contract_id) order)"
_KNOWN = "events dated strictly before its registered_date"
CONTRACT_FEATURES: list[Feature] = [
    Feature("contract", "amount", "log_amount", None, "合同金额(对数)", "contract amount (log)",
            "ln(amount_yuan)"),
    Feature("contract", "amount", "peer_z", None, "金额同类偏离(z值)",
            "amount against peers (z-score)",
            "(ln amount - mean) / std of ln amount over earlier contracts of the same type, field, "
            "seller province and seller-size band (0, 1-9, 10-99, 100+ earlier contracts); the "
            f"type alone when fewer than {MIN_PEERS} peers; std floored at 0.1"),
    Feature("contract", "amount", "just_above_threshold", None, "金额略高于补贴门槛",
            "amount just above a subsidy threshold", f"1 when amount is {_JUST_ABOVE}"),
    Feature("contract", "amount", "round_amount", None, "整数金额", "round amount",
            f"1 when amount is a multiple of {ROUND_UNIT_YUAN:,.0f} yuan"),
    Feature("contract", "amount", "tech_share", None, "技术交易额占比",
            "technology share of amount", "tech_amount_yuan / amount_yuan"),
    Feature("contract", "amount", "signing_lag_days", None, "签订至登记天数",
            "days from signing to registration", "registered_date - signed_date"),
    Feature("contract", "history", "seller_prior", None, "卖方既往合同数",
            "seller's earlier contracts", f"seller's {_BEFORE}"),
    Feature("contract", "history", "seller_days_since", None, "卖方距上次合同天数",
            "days since the seller's previous contract",
            "registered_date - seller's previous registered_date; empty for a first contract"),
    Feature("contract", "history", "seller_bad_share", None, "卖方既往问题合同占比",
            "seller's earlier revoked/disputed/false share",
            f"seller's earlier contracts turned revoked/disputed/false_found by {_KNOWN}, over "
            "seller_prior", 1),
    Feature("contract", "history", "seller_conduct", None, "卖方失信记录数",
            "seller's conduct records", f"party conduct records of the seller, {_KNOWN}", 1),
    Feature("contract", "history", "buyer_prior", None, "买方既往合同数",
            "buyer's earlier contracts", f"buyer's {_BEFORE}"),
    Feature("contract", "history", "pair_prior", None, "同一买卖双方既往合同数",
            "earlier contracts of the same pair", f"same (seller, buyer) {_BEFORE}"),
    Feature("contract", "history", "pair_same_day", None, "同日同双方既往合同数",
            "earlier same-day contracts of the pair",
            f"same (seller, buyer) and registered_date, {_BEFORE}", 1),
    Feature("contract", "history", "reverse_pair_prior", None, "反向交易既往合同数",
            "earlier contracts in the reverse direction",
            f"contracts where the buyer sold to the seller, {_BEFORE}"),
    Feature("contract", "history", "institution_conduct", None, "服务机构失信记录数",
            "facilitating institution's conduct records",
            f"conduct records of the institution, {_KNOWN}; empty without an institution", 1),
    Feature("contract", "history", "broker_conduct", None, "经纪人失信记录数",
            "broker's conduct records", f"conduct records of the broker, {_KNOWN}; empty without "
            "a broker", 1),
    Feature("contract", "history", "broker_recent", None, "经纪人近30天合同数",
            "broker's contracts in the last 30 days",
            f"broker's {_BEFORE} registered in the 30 days before (same day included)"),
    Feature("contract", "history", "broker_spike", None, "经纪人合同量激增比",
            "broker volume spike", "(broker_recent + 1) / (30-day average of the broker's "
            "contracts 31-365 days before + 1)"),
]

_FLOWS = (f"the flow network of contracts registered in the {FLOW_WINDOW_DAYS} days before it "
          "(every contract a flow seller->buyer on its registered_date)")
_BAND = (f"legs within a factor {CYCLE_AMOUNT_BAND:g} of this contract's amount")
_SAMPLED = (f"where more than {SEARCH_FANOUT} distinct counterparties qualify at a step, the "
            f"{SEARCH_FANOUT} closest in amount to this contract are followed")


def _earlier(days: int) -> str:
    return f"contracts registered before it in the {days} days before it"


CONTRACT_FEATURES += [
    Feature("contract", "network", "cycle_len", None, "闭合循环长度",
            "length of the cycle it closes",
            f"fewest parties (2-{CYCLE_MAX_LEN}) of a time-respecting cycle seller->buyer->...->"
            f"seller this contract closes: earlier flows buyer->...->seller on non-decreasing "
            f"days in {_FLOWS}, {_BAND}; 0 when none; {_SAMPLED}"),
    Feature("contract", "network", "cycle_amount_ratio", None, "循环金额相似度",
            "amount similarity along the cycle",
            "smallest over largest amount of the cycle's legs, this contract included (1 = all "
            "equal), for the shortest cycle made of earliest-arrival and latest-departure "
            "halves, the most even of those; empty when it closes no cycle"),
    Feature("contract", "network", "cycle_span_days", None, "循环时间跨度(天)",
            "days the cycle spans", "registered_date minus the earliest leg's registered_date "
            "of that cycle; empty when it closes no cycle"),
    Feature("contract", "network", "relay_in", None, "转手买入笔数", "similar purchases passed on",
            f"distinct parties other than the buyer that sold to this seller in the {RELAY_DAYS} "
            f"days before for an amount within ±{RELAY_BAND:.0%} of this one (a chain being "
            "passed on)", 1),
    Feature("contract", "network", "relay_chain", None, "转手链长度", "relay chain length",
            "earlier legs (0-5) of the longest chain of contracts ...->x->seller that this "
            f"contract continues, each leg registered within {RELAY_DAYS} days before the next "
            f"and its amount within ±{RELAY_BAND:.0%} of the next leg's; the leg into the seller "
            "not from this buyer", 1),
    Feature("contract", "network", "seller_fan_out_30d", None, "卖方近30天买方数",
            "seller's buyers, last 30 days",
            f"distinct buyers of the seller's {_earlier(FAN_SHORT_DAYS)}"),
    Feature("contract", "network", "seller_fan_out_365d", None, "卖方近一年买方数",
            "seller's buyers, last year",
            f"distinct buyers of the seller's {_earlier(FLOW_WINDOW_DAYS)}"),
    Feature("contract", "network", "buyer_fan_in_30d", None, "买方近30天卖方数",
            "buyer's sellers, last 30 days",
            f"distinct sellers of the buyer's {_earlier(FAN_SHORT_DAYS)}"),
    Feature("contract", "network", "buyer_fan_in_365d", None, "买方近一年卖方数",
            "buyer's sellers, last year",
            f"distinct sellers of the buyer's {_earlier(FLOW_WINDOW_DAYS)}"),
    Feature("contract", "network", "scatter_gather", None, "分散-汇聚中间方数",
            "scatter-gather intermediaries",
            "largest over sources u that sold to the seller of the number of distinct "
            "intermediaries m (not seller, buyer or u) whose latest flows u->m and m->buyer lie "
            f"in {_FLOWS}, {_BAND}; sources u limited as a search step ({_SAMPLED})"),
    Feature("contract", "network", "gather_scatter", None, "汇聚-分散规模",
            "gather-scatter size",
            "min(distinct parties other than the buyer that sold to the seller, distinct parties "
            f"the seller sold to with this buyer included), in {_FLOWS}: the seller as a "
            "pass-through of many sources to many targets"),
    Feature("contract", "network", "common_counterparties", None, "共同交易对手数",
            "shared counterparties", f"parties both seller and buyer traded with in {_FLOWS}"),
    Feature("contract", "network", "related_ties", None, "关联关系数", "related-party ties",
            "how many of: same province; the pair traded in the window (either direction); the "
            "buyer used this broker, this institution, this office before (window); a shared "
            "counterparty"),
    Feature("contract", "network", "party_cycle_share", None, "主体循环交易额占比",
            "party's volume on cycles",
            f"max over seller and buyer of the share of amount of their contracts (either side) "
            f"in the {FLOW_WINDOW_DAYS} days before that closed a cycle", 1),
    Feature("contract", "newcomer", "seller_age_days", None, "卖方登记年龄(天)",
            "seller's age in the register (days)",
            "registered_date minus the seller's first contract on either side; 0 for a first"),
    Feature("contract", "newcomer", "seller_first", None, "卖方首次登记", "seller's first contract",
            "1 when the seller has no earlier contract on either side"),
    Feature("contract", "newcomer", "buyer_first", None, "买方首次登记", "buyer's first contract",
            "1 when the buyer has no earlier contract on either side"),
    Feature("contract", "newcomer", "own_z", None, "金额相对自身历史偏离",
            "amount against own history",
            "(ln amount - m) / peer std, m = (n x the seller's own mean ln amount + "
            f"{OWN_SHRINK:g} x the peer mean) / (n + {OWN_SHRINK:g}) over its n earlier sales: "
            "a newcomer is judged by its peers, a veteran by itself"),
    Feature("contract", "newcomer", "kind_peer_z", None, "金额相对同类主体偏离",
            "amount against same-kind sellers", "(ln amount - mean) / std over earlier contracts "
            f"of the same type and seller kind (university, company...); the type alone when "
            f"fewer than {MIN_PEERS}; std floored at 0.1"),
]



def _point(f: Feature) -> Feature:
    """Features that are a value at a moment rather than an aggregate over a window."""
    if f.entity == "contract":
        return replace(f, point="at registration")
    if f.family == "capacity" or (f.measure.startswith("report_") and f.window_days is None):
        return replace(f, point="latest report")
    if f.family == "profile":
        return replace(f, point="at as_of")
    return f


FEATURES: tuple[Feature, ...] = tuple(
    _point(f) for f in INSTITUTION_FEATURES + BROKER_FEATURES + CONTRACT_FEATURES)
_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
if len(_BY_NAME) != len(FEATURES):
    raise RuntimeError("feature names must be unique")


def feature(name: str) -> Feature:
    """Look a feature up by column name (used for reason-code wording)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown feature {name!r}") from None


def features_of(entity: Entity, family: str | None = None) -> list[Feature]:
    return [f for f in FEATURES if f.entity == entity and (family is None or f.family == family)]


def names_of(entity: Entity) -> list[str]:
    return [f.name for f in features_of(entity)]


def render_features_doc() -> str:
    """``docs/features.md``, rendered from the declarations (a test fails if it is stale)."""
    out = [
        "# Features (特征目录)",
        "",
        "Generated from `features/point_in_time/catalogue.py` by `techcredit docs`; "
        "do not edit by hand.",
        "",
        ("Point in time: a feature row for `as_of` uses only contracts with `registered_date <= "
         "as_of`, statuses with `status_date <= as_of` (earlier a contract counts as registered), "
         "reports with `submitted_date <= as_of`, conduct records with `confirmed_date <= as_of`. "
         "Contract features describe a contract at its registration: they use the contracts "
         "registered before it in (registered_date, contract_id) order and status/conduct events "
         "dated strictly before its registration day, exactly what the real-time check sees."),
        "",
        ("Risk direction: +1 = a higher value never lowers risk (used as a monotone constraint), "
         "0 = unconstrained."),
        "",
    ]
    titles = {"institution": "Institutions (技术转移机构)", "broker": "Brokers (技术经纪人)",
              "contract": "Contracts (技术合同)"}
    for entity in ENTITIES:
        out += [f"## {titles[entity]}", "",
                "| name | family | window | 中文 | English | definition | risk |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        out += [f"| `{f.name}` | {f.family} | {f.window} | {f.zh} | {f.en} | {f.definition} | "
                f"{f.risk_direction:+d} |" for f in features_of(entity)]
        out.append("")
    return "\n".join(out)
