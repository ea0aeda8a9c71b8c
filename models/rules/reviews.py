"""Rule tries and reviews in MLflow (规则评审记录): kept like model reviews, never edited.

Every ``rules try`` and every ``rules review`` is one run of the experiment
``techcredit-rules``, tagged with the kind of rule (contract or entity), the rule file's version
and sha256, and holding the file itself (``rules.toml``). Approval needs an earlier try of
exactly those bytes as that kind and a version above the one of that kind in force; the rule
set in force (:func:`active_rules`) is read back from the latest approval's artifact, so what
runs is what was reviewed, whatever is on disk now. Each kind is reviewed on its own
(:mod:`models.rules.kinds`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, Literal, cast

from features.settings import Settings
from models.declared import DeclarationError, load
from models.registry import MAX_NOTE, Tracking, tracking_for
from models.rules.kinds import KindName, R, RuleKind

RULES_EXPERIMENT = "techcredit-rules"
RULES_FILE = "rules.toml"
APPROVED, REJECTED = "approved", "rejected"
# Runs recorded before entity rules were reviewed carry no rule_kind tag: they were all of
# contract rules, the only kind reviewed then.
_UNTAGGED: KindName = "contract"


class RulesRefused(ValueError):
    """A review that may not be recorded; the message is one line."""


@dataclass(frozen=True)
class RuleRecord:
    """One try or review as stored."""

    kind: Literal["try", "review"]
    rule_kind: KindName
    version: int
    sha256: str
    decided_at: datetime  # UTC
    run_id: str
    source: str
    reviewer: str = ""
    note: str = ""
    outcome: str = ""  # approved | rejected (reviews)
    hits: str = ""  # total hits (tries)


@dataclass(frozen=True)
class ReviewResult:
    record: RuleRecord | None  # None: nothing recorded (re-approval of the rule set in force)
    message: str


@dataclass(frozen=True)
class InForce(Generic[R]):
    """The rule set of one kind that runs now, and whether a reviewer approved it."""

    rules: R
    approved: bool  # False: the file in force before any approval

    @property
    def note(self) -> str:
        if self.approved:
            return f"approved rules v{self.rules.version}"
        return f"default rules v{self.rules.version} (not yet approved)"


def _rules_tracking(tracking: Tracking) -> Tracking:
    return replace(tracking, experiment=RULES_EXPERIMENT)


def _tracking(tracking_or_settings: Tracking | Settings) -> Tracking:
    return (tracking_for(tracking_or_settings) if isinstance(tracking_or_settings, Settings)
            else tracking_or_settings)


def _record(tracking: Tracking, kind: RuleKind[R], ruleset: R, step: str, tags: Mapping[str, str],
            texts: Mapping[str, str], metrics: Mapping[str, float]) -> RuleRecord:
    """Append one run holding the rule file's exact bytes, the texts and the metrics."""
    rules = _rules_tracking(tracking)
    client = rules.client()
    now = datetime.now(UTC)
    all_tags = {"kind": step, "rule_kind": kind.name, "rules_version": str(ruleset.version),
                "sha256": ruleset.sha256, "source": ruleset.source[:500],
                "decided_at": now.isoformat(), **tags}
    run = client.create_run(rules.experiment_id(), start_time=int(now.timestamp() * 1000),
                            tags=all_tags,
                            run_name=f"{kind.name} rules v{ruleset.version} {step}")
    run_id = run.info.run_id
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / RULES_FILE
        path.write_bytes(ruleset.data)
        client.log_artifact(run_id, str(path))
    for name, text in texts.items():
        client.log_text(run_id, text, name)
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value))
    client.set_terminated(run_id)
    return _from_tags(all_tags, run_id)


def record_try(tracking: Tracking, kind: RuleKind[R], ruleset: R, texts: Mapping[str, str],
               metrics: Mapping[str, float], tags: Mapping[str, str]) -> RuleRecord:
    """Keep a try: the printed tables as artifacts, per-rule figures as metrics."""
    return _record(tracking, kind, ruleset, "try", tags, texts, metrics)


