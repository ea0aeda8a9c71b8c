"""A ledger snapshot advanced by a later version's delta equals a build at that version, and
a snapshot saved and loaded again answers exactly as before; a delta the state cannot
follow (a late registration) is refused with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.catalogue import names_of
from features.point_in_time.history import prepare
from features.point_in_time.online import OnlineState
from features.synthetic.market import Market
from models.scoring import records
from service.core.contracts import snapshot as files
from service.core.contracts.advance import Ledger, advance, build

NAMES = names_of("contract")
A, B = pd.Timestamp("2019-06-30"), pd.Timestamp("2019-09-30")


def register_at(tables: dict[str, pd.DataFrame], day: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The register as an export of ``day`` shows it: later contracts, records and status
    changes not yet known."""
    out = dict(tables)
    c = tables["contracts"]
    c = c[pd.to_datetime(c["registered_date"]) <= day].copy()
    later = pd.to_datetime(c["status_date"]) > day
    c.loc[later, "status"], c.loc[later, "status_date"] = "registered", pd.NaT
    out["contracts"] = c
    for name, column in (("conduct_records", "confirmed_date"),
                         ("institution_reports", "submitted_date")):
        t = tables[name]
        out[name] = t[pd.to_datetime(t[column]) <= day]
    return out


def features_of_next(state: OnlineState, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """The features of the month's contracts after ``B``, each registered after its check."""
    c = tables["contracts"]
    reg = pd.to_datetime(c["registered_date"])
    month = c[(reg > B) & (reg <= B + pd.Timedelta(days=30))]
    out = []
    for r in records(month.sort_values(["registered_date", "contract_id"])):
        f = state.features(r)
        out.append([f[n] for n in NAMES])
        state.register(r, f)
    assert len(out) > 300
    return np.array(out, dtype=float)


@pytest.fixture(scope="module")
def at_a(small_market: Market) -> Ledger:
    return build(register_at(small_market.tables, A), "store 1", 90)


def test_advancing_by_a_delta_equals_a_build(small_market: Market, at_a: Ledger,
                                             tmp_path: Path) -> None:
    files.save(tmp_path / "a.snapshot", at_a.snapshot)
    files.save(tmp_path / "a.mark", at_a.mark)
    loaded = Ledger(files.load(tmp_path / "a.snapshot"),  # type: ignore[arg-type]
                    files.load(tmp_path / "a.mark"))  # type: ignore[arg-type]
    at_b = register_at(small_market.tables, B)
    ahead = advance(loaded, at_b, "store 2")
    assert isinstance(ahead, Ledger), ahead
    reg = pd.to_datetime(small_market.tables["contracts"]["registered_date"])
    added = int(((reg > pd.Timestamp(A)) & (reg <= pd.Timestamp(B))).sum())
    assert ahead.applied.startswith(f"{added:,} contracts") and "status changes" in ahead.applied
    h = prepare(at_b)
    built = OnlineState(h, h.last_day)
    got, want = features_of_next(ahead.snapshot.state, small_market.tables), \
        features_of_next(built, small_market.tables)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert ahead.snapshot.as_of == h.last_day and ahead.snapshot.version == "store 2"
    assert ahead.snapshot.known == set(at_b["contracts"]["contract_id"])
    # the rules' log moved on: the last 90 days before the new as-of, nothing older
    reg = pd.to_datetime(ahead.snapshot.recent["registered_date"])
    assert reg.max() <= B and reg.min() > B - pd.Timedelta(days=90)


def test_a_saved_snapshot_loads_into_the_same_answers(small_market: Market, at_a: Ledger,
                                                      tmp_path: Path) -> None:
    files.save(tmp_path / "a.snapshot", at_a.snapshot)
    loaded = files.load(tmp_path / "a.snapshot")
    assert isinstance(loaded, files.LedgerSnapshot)
    assert (loaded.version, loaded.as_of, loaded.known) == \
        (at_a.snapshot.version, at_a.snapshot.as_of, at_a.snapshot.known)
    pd.testing.assert_frame_equal(loaded.recent, at_a.snapshot.recent)
    # the build itself equals the state built directly at the as-of
    h = prepare(register_at(small_market.tables, A))
    direct = OnlineState(h, h.last_day)
    np.testing.assert_array_equal(features_of_next(loaded.state, small_market.tables),
                                  features_of_next(direct, small_market.tables))
    assert not list(tmp_path.glob(".*.tmp"))  # written to a temporary name, then renamed


def test_a_file_of_other_code_or_none_is_not_read(tmp_path: Path) -> None:
    import pickle

    with open(tmp_path / "old.snapshot", "wb") as fh:
        pickle.dump((0, "other"), fh, protocol=5)
        fh.write(b"not a pickle of today's classes")
    assert files.load(tmp_path / "old.snapshot") == "the snapshot was written by other code"
    assert files.load(tmp_path / "none.snapshot") == "no snapshot"


def test_a_late_registration_is_refused(small_market: Market, at_a: Ledger,
                                        tmp_path: Path) -> None:
    files.save(tmp_path / "a.snapshot", at_a.snapshot)
    files.save(tmp_path / "a.mark", at_a.mark)
    loaded = Ledger(files.load(tmp_path / "a.snapshot"),  # type: ignore[arg-type]
                    files.load(tmp_path / "a.mark"))  # type: ignore[arg-type]
    at_b = register_at(small_market.tables, B)
    c = at_b["contracts"]
    late = c.iloc[[-1]].assign(contract_id="CLATE0001", registered_date=A - pd.Timedelta(days=3))
    at_b["contracts"] = pd.concat([c, late], ignore_index=True).astype(c.dtypes.to_dict())
    refused = advance(loaded, at_b, "store 2")
    assert isinstance(refused, str) and refused.startswith("1 late registrations"), refused
