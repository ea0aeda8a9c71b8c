"""Declarative warning rules (预警规则) beside the models.

A rule file (TOML, versioned) states conditions over declared features; the same compiled
rules run in batch (:mod:`models.rules.evaluate`) and in the real-time check
(:mod:`models.rules.online`). A rule set is tried on history and reviewed before it is used
(:mod:`models.rules.reviews`), like a model.
"""
