"""The same figures as an XLSX for the office that aggregates the units' reports: one sheet per
table, printed exactly as in the document (numbers as numbers, "<5" and "x" as text)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from bot import content
from bot.services.indicators import Indicators
from bot.services.reports.document import target_rows


def _cell(value: str):
    return int(value) if value.isdigit() else value


def _sheet(book: Workbook, title: str, rows: list[list[str]]) -> None:
    sheet = book.create_sheet(title[:31])
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 36


def render(report: Indicators) -> bytes:
    book = Workbook()
    info = book.active
    info.title = content.text("report_sheet_info")
    for label, value in (
        ("report_info_period", report.period.label),
        ("report_info_unit", report.unit or content.text("report_issuer_area")),
        ("report_info_until", report.span()[1]),
        ("report_info_legend", content.text("report_data_note", start=report.span()[0], until=report.span()[1])),
    ):
        info.append([content.text(label), value])
    info.column_dimensions["A"].width = 20
    tables = [report.conversations, report.disclosures, report.referrals, report.cases.table, report.follow_ups,
              report.directory, report.usefulness, report.campaigns.table, report.quiz.table]
    for number, table in enumerate(tables, 1):
        _sheet(book, f"{number}. {table.title}", table.shown())
    _sheet(book, content.text("report_sheet_targets"), target_rows(report))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
