"""The header's links, each with the permission its page checks: a person sees only the pages
their role may open, instead of links that answer "not allowed". The permission here is the
one the page's view refuses without (``service.core.permissions``); the market page is open to
every signed-in role."""

from __future__ import annotations

from dataclasses import dataclass

from service.core.db.tokens import Principal
from service.core.permissions import Permission, allowed
from service.web.console.session import PATH


@dataclass(frozen=True)
class Link:
    """A header link: its words-table key (also its id, ``nav-<key>``), address and grant."""

    key: str
    path: str
    needs: Permission | None


NAV: tuple[Link, ...] = (
    Link("search", f"{PATH}/search", Permission.read_score),
    Link("warnings", f"{PATH}/warnings", Permission.read_warnings),
    Link("cases", f"{PATH}/cases", Permission.work_cases),  # the queue is for case workers
    Link("market", f"{PATH}/market", None),
    Link("assessments", f"{PATH}/assessments", Permission.read_assessments),
    Link("models", f"{PATH}/models", Permission.read_models),
    Link("audit", f"{PATH}/audit", Permission.read_audit),
)


def links(user: Principal | None) -> list[Link]:
    """The links ``user`` may follow; none before signing in."""
    if user is None:
        return []
    return [link for link in NAV if link.needs is None or allowed(user, link.needs)]
