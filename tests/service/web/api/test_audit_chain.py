"""The audit chain the app writes holds, and an edited row is named: by ``verify``, by
``techcredit audit verify`` (exit 1), and by a client re-linking ``GET /audit``'s hashes."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app as cli
from service.core.db.audit import GENESIS, verify
from service.core.db.tables import AuditEntry
from tests.service.backends import tamper
from tests.service.web.api.conftest import Api, contract_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_on(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line pointed at the app's database."""
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", api.settings.db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _traffic(api: Api) -> int:
    """A little of everything the app audits; returns the id of the denial it made."""
    e = api.entities
    assert api.get(f"/api/v1/institutions/{e.institution_in}/score", "reviewer").is_success
    assert api.post("/api/v1/contracts/check?register=false", "office",
                    json=contract_body(api.trained, "CA0000001")).is_success
    assert api.get("/api/v1/scores?limit=3", "regulator_all").is_success
    assert api.get("/api/v1/models", "auditor").is_success
    assert api.get("/api/v1/audit", None).status_code == 401
    mark = api.audit_mark()
    assert api.get("/api/v1/audit", "office").status_code == 403
    [denial] = api.audit_since(mark)
    assert (denial.actor, denial.outcome) == ("office", "denied")
    return denial.id


def test_an_edited_row_is_named_and_the_restored_chain_holds(api: Api,
                                                              cli_on: CliRunner) -> None:
    denial = _traffic(api)
    with api.session() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry))
        result = verify(session)
        head = session.get(AuditEntry, total)
    assert head is not None
    assert (result.ok, result.checked, result.head_id, result.head_hash) == (
        True, total, total, head.hash)
    ok = cli_on.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == f"OK: {total} entries, head {total}:{head.hash}"

    # someone hides the refusal: one column of one row, straight in the database
    tamper(api.engine, "UPDATE audit_log SET outcome = 'ok' WHERE id = :id", id=denial)
    try:
        with api.session() as session:
            broken = verify(session)
        assert (broken.ok, broken.bad_id, broken.problem, broken.checked) == (
            False, denial, "edited", denial - 1)
        assert broken.reason == f"entry {denial} was edited: its hash does not match it"
        out = cli_on.invoke(cli, ["audit", "verify"])
        assert out.exit_code == 1, out.output
        assert out.output.strip() == (
            f"BROKEN at entry {denial} (edited): entry {denial} was edited: its hash does not "
            f"match it; {denial - 1} entries sound before it")
    finally:  # put it back: the shared app's chain must hold for the other tests
        tamper(api.engine, "UPDATE audit_log SET outcome = 'denied' WHERE id = :id",
               id=denial)
    with api.session() as session:
        assert verify(session).ok


def test_a_client_can_relink_the_chain_from_the_api(api: Api) -> None:
    _traffic(api)
    entries, cursor = [], None
    while True:
        page = api.get("/api/v1/audit?limit=200" + (f"&cursor={cursor}" if cursor else ""),
                       "auditor").json()
        entries += page["items"]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert [e["id"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(entries))
    actions = {(e["actor"], e["action"], e["outcome"]) for e in entries}
    assert {("batch", "score.batch", "ok"), ("office", "read_audit", "denied"),
            ("anonymous", "read_audit", "unauthenticated")} <= actions