def review(tracking: Tracking, kind: RuleKind[R], ruleset: R, *, reviewer: str, note: str,
           approve: bool) -> ReviewResult:
    """Record a reviewer's decision on a rule set of ``kind``, or refuse
    (:class:`RulesRefused`).

    Approval needs an earlier try of the same sha256 as that kind and a version above the one
    of that kind in force; approving the rule set already in force records nothing. Rejections
    are always kept.
    """
    if not reviewer.strip() or not note.strip():
        raise RulesRefused("a review needs the reviewer's name and a note")
    if len(note) > MAX_NOTE:
        raise RulesRefused(f"the note has {len(note)} characters; at most {MAX_NOTE}")
    records = history(tracking, kind)
    label = f"{kind.name} rules v{ruleset.version} ({ruleset.sha256[:12]})"
    if approve:
        if not any(r.kind == "try" and r.sha256 == ruleset.sha256 for r in records):
            raise RulesRefused(
                f"{ruleset.source} (sha256 {ruleset.sha256[:12]}) was never tried as "
                f"{kind.name} rules: run `techcredit rules try --kind {kind.name} "
                f"{ruleset.source}` first / 未经试运行的规则不得批准")
        active = _active(records)
        if active is not None and active.sha256 == ruleset.sha256:
            return ReviewResult(None, f"{kind.name} rules v{active.version} "
                                      f"({active.sha256[:12]}) are already in force, approved "
                                      f"by {active.reviewer}; nothing recorded")
        if active is not None and ruleset.version <= active.version:
            raise RulesRefused(f"version {ruleset.version} is not above v{active.version} of "
                               f"the {kind.name} rules in force: raise `version` in the file, "
                               "try it, then approve")
    outcome = APPROVED if approve else REJECTED
    record = _record(tracking, kind, ruleset, "review",
                     {"reviewer": reviewer, "note": note, "outcome": outcome}, {}, {})
    return ReviewResult(record, f"{label} {outcome} by {reviewer}")


def history(tracking: Tracking, kind: RuleKind[R] | None = None) -> list[RuleRecord]:
    """Every try and review (of ``kind``, or of every kind), oldest first (few runs: the
    experiment is read whole)."""
    rules = _rules_tracking(tracking)
    client = rules.client()
    found = client.get_experiment_by_name(RULES_EXPERIMENT)
    if found is None:
        return []
    records, token = [], None
    while True:
        page = client.search_runs([found.experiment_id], page_token=token)
        records += [_from_tags(r.data.tags, r.info.run_id) for r in page
                    if r.data.tags.get("kind") in ("try", "review")]
        token = page.token
        if not token:
            break
    mine = [r for r in records if kind is None or r.rule_kind == kind.name]
    return sorted(mine, key=lambda r: r.decided_at)


def active_rules(tracking_or_settings: Tracking | Settings, kind: RuleKind[R]) -> R | None:
    """The latest approved rule set of ``kind``, read from the approval's own artifact; None
    before any.

    Raises :class:`~models.declared.DeclarationError` if the stored bytes no longer hash to
    the approved sha256.
    """
    tracking = _tracking(tracking_or_settings)
    active = _active(history(tracking, kind))
    if active is None:
        return None
    client = _rules_tracking(tracking).client()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(client.download_artifacts(active.run_id, RULES_FILE, tmp)).read_bytes()
    ruleset = kind.parse(data, f"runs:/{active.run_id}/{RULES_FILE}")
    if ruleset.sha256 != active.sha256:
        raise DeclarationError(f"{ruleset.source}: sha256 {ruleset.sha256[:12]} differs from "
                               f"the approved {active.sha256[:12]}")
    return ruleset


def active_rules_sha(tracking_or_settings: Tracking | Settings, kind: RuleKind[R]) -> str | None:
    """The sha256 of the rule set of ``kind`` in force (None before any approval): a cheap
    fingerprint for a service that rebuilds its rule state when an approval changes it."""
    active = _active(history(_tracking(tracking_or_settings), kind))
    return active.sha256 if active else None


def in_force(settings: Settings, kind: RuleKind[R]) -> InForce[R]:
    """The approved rule set of ``kind``, or before any approval the file in force then
    (:meth:`~models.rules.kinds.RuleKind.before_approval`): what training ranks review lists
    by (contract rules) and what the batch run warns by (entity rules). The real-time check
    runs approved contract rules only (:func:`active_rules`)."""
    active = active_rules(settings, kind)
    if active is not None:
        return InForce(active, True)
    return InForce(load(kind.before_approval(settings), kind.parse), False)


def _active(records: list[RuleRecord]) -> RuleRecord | None:
    approved = [r for r in records if r.kind == "review" and r.outcome == APPROVED]
    return approved[-1] if approved else None


def _from_tags(tags: Mapping[str, str], run_id: str) -> RuleRecord:
    step: Literal["try", "review"] = "try" if tags["kind"] == "try" else "review"
    return RuleRecord(step, cast(KindName, tags.get("rule_kind", _UNTAGGED)),
                      int(tags["rules_version"]), tags["sha256"],
                      datetime.fromisoformat(tags["decided_at"]), run_id, tags.get("source", ""),
                      tags.get("reviewer", ""), tags.get("note", ""), tags.get("outcome", ""),
                      tags.get("hits", ""))
