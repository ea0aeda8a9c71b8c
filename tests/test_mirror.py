"""The tests tree mirrors the code tree, folder for folder: whoever opens a code folder finds
its tests at ``tests/<same path>``, and a tests folder left behind by a move names a code folder
that no longer exists. Folders of templates, static files and migrations hold no code of their
own to test (their modules are tested through the code that uses them)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
PACKAGES = ("features", "models", "pipelines", "service", "benchmarks")
NOT_CODE = {"templates", "static", "migrations", "__pycache__"}


def _kept(relative: Path) -> bool:
    return not NOT_CODE & set(relative.parts)


def code_folders() -> set[Path]:
    """Every folder of the four packages that holds a Python module, relative to the root."""
    found = {p.parent.relative_to(ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {f for f in found if _kept(f)}


def mirror_folders() -> set[Path]:
    """Every folder under tests/, as the code folder it stands for."""
    return {d.relative_to(TESTS) for d in TESTS.rglob("*")
            if d.is_dir() and _kept(d.relative_to(TESTS))}


def test_every_code_folder_has_its_tests_folder_and_every_tests_folder_its_code() -> None:
    code, tests = code_folders(), mirror_folders()
    assert {Path(pkg) for pkg in PACKAGES} <= code  # the walk found the code at all
    missing = [f"{f}/ has no tests/{f}/" for f in sorted(code - tests)]
    missing += [f"tests/{f}/ has no code folder {f}/" for f in sorted(tests - code)]
    assert not missing, "the tests tree does not mirror the code tree:\n" + "\n".join(missing)
