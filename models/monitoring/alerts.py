"""The month's alert: the worst level over the monitored variables, with a short message in
Chinese and English for the console and the database."""

from __future__ import annotations

from dataclasses import dataclass

from models.monitoring.drift import DriftResult, Level, Thresholds, worst

NAMES_SHOWN = 5  # variables named in a message; the alert row lists them all


@dataclass(frozen=True)
class AlertDraft:
    """An alert before it is stored: ``variables`` are those at watch or act, worst first."""

    month: str  # YYYY-MM
    level: Level  # watch or act
    variables: tuple[str, ...]
    message_zh: str
    message_en: str


def month_alert(month: str, model: str, results: list[DriftResult], thresholds: Thresholds,
                retrain: bool) -> AlertDraft | None:
    """None when every variable is ok; otherwise the alert for ``model`` (e.g.
    ``techcredit-credit v3``). ``retrain`` says whether an act alert starts retraining, so the
    message states what happens next."""
    flagged = sorted((r for r in results if r.level is not Level.ok),
                     key=lambda r: (-r.psi, r.variable))
    if not flagged:
        return None
    level = worst([r.level for r in flagged])
    shown = ", ".join(f"{r.variable} {r.psi:.3f}" for r in flagged[:NAMES_SHOWN])
    more = len(flagged) - NAMES_SHOWN
    shown_zh = shown + (f" 等{len(flagged)}项" if more > 0 else "")
    shown_en = shown + (f" and {more} more" if more > 0 else "")
    if level is Level.act:
        zh_next = "已启动重新训练，新版本登记为挑战者，待审核；冠军模型不变" if retrain else \
            "请重新训练模型（自动重训已关闭）"
        en_next = ("retraining started: the new version is registered as challenger for "
                   "review; the champion is unchanged") if retrain else \
            "retrain the model (automatic retraining is off)"
        zh = f"{month} {model} 分布显著漂移（PSI ≥ {thresholds.act:g}）：{shown_zh}。{zh_next}"
        en = f"{month} {model} drift to act on (PSI ≥ {thresholds.act:g}): {shown_en}. {en_next}"
    else:
        zh = (f"{month} {model} 分布轻度漂移（PSI ≥ {thresholds.watch:g}）：{shown_zh}。"
              "请关注，下月复查")
        en = (f"{month} {model} drift to watch (PSI ≥ {thresholds.watch:g}): {shown_en}. "
              "Check again next month")
    return AlertDraft(month, level, tuple(r.variable for r in flagged), zh, en)
