"""The console's reports page: officials and admins choose a period and unit and download the
DOCX or XLSX (CSRF-checked, audited); officers cannot; bad choices get the form back."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook

from bot.services import accounts
from tests.console.test_console import PASSWORD, audit_actions, console  # noqa: F401  (fixture)
from tests.services.reports.synthetic import HT


async def test_an_official_downloads_the_report_and_its_figures(console):  # noqa: F811
    accounts.add_user("lanh.dao", "official", PASSWORD)
    await console.sign_in("lanh.dao")
    status, html = await console.get("/console/")
    assert status == 200 and 'href="/console/reports"' in html
    status, html = await console.get("/console/reports")
    assert status == 200 and '<option value="2025-H1">6 tháng đầu năm 2025</option>' in html
    response = await console.post("/console/reports", "/console/reports", period="2025", unit=HT, format="docx")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="bao-cao-2025-phuong-huong-tra.docx"'
    text = "\n".join(p.text for p in Document(io.BytesIO(await response.read())).paragraphs)
    assert "BÁO CÁO" in text and "năm 2025 trên địa bàn Phường Hương Trà" in text
    response = await console.post("/console/reports", "/console/reports", period="2025-H1", unit="", format="xlsx")
    assert response.status == 200 and response.content_type.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(await response.read())).sheetnames[0] == "Thông tin"
    assert audit_actions().count("report") == 2


async def test_a_bad_choice_gets_the_form_back_and_nothing_is_downloaded(console):  # noqa: F811
    accounts.add_user("quan.tri", "admin", PASSWORD)
    await console.sign_in("quan.tri")
    for fields in ({"period": "2025-H3", "unit": "", "format": "docx"},
                   {"period": "2025", "unit": "Quận 1", "format": "docx"},
                   {"period": "2025", "unit": "", "format": "pdf"},
                   {"period": "2099", "unit": "", "format": "xlsx"}):
        response = await console.post("/console/reports", "/console/reports", **fields)
        assert response.status == 400 and "Content-Disposition" not in response.headers
        assert "Hãy chọn kỳ báo cáo" in await response.text()
    assert "report" not in audit_actions()


async def test_officers_cannot_and_a_form_without_its_token_is_refused(console):  # noqa: F811
    accounts.add_user("can.bo", "officer", PASSWORD, units="*")
    await console.sign_in("can.bo")
    assert (await console.get("/console/reports"))[0] == 403
    accounts.add_user("lanh.dao", "official", PASSWORD)
    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    await console.sign_in("lanh.dao")
    response = await console.client.post("/console/reports", data={"period": "2025", "unit": "", "format": "docx"},
                                         allow_redirects=False)
    assert response.status == 403 and "Content-Disposition" not in response.headers
    assert "csrf_refused" in audit_actions()
