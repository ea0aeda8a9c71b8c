"""Who may do what, declared as data, and the scope rules a role carries.

A role grants permissions (:data:`GRANTS`); a scope then narrows what a granted permission
reaches: a regulator with regions sees only entities of those provinces, an institution only
itself. The functions here are pure, so the whole matrix is tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from service.core.db.tokens import Principal
from service.core.db.types import Role


class Permission(StrEnum):
    read_score = "read_score"  # one entity's score, reasons and history
    list_scores = "list_scores"
    check_contract = "check_contract"
    read_warnings = "read_warnings"
    read_models = "read_models"
    review_models = "review_models"  # promote a version after review; acknowledge drift alerts
    override = "override"
    read_audit = "read_audit"
    read_cases = "read_cases"  # dishonesty cases; an institution sees only its own
    work_cases = "work_cases"  # open, assign, decide and move cases
    answer_case = "answer_case"  # the subject's side: objection, repair application
    read_assessments = "read_assessments"  # an institution sees only its own, published
    assess = "assess"  # run, adjust and publish an assessment; decide appeals
    appeal_assessment = "appeal_assessment"
    read_metrics = "read_metrics"  # /metrics: request counts, latencies, models loaded


R = Role
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.read_score: frozenset({R.regulator, R.institution, R.reviewer, R.admin}),
    Permission.list_scores: frozenset({R.regulator, R.reviewer, R.admin}),
    Permission.check_contract: frozenset({R.office, R.admin}),
    Permission.read_warnings: frozenset({R.regulator, R.admin}),
    Permission.read_models: frozenset({R.regulator, R.reviewer, R.auditor, R.admin}),
    Permission.review_models: frozenset({R.reviewer, R.admin}),
    Permission.override: frozenset({R.regulator, R.admin}),
    Permission.read_audit: frozenset({R.auditor, R.admin}),
    Permission.read_cases: frozenset({R.regulator, R.institution, R.auditor, R.admin}),
    Permission.work_cases: frozenset({R.regulator, R.admin}),
    Permission.answer_case: frozenset({R.institution, R.regulator, R.admin}),
    Permission.read_assessments: frozenset({R.regulator, R.assessor, R.institution, R.auditor,
                                            R.admin}),
    Permission.assess: frozenset({R.assessor, R.admin}),
    Permission.appeal_assessment: frozenset({R.institution, R.regulator, R.admin}),
    Permission.read_metrics: frozenset({R.auditor, R.admin}),
}


def allowed(principal: Principal, permission: Permission) -> bool:
    return principal.role in GRANTS[permission]


def entity_denial(principal: Principal, kind: str, entity_id: str,
                  region: str | None) -> str | None:
    """Why ``principal`` may not see this entity (None: it may), for a granted permission."""
    own = kind == "institution" and entity_id == principal.institution_id
    if principal.role == Role.institution and not own:
        return "an institution sees only its own score / 机构只能查看本机构评分"
    if principal.role == Role.regulator and principal.regions and region not in principal.regions:
        return (f"region {region or 'unknown'} is outside this token's regions "
                f"{', '.join(principal.regions)} / 超出授权地区")
    return None


def office_denial(principal: Principal, office_ids: Iterable[str]) -> str | None:
    """Why ``principal`` may not register contracts naming these offices (None: it may).

    An office token acts for its own registration offices only: one that could name any
    office could register contracts in another province's name. An office user bound to no
    office is refused everything (fail closed), never given every office."""
    if principal.role != Role.office:
        return None
    foreign = sorted(set(office_ids) - set(principal.offices))
    if not foreign:
        return None
    mine = ", ".join(principal.offices) or "none"
    return (f"office {', '.join(foreign)} is not this token's office ({mine}) "
            f"/ 只能登记本登记机构的合同")


def region_filter(principal: Principal) -> tuple[str, ...] | None:
    """The regions a list must be limited to; None: no limit."""
    if principal.role == Role.regulator and principal.regions:
        return principal.regions
    return None
