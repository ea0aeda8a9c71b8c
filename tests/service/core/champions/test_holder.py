"""The model holder: swaps only complete sets, keeps the last good one when the registry fails.

The registry here is a stand-in callable (the MLflow one is exercised by the API tests); the
holder's own logic is what is tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from models.scoring import ModelRef
from service.core.champions.holder import Loaded, ModelHolder, ModelSource


@dataclass
class Registry:
    versions: tuple[str | None, str | None] = ("1", "1")
    down: bool = False
    loads: list[tuple[str | None, str | None]] = field(default_factory=list)
    fail_load: bool = False

    def ask(self) -> tuple[str | None, str | None]:
        if self.down:
            raise ConnectionError("connection refused")
        return self.versions

    def load(self, wanted: tuple[str | None, str | None]) -> Loaded:
        if self.fail_load:
            raise OSError("artifact download failed")
        self.loads.append(wanted)
        assert wanted[0] is not None
        return Loaded(object(), ModelRef("anomaly", wanted[0], "champion"),  # type: ignore[arg-type]
                      ModelRef("credit", wanted[1], "champion") if wanted[1] else None, ())


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def holder(registry: Registry) -> ModelHolder:
    return ModelHolder(ModelSource(registry.ask, registry.load))


def test_loads_once_and_swaps_when_the_alias_moves(registry: Registry,
                                                   holder: ModelHolder) -> None:
    assert holder.current is None and holder.problem == "models not loaded yet"
    assert holder.refresh() and holder.current is not None
    first = holder.current
    assert not holder.refresh() and holder.current is first  # nothing moved: no reload
    registry.versions = ("2", "1")
    assert holder.refresh() and holder.current.anomaly_ref.version == "2"
    assert registry.loads == [("1", "1"), ("2", "1")] and holder.swaps == 2
    assert first.anomaly_ref.version == "1"  # a request holding the old set still has it whole


def test_registry_down_keeps_the_last_good_set_and_says_so(registry: Registry,
                                                           holder: ModelHolder) -> None:
    holder.refresh()
    good = holder.current
    registry.down = True
    assert not holder.refresh()
    assert holder.current is good
    assert holder.problem == ("registry unreachable, serving the last good models: "
                              "connection refused")
    registry.down = False
    holder.refresh()
    assert holder.problem is None


def test_a_failed_load_swaps_nothing(registry: Registry, holder: ModelHolder) -> None:
    holder.refresh()
    good = holder.current
    registry.versions, registry.fail_load = ("2", "1"), True
    assert not holder.refresh() and holder.current is good
    assert "artifact download failed" in (holder.problem or "")


def test_no_champion_is_a_problem_not_a_crash(registry: Registry, holder: ModelHolder) -> None:
    registry.versions = (None, None)
    assert not holder.refresh() and holder.current is None
    assert holder.problem == "no champion anomaly model: a reviewer promotes one"
    registry.down = True
    holder.refresh()
    assert holder.problem == ("registry unreachable, no models loaded yet: connection refused")
