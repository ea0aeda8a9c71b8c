"""The operational database: scores, checks, warnings, overrides, users and the audit log.

SQLAlchemy 2 models (``models``), one engine factory (``engine``), Alembic migrations shipped
inside the package (``migrate``), the hash-chained audit log (``audit``) and API tokens
(``tokens``).
"""
