"""Hand-made assessment drafts for the tests of the assessment's records, decisions and
answers.

A draft computed from a synthetic market takes seconds and carries values nobody chose; these
three institutions of one group (I1 passes, I2 is warned, I3 exits) carry values written here,
with one line per indicator of the real indicator system, so every value a test asserts can be
traced to this file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.assessment.config import load_config
from models.assessment.outcomes import Assessment as Proposal
from models.assessment.outcomes import InstitutionResult, Outcome
from models.assessment.ranking import IndicatorScore, Standing
from service.core.assessments import records, service
from service.core.assessments.records import Actor, Conflict
from service.core.assessments.tables import Assessment

CONFIG = load_config()
GROUP = "university/eastern"
OUTCOMES: Mapping[str, Outcome] = {"I1": "pass", "I2": "warning", "I3": "exit"}
TOTALS = {"I1": 82.5, "I2": 35.0, "I3": 12.25}  # rank = place in this order
ALICE, BOB, CAROL, DAVE = (Actor(name, "assessor") for name in ("alice", "bob", "carol", "dave"))
T0 = datetime(2021, 3, 1, 2, 0, tzinfo=UTC)  # the draft; later decisions count from it


def lines(k: int) -> tuple[IndicatorScore, ...]:
    """One line per indicator; the last (credit points) has no score, as when none is stored."""
    return tuple(IndicatorScore(
        code=ind.code, value=float(k + i), score=None if i == len(CONFIG.indicators) - 1
        else float(10 * k + i), group_median=float(i), median_score=50.0, breach=False,
        note_zh=f"说明{i}", note_en=f"note {i}") for i, ind in enumerate(CONFIG.indicators))


def proposal(year: int, outcomes: Mapping[str, Outcome] = OUTCOMES, quota: int = 0
             ) -> Proposal:
    results = []
    for rank, iid in enumerate(sorted(outcomes, key=lambda i: -TOTALS[i]), start=1):
        standing = Standing(
            institution_id=iid, name=f"机构{iid}", institution_type="university",
            region="310000" if iid == "I1" else "440000", tier="eastern", report_year=year - 1,
            group=GROUP, group_size=len(outcomes), rank=rank, total=TOTALS[iid],
            indicators=lines(rank))
        outcome = outcomes[iid]
        results.append(InstitutionResult(
            standing, outcome != "pass", outcome,
            () if outcome == "pass" else ("below_pass_mark",),
            (f"{iid}结果{outcome}",), (f"{iid} outcome {outcome}",)))
    return Proposal(year, CONFIG.version, CONFIG.sha256, quota, tuple(results))


def draft(sessions: sessionmaker[Session], year: int, by: Actor = ALICE, now: datetime = T0,
          outcomes: Mapping[str, Outcome] = OUTCOMES) -> Assessment:
    """The year's draft as the assessment flow writes it."""
    with sessions.begin() as session:
        a, _ = records.write_draft(session, proposal(year, outcomes), CONFIG.indicators, by, now,
                                   {"by": "test"})
    return a


def decide(sessions: sessionmaker[Session], work: Callable[[Session], service.Decision]
           ) -> service.Decision:
    """One decision in its own transaction, as the API takes it (its audit entries are the
    web layer's, so none here)."""
    return service.transact(sessions, work, lambda _: [])


def refusal(work: Callable[[], object]) -> str:
    """The rule a refused decision names."""
    with pytest.raises(Conflict) as caught:
        work()
    return caught.value.rule
