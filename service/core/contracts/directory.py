"""Which institutions and brokers exist, where they are and their register status: what the
service needs to answer 404, apply a regulator's region limit before any score exists, and
show a registry status (e.g. 警告 warned, 已退出 exited) beside the model's score; and the
console's search over them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from service.core.db.tokens import Principal
from service.core.paging import Codec, Page, PageRequest, in_memory
from service.core.permissions import entity_denial

SEARCH_ORDER = Codec("search", (str, str))  # by id, then kind


@dataclass(frozen=True)
class EntityInfo:
    kind: str  # "institution" or "broker"
    entity_id: str
    region: str | None
    status: str | None  # institutions: active / warned / exited; brokers: None
    institution_id: str | None  # a broker's institution
    name: str | None = None  # institutions have names in the register; brokers do not


def directory(tables: Mapping[str, pd.DataFrame]) -> dict[tuple[str, str], EntityInfo]:
    """The latest record of every institution and broker, by (kind, id)."""
    out: dict[tuple[str, str], EntityInfo] = {}
    for kind, table, key in (("institution", "institutions", "institution_id"),
                             ("broker", "brokers", "broker_id")):
        frame = tables[table]
        if "status_date" in frame:
            frame = frame.sort_values("status_date", kind="stable", na_position="first")
        latest = frame.drop_duplicates(key, keep="last")
        for row in latest.itertuples(index=False):
            entity_id = str(getattr(row, key))
            out[(kind, entity_id)] = EntityInfo(
                kind, entity_id, _text(getattr(row, "region", None)),
                _text(getattr(row, "status", None)),
                _text(getattr(row, "institution_id", None)) if kind == "broker" else entity_id,
                _text(getattr(row, "name", None)))
    return out


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def find(entries: Iterable[EntityInfo], text: str, principal: Principal, ask: PageRequest
         ) -> Page[EntityInfo]:
    """The entities whose id or name holds ``text`` (any case) that ``principal`` may see, by
    id; nothing for an empty text."""
    needle = text.strip().lower()
    found = [e for e in entries if needle
             and (needle in e.entity_id.lower() or needle in (e.name or "").lower())
             and entity_denial(principal, e.kind, e.entity_id, e.region) is None]
    return in_memory(found, lambda e: (e.entity_id, e.kind), SEARCH_ORDER, ask)
