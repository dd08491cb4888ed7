"""The programme report (issue 15): a DOCX in the form of a Vietnamese administrative báo cáo and
an XLSX with the same figures, from `bot.services.indicators` (docs/indicators.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.services.indicators import Indicators, ReportError
from bot.services.reports import document, workbook

__all__ = ["write", "ReportError"]


def write(report: Indicators, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write FILE.docx and FILE.xlsx next to it, each whole or not at all (a temporary file in
    the same folder, renamed when complete). Returns both paths."""
    docx = Path(out)
    if docx.suffix.lower() != ".docx":
        raise ReportError(f"--out must name a .docx file, got {str(out)!r}")
    if not docx.parent.is_dir():
        raise ReportError(f"folder {str(docx.parent)!r} does not exist")
    xlsx = docx.with_suffix(".xlsx")
    contents = {docx: document.render(report), xlsx: workbook.render(report)}  # rendered before anything is written
    for path, data in contents.items():
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return docx, xlsx
