"""The indicator system of the annual assessment, read from a TOML file.

Which indicators count, how much, in which direction and where their data come from is policy
(the national demonstration-institution evaluation, 国家技术转移示范机构评价指标体系): the
assessors change it, so it lives in a file (:data:`DEFAULT_INDICATORS`, or
``TECHCREDIT_ASSESSMENT_INDICATORS``) whose SHA-256 every assessment records. How a value is
computed is code: an indicator names one of the :data:`MEASURES`. Every mistake in the file is
one line naming the file, the indicator and the key.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from features.standard.enums import REGION

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
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class AssessmentConfigError(ValueError):
    """An indicator file that cannot be used; one line naming file, indicator and key."""


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
    path = path or DEFAULT_INDICATORS
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AssessmentConfigError(f"{path}: cannot read: {e.strerror}") from None
    return parse_config(data, str(path))


def parse_config(data: bytes, source: str) -> AssessmentConfig:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise AssessmentConfigError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise AssessmentConfigError(f"{source}: not valid TOML: {str(e).splitlines()[0]}"
                                    ) from None
    _known(doc, _TOP, source)
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise AssessmentConfigError(f"{source}: version: must be an integer >= 1, "
                                    f"got {version!r}")
    names = [_text(doc, k, source) for k in ("name_zh", "name_en")]
    method = _method(doc.get("method"), f"{source}: method")
    tiers = _tiers(doc.get("region_tiers"), f"{source}: region_tiers")
    tables = doc.get("indicator")
    if not isinstance(tables, list) or not tables:
        raise AssessmentConfigError(f"{source}: indicator: write at least one indicator as an "
                                    "[[indicator]] table")
    indicators: list[Indicator] = []
    for n, t in enumerate(tables, 1):
        one = _indicator(t, source, n)
        if any(i.code == one.code for i in indicators):
            raise AssessmentConfigError(f"{source}: indicator {one.code!r}: code: duplicate")
        indicators.append(one)
    total = sum(i.weight for i in indicators)
    if abs(total - 1) > 1e-6:
        raise AssessmentConfigError(f"{source}: indicator: weights sum to {total:.4f}, "
                                    "not 1")
    return AssessmentConfig(version, hashlib.sha256(data).hexdigest(), source, *names, method,
                            tiers, tuple(indicators))


def _known(t: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    extra = sorted(set(t) - set(allowed))
    if extra:
        raise AssessmentConfigError(f"{where}: {extra[0]}: unknown key (expected "
                                    f"{', '.join(allowed)})")


def _text(t: dict[str, Any], key: str, where: str) -> str:
    value = t.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AssessmentConfigError(f"{where}: {key}: required text")
    return value.strip()


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise AssessmentConfigError(f"{where}: must be a number from {low:g} to {high:g}, "
                                    f"got {value!r}")
    return float(value)


def _integer(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AssessmentConfigError(f"{where}: must be an integer from {low} to {high}, "
                                    f"got {value!r}")
    return value


def _choice(value: Any, options: tuple[str, ...], where: str) -> str:
    if value not in options:
        raise AssessmentConfigError(f"{where}: {value!r} is not one of {', '.join(options)}")
    return cast(str, value)


def _method(t: Any, where: str) -> Method:
    if not isinstance(t, dict):
        raise AssessmentConfigError(f"{where}: required table [method] with "
                                    f"{', '.join(_METHOD)}")
    _known(t, _METHOD, where)
    return Method(
        cast(Normalisation, _choice(t.get("normalisation"), ("percentile", "minmax"),
                                    f"{where}: normalisation")),
        _integer(t.get("min_group_size"), f"{where}: min_group_size", 1, 10_000),
        _number(t.get("fail_below"), f"{where}: fail_below", 0, 100),
        _number(t.get("fail_bottom_share", 0.0), f"{where}: fail_bottom_share", 0, 1),
        _integer(t.get("reasons", 3), f"{where}: reasons", 1, 20))


def _tiers(t: Any, where: str) -> tuple[RegionTier, ...]:
    if not isinstance(t, dict) or not t:
        raise AssessmentConfigError(f"{where}: required tables [region_tiers.<code>] with "
                                    f"{', '.join(_TIER)}")
    tiers, seen = [], {}
    for code, body in t.items():
        at = f"{where}.{code}"
        if not _CODE.match(code) or not isinstance(body, dict):
            raise AssessmentConfigError(f"{at}: a tier is a table with a snake_case code")
        _known(body, _TIER, at)
        regions = body.get("regions")
        if not isinstance(regions, list) or not regions:
            raise AssessmentConfigError(f"{at}: regions: required list of province codes")
        for region in regions:
            if region not in REGION.codes:
                raise AssessmentConfigError(f"{at}: regions: {region!r} is not a province "
                                            "code (GB/T 2260, e.g. 110000)")
            if region in seen:
                raise AssessmentConfigError(f"{at}: regions: {region} is already in tier "
                                            f"{seen[region]}")
            seen[region] = code
        tiers.append(RegionTier(code, _text(body, "name_zh", at), _text(body, "name_en", at),
                                tuple(regions)))
    left = [r for r in REGION.codes if r not in seen]
    if left:
        raise AssessmentConfigError(f"{where}: province {left[0]} has no tier: every province "
                                    "must be in one")
    return tuple(tiers)


def _indicator(t: Any, source: str, n: int) -> Indicator:
    if not isinstance(t, dict):
        raise AssessmentConfigError(f"{source}: indicator #{n}: not a table")
    code = t.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise AssessmentConfigError(f"{source}: indicator #{n}: code: must be snake_case "
                                    f"text, got {code!r}")
    where = f"{source}: indicator {code!r}"
    _known(t, _FIELDS, where)
    texts = {k: _text(t, k, where) for k in _TEXT}
    measure = _choice(t.get("measure"), MEASURES, f"{where}: measure")
    window = _integer(t.get("window_years", 1), f"{where}: window_years", 1, 10)
    if "window_years" in t and measure not in WINDOWED:
        raise AssessmentConfigError(f"{where}: window_years: measure {measure} reads no "
                                    f"window (only {', '.join(WINDOWED)} do)")
    limit = t.get("limit")
    return Indicator(
        code=code, category=cast(Category, _choice(t.get("category"), tuple(CATEGORIES),
                                                    f"{where}: category")),
        weight=_number(t.get("weight"), f"{where}: weight", 0, 1),
        direction=cast(Direction, _choice(t.get("direction"), ("higher", "lower"),
                                          f"{where}: direction")),
        measure=measure,
        missing=cast(Missing, _choice(t.get("missing"), ("worst", "skip"), f"{where}: missing")),
        limit=None if limit is None else _number(limit, f"{where}: limit", -1e12, 1e12),
        window_years=window, **texts)
