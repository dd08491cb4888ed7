"""The directory in the web console: who may use it, search, the form (new places start
unverified; a changed phone number takes the verification away), "verify now", what is due,
research leads made into places, CSV import all-or-nothing and export; every change audited."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp

from bot.services import directory
from bot.services.directory import leads
from bot.storage.db import session_scope
from bot.storage.models import Place
from tests.console.test_console import audit_actions, console, user  # noqa: F401
from tests.services.test_directory import COLUMNS, row

FORM = {"name": "Nhà văn hóa tổ 3", "kind": "trusted_address", "unit": "tu ha", "address": "12 Lý Thái Tổ",
        "phones": "0234 000 777", "hours": "Mon-Fri 07:30-17:00", "lat": "16.52", "lon": "107.48"}


def csv_text(rows) -> str:
    lines = [",".join(COLUMNS)] + [",".join(f'"{r.get(c, "")}"' for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


async def upload(console, text: str) -> aiohttp.ClientResponse:  # noqa: F811
    token = await console.csrf("/console/places")
    data = aiohttp.FormData()
    data.add_field("csrf", token)
    data.add_field("file", text.encode(), filename="places.csv", content_type="text/csv")
    return await console.client.post("/console/places/import", data=data, allow_redirects=False)


async def test_officers_do_not_edit_the_directory_officials_do(console):  # noqa: F811
    user("can.bo", "officer", "*")
    await console.sign_in("can.bo")
    assert (await console.get("/console/places"))[0] == 403
    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    user("lanh.dao", "official")
    await console.sign_in("lanh.dao")
    status, html = await console.get("/console/places")
    assert status == 200 and "Danh bạ nơi hỗ trợ" in html


async def test_a_new_place_starts_unverified_and_reaches_residents_once_verified(console, monkeypatch):  # noqa: F811
    monkeypatch.setattr(directory.index, "_production", lambda: True)
    official = user("lanh.dao", "official")
    await console.sign_in("lanh.dao")
    created = await console.post("/console/places/new", "/console/places/new", key="tu-ha-nha-van-hoa", **FORM)
    assert created.status == 303 and created.headers["Location"] == "/console/places/tu-ha-nha-van-hoa"
    _, page = await console.get("/console/places/tu-ha-nha-van-hoa")
    assert "chưa hiện cho người dân" in page and "Chưa xác minh" in page
    assert directory.nearest(unit="tu ha", kind="shelter") == []

    bad = await console.post("/console/places/tu-ha-nha-van-hoa", "/console/places/tu-ha-nha-van-hoa",
                             **FORM | {"phones": "gọi chị Lan"})
    assert bad.status == 400 and "is not a phone number" in await bad.text()

    page_path = "/console/places/tu-ha-nha-van-hoa"
    refused = await console.post(page_path + "/verify", page_path, how="called", source="")
    assert refused.status == 303
    assert "Chưa ghi nhận xác minh" in (await console.get(page_path))[1]
    await console.post(page_path + "/verify", page_path, how="called", source="Tổ trưởng tổ 3, gọi lúc 9 giờ",
                       date=date.today().isoformat())
    _, verified = await console.get(page_path)
    assert "Đã ghi nhận xác minh" in verified and "Gọi điện xác nhận" in verified and f"officer:{official}" in verified
    assert [f.entry.key for f in directory.nearest(unit="tu ha", kind="shelter")] == ["tu-ha-nha-van-hoa"]

    await console.post(page_path, page_path, **FORM | {"phones": "0234 000 778"})
    assert directory.nearest(unit="tu ha", kind="shelter") == []  # a new number must be checked again
    actions = audit_actions(f"officer:{official}")
    assert {"place_create", "place_verify", "place_edit", "place_unverified"} <= set(actions)


async def test_the_due_list_shows_overdue_places_unverified_ones_and_research_leads(console):  # noqa: F811
    leads.load()
    long_ago = date.today() - timedelta(days=200)
    with session_scope() as session:
        session.add(Place(key="old-check", name="Nơi kiểm tra đã lâu", kind="police", unit="Phường Kim Trà",
                          verified=True, source="x", last_verified=long_ago))
        session.add(Place(key="fresh-check", name="Nơi mới kiểm tra", kind="police", unit="Phường Kim Trà",
                          verified=True, source="x", last_verified=date.today()))
    user("dieu.phoi", "coordinator")
    await console.sign_in("dieu.phoi")
    status, html = await console.get("/console/places/due")
    assert status == 200
    assert "Nơi kiểm tra đã lâu" in html and "quá hạn" in html and "Nơi mới kiểm tra" not in html
    assert "Công an phường Kim Trà" in html  # a research lead
    lead = next(lead for lead in leads.open_leads() if lead.name == "Công an phường Kim Trà")
    _, form = await console.get(f"/console/places/new?lead={lead.id}")
    assert 'value="Công an phường Kim Trà"' in form and "Đầu mối từ khảo sát" in form
    made = await console.post("/console/places/new", f"/console/places/new?lead={lead.id}", lead=str(lead.id),
                              key="kim-tra-cong-an", **FORM | {"name": "Công an phường Kim Trà", "kind": "police",
                                                                "unit": "Phường Kim Trà"})
    assert made.status == 303
    assert "Công an phường Kim Trà" not in [lead.name for lead in leads.open_leads()]


async def test_a_csv_import_is_all_or_nothing_and_the_export_round_trips(console):  # noqa: F811
    user("quan.tri", "admin")
    await console.sign_in("quan.tri")
    bad = await upload(console, csv_text([row("good-one"), row("bad-kind", kind="nha_tro")]))
    assert bad.status == 400 and "line 3: kind: unknown kind" in await bad.text()
    assert directory.list_places() == []
    good = await upload(console, csv_text([row("good-one"), row("good-two")]))
    assert good.status == 303
    assert "2 nơi mới" in (await console.get("/console/places"))[1]
    response = await console.client.get("/console/places/export")
    assert response.headers["Content-Disposition"].startswith("attachment")
    exported = await response.text()
    assert exported.splitlines()[0] == ",".join(COLUMNS) and "good-two" in exported
    _, found = await console.get("/console/places?q=noi good-two")
    assert "good-two" in found and "good-one" not in found
    assert {"places_import_refused", "places_import", "places_export"} <= set(audit_actions())


async def test_a_file_over_a_megabyte_is_refused(console):  # noqa: F811
    user("quan.tri", "admin")
    await console.sign_in("quan.tri")
    response = await upload(console, "x" * (1024 * 1024 + 10))
    assert response.status == 413
