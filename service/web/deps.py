"""Request dependencies, as ``Annotated`` aliases so each route's needs show in its signature:
``Ctx``, ``SessionDep``, and one principal alias per permission (``ScoreReader``,
``ContractChecker``, …) that authenticates the bearer token, checks the role's grant, and
audits every refusal before it is answered. Failed authentications are limited per source
address and token prefix (:mod:`service.web.guard`); the principal found is kept on the request
so a later refusal of the route (404, 409, 422) is audited under its name
(:func:`service.web.errors.http_error`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.core.context import ServiceContext
from service.core.db.audit import AuditRecord
from service.core.db.tables import Base
from service.core.db.tokens import Principal, authenticate
from service.core.permissions import Permission, allowed
from service.web.guard import AuthGuard

bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer tc_…`")


async def get_ctx(request: Request) -> ServiceContext:  # async: no thread hop per request
    return request.app.state.ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]


async def get_session(ctx: Ctx, request: Request) -> AsyncIterator[Session]:
    """A read session for the request; :func:`journal` hands its connection back to the pool
    before waiting on the audit writer, so waiting requests never hold (and exhaust) the
    pool, whose checkout would block the event loop."""
    with ctx.readers() as session:
        request.state.read_session = session
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def record(request: Request, principal: Principal | None, action: str, outcome: str,
           kind: str | None = None, entity_id: str | None = None,
           detail: Mapping[str, Any] | None = None) -> AuditRecord:
    """An audit record of this request: who, what, which entity, from where, outcome."""
    return AuditRecord(
        actor=principal.user if principal else "anonymous",
        role=principal.role.value if principal else None,
        action=action, outcome=outcome, entity_kind=kind, entity_id=entity_id,
        source=request.client.host if request.client else None,
        detail={"path": _path(request), **(detail or {})})


def _path(request: Request) -> str:
    """``request.url.path`` without building the URL (a fifth of a score lookup's CPU):
    Starlette escapes these three characters of the scope's path and nothing else."""
    return request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def release(request: Request) -> None:
    """Hand the request's read connection back to the pool: call it before waiting on a
    write (the audit writer's group commit), so waiting requests never exhaust the pool."""
    session: Session | None = getattr(request.state, "read_session", None)
    if session is not None:
        session.close()


async def journal(ctx: ServiceContext, request: Request, rows: Sequence[Base] = (),
                  audits: Sequence[AuditRecord] = ()) -> None:
    """Commit ``rows`` and ``audits`` (group commit), releasing the request's read
    connection first."""
    release(request)
    if audits:
        mark_audited(request)
    await ctx.journal.write(rows, audits)


def mark_audited(request: Request) -> None:
    """The request's outcome is in the audit log (here or by the core): its error answer
    adds no second entry."""
    request.state.audited = True


def guard_of(request: Request) -> AuthGuard:
    return request.app.state.guard


async def throttle(ctx: ServiceContext, request: Request, keys: tuple[str, ...]) -> None:
    """429 once ``keys`` failed too often this minute; counted for the minute's one audit
    entry rather than audited each (a flood must not become a flood of fsync'd rows)."""
    guard = guard_of(request)
    wait = guard.retry_after(keys)
    if wait is not None:
        guard.hold(request.client.host if request.client else None, _path(request))
        ctx.metrics.denials.labels("throttled").inc()
        mark_audited(request)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "too many failed authentications, retry later "
                            "/ 认证失败次数过多，请稍后再试", headers={"Retry-After": str(wait)})


async def deny(ctx: ServiceContext, request: Request, principal: Principal | None,
               action: str, code: int, reason: str, kind: str | None = None,
               entity_id: str | None = None) -> HTTPException:
    """Audit a refusal, count it, and return the exception to raise."""
    outcome = "unauthenticated" if code == status.HTTP_401_UNAUTHORIZED else "denied"
    await journal(ctx, request, audits=[record(request, principal, action, outcome, kind,
                                               entity_id, {"reason": reason})])
    ctx.metrics.denials.labels(outcome).inc()
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return HTTPException(code, reason, headers=headers)


def principal_of(ctx: ServiceContext, token: str | None) -> Principal | None:
    """The caller of ``token`` (None: unknown, expired or revoked), through the token cache,
    for the API and the console alike."""
    if not token:
        return None
    principal = ctx.tokens.get(token)
    if principal is None:
        with ctx.readers() as session:
            principal = authenticate(session, token)
        if principal is not None:
            ctx.tokens.put(token, principal)
    return principal


async def authenticated(request: Request, ctx: ServiceContext,
                        credentials: HTTPAuthorizationCredentials | None,
                        action: str) -> Principal:
    """The caller of a valid token; a refusal is audited under ``action`` (the permission
    asked for, as for a 403 and a success, so one filter finds every attempt)."""
    token = credentials.credentials if credentials is not None else None
    principal = ctx.tokens.get(token) if token else None
    if principal is None:
        keys = AuthGuard.keys(request.client.host if request.client else None, token)
        await throttle(ctx, request, keys)
        if token is None:
            guard_of(request).failed(keys)
            raise await deny(ctx, request, None, action, status.HTTP_401_UNAUTHORIZED,
                             "a bearer token is required / 需要访问令牌")
        principal = principal_of(ctx, token)
        if principal is None:
            guard_of(request).failed(keys)
            raise await deny(ctx, request, None, action, status.HTTP_401_UNAUTHORIZED,
                             "the token is unknown, expired or revoked / 令牌无效、过期或已吊销")
    request.state.principal = principal
    request.state.action = action
    return principal


def require(permission: Permission) -> Any:
    async def check(
        request: Request, ctx: Ctx,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = await authenticated(request, ctx, credentials, permission.value)
        if not allowed(principal, permission):
            raise await deny(ctx, request, principal, permission.value,
                             status.HTTP_403_FORBIDDEN,
                             f"role {principal.role.value} may not {permission.value} / 无此权限")
        return principal

    return Depends(check)


ScoreReader = Annotated[Principal, require(Permission.read_score)]
ScoreLister = Annotated[Principal, require(Permission.list_scores)]
ContractOfficer = Annotated[Principal, require(Permission.check_contract)]
WarningReader = Annotated[Principal, require(Permission.read_warnings)]
ModelReader = Annotated[Principal, require(Permission.read_models)]
ModelReviewer = Annotated[Principal, require(Permission.review_models)]
Overrider = Annotated[Principal, require(Permission.override)]
Auditor = Annotated[Principal, require(Permission.read_audit)]
CaseReader = Annotated[Principal, require(Permission.read_cases)]
CaseWorker = Annotated[Principal, require(Permission.work_cases)]
CaseSubject = Annotated[Principal, require(Permission.answer_case)]
AssessmentReader = Annotated[Principal, require(Permission.read_assessments)]
Assessor = Annotated[Principal, require(Permission.assess)]
AssessmentAppellant = Annotated[Principal, require(Permission.appeal_assessment)]
MetricsReader = Annotated[Principal, require(Permission.read_metrics)]


async def _caller(
    request: Request, ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return await authenticated(request, ctx, credentials, "authenticate")


# A valid token whose permission the route decides from the request (a case action's party).
Caller = Annotated[Principal, Depends(_caller)]


async def ensure(ctx: ServiceContext, request: Request, principal: Principal,
                 permission: Permission) -> None:
    """The grant check of :func:`require`, for a permission known only inside the route."""
    if not allowed(principal, permission):
        raise await deny(ctx, request, principal, permission.value, status.HTTP_403_FORBIDDEN,
                         f"role {principal.role.value} may not {permission.value} / 无此权限")
