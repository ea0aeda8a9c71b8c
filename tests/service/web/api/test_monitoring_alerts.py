"""A drift alert is acknowledged once: the first person's note is the record, a second
acknowledgement is a 409 that overwrites nothing and is audited as refused; an unknown alert
is a 404."""

from __future__ import annotations

import pytest

from models.registry import CREDIT_MODEL
from service.core.monitoring.tables import MonitorAlert
from tests.service.web.api.conftest import Api

pytestmark = pytest.mark.e2e
ACK = "/api/v1/monitoring/alerts/{}/acknowledge"


def _alert(api: Api) -> int:
    with api.session() as session, session.begin():
        alert = MonitorAlert(month="1999-12", model_name=CREDIT_MODEL, model_version="1",
                             level="act", variables=["score"], message_zh="测试预警",
                             message_en="test alert")
        session.add(alert)
        session.flush()
        return alert.id


def test_a_second_acknowledgement_is_refused_and_audited(api: Api) -> None:
    alert_id = _alert(api)
    first = api.post(ACK.format(alert_id), "reviewer", json={"note": "retrain next month"})
    assert first.status_code == 200, first.text
    mark = api.audit_mark()
    again = api.post(ACK.format(alert_id), "admin", json={"note": "a different note"})
    assert again.status_code == 409
    assert again.json()["detail"]["rule"] == "acknowledged"
    [entry] = api.audit_since(mark)
    assert (entry.actor, entry.action, entry.outcome, entry.detail["alert_id"],
            entry.detail["rule"]) == ("admin", "review_models", "refused", alert_id,
                                      "acknowledged")
    with api.session() as session:
        kept = session.get(MonitorAlert, alert_id)
        assert kept is not None
        assert (kept.state, kept.acknowledged_by, kept.acknowledgement) == (
            "acknowledged", "reviewer", "retrain next month")


def test_an_unknown_alert_is_not_found(api: Api) -> None:
    answer = api.post(ACK.format(987654), "reviewer", json={"note": "no such alert"})
    assert answer.status_code == 404
    assert "987654" in answer.json()["detail"]
