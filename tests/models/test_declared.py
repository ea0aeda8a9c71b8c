"""The reader of declared files: every refusal is one line naming the file, the item and the
field; what is read carries the sha256 of its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.declared import DeclarationError, Declared, items, load, parse, table

TOP = ("version", "limits", "rule")


def _parse(text: str) -> Declared:
    return parse(text.encode("utf-8"), "mine.toml", TOP)


def _first_rule(text: str) -> None:
    declared = _parse(text)
    (_, rule), *_ = items(declared, "rule", "id", required=True)
    rule.known(("id", "size", "share", "colour", "name"))
    rule.text("name")
    rule.integer("size", 1, 9)
    rule.number("share", 0, 1)
    rule.choice("colour", ("red", "blue"))


GOOD = 'version = 1\n[[rule]]\nid = "r1"\nname = "one"\nsize = 3\nshare = 0.5\ncolour = "red"\n'


def test_a_good_file_is_read_with_its_version_and_hash() -> None:
    declared = _parse(GOOD)
    assert declared.version == 1 and len(declared.sha256) == 64
    assert declared.data == GOOD.encode() and declared.source == "mine.toml"
    _first_rule(GOOD)
    assert _parse(GOOD + "\n").sha256 != declared.sha256


@pytest.mark.parametrize(("text", "message"), [
    ("version = 1\n[[rule]\n", "mine.toml: not valid TOML: "),
    ("version = 0\n", "mine.toml: version: must be an integer >= 1, got 0"),
    ('version = "1"\n', "mine.toml: version: must be an integer >= 1, got '1'"),
    ("version = 1\ncolour = 2\n", "mine.toml: unknown top-level key 'colour' (expected "
                                  "version, limits, rule)"),
    ("version = 1\n", "mine.toml: rule: write at least one rule as a [[rule]] table"),
    ('version = 1\nrule = "x"\n', "mine.toml: rule: write at least one rule"),
    ('version = 1\nrule = ["x"]\n', "mine.toml: rule #1: not a table"),
    ('version = 1\n[[rule]]\nid = "Bad Id"\n', "mine.toml: rule #1: id: must be snake_case "
                                               "text, got 'Bad Id'"),
    (GOOD + '[[rule]]\nid = "r1"\n', "mine.toml: rule 'r1': id: duplicate id"),
    (GOOD.replace('name = "one"', 'name = " "'), "mine.toml: rule 'r1': name: required text"),
    (GOOD.replace("size = 3", "size = 10"),
     "mine.toml: rule 'r1': size: must be an integer from 1 to 9, got 10"),
    (GOOD.replace("size = 3", "size = true"),
     "mine.toml: rule 'r1': size: must be an integer from 1 to 9, got True"),
    (GOOD.replace("share = 0.5", "share = 2"),
     "mine.toml: rule 'r1': share: must be a number from 0 to 1, got 2"),
    (GOOD.replace('colour = "red"', 'colour = "green"'),
     "mine.toml: rule 'r1': colour: 'green' is not one of red, blue"),
    (GOOD + "shape = 1\n", "mine.toml: rule 'r1': shape: unknown field (expected id, "),
])
def test_every_mistake_is_one_line_naming_file_item_and_field(text: str, message: str) -> None:
    with pytest.raises(DeclarationError) as refused:
        _first_rule(text)
    assert str(refused.value).startswith(message), str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_required_table_and_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match=r"^mine.toml: limits: required table \[limits\] "
                                               "with low, high$"):
        table(_parse(GOOD), "limits", ("low", "high"))
    with pytest.raises(DeclarationError, match="^mine.toml: limits: middle: unknown key"):
        table(_parse("version = 1\n[limits]\nmiddle = 1\n"), "limits", ("low", "high"), "key")
    assert not items(_parse("version = 1\n"), "rule", "id", required=False)
    with pytest.raises(DeclarationError, match="nothing.toml: cannot read"):
        load(tmp_path / "nothing.toml", lambda data, source: data)
    path = tmp_path / "mine.toml"
    path.write_bytes("version = 1\nname = '\u4e2d'\n".encode("gb18030"))
    with pytest.raises(DeclarationError, match="mine.toml: not UTF-8 text"):
        load(path, lambda data, source: parse(data, source, ("version", "name")))
