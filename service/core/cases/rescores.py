"""A listing asks for the listed subject's related entities to be re-scored (失信关联重评).

An institution's brokers and a broker's institutions carry part of a listed subject's risk
(their contracts went through it). Which entities worked together is read from the contract
checks the service recorded (each names the contract's institution and broker); the requests
go into the listing's own transaction, and the re-score flow
(:mod:`pipelines.scoring.events`) answers them the same day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.cases.tables import Case
from service.core.db.tables import ContractCheck, RescoreRequest
from service.core.db.types import EntityKind, RescoreCause


def queue_related(session: Session, case: Case, today: date) -> list[RescoreRequest]:
    """Queue every entity of the other kind that shared a checked contract with the subject."""
    if case.subject_kind == EntityKind.institution.value:
        mine, theirs, kind = (ContractCheck.institution_id, ContractCheck.broker_id,
                              EntityKind.broker)
    else:
        mine, theirs, kind = (ContractCheck.broker_id, ContractCheck.institution_id,
                              EntityKind.institution)
    related = session.scalars(select(theirs).where(mine == case.subject_id, theirs.is_not(None))
                              .distinct().order_by(theirs)).all()
    requests = [RescoreRequest(entity_kind=kind.value, entity_id=r,
                               cause=RescoreCause.listed.value, cause_id=str(case.id), day=today)
                for r in related if r]
    session.add_all(requests)
    return requests
