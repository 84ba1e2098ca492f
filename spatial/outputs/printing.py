"""Print an HTML page to PDF with headless Chromium (Debian's ``chromium``; no Playwright needed).

The page is written to a private temporary folder and printed from ``file://`` by Chromium's own
``--print-to-pdf``, with a throw-away profile and every host name resolving to nothing, so the
printer can fetch nothing even if a page asked it to. ``SPATIAL_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from spatial.i18n import BilingualError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 120


class PrintError(BilingualError):
    """The PDF could not be printed; says why and what to do."""


def find_chromium() -> str | None:
    """The Chromium binary: ``$SPATIAL_CHROMIUM``, else the first of :data:`CANDIDATES` on PATH."""
    named = os.environ.get("SPATIAL_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(page: str, chromium: str | None = None, timeout: float = PRINT_TIMEOUT_S) -> bytes:
    """The PDF of ``page`` (A4 unless the page's CSS says otherwise; page numbers come from the
    page's ``@page`` margin boxes, not Chromium's default header and footer)."""
    binary = chromium or find_chromium()
    if binary is None:
        raise PrintError(
            "找不到 Chromium，无法生成 PDF。请安装（Debian：apt install chromium fonts-noto-cjk），"
            "或改为下载 HTML 报告后用浏览器打印。",
            "Chromium was not found, so no PDF can be printed. Install it (Debian: apt install "
            "chromium fonts-noto-cjk), or download the HTML report and print it from a browser.",
        )
    with tempfile.TemporaryDirectory(prefix="spatial-print-") as folder:
        work = Path(folder)
        source, target = work / "report.html", work / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # nothing can be fetched: no name resolves, and every request (loopback included)
            # goes to a proxy on the discard port, which is closed
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={work / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses root without it (containers)
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PrintError(
                f"Chromium 在 {timeout:.0f} 秒内未完成打印，请稍后重试或下载 HTML 报告。",
                f"Chromium did not finish printing within {timeout:.0f} s; try again later or "
                "download the HTML report.",
            ) from exc
        except OSError as exc:
            raise PrintError(
                f"无法启动 Chromium（{binary}）：{exc}",
                f"Chromium ({binary}) could not be started: {exc}",
            ) from exc
        pdf = target.read_bytes() if target.exists() else b""
        if done.returncode != 0 or not pdf.startswith(b"%PDF"):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PrintError(
                f"Chromium 打印 PDF 失败（退出码 {done.returncode}）：{' | '.join(tail)}",
                f"Chromium failed to print the PDF (exit {done.returncode}): {' | '.join(tail)}",
            )
        return pdf
