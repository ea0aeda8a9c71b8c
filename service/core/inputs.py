"""Patterns every free-text and id input of the service is held to, declared once so the API,
the console and the schemas of every domain refuse the same values the same way."""

from __future__ import annotations

ENTITY_ID = r"^[A-Z]{1,3}[0-9A-Z]{4,20}$"  # the data standard's id pattern

# Free text ends up in the database, the console, PDF reports, CSV exports and the audit log:
# NUL cannot be stored in PostgreSQL text; other C0/C1 controls (ESC starts terminal escape
# sequences, CR/LF forge lines in logs and exports) and the bidirectional overrides and
# isolates (U+202A-U+202E, U+2066-U+2069, which make "txt.exe" read "exe.txt") show a reader
# something other than what was stored. They are refused as input, never cleaned silently.
REFUSED = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"  # as a character class's body
FREE_TEXT = rf"^[^{REFUSED}]*$"  # one line: names, ids, reasons, queries
# several lines (a reason or remediation written as paragraphs): line breaks kept (CRLF, as a
# browser sends a textarea, or LF), a lone CR and every other control still refused
MULTILINE_TEXT = rf"^(?:[^{REFUSED}]|\r?\n)*$"
