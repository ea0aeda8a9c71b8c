"""Response headers the web layer sets on its own documents."""

from __future__ import annotations

# the review report is our own HTML with inline images; it may run nothing and fetch nothing
REPORT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
