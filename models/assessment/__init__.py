"""The annual assessment of technology transfer institutions (技术转移机构年度考核评价).

Pure functions only: the indicator system is data (``indicators.toml``, read by
:mod:`models.assessment.config`), the indicators are computed point-in-time from the curated
tables and the stored scores (:mod:`models.assessment.measures`), compared within comparable
groups (:mod:`models.assessment.ranking`), and turned into proposed outcomes with reasons
(:mod:`models.assessment.outcomes`). The outcomes are a draft: people adjust, publish and decide
appeals, in the service.
"""
