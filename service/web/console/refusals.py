"""A refused form as sentences a person can act on, in the reader's language.

The API answers a schema's refusal with the field's path and pydantic's rule (``reason:
String should have at least 5 characters``) for a program to read; a person at the console
needs "理由至少需要5个字" / "the reason needs at least 5 characters". Each problem names the
field by its label (``field_<name>`` in the words table) and says the rule with the schema's
own bounds (``rule_<pydantic type>``). The same bounds become the form's ``required``,
``minlength``/``maxlength`` and ``min``/``max`` attributes (:data:`LIMITS`), so the browser
refuses what the server would before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from service.core.cases.schemas import CaseOpenIn, MeasureIn
from service.core.model_registry.schemas import AcknowledgeIn, PromoteIn
from service.core.scores.schemas import OverrideIn
from service.web.console.messages import Lang, words

FALLBACK_RULE = "rule_invalid"


def problem(lang: Lang, error: dict[str, Any]) -> str:
    """One pydantic error as a clause: the field's label and the rule with its bounds."""
    w = words(lang)
    loc = error.get("loc") or ("",)
    name = str(loc[-1])
    label = w.get(f"field_{name}", name)
    template = w.get(f"rule_{error.get('type', '')}", w[FALLBACK_RULE])
    try:
        return template.format(field=label, **(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return w[FALLBACK_RULE].format(field=label)


def sentence(lang: Lang, clauses: Iterable[str]) -> str:
    """"Refused: …" with the clauses joined as the language joins them, ending in a stop."""
    w = words(lang)
    parts = [c for c in clauses if c]
    if lang == "zh":
        return f"{w['refused']}：{'；'.join(parts)}。"
    joined = "; ".join(parts)
    return f"{w['refused']}: {joined}."


def invalid(lang: Lang, e: ValidationError) -> str:
    """The schema's refusal as the banner says it."""
    return sentence(lang, (problem(lang, dict(x)) for x in e.errors()))


# the core's ``Missing`` entries that are not a missing field but a rule between two
SPECIAL = {"ends: before starts": "ends_before_starts"}


def missing(lang: Lang, fields: Iterable[str]) -> str:
    """Fields an action needs and the form left empty (the core's ``Missing``)."""
    w = words(lang)
    return sentence(lang, (w[SPECIAL[f]] if f in SPECIAL else
                           problem(lang, {"loc": (f,), "type": "missing"}) for f in fields))


def conflict(lang: Lang, e: Exception) -> str:
    """A rule of the case or the registry refused the action: its own words (the core's,
    in both languages where it gives both)."""
    return sentence(lang, [str(e) or words(lang)["conflict"]])


# pydantic's constraint (as annotated-types names it) -> the HTML attribute checking the same
BOUNDS = {"min_length": "minlength", "max_length": "maxlength", "ge": "min", "le": "max"}


def attributes(model: type[BaseModel], field: str) -> str:
    """The HTML validation attributes of a schema's field: the browser checks what the
    server checks (a field with no default is ``required``). Numbers only: safe to print."""
    info = model.model_fields[field]
    found = ["required"] if info.is_required() else []
    for bound in info.metadata:
        for name, attribute in BOUNDS.items():
            value = getattr(bound, name, None)
            if isinstance(value, int):
                found.append(f'{attribute}="{value}"')
    return " ".join(found)


# what each console form's inputs carry (templates: {{ limits.<key> | safe }})
LIMITS: dict[str, str] = {
    "override_reason": attributes(OverrideIn, "reason"),
    "override_days": attributes(OverrideIn, "days"),
    "open_reason": attributes(CaseOpenIn, "reason"),
    "measure_agency": attributes(MeasureIn, "agency"),
    "measure_starts": attributes(MeasureIn, "starts"),
    "promote_note": attributes(PromoteIn, "note"),
    "acknowledge_note": attributes(AcknowledgeIn, "note"),
}
