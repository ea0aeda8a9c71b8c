"""Published figures of the national technology market: the synthetic market's targets.

Figures marked ``published`` come from the 13th and 14th five-year plans for the technology
market and technology transfer; 2016–2019 are the Ministry of Science and Technology's
annual register totals, consistent with the 23.49 % yearly growth the 14th plan quotes, and
serve only to make the series continuous. Years outside 2011–2020 are extrapolated with the
nearest period's growth, and labelled as such in the calibration report.
"""

from __future__ import annotations

from dataclasses import dataclass

# year: (contracts, amount in 亿元 = 1e8 yuan, published?)
_YEARLY: dict[int, tuple[int, float, bool]] = {
    2011: (256_428, 4_764.0, True),
    2012: (282_242, 6_437.0, True),
    2013: (294_929, 7_469.0, True),
    2014: (297_037, 8_577.0, True),
    2015: (307_132, 9_835.0, True),
    2016: (320_437, 11_407.0, False),
    2017: (367_586, 13_424.0, False),
    2018: (411_985, 17_697.0, False),
    2019: (484_077, 22_398.0, False),
    2020: (549_400, 28_300.0, True),
}
_FIRST, _LAST = min(_YEARLY), max(_YEARLY)
# Growth used beyond the table: 2011–2012 backwards, 2016–2020 compound growth forwards.
_BACK_GROWTH = (_YEARLY[2012][0] / _YEARLY[2011][0], _YEARLY[2012][1] / _YEARLY[2011][1])
_FWD_GROWTH = (
    (_YEARLY[2020][0] / _YEARLY[2016][0]) ** 0.25,
    (_YEARLY[2020][1] / _YEARLY[2016][1]) ** 0.25,
)

YI = 1e8  # yuan per 亿元


@dataclass(frozen=True)
class YearTarget:
    year: int
    contracts: float
    amount_yuan: float
    published: bool
    enterprise_amount_share: float  # share of the amount sold by enterprises
    enterprise_count_share: float
    academic_count_share: float  # universities + research institutes as sellers
    academic_amount_share: float

    @property
    def avg_amount_yuan(self) -> float:
        return self.amount_yuan / self.contracts


# Anchors for seller-kind shares (2015 and 2020 are published; linear in between, flat outside).
# 2015: enterprises sold 8,476.9 亿 of 9,835 亿; universities and institutes 97,744 contracts,
# 874.7 亿. 2020: enterprises 385,400 contracts and 2.58 万亿 (91.4 %); academia 143,900
# contracts, 1,672.8 亿. The enterprise count share of 2015 is not published: 4 % "other"
# sellers (as in 2020) is assumed.
_SHARES = {
    2015: {
        "ent_amt": 0.862,
        "acad_cnt": 97_744 / 307_132,
        "acad_amt": 874.7 / 9_835,
        "other_cnt": 0.04,
    },
    2020: {
        "ent_amt": 0.914,
        "acad_cnt": 143_900 / 549_400,
        "acad_amt": 1_672.8 / 28_300,
        "other_cnt": (549_400 - 385_400 - 143_900) / 549_400,
    },
}

NATIONAL_INSTITUTIONS = {2015: 453, 2020: 420}
BROKERS_2020 = 10_000  # "over 10,000 trained brokers"


def _share(year: int, key: str) -> float:
    a, b = _SHARES[2015][key], _SHARES[2020][key]
    t = min(max((year - 2015) / 5, 0.0), 1.0)
    return a + (b - a) * t


def year_target(year: int, scale: float = 1.0) -> YearTarget:
    """Target figures for one registration year at a given scale (1 = national)."""
    if year in _YEARLY:
        n, amt, published = _YEARLY[year]
    elif year < _FIRST:
        n0, a0, _ = _YEARLY[_FIRST]
        k = _FIRST - year
        n, amt, published = n0 / _BACK_GROWTH[0] ** k, a0 / _BACK_GROWTH[1] ** k, False
    else:
        n0, a0, _ = _YEARLY[_LAST]
        k = year - _LAST
        n, amt, published = n0 * _FWD_GROWTH[0] ** k, a0 * _FWD_GROWTH[1] ** k, False
    acad_cnt = _share(year, "acad_cnt")
    return YearTarget(
        year=year,
        contracts=n * scale,
        amount_yuan=amt * YI * scale,
        published=published,
        enterprise_amount_share=_share(year, "ent_amt"),
        enterprise_count_share=1.0 - acad_cnt - _share(year, "other_cnt"),
        academic_count_share=acad_cnt,
        academic_amount_share=_share(year, "acad_amt"),
    )
