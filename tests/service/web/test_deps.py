"""An audit record names the path as ``request.url.path`` would, without building the URL."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from service.web.deps import record


@pytest.mark.parametrize("path", ["/api/v1/institutions/I000001/score",
                                  "/a?b#c\\d/\x00é%20", "/"])
def test_the_audited_path_is_the_urls(path: str) -> None:
    request = Request({"type": "http", "path": path, "query_string": b"x=1", "scheme": "http",
                       "headers": [(b"host", b"example:8000")], "server": ("h", 80),
                       "client": ("10.0.0.1", 5)})
    audited = record(request, None, "read", "ok")
    assert audited.detail == {"path": request.url.path}
    assert (audited.source, audited.actor) == ("10.0.0.1", "anonymous")
