"""The API's routers, one module per resource under ``/api/v1`` (and ``health`` at the root)."""
