"""Response headers the web layer sets: the same protections on every answer (whichever layer
made it, the fast lane included), and the few documents that need their own.

:class:`SecurityHeaders` is the outermost ASGI middleware, so routes, error handlers, the fast
lane and the body limit's 413 all pass through it. A response that set its own policy (the
review report, ``/docs``) keeps it; everything else gets :data:`POLICY`, which allows nothing
inline: the console's pages use only their stylesheet and no script.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# the review report is our own HTML with inline images; it may run nothing and fetch nothing
REPORT_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                 "frame-ancestors 'none'")
POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
          "form-action 'self'; frame-ancestors 'none'")
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # the console's own Referer stays, no other site sees one
    "content-security-policy": POLICY,
}
# what a browser could run or render as a page of ours: evidence of these types is served as
# opaque bytes
ACTIVE = ("html", "xml", "javascript", "ecmascript", "svg")


def _private(path: str) -> bool:
    """Answers that are someone's data (the API, the console's pages): never kept in a cache,
    shared or the browser's own."""
    return (path.startswith("/api/") or path == "/console"
            or (path.startswith("/console/") and not path.startswith("/console/static/")))


class SecurityHeaders:
    """ASGI middleware: :data:`ALWAYS` on every answer (a header the response set wins),
    ``Cache-Control: no-store`` on private ones, and, when the service is reached over HTTPS
    (``https``), ``Strict-Transport-Security`` so a browser never tries it in clear again."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.always = {**ALWAYS, **({"strict-transport-security": "max-age=31536000"}
                                    if https else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = _private(scope["path"])

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.always.items():
                    headers.setdefault(name, value)
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, guarded)


def evidence(content: bytes, name: str, media_type: str, sha256: str) -> Response:
    """A case's evidence file as a download, never rendered in our origin: an uploaded page or
    script would otherwise run as the console (with the reader's session)."""
    active = any(a in media_type.lower() for a in ACTIVE)
    return Response(content, media_type="application/octet-stream" if active else media_type,
                    headers={"X-Content-SHA256": sha256,
                             "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
