"""`gbvbot report`: the DOCX (a Vietnamese báo cáo) and the XLSX, read back and checked against
the indicators; small cells stay hidden in both; bad input writes nothing; page 1 rendered by
LibreOffice is a real page."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from bot import cli
from bot.services import indicators, reports
from bot.services.indicators import compute, parse_period
from bot.storage import activity
from tests.services.reports.synthetic import (
    BD,
    HT,
    KT,
    CaseSpec,
    add_attempt,
    add_campaign,
    add_cases,
    add_place,
    at,
    count,
)

NOW = at("2026-08-01 09:00")


@pytest.fixture
def report(db_url):
    for month, n in ((1, 12), (2, 3), (3, 30), (4, 9), (5, 7), (6, 21)):
        count(f"2026-{month:02d}-10 10:00", "web", activity.CONVERSATION, n)
        count(f"2026-{month:02d}-11 10:00", "zalo", activity.CONVERSATION, 5)
    count("2026-02-10 10:00", "telegram", activity.DISCLOSURE, 8)
    count("2026-03-10 10:00", "web", activity.REFERRAL + "police", 11, HT)
    count("2026-03-10 10:00", "web", activity.REFERRAL + "health", 2, KT)
    count("2026-04-10 10:00", "web", activity.USEFUL + "yes", 15)
    count("2026-04-10 10:00", "web", activity.USEFUL + "no", 5)
    add_cases(*[CaseSpec(f"2026-0{m}-0{d} 08:00", HT, "counselled", ack_minutes=m + d, follow_up="" if d == 1 else "helped",
                         resident="helped") for m in (1, 2, 3) for d in (1, 2)],
              CaseSpec("2026-04-01 08:00", BD, "unreachable"))
    add_campaign(1, "2026-03-01 08:00", "2026-02-20 08:00", taps=12, deliveries={
        ("telegram", "sent"): 30, ("zalo", "sent"): 10, ("zalo", "failed"): 5})
    for number, score in enumerate((5, 4, 3, 5, 3)):
        add_attempt("hieu_luat", f"s{number}", "2026-05-02 08:00", "2026-05-02 08:05", score)
    add_attempt("hieu_luat", "s9", "2026-05-03 08:00")
    add_place("ht", HT, True, date(2026, 1, 5))
    return compute(parse_period("2026-H1"), now=NOW)


def _docx_text(path) -> str:
    doc = Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_docx_is_a_bao_cao_with_the_figures_of_the_indicators(report, tmp_path):
    docx, xlsx = reports.write(report, tmp_path / "bc.docx")
    assert (docx.name, xlsx.name) == ("bc.docx", "bc.xlsx")
    doc = Document(str(docx))
    header = [cell.text for row in doc.tables[0].rows for cell in row.cells]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc" in header[1]
    assert header[2] == "Số: .../BC-..."
    assert header[3] == "Hương Trà, ngày ... tháng ... năm 2026"
    text = _docx_text(docx)
    for heading in ("BÁO CÁO", "I. KẾT QUẢ THỰC HIỆN", "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "III. TỒN TẠI, HẠN CHẾ",
                    "IV. ĐỀ XUẤT, KIẾN NGHỊ", "6 tháng đầu năm 2026", "Trên đây là báo cáo"):
        assert heading in text
    assert "Trong kỳ có 112 cuộc trò chuyện với trợ lý và 8 lần người dùng kể về bạo lực" in text
    conversations = doc.tables[1]  # table 1 of the body
    assert [c.text for c in conversations.rows[-1].cells] == ["Tổng", "82", "0", "30", "112"]
    assert [c.text for c in conversations.rows[2].cells] == ["Tháng 2/2026", "<5", "0", "x", "8"]
    assert "chưa có dữ liệu" not in text  # indicators 10-12 are counted now
    assert "trong 6 trường hợp, cán bộ hoặc chính người dân cho biết đã được giúp đỡ: 100%" in text
    assert "có 1 đợt truyền thông được gửi đến 45 người đăng ký nhận tin; đã gửi được 40 tin; " \
           "người nhận đã bấm nút trong tin 12 lần" in text
    assert "6 lượt bắt đầu, 5 lượt hoàn thành, trong đó 0 lượt có mã dự thi; tỷ lệ câu trả lời đúng trung bình: 80%" in text
    follow_ups, campaigns, quiz = doc.tables[5], doc.tables[8], doc.tables[9]
    assert [c.text for c in follow_ups.rows[1].cells] == ["Đã được giúp đỡ", "6", "0", "0", "0", "6"]
    assert [c.text for c in campaigns.rows[-1].cells] == ["Tổng", "0", "30", "15", "45"]
    assert [c.text for c in campaigns.rows[2].cells] == ["Gửi không được", "0", "0", "5", "5"]
    assert [[c.text for c in row.cells] for row in quiz.rows][1:] == [
        ["Bắt đầu", "6", "6"], ["Hoàn thành", "5", "5"], ["Hoàn thành, có mã dự thi", "0", "0"]]
    assert "có 20 lượt trả lời; tỷ lệ trả lời “Có”: 75%" in text
    assert "hữu ích của câu trả lời" not in text  # no longer "no data"
    assert len(doc.inline_shapes) == 2  # two charts
    png = doc.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert Image.open(io.BytesIO(doc.part.related_parts[png].blob)).size[0] > 500
    assert "pseudonym" not in text and "sealed note" not in text  # no identity, no case notes
    targets = next(t for t in doc.tables if t.rows[0].cells[0].text == "TT")
    assert targets.rows[2].cells[2].text == "Không công bố (số nhỏ)"  # 6 helped of 7: the 1 would show
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_the_xlsx_has_the_same_figures(report, tmp_path):
    _docx, xlsx = reports.write(report, tmp_path / "bc.docx")
    book = load_workbook(xlsx)
    assert book.sheetnames[0] == "Thông tin"
    sheet = book[book.sheetnames[1]]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == [None, "Trang web", "Telegram", "Zalo", "Tổng"]
    assert rows[-1] == ["Tổng", 82, 0, 30, 112]  # numbers as numbers, for the office that adds them up
    assert rows[2] == ["Tháng 2/2026", "<5", 0, "x", 8]
    tables = [report.conversations, report.disclosures, report.referrals, report.cases.table, report.follow_ups,
              report.directory, report.usefulness, report.campaigns.table, report.quiz.table]
    assert len(book.sheetnames) == len(tables) + 2  # and the targets
    for table, name in zip(tables, book.sheetnames[1:]):
        shown = [[str(v) if v is not None else "" for v in r] for r in book[name].iter_rows(values_only=True)]
        assert shown == table.shown()
    referrals = [list(r) for r in book[book.sheetnames[3]].iter_rows(values_only=True)]
    assert ["Y tế", 0, "<5", 0, 0, "<5"] in referrals
    usefulness = [list(r) for r in book[book.sheetnames[7]].iter_rows(values_only=True)]
    assert usefulness[1:] == [["Có", 15, 0, 0, 15], ["Chưa", 5, 0, 0, 5], ["Tổng", 20, 0, 0, 20]]
    campaigns = [list(r) for r in book[book.sheetnames[8]].iter_rows(values_only=True)]
    assert campaigns[1] == ["Đã gửi", 0, 30, 10, 40] and campaigns[-1] == ["Tổng", 0, 30, 15, 45]
    assert [list(r) for r in book[book.sheetnames[9]].iter_rows(values_only=True)][2] == ["Hoàn thành", 5, 5]
    assert book["Chỉ tiêu"]["C3"].value == "Không công bố (số nhỏ)"


def test_the_cli_writes_both_files_for_one_unit(report, tmp_path, capsys):
    out = tmp_path / "kim-tra.docx"
    assert cli.main(["report", "--period", "2026-H1", "--unit", "Kim Trà", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert "PHƯỜNG KIM TRÀ" in _docx_text(out) and "Số: .../BC-UBND" in _docx_text(out)
    assert out.with_suffix(".xlsx").exists()


@pytest.mark.parametrize("argv, message", [
    (["--period", "2026-H3"], "period must be"),
    (["--period", "2026", "--unit", "Quận 1"], "unknown unit"),
    (["--period", "2099"], "has not begun"),
    (["--period", "2026", "--out", "/nonexistent-folder/bc.docx"], "does not exist"),
    (["--period", "2026", "--out", "bc.pdf"], "must name a .docx"),
])
def test_bad_input_is_refused_in_english_and_nothing_is_written(db_url, tmp_path, capsys, argv, message):
    if "--out" not in argv:
        argv = argv + ["--out", str(tmp_path / "bc.docx")]
    assert cli.main(["report", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and "nothing was written" in err
    assert list(tmp_path.glob("*.docx")) == list(tmp_path.glob("*.xlsx")) == []


def test_a_failure_while_writing_leaves_no_half_written_file(report, tmp_path, monkeypatch):
    (tmp_path / "bc.docx").write_bytes(b"the previous report")
    monkeypatch.setattr(reports.workbook, "render", lambda _report: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        reports.write(report, tmp_path / "bc.docx")
    assert (tmp_path / "bc.docx").read_bytes() == b"the previous report"
    assert not (tmp_path / "bc.xlsx").exists() and not list(tmp_path.glob(".bc.*"))


OFFICE = shutil.which("soffice") and shutil.which("pdftoppm")


@pytest.mark.skipif(not OFFICE, reason="LibreOffice (soffice) and poppler (pdftoppm) are not installed: make office")
def test_libreoffice_renders_page_one_as_a_real_page(report, tmp_path):
    docx, _ = reports.write(report, tmp_path / "bc.docx")
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"  # no clash with another soffice
    subprocess.run(["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
                   check=True, capture_output=True, timeout=180)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "bc.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    assert 0.68 < page.width / page.height < 0.74  # A4 portrait
    dark = sum(1 for value in page.getdata() if value < 128) / (page.width * page.height)
    assert 0.01 < dark < 0.5  # text and a table, not a blank or black page
    top = page.crop((0, 0, page.width, page.height // 8))
    assert top.getextrema()[0] < 100  # the header block is at the top of page 1
    assert indicators.SMALL == 5
