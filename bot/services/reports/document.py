"""The report as a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP, Mẫu 1.4):
A4, Times New Roman, the agency and national title side by side, number, place and date,
"BÁO CÁO" and its subject, then results, targets, shortcomings, proposals, with tables and two
charts. Every count is a printed (suppressed) cell of `bot.services.indicators`."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from bot import content
from bot.services import stats
from bot.services.indicators import Indicators, Table, share
from bot.services.reports.charts import bar_chart

FONT = "Times New Roman"
BODY_PT = 14


def _run(paragraph, text: str, size: float = BODY_PT, bold: bool = False, italic: bool = False):
    for number, line in enumerate(text.split("\n")):
        if number:
            paragraph.add_run().add_break()
        run = paragraph.add_run(line)
        run.font.size, run.bold, run.italic = Pt(size), bold, italic
    return paragraph


def _centered(cell_or_doc, text: str, size: float = 13, bold: bool = False, italic: bool = False, first: bool = False):
    paragraph = cell_or_doc.paragraphs[0] if first else cell_or_doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    return _run(paragraph, text, size, bold, italic)


def _rule(cell_or_doc, width_cm: float, container_cm: float) -> None:
    """A solid centred line `width_cm` long (a bottom border on an empty, indented paragraph)."""
    paragraph = cell_or_doc.add_paragraph()
    indent = Cm(max(0.0, (container_cm - width_cm) / 2))
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = indent
    fmt.space_after, fmt.line_spacing = Pt(2), Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _body(doc, text: str, bold: bool = False, indent: bool = True):
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Cm(1.27) if indent else None
    fmt.space_after, fmt.line_spacing = Pt(6), 1.15
    return _run(paragraph, text, BODY_PT, bold)


def _page_number(section) -> None:
    """Page numbers centred at the top, not on page 1."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _widths(table, widths_cm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour (grid columns and every cell)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _borderless(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _grid(doc, rows: list[list[str]], widths: list[float] | None = None) -> None:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 or widths else WD_ALIGN_PARAGRAPH.CENTER
            _run(paragraph, value, 11, bold=i == 0 or (j == 0 and value == content.text("report_total")))
    if widths:
        _widths(table, widths)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _table(doc, number: int, table: Table) -> None:
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(caption, content.text("report_table", number=number, title=table.title), 12, italic=True)
    _grid(doc, table.shown())


def _chart(doc, png: bytes) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(15))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _header(doc, report: Indicators) -> None:
    unit = report.unit
    table = doc.add_table(rows=2, cols=2)
    _borderless(table)
    _widths(table, [6, 10.5])
    left, right = table.cell(0, 0), table.cell(0, 1)
    _centered(left, content.text("report_parent_unit"), 13, first=True)
    _centered(left, unit.upper() if unit else content.text("report_issuer_placeholder"), 13, bold=True)
    _rule(left, 2.5, 6)
    _centered(right, content.text("report_nation"), 13, bold=True, first=True)
    _centered(right, content.text("report_motto"), 14, bold=True)
    _rule(right, 6.0, 10.5)
    number = content.text("report_number_unit" if unit else "report_number_area")
    _centered(table.cell(1, 0), number, 13, first=True)
    place = (unit or "Phường Hương Trà").removeprefix("Phường ").removeprefix("Xã ")
    _centered(table.cell(1, 1), content.text("report_place_date", place=place, year=report.until.year), 14,
              italic=True, first=True)


def _title(doc, report: Indicators) -> None:
    doc.add_paragraph()
    _centered(doc, content.text("report_kind"), 14, bold=True)
    subject = content.text("report_subject", period=report.period.label)
    if report.unit:
        subject += " " + content.text("report_subject_unit", unit=report.unit)
    _centered(doc, subject, 14, bold=True)
    _rule(doc, 5.0, 16.0)


