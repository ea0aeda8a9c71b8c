"""The console's words in Chinese and English; one table so a missing translation is a test
failure, not a blank on a page."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

WORDS: dict[str, tuple[str, str]] = {
    "title": ("科技市场信用监管平台", "Technology market credit console"),
    "login": ("登录", "Sign in"),
    "logout": ("退出登录", "Sign out"),
    "token": ("访问令牌", "Access token"),
    "token_help": ("由管理员通过 techcredit users add 签发", "issued by `techcredit users add`"),
    "bad_token": ("令牌无效、过期或已吊销", "The token is unknown, expired or revoked"),
    "home": ("总览", "Overview"),
    "search": ("查询主体", "Find an entity"),
    "search_hint": ("机构或经纪人编号、机构名称", "institution or broker id, institution name"),
    "warnings": ("风险预警", "Warnings"),
    "cases": ("失信案件", "Cases"),
    "audit": ("审计日志", "Audit log"),
    "market": ("市场概况", "Market"),
    "models": ("模型", "Models"),
    "assessments": ("年度考核", "Assessments"),
    "score": ("信用评分", "Credit score"),
    "grade": ("等级", "Grade"),
    "probability": ("违约概率", "Probability of a bad record"),
    "reasons": ("主要原因", "Main reasons"),
    "model": ("模型版本", "Model version"),
    "as_of": ("评价日", "As of"),
    "history": ("评分历史", "Score history"),
    "override": ("人工调整", "Override"),
    "effective_grade": ("生效等级", "Effective grade"),
    "registry_status": ("登记状态", "Registry status"),
    "standing": ("失信状态", "Dishonesty standing"),
    "listed": ("已列入失信名单", "On the dishonesty list"),
    "not_listed": ("未列入失信名单", "Not on the dishonesty list"),
    "contracts": ("合同核查", "Contract checks"),
    "no_score": ("尚未评分", "No score yet"),
    "not_found": ("未找到", "Not found"),
    "forbidden": ("无此权限", "Not allowed"),
    "tier": ("预警等级", "Tier"),
    "region": ("地区", "Region"),
    "by_region": ("分地区预警", "Warnings by region"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "queue": ("待办案件", "Case queue"),
    "subject": ("当事主体", "Subject"),
    "state": ("状态", "State"),
    "assignee": ("承办人", "Assignee"),
    "due": ("期限", "Due"),
    "overdue": ("已逾期", "Overdue"),
    "ready": ("可列入名单", "Ready to list"),
    "pending": ("待第二人批准", "Awaiting a second person"),
    "events": ("办理记录", "Events"),
    "evidence": ("证据", "Evidence"),
    "actions": ("可执行操作", "Actions"),
    "reason": ("理由", "Reason"),
    "submit": ("提交", "Submit"),
    "conduct": ("失信行为", "Conduct"),
    "severity": ("严重程度", "Severity"),
    "basis": ("法律依据", "Legal basis"),
    "decision_number": ("决定文号", "Decision number"),
    "actor": ("操作人", "Actor"),
    "time": ("时间", "Time"),
    "outcome": ("结果", "Outcome"),
    "action": ("操作", "Action"),
    "entity": ("主体", "Entity"),
    "scored": ("已评分主体", "Scored entities"),
    "open_cases": ("在办案件", "Open cases"),
    "overdue_cases": ("逾期案件", "Overdue"),
    "grades": ("等级分布", "Grades"),
    "done": ("已完成", "Done"),
    "refused": ("未执行", "Refused"),
    "language": ("English", "中文"),
}


def words(lang: Lang) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in WORDS.items()}
