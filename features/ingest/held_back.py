"""Why rows were held back, in classes an operator acts on.

The queue records every rule a row breaks (``range:amount_yuan``, ``foreign key:broker_id``,
``stale`` …): precise, but forty rule ids say less to the person who must act than the six
things that can have happened, each with its own remedy. A row belongs to the first class of
:data:`CLASSES` that one of its rules falls in, so each row counts once and the classes add up
to the rows held back: a row that fails validation and also points at an unknown record is
"failed validation" (fixing the reference alone would not load it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from features.ingest.ordering import IRREVERSIBLE, STALE
from features.ingest.quarantine import MALFORMED, REFERENCE_RULE


@dataclass(frozen=True)
class ReasonClass:
    """One kind of reason for holding a row back, and what brings the row in, zh and en."""

    code: str
    zh: str
    en: str
    remedy_zh: str
    remedy_en: str

    def label(self) -> str:
        return f"{self.zh} {self.en}"

    def remedy(self) -> str:
        return f"{self.remedy_zh} / {self.remedy_en}"


MALFORMED_LINE = ReasonClass(
    "malformed", "行格式错误", "malformed line (cannot be split into the header's fields)",
    "修正文件后重新导出", "fix the file and send it again")
VALIDATION = ReasonClass(
    "validation", "未通过校验", "failed validation (type, missing value, code, range, pattern, "
    "date, cross-field rule)", "修正源数据后重新导出", "fix the source and send a corrected export")
DUPLICATE = ReasonClass(
    "duplicate", "文件内编号重复", "duplicate id in the file (every copy is held back)",
    "只保留正确的一条后重新导出", "send the file again with the right copy only")
REFERENCE = ReasonClass(
    "reference", "引用的记录尚未到达", "refers to a record not delivered yet",
    "记录到达后自动载入", "loads by itself once that record arrives")
STALE_VERSION = ReasonClass(
    "stale", "旧于已存版本", "stale: not newer than the version the store holds",
    "发送更新的版本，或用 quarantine reject 关闭", "send a newer version, or close it with "
    "`techcredit quarantine reject`")
IRREVERSIBLE_STATUS = ReasonClass(
    "irreversible", "无依据离开终态", "would leave a final status without status_basis",
    "附状态变更依据重新发送", "send the version again with its status_basis")

CLASSES: tuple[ReasonClass, ...] = (
    MALFORMED_LINE, VALIDATION, DUPLICATE, REFERENCE, STALE_VERSION, IRREVERSIBLE_STATUS)
BY_CODE: dict[str, ReasonClass] = {c.code: c for c in CLASSES}


def rule_class(rule: str) -> ReasonClass:
    """The class of one rule id as the queue records it."""
    if rule == MALFORMED:
        return MALFORMED_LINE
    if rule == STALE:
        return STALE_VERSION
    if rule == IRREVERSIBLE:
        return IRREVERSIBLE_STATUS
    if rule.startswith("unique:"):
        return DUPLICATE
    if rule.startswith(f"{REFERENCE_RULE}:"):
        return REFERENCE
    return VALIDATION


def row_class(rules: str) -> ReasonClass:
    """The class of a queued row from its ``;``-separated rule ids: the first of
    :data:`CLASSES` among them (a row without rules is counted as failed validation)."""
    found = {rule_class(r).code for r in rules.split(";") if r}
    return next((c for c in CLASSES if c.code in found), VALIDATION)


def count_rows(rules: Iterable[str]) -> dict[str, int]:
    """Rows per class code, in the order of :data:`CLASSES`, from each row's rule ids."""
    counts = Counter(row_class(r).code for r in rules)
    return {c.code: counts[c.code] for c in CLASSES if counts[c.code]}
