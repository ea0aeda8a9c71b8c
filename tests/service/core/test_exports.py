"""Every CSV the service writes is safe to open in a spreadsheet: a cell that would run as a
formula is text."""

from __future__ import annotations

import csv
import io

import pytest

from service.core.exports import csv_text, neutralise


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+SUM(1)", "'+1+SUM(1)"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), (-5, "-5"), (-0.5, "-0.5"),
    ("京科信〔2026〕7号", "京科信〔2026〕7号"), ("a=b", "a=b"), ("", ""), (None, ""), (12, "12"),
])
def test_a_formula_cell_becomes_text(value: object, expected: str) -> None:
    assert neutralise(value) == expected


def test_csv_text_neutralises_every_cell_and_stays_csv() -> None:
    text = csv_text(["name", "=basis"], [["=1+1", "plain, with comma"], [None, -5]])
    assert csv_text(["x"], [["-5"]]).splitlines()[1] == "'-5"  # text that looks like one
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "'=basis"], ["'=1+1", "plain, with comma"], ["", "-5"]]
