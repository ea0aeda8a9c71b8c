"""Who may see, answer for or open a case on whom: the scope rules the API and the console
both apply before any step of the transition table."""

from __future__ import annotations

from service.core.cases import records
from service.core.cases.tables import Case
from service.core.context import ServiceContext
from service.core.db.tokens import Principal
from service.core.db.types import Role


def scope_denial(principal: Principal, c: Case) -> str | None:
    """Why ``principal`` may not see or answer for this case (None: it may)."""
    if principal.role == Role.institution and not (
            c.subject_kind == "institution" and c.subject_id == principal.institution_id):
        return "an institution sees only its own cases / 机构只能查看本机构案件"
    if principal.role == Role.regulator and principal.regions and c.region not in \
            principal.regions:
        return f"region {c.region or 'unknown'} is outside this token's regions / 超出授权地区"
    return None


def case_subject(ctx: ServiceContext, kind: str, subject_id: str, name: str | None
                 ) -> records.Subject | None:
    """The subject as the register knows it (name, region); None: an institution or broker it
    does not know (parties are in no directory)."""
    info = ctx.directory.get((kind, subject_id))
    if info is None and kind != "party":
        return None
    return records.Subject(kind, subject_id, name or (info.name if info else None),
                         info.region if info else None)


def subject_denial(principal: Principal, subject: records.Subject) -> str | None:
    """Why ``principal`` may not open a case on ``subject`` (None: it may)."""
    if principal.role == Role.regulator and principal.regions and \
            subject.region not in principal.regions:
        return "the subject is outside this token's regions / 超出授权地区"
    return None


def max_file_bytes(body_limit: int) -> int:
    """The largest file the API can carry: its base64 (4 characters per 3 bytes) must fit in
    a request body, so a form sending the raw bytes is held to the same size."""
    return body_limit // 4 * 3
