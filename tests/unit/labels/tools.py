"""poppler-utils and zbar-tools wrappers for the label tests (Debian packages; CI installs them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MISSING = [tool for tool in ("pdftoppm", "pdftotext", "pdfinfo", "pdffonts", "zbarimg") if shutil.which(tool) is None]
needs_tools = pytest.mark.skipif(
    bool(MISSING), reason=f"needs poppler-utils and zbar-tools (apt-get install poppler-utils zbar-tools): {MISSING}"
)


def scan(png: Path) -> list[str]:
    """Every barcode zbarimg finds in ``png``, sorted (GS1-128 reads as its element string, without FNC1)."""
    result = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=False)
    # zbarimg exits 4 when it finds nothing; that is an answer (no codes), not a tool failure.
    assert result.returncode in (0, 4), result.stderr
    return sorted(line for line in result.stdout.splitlines() if line)


def to_pngs(pdf: Path, dpi: int = 203, last_page: int | None = None) -> list[Path]:
    """Rasterise the pages (up to ``last_page``) like a 203 dpi thermal printer; returns the images in order."""
    prefix = pdf.with_suffix("")
    pages = ["-l", str(last_page)] if last_page else []
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), *pages, str(pdf), str(prefix)], check=True)
    return sorted(pdf.parent.glob(prefix.name + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """The text layer of ``pdf`` (one page if given)."""
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_info(pdf: Path) -> dict[str, str]:
    """``pdfinfo`` fields (Pages, Page size, ...)."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


def pdf_fonts(pdf: Path) -> str:
    """``pdffonts`` output: which fonts are embedded."""
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
