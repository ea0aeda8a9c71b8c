"""Grants and scopes, without a server: roles × permissions, regions, an institution's own."""

from __future__ import annotations

import pytest

from service.core.db.tokens import Principal
from service.core.db.types import Role
from service.core.permissions import GRANTS, Permission, allowed, entity_denial, region_filter


def _p(role: Role, regions: tuple[str, ...] = (), institution: str | None = None) -> Principal:
    return Principal("u", role, regions, institution, "prefix")


def test_every_permission_is_granted_to_admin_and_the_matrix_is_as_documented() -> None:
    assert set(GRANTS) == set(Permission)
    assert all(Role.admin in roles for roles in GRANTS.values())
    assert {p for p in Permission if allowed(_p(Role.office), p)} == {Permission.check_contract}
    assert {p for p in Permission if allowed(_p(Role.auditor), p)} == {
        Permission.read_audit, Permission.read_models, Permission.read_cases,
        Permission.read_assessments, Permission.read_metrics}
    # an institution reads its own score, cases and published assessment, and answers for
    # itself: objections, repair applications, appeals
    assert {p for p in Permission if allowed(_p(Role.institution), p)} == {
        Permission.read_score, Permission.read_cases, Permission.answer_case,
        Permission.read_assessments, Permission.appeal_assessment}
    assert {p for p in Permission if allowed(_p(Role.assessor), p)} == {
        Permission.read_assessments, Permission.assess}
    assert not allowed(_p(Role.regulator), Permission.read_audit)
    assert not allowed(_p(Role.regulator), Permission.assess)  # people of another body
    # the reviewer reads scores to judge them and alone decides on models and drift alerts
    assert {p for p in Permission if allowed(_p(Role.reviewer), p)} == {
        Permission.read_score, Permission.list_scores, Permission.read_models,
        Permission.review_models}
    assert not allowed(_p(Role.regulator), Permission.review_models)


def test_an_institution_sees_only_itself() -> None:
    me = _p(Role.institution, institution="I000001")
    assert entity_denial(me, "institution", "I000001", "110000") is None
    assert "only its own" in (entity_denial(me, "institution", "I000002", "110000") or "")
    assert entity_denial(me, "broker", "I000001", "110000") is not None


@pytest.mark.parametrize(("regions", "region", "denied"), [
    ((), "110000", False), (("110000",), "110000", False), (("110000",), "310000", True),
    (("110000",), None, True)])
def test_a_regulator_is_limited_to_its_regions(regions: tuple[str, ...], region: str | None,
                                               denied: bool) -> None:
    reg = _p(Role.regulator, regions)
    assert (entity_denial(reg, "broker", "B000001", region) is not None) == denied
    assert region_filter(reg) == (regions or None)


def test_other_roles_have_no_region_filter() -> None:
    assert region_filter(_p(Role.reviewer, ("110000",))) is None
