"""The catalog cache: reused while fresh, dropped by a decision, and never refilled by a read
that began before the decision (it would show the reviewer the page before their own
promotion)."""

from __future__ import annotations

import time

from models.catalog import ModelCatalog
from service.core.model_registry.catalog_cache import CatalogCache


def _catalog(name: str) -> list[ModelCatalog]:
    return [ModelCatalog(name, None, None, ())]


def test_a_read_is_reused_while_fresh_and_not_after() -> None:
    cache = CatalogCache()
    assert cache.fresh(5.0) is None
    value = _catalog("a")
    cache.keep(value, time.monotonic())
    assert cache.fresh(5.0) is value
    assert cache.fresh(0.0) is None  # 0: read on every request


def test_a_drop_forgets_and_an_older_read_is_not_kept_after_it() -> None:
    cache = CatalogCache()
    began = time.monotonic()
    cache.drop()  # a promotion finished while that read was under way
    cache.keep(_catalog("before the promotion"), began)
    assert cache.fresh(5.0) is None
    after = _catalog("after")
    cache.keep(after, cache.dropped_at + 1e-6)  # a read begun after the drop
    assert cache.fresh(5.0) is after


def test_a_slower_older_read_does_not_replace_a_newer_one() -> None:
    cache = CatalogCache()
    now = time.monotonic()
    newer = _catalog("newer")
    cache.keep(newer, now)
    cache.keep(_catalog("older"), now - 1.0)
    assert cache.fresh(5.0) is newer
