"""The vocabularies of a case: states, severities, where a case came from, who it is about."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    flagged = "flagged"  # 待核查: opened from a warning or by hand
    investigating = "investigating"  # 核查中
    dismissed = "dismissed"  # 不予认定
    determined = "determined"  # 已认定
    notified = "notified"  # 已告知: the objection window runs
    objection = "objection"  # 异议中
    upheld = "upheld"  # 异议不成立, determination stands
    overturned = "overturned"  # 异议成立, determination withdrawn
    listed = "listed"  # 列入失信名单
    repair_requested = "repair_requested"  # 申请信用修复
    repaired = "repaired"  # 已修复: publication and joint punishment end
    repair_denied = "repair_denied"  # 修复不予通过
    removed = "removed"  # 移出名单


# States after which the subject and conduct may be opened again as a new case.
CLOSED = frozenset({CaseState.dismissed, CaseState.overturned, CaseState.repaired,
                    CaseState.removed})
# States in which the subject is on the dishonesty list.
ON_LIST = frozenset({CaseState.listed, CaseState.repair_requested, CaseState.repair_denied})


class Severity(StrEnum):
    """The national credit-repair measures' classes; they set the publication period."""

    minor = "minor"  # 轻微
    general = "general"  # 一般
    serious = "serious"  # 严重


class CaseSource(StrEnum):
    warning = "warning"  # opened by a risk warning of the batch run
    manual = "manual"  # opened by a regulator


class SubjectKind(StrEnum):
    institution = "institution"
    broker = "broker"
    party = "party"


STATE_LABELS: dict[CaseState, tuple[str, str]] = {
    CaseState.flagged: ("待核查", "flagged"),
    CaseState.investigating: ("核查中", "investigating"),
    CaseState.dismissed: ("不予认定", "dismissed"),
    CaseState.determined: ("已认定", "determined"),
    CaseState.notified: ("已告知", "notified"),
    CaseState.objection: ("异议中", "objection"),
    CaseState.upheld: ("维持认定", "upheld"),
    CaseState.overturned: ("撤销认定", "overturned"),
    CaseState.listed: ("已列入失信名单", "listed"),
    CaseState.repair_requested: ("申请信用修复", "repair requested"),
    CaseState.repaired: ("已信用修复", "repaired"),
    CaseState.repair_denied: ("修复不予通过", "repair denied"),
    CaseState.removed: ("已移出名单", "removed"),
}
SEVERITY_LABELS: dict[Severity, tuple[str, str]] = {
    Severity.minor: ("轻微", "minor"),
    Severity.general: ("一般", "general"),
    Severity.serious: ("严重", "serious"),
}
