"""The operational database: scores, checks, warnings, overrides, users and the audit log.

SQLAlchemy 2 models (``models``), one engine factory (``engine``), Alembic migrations shipped
inside the package (``migrate``), the keyed, hash-chained audit log (``audit``) with its key
ring (``audit_keys``) and signed checkpoints outside the database (``checkpoints``), the
row-hash chain of every protected table (``row_audit``) and API tokens (``tokens``).
"""
