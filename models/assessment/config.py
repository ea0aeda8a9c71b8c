"""The indicator system of the annual assessment, read from a TOML file.

Which indicators count, how much, in which direction and where their data come from is policy
(the national demonstration-institution evaluation, 国家技术转移示范机构评价指标体系): the
assessors change it, so it lives in a file (:data:`DEFAULT_INDICATORS`, or
``TECHCREDIT_ASSESSMENT_INDICATORS``) whose SHA-256 every assessment records. How a value is
computed is code: an indicator names one of the :data:`MEASURES`. The file is read like every
declared file (:mod:`models.declared`): each mistake is one line naming the file, the indicator
and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from features.standard.enums import REGION
from models.declared import ID, DeclarationError, Table, items, load, parse, table

Direction = Literal["higher", "lower"]
Category = Literal["capacity", "activity", "performance", "compliance", "credit"]
Missing = Literal["worst", "skip"]
Normalisation = Literal["percentile", "minmax"]

CATEGORIES: dict[str, tuple[str, str]] = {
    "capacity": ("服务能力", "capacity"),
    "activity": ("业务活跃度", "activity"),
    "performance": ("服务绩效", "performance"),
    "compliance": ("合规诚信", "compliance"),
    "credit": ("信用状况", "credit"),
}
# What an indicator may compute (models.assessment.measures implements each one).
MEASURES = ("staff", "trained_share", "contracts_facilitated", "tech_amount_facilitated",
            "clients_served", "service_revenue", "over_reporting", "complaints_per_100_clients",
            "conduct_records", "dishonest_contract_share", "credit_points")
WINDOWED = ("contracts_facilitated", "tech_amount_facilitated", "conduct_records",
            "dishonest_contract_share")  # the measures that read ``window_years``
DEFAULT_INDICATORS = Path(__file__).with_name("indicators.toml")

_TOP = ("version", "name_zh", "name_en", "method", "region_tiers", "indicator")
_METHOD = ("normalisation", "min_group_size", "fail_below", "fail_bottom_share", "reasons")
_TIER = ("name_zh", "name_en", "regions")
_TEXT = ("name_zh", "name_en", "unit_zh", "unit_en", "source", "definition_zh",
         "definition_en")
_FIELDS = ("code", "category", "weight", "direction", "measure", "missing", "limit",
           "window_years", *_TEXT)


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    category: Category
    weight: float  # share of the total; the weights sum to 1
    direction: Direction  # higher: more is better; lower: less is better
    unit_zh: str
    unit_en: str
    source: str  # the table(s) and column(s) the value comes from
    measure: str  # one of MEASURES
    missing: Missing  # no data: score 0 (worst) or leave out and reweigh the rest (skip)
    limit: float | None  # a requirement: a value below it (higher) or above it (lower) fails
    window_years: int  # years of registry or conduct data read, ending with the assessed one
    definition_zh: str
    definition_en: str


@dataclass(frozen=True)
class RegionTier:
    code: str
    name_zh: str
    name_en: str
    regions: tuple[str, ...]  # GB/T 2260 province codes


@dataclass(frozen=True)
class Method:
    normalisation: Normalisation
    min_group_size: int  # a smaller group is compared with a wider one (type, then all)
    fail_below: float  # a total below it fails
    fail_bottom_share: float  # also fails: this share of each group from the bottom (0: none)
    reasons: int  # indicators named in an outcome's reasons


@dataclass(frozen=True)
class AssessmentConfig:
    version: int
    sha256: str  # of the file's bytes, recorded with each assessment
    source: str
    name_zh: str
    name_en: str
    method: Method
    tiers: tuple[RegionTier, ...]
    indicators: tuple[Indicator, ...]

    def tier_of(self, region: str) -> str:
        for tier in self.tiers:
            if region in tier.regions:
                return tier.code
        raise KeyError(region)  # the loader checked that every province has a tier

    def tier(self, code: str) -> RegionTier:
        return next(t for t in self.tiers if t.code == code)


def load_config(path: Path | None = None) -> AssessmentConfig:
    """The indicator system in ``path``, or the default beside this module."""
    return load(path or DEFAULT_INDICATORS, parse_config)


def parse_config(data: bytes, source: str) -> AssessmentConfig:
    declared = parse(data, source, _TOP)
    top = Table(declared.doc, source, "key")
    names = [top.text(k).strip() for k in ("name_zh", "name_en")]
    method = _method(table(declared, "method", _METHOD, "key"))
    tiers = _tiers(declared.doc.get("region_tiers"), f"{source}: region_tiers")
    indicators = [_indicator(code, t) for code, t in
                  items(declared, "indicator", "code", required=True, noun="key")]
    total = sum(i.weight for i in indicators)
    if abs(total - 1) > 1e-6:
        raise DeclarationError(f"{source}: indicator: weights sum to {total:.4f}, not 1")
    return AssessmentConfig(declared.version, declared.sha256, source, *names, method, tiers,
                            tuple(indicators))


def _method(t: Table) -> Method:
    return Method(
        cast(Normalisation, t.choice("normalisation", ("percentile", "minmax"))),
        t.integer("min_group_size", 1, 10_000),
        t.number("fail_below", 0, 100),
        t.number("fail_bottom_share", 0, 1, default=0.0),
        t.integer("reasons", 1, 20, default=3))


def _tiers(t: Any, where: str) -> tuple[RegionTier, ...]:
    if not isinstance(t, dict) or not t:
        raise DeclarationError(f"{where}: required tables [region_tiers.<code>] with "
                               f"{', '.join(_TIER)}")
    tiers, seen = [], {}
    for code, body in t.items():
        at = Table(body, f"{where}.{code}", "key")
        if not ID.match(code) or not isinstance(body, dict):
            raise DeclarationError(f"{at.where}: a tier is a table with a snake_case code")
        at.known(_TIER)
        regions = body.get("regions")
        if not isinstance(regions, list) or not regions:
            raise at.fail("regions", "required list of province codes")
        for region in regions:
            if region not in REGION.codes:
                raise at.fail("regions", f"{region!r} is not a province code (GB/T 2260, "
                                         "e.g. 110000)")
            if region in seen:
                raise at.fail("regions", f"{region} is already in tier {seen[region]}")
            seen[region] = code
        tiers.append(RegionTier(code, at.text("name_zh").strip(), at.text("name_en").strip(),
                                tuple(regions)))
    left = [r for r in REGION.codes if r not in seen]
    if left:
        raise DeclarationError(f"{where}: province {left[0]} has no tier: every province "
                               "must be in one")
    return tuple(tiers)


def _indicator(code: str, t: Table) -> Indicator:
    t.known(_FIELDS)
    texts = {k: t.text(k).strip() for k in _TEXT}
    measure = t.choice("measure", MEASURES)
    window = t.integer("window_years", 1, 10, default=1)
    if "window_years" in t.body and measure not in WINDOWED:
        raise t.fail("window_years", f"measure {measure} reads no window (only "
                                     f"{', '.join(WINDOWED)} do)")
    limit = None if t.body.get("limit") is None else t.number("limit", -1e12, 1e12)
    return Indicator(
        code=code, category=cast(Category, t.choice("category", tuple(CATEGORIES))),
        weight=t.number("weight", 0, 1),
        direction=cast(Direction, t.choice("direction", ("higher", "lower"))),
        measure=measure, missing=cast(Missing, t.choice("missing", ("worst", "skip"))),
        limit=limit, window_years=window, **texts)
