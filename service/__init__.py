"""The service in two layers: the domain core (:mod:`service.core`), which imports no web
code, and the web layer (:mod:`service.web`), which translates HTTP into calls of the core."""