def _results(doc, report: Indicators) -> None:
    cases = report.cases
    _body(doc, content.text("report_s1"), bold=True, indent=False)
    _body(doc, content.text("report_s1_1"), bold=True)
    _body(doc, content.text("report_s1_1_text", conversations=stats.shown(report.conversations.total()),
                            disclosures=stats.shown(report.disclosures.total())))
    if report.unit:
        _body(doc, content.text("report_unit_scope_note"))
    _table(doc, 1, report.conversations)
    shown = report.conversations.shown()
    _chart(doc, bar_chart([r[0] for r in shown[1:-1]], [r[-1] for r in shown[1:-1]],
                          content.text("report_chart_conversations")))
    _table(doc, 2, report.disclosures)
    _body(doc, content.text("report_s1_2"), bold=True)
    _body(doc, content.text("report_s1_2_text", referrals=stats.shown(report.referrals.total())))
    _table(doc, 3, report.referrals)
    shown = report.referrals.shown()
    _chart(doc, bar_chart([r[0] for r in shown[1:-1]], [r[-1] for r in shown[1:-1]],
                          content.text("report_chart_referrals")))
    _body(doc, content.text("report_s1_3"), bold=True)
    _body(doc, content.text("report_s1_3_text", cases=stats.shown(cases.table.total()), p50=cases.ack(50),
                            p90=cases.ack(90)))
    _table(doc, 4, cases.table)
    follow_ups = report.follow_ups
    _body(doc, content.text("report_s1_3_follow_ups", referred=stats.shown(follow_ups.total()),
                            helped=share(sum(follow_ups.counts[0]), follow_ups.total())))
    _table(doc, 5, follow_ups)
    directory = report.directory.counts
    _body(doc, content.text("report_s1_4"), bold=True)
    _body(doc, content.text("report_s1_4_text", verified=sum(r[0] for r in directory),
                            overdue=sum(r[1] for r in directory), unverified=sum(r[2] for r in directory)))
    _table(doc, 6, report.directory)
    _body(doc, content.text("report_s1_5"), bold=True)
    _body(doc, content.text("report_s1_5_usefulness", answers=stats.shown(report.usefulness.total()),
                            share=report.useful_share()))
    _table(doc, 7, report.usefulness)
    campaigns, quiz = report.campaigns, report.quiz
    _body(doc, content.text("report_s1_5_campaigns", campaigns=campaigns.sent, targeted=stats.shown(campaigns.table.total()),
                            sent=stats.shown(sum(campaigns.table.counts[0])), taps=stats.shown(campaigns.taps)))
    _table(doc, 8, campaigns.table)
    started, finished, codes = (sum(row) for row in quiz.table.counts)
    _body(doc, content.text("report_s1_5_quiz", started=stats.shown(started), finished=stats.shown(finished), codes=stats.shown(codes),
                            mean=quiz.mean()))
    _table(doc, 9, quiz.table)


def target_rows(report: Indicators) -> list[list[str]]:
    """The targets table (also the XLSX's "Chỉ tiêu" sheet)."""
    cases = report.cases
    totals = {"disclosures": stats.shown(report.disclosures.total()), "referrals": stats.shown(report.referrals.total()),
              "cases": stats.shown(cases.table.total())}
    return [
        [content.text(f"report_target_col_{c}") for c in ("no", "target", "result", "note")],
        ["1", content.text("report_target_seek"), content.text("report_target_seek_result"),
         content.text("report_target_seek_note", **totals)],
        ["2", content.text("report_target_help"), share(cases.helped, cases.decided),
         content.text("report_target_help_note", decided=stats.shown(cases.decided),
                      never=share(cases.never_reached, cases.decided), open=stats.shown(cases.in_progress))],
    ]


def _targets(doc, report: Indicators) -> None:
    _body(doc, content.text("report_s2"), bold=True, indent=False)
    _grid(doc, target_rows(report), widths=[1.0, 5.5, 3.5, 6.0])
    _body(doc, content.text("report_measure"))


def _shortcomings(doc, report: Indicators) -> None:
    cases, directory = report.cases, report.directory
    _body(doc, content.text("report_s3"), bold=True, indent=False)
    lines = []
    if cases.never_reached:
        lines.append(content.text("report_gap_never", never=stats.shown(cases.never_reached)))
    overdue = sum(r[1] for r in directory.counts)
    if overdue:
        lines.append(content.text("report_gap_overdue", overdue=overdue))
    empty = [unit for unit, row in zip(directory.rows, directory.counts) if not row[0]]
    if empty:
        lines.append(content.text("report_gap_no_verified", units=", ".join(empty)))
    lines.append(content.text("report_gap_measure"))
    for line in lines:
        _body(doc, "- " + line)
    _body(doc, content.text("report_s4"), bold=True, indent=False)
    for name in ("roster", "directory", "publicity", "survey"):
        _body(doc, "- " + content.text(f"report_ask_{name}"))


def _closing(doc, report: Indicators) -> None:
    _body(doc, content.text("report_closing", period=report.period.label))
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, [7, 9.5])
    left, right = table.cell(0, 0), table.cell(0, 1)
    paragraph = left.paragraphs[0]
    _run(paragraph, content.text("report_recipients"), 12, bold=True, italic=True)
    _run(left.add_paragraph(), content.text("report_recipients_list"), 11)
    _centered(right, content.text("report_signer_unit" if report.unit else "report_signer_area"), 14, bold=True,
              first=True)


def _data_note(doc, report: Indicators) -> None:
    start, until = report.span()
    note = doc.add_paragraph()
    _run(note, content.text("report_data_note", start=start, until=until), 11, italic=True)
    if report.partial:
        _run(doc.add_paragraph(), content.text("report_data_partial"), 11, italic=True)


def render(report: Indicators) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(BODY_PT)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    _page_number(section)
    _header(doc, report)
    _title(doc, report)
    _body(doc, content.text("report_opening", period=report.period.label, issuer=content.text(
        "report_issuer_unit", unit=report.unit) if report.unit else content.text("report_issuer_area")))
    _data_note(doc, report)
    _results(doc, report)
    _targets(doc, report)
    _shortcomings(doc, report)
    _closing(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
