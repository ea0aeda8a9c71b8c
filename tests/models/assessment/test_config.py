"""The indicator file: the shipped one loads, and every mistake names the file and the key."""

from __future__ import annotations

import pytest

from features.standard.enums import REGION
from models.assessment.config import CATEGORIES, load_config, parse_config
from models.declared import DeclarationError
from tests.models.assessment.support import config, toml


def test_the_shipped_indicator_system_loads_and_covers_every_category() -> None:
    c = load_config()
    assert c.version == 1 and len(c.sha256) == 64
    assert sum(i.weight for i in c.indicators) == pytest.approx(1.0)
    assert {i.category for i in c.indicators} == set(CATEGORIES)
    trained = next(i for i in c.indicators if i.code == "trained_share")
    assert (trained.limit, trained.direction, trained.unit_en) == (70.0, "higher", "%")
    assert {r for t in c.tiers for r in t.regions} == set(REGION.codes)
    assert c.tier_of("110000") == "eastern" and c.tier_of("230000") == "northeastern"


def test_a_small_config_parses_with_defaults() -> None:
    c = config()
    assert c.method.fail_bottom_share == 0.0 and c.method.reasons == 2
    assert [i.window_years for i in c.indicators] == [1, 1]
    assert c.indicators[1].limit == 10.0 and c.indicators[0].limit is None


@pytest.mark.parametrize(("text", "message"), [
    (toml(a='colour = "red"'), "test.toml: indicator 'a': colour: unknown key"),
    (toml(a="").replace("weight = 0.6", "weight = 0.5"),
     "test.toml: indicator: weights sum to 0.9000, not 1"),
    (toml().replace('direction = "higher"', 'direction = "up"'),
     "test.toml: indicator 'a': direction: 'up' is not one of higher, lower"),
    (toml().replace('measure = "contracts_facilitated"', 'measure = "magic"'),
     "test.toml: indicator 'a': measure: 'magic' is not one of staff"),
    (toml(b="window_years = 2"),
     "test.toml: indicator 'b': window_years: measure complaints_per_100_clients reads no "
     "window"),
    (toml(method="fail_bottom_share = 2"),
     "test.toml: method: fail_bottom_share: must be a number from 0 to 1, got 2"),
    (toml().replace("regions = ['110000', '310000']", "regions = ['110000']"),
     "test.toml: region_tiers: province 310000 has no tier"),
    (toml().replace("regions = ['110000', '310000']", "regions = ['110000', '999999']"),
     "test.toml: region_tiers.east: regions: '999999' is not a province code"),
    (toml().replace('name_en = "alpha"', 'name_en = ""'),
     "test.toml: indicator 'a': name_en: required text"),
    (toml().replace("version = 2", "version = 0"),
     "test.toml: version: must be an integer >= 1, got 0"),
    (toml() + "\n[[indicator]]\ncode = \"a\"\n", "test.toml: indicator 'a': "),
])
def test_mistakes_are_one_line_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(DeclarationError) as refused:
        parse_config(text.encode(), "test.toml")
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
