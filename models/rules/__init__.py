"""Declarative rules (规则) beside the models, of two kinds (:mod:`models.rules.kinds`).

* Contract rules (:mod:`models.rules.contract`, ``contract.toml``): conditions over declared
  features; the same compiled rules run in batch (:mod:`models.rules.evaluate`) and in the
  real-time check (:mod:`models.rules.online`), where a hit raises the contract's tier
  (:mod:`models.rules.contract_tier`); review lists rank hits by each rule's measured precision
  (:mod:`models.rules.rank`).
* Entity warning rules (:mod:`models.rules.entity`, ``entity.toml``): conditions over an
  institution's or broker's score; the batch run warns by them (:mod:`models.rules.warn`).

Every tier is a :class:`~models.rules.tier.Tier`. A rule set of either kind is tried on history
(:mod:`models.rules.trial`) and reviewed before it is used (:mod:`models.rules.reviews`), like
a model; the files are read by :mod:`models.declared`.
"""
