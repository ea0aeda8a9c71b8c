"""The web layer: the app factory, API routers per resource, the console and the fast lane.
It translates HTTP into calls of :mod:`service.core` and back; routers export nothing."""
