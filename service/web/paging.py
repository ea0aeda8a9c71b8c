"""The paging convention on the web, one for every list of the API and the console: the query
parameters ``limit`` (1 to the configured page maximum) and ``cursor`` (the ``next_cursor``
of the page before, passed back unchanged), read by one dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from service.core.paging import CURSOR_MAX_CHARS, PageRequest
from service.web.deps import Ctx

DEFAULT_LIMIT = 50


async def page_request(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, description="rows per page, at most the configured "
                                                  "page maximum (500 by default)")
                     ] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS, description=(
        "the `next_cursor` of the page before; absent: the first page"))] = None,
) -> PageRequest:
    """The page asked for; a limit over the maximum is refused as the schema refuses one
    under 1 (422 naming ``query.limit``), not quietly cut, so a client learns the bound."""
    most = ctx.settings.api.page_max
    if limit > most:
        raise RequestValidationError([{"loc": ("query", "limit"), "type": "less_than_equal",
                                       "msg": f"at most {most} rows per page", "input": limit}])
    return PageRequest(limit, cursor)


# Declare it after the principal, so a caller without a grant hears 401/403, not 422.
Paged = Annotated[PageRequest, Depends(page_request)]
