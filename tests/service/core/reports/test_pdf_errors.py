"""Without Chromium or the CJK font, or when Chromium fails, the error is one typed line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from service.core.reports.pdf import (
    MissingPackage,
    ReportError,
    check_cjk_font,
    find_chromium,
    html_to_pdf,
)


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of nothing but stand-ins (the scripts call other tools by absolute path)."""
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", str(d))
    script(d / "fc-list", 'echo "Noto Sans CJK SC,Noto Sans CJK SC Regular"')
    return d


def test_no_chromium_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingPackage) as e:
        find_chromium(tmp_path / "chromium")
    assert e.value.package == "chromium"
    assert "apt-get install chromium" in str(e.value) and "\n" not in str(e.value)


def test_the_configured_chromium_wins(bin_dir: Path) -> None:
    mine = script(bin_dir / "my-chromium", "exit 0")
    assert find_chromium(mine) == mine
    on_path = script(bin_dir / "chromium", "exit 0")
    assert find_chromium(bin_dir / "absent") == on_path


def test_no_cjk_font_names_the_package(bin_dir: Path) -> None:
    script(bin_dir / "fc-list", 'echo "DejaVu Sans"')
    with pytest.raises(MissingPackage, match="apt-get install fonts-noto-cjk") as e:
        check_cjk_font()
    assert e.value.package == "fonts-noto-cjk" and "\n" not in str(e.value)


def test_no_fontconfig_names_the_package(bin_dir: Path) -> None:
    (bin_dir / "fc-list").unlink()
    with pytest.raises(MissingPackage) as e:
        check_cjk_font()
    assert e.value.package == "fontconfig"


def test_a_failing_chromium_is_one_line(bin_dir: Path, tmp_path: Path) -> None:
    fake = script(bin_dir / "chromium", 'echo "noise" >&2; echo "GPU process crashed" >&2; exit 3')
    with pytest.raises(ReportError) as e:
        html_to_pdf("<p>x</p>", tmp_path / "out.pdf", chromium=fake)
    assert str(e.value) == "Chromium exited with 3 without printing out.pdf: GPU process crashed"
    assert not (tmp_path / "out.pdf").exists()


def test_a_hung_chromium_is_killed_with_its_children(bin_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    fake = script(bin_dir / "chromium", f"/bin/sleep 300 & echo $! > {pid_file}; wait")
    with pytest.raises(ReportError, match=r"^Chromium did not print out.pdf in 0.5 s$"):
        html_to_pdf("<p>x</p>", tmp_path / "out.pdf", chromium=fake, timeout=0.5)
    status = Path(f"/proc/{pid_file.read_text().strip()}/status")
    assert not status.exists() or "State:\tZ" in status.read_text()  # gone, or a dead zombie
