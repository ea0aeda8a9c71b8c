"""Subsidy and tax-relief thresholds that irregular contracts aim just above.

Declared once: the synthetic market plants amounts just above them and the integrity
features count contracts that land there.
"""

SUBSIDY_THRESHOLDS_YUAN: tuple[float, ...] = (1_000_000.0, 3_000_000.0, 5_000_000.0)
JUST_ABOVE = 0.03  # "just above" = within +3 % of a threshold
