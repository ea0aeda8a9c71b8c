"""The header's links follow the permission table: each role sees exactly the pages its grants
open, and every link's words exist in both languages."""

from __future__ import annotations

import pytest

from service.core.db.tokens import Principal
from service.core.db.types import Role
from service.core.permissions import GRANTS
from service.web.console.messages import WORDS
from service.web.console.navigation import NAV, links


def _as(role: Role) -> Principal:
    return Principal(user=f"a_{role.value}", role=role, regions=(), institution_id=None,
                     token_prefix="tc_test")


@pytest.mark.parametrize("role", list(Role))
def test_a_role_sees_the_links_its_grants_open(role: Role) -> None:
    shown = {link.key for link in links(_as(role))}
    expected = {link.key for link in NAV if link.needs is None or role in GRANTS[link.needs]}
    assert shown == expected
    assert "market" in shown


def test_examples_of_the_table() -> None:
    assert {link.key for link in links(_as(Role.office))} == {"market"}
    assert {link.key for link in links(_as(Role.auditor))} == {
        "market", "assessments", "models", "audit"}
    assert {link.key for link in links(_as(Role.admin))} == {link.key for link in NAV}
    assert links(None) == []


def test_every_link_has_its_words() -> None:
    assert [link.key for link in NAV if link.key not in WORDS] == []
