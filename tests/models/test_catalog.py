"""The reviewer's catalog read back from a real MLflow store: champion and challenger with
their figures, the gate as it decides now, the decisions taken, and the review report."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.settings import Settings
from models.catalog import UnknownVersion, catalog, review_report
from models.gate import GateDecision
from models.registry import (
    ANOMALY_MODEL,
    CREDIT_MODEL,
    Store,
    gate_now,
    promote,
    store_for,
)
from tests.trained import Trained, build, copy_home, register_challenger, shared_folder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.fixture
def store(trained: Trained, tmp_path: Path) -> Store:
    home = copy_home(trained.settings.home_dir, tmp_path / "home")
    return store_for(Settings(home=home))


def test_a_champion_alone_with_its_figures_and_the_decision_that_made_it(
        store: Store, trained: Trained) -> None:
    found = catalog(store, CREDIT_MODEL, trained.settings.gate)
    assert found.challenger is None
    assert found.champion is not None and found.champion.version == "1"
    assert [c.version for c in found.recent] == ["1"]
    card = found.champion
    # training named v1 challenger; promotion made it champion too: it is shown once
    assert card.role == "champion" and card.aliases == ("challenger", "champion")
    run = store.client().get_run(card.run_id).data.metrics
    assert card.figures["test_auc"] == run["test_auc"] and card.figures["test_ks"] == run["test_ks"]
    [review] = card.reviews
    assert (review.reviewer, review.outcome.value) == ("demo", "overridden")


def test_a_challenger_is_judged_against_the_champion_in_force(store: Store,
                                                              trained: Trained) -> None:
    thresholds = trained.settings.gate
    version = register_challenger(store, CREDIT_MODEL)
    found = catalog(store, CREDIT_MODEL, thresholds)
    assert found.challenger is not None and found.challenger.version == version == "2"
    assert found.challenger.role == "challenger" and found.challenger.reviews == ()
    assert [c.version for c in found.recent] == ["2", "1"]
    # its run was compared with no champion, and v1 is champion now: the gate says so
    failed = {c.name for c in found.challenger.gate.checks if not c.passed}
    assert "champion_compared" in failed and not found.challenger.gate.passed
    # the page shows what a promotion would decide on (NaN figures: compare the verdicts)
    def verdict(g: GateDecision) -> tuple[bool, list[str], list[tuple[str, bool]]]:
        return g.passed, g.failures, [(c.name, c.passed) for c in g.checks]

    assert found.champion is not None
    for card in (found.challenger, found.champion):
        assert verdict(card.gate) == verdict(gate_now(store, CREDIT_MODEL, card.version,
                                                      thresholds))

    promote(store, CREDIT_MODEL, version, reviewer="王评审", note="test: override",
            thresholds=thresholds, override=True)
    after = catalog(store, CREDIT_MODEL, thresholds)
    assert after.champion is not None and after.champion.version == "2"
    assert after.challenger is None  # the alias still names v2, now the champion itself
    [decision] = after.champion.reviews
    assert (decision.reviewer, decision.outcome.value) == ("王评审", "overridden")
    # the other model is untouched
    assert catalog(store, ANOMALY_MODEL, thresholds).champion.version == "1"


def test_the_review_report_is_the_runs_own_html(store: Store) -> None:
    html = review_report(store, CREDIT_MODEL, "1")
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html.lower()
    assert "data:image/png;base64," in html  # self-contained: images inline
    for name, version in ((CREDIT_MODEL, "9"), ("external-table", "1"), (CREDIT_MODEL, "x")):
        with pytest.raises(UnknownVersion):
            review_report(store, name, version)


def test_only_production_models_are_catalogued(store: Store, trained: Trained) -> None:
    with pytest.raises(UnknownVersion):
        catalog(store, "external-table", trained.settings.gate)
