"""HTML to PDF with headless Chromium, the same engine that shows the HTML.

Chromium lays out the Chinese text with the system's Noto Sans CJK font and embeds the glyphs,
so the PDF reads the same on a machine without the font. Both are Debian packages installed
by ``make system``; when either is missing the caller gets ``MissingPackage``, whose message
is one line naming the package, rather than a PDF of empty boxes or a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from features.settings import get_settings

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC")  # the families the templates ask for


class ReportError(RuntimeError):
    """A report could not be printed; the message is one line meant for the operator."""


class MissingPackage(ReportError):
    """A system package the PDF needs is missing; ``package`` is its Debian name."""

    def __init__(self, package: str, problem: str) -> None:
        self.package = package
        super().__init__(
            f"{problem}: install Debian's {package} (make system, or apt-get install {package})"
        )


def find_chromium(configured: Path) -> Path:
    """The configured Chromium (``TECHCREDIT_CHROMIUM_PATH``), else ``chromium`` on PATH."""
    if configured.is_file() and os.access(configured, os.X_OK):
        return configured
    found = shutil.which("chromium")
    if found is None:
        raise MissingPackage("chromium", f"no Chromium at {configured} nor on PATH")
    return Path(found)


def check_cjk_font() -> None:
    """Refuse to print without the CJK font: Chromium would silently fall back to another
    font or to empty boxes, and the PDF would look broken only to its reader."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise MissingPackage("fontconfig", "fc-list is missing, so the CJK font cannot be found")
    found = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    if not any(family in found for family in CJK_FAMILIES):
        raise MissingPackage("fonts-noto-cjk", "no Noto Sans CJK font is installed")


def html_to_pdf(html: str, out: Path, chromium: Path | None = None,
                timeout: float = 120.0) -> Path:
    """Print one HTML document to ``out`` (A4, as its print CSS says, no header or footer).

    Chromium runs in a temporary directory with its own profile, so concurrent prints do not
    share state and nothing is left in the user's home; on timeout its whole process group is
    killed, since a hung renderer outlives its parent.
    """
    binary = find_chromium(chromium or get_settings().reports.chromium)
    check_cjk_font()
    with tempfile.TemporaryDirectory(prefix="techcredit-report-") as tmp:
        src, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [
            str(binary), "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer", src.as_uri(),
        ]
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True) as proc:
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise ReportError(f"Chromium did not print {out.name} in {timeout:g} s") from None
        if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            last = (err.strip().splitlines() or [""])[-1][:200]
            raise ReportError(f"Chromium exited with {proc.returncode} without printing "
                              f"{out.name}: {last}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(pdf, out)
    return out
