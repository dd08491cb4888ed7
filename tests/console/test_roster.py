"""The duty roster in the console: who is on duty now, a week's calendar with weekly shifts
and dated overrides, CSV import (all or nothing) and export, and test alerts that say who
cannot be reached — through the real Telegram channel, against the fake Bot API."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import settings
from bot.gateway import create_app
from bot.geo.hours import local_time
from bot.services import roster
from bot.storage.db import session_scope
from bot.storage.models import Shift
from tests.channels.conftest import telegram_api, telegram_settings  # noqa: F401
from tests.console.test_console import Console, audit_actions, console, user  # noqa: F401
from tests.e2e.conftest import free_port


@pytest.fixture
async def console_with_telegram(db_url, telegram_api):  # noqa: F811
    config = dataclasses.replace(settings(), rasa_port=free_port(), actions_port=free_port(),
                                 **telegram_settings(telegram_api))
    server = TestServer(create_app(config))
    await server.start_server()
    client = TestClient(server, cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/"))))
    await client.start_server()
    try:
        yield Console(client), telegram_api
    finally:
        await client.close()


async def upload(console, text: str) -> aiohttp.ClientResponse:  # noqa: F811
    data = aiohttp.FormData()
    data.add_field("csrf", await console.csrf("/console/roster"))
    data.add_field("file", text.encode(), filename="roster.csv", content_type="text/csv")
    return await console.client.post("/console/roster/import", data=data, allow_redirects=False)


async def test_the_calendar_shows_weekly_shifts_overrides_and_who_is_on_duty_now(console, staff):  # noqa: F811
    today = local_time().date()
    tomorrow = today + timedelta(days=1)
    with session_scope() as session:
        for weekday in range(7):
            session.add(Shift(officer_id=staff["day"], weekday=weekday, start="00:00", end="24:00"))
        session.add(Shift(officer_id=staff["day"], day=tomorrow, start="00:00", end="24:00", off=True))
        session.add(Shift(officer_id=staff["night"], day=tomorrow, start="19:00", end="07:00"))
    user("dieu.phoi", "coordinator")
    await console.sign_in("dieu.phoi")
    status, html = await console.get("/console/roster")
    assert status == 200
    now_section = html.split('id="now"')[1].split("</section>")[0]
    assert "Cán bộ A" in now_section and "Cán bộ B" not in now_section
    row_a = html.split("Cán bộ A<br>")[1].split("</tr>")[0]
    assert row_a.count("00:00–24:00") == 6 and "Nghỉ" in row_a  # tomorrow's day off replaces the weekly shift
    row_b = html.split("Cán bộ B<br>")[1].split("</tr>")[0]
    assert "19:00–07:00" in row_b and row_b.count("Nghỉ") == 6
    assert "Luôn trực" in html.split("Trực ban<br>")[1].split("</tr>")[0]  # a desk without shifts


async def test_officers_and_officials_do_not_see_the_roster(console):  # noqa: F811
    user("lanh.dao", "official")
    await console.sign_in("lanh.dao")
    assert (await console.get("/console/roster"))[0] == 403


async def test_a_roster_import_is_all_or_nothing_and_the_export_round_trips(console, staff):  # noqa: F811
    user("quan.tri", "admin")
    await console.sign_in("quan.tri")
    header = "officer_id,weekday,date,start,end,off\n"
    bad = await upload(console, header + f"{staff['day']},Mon,,07:00,17:00,\n{staff['day']},Funday,,07:00,17:00,\n")
    assert bad.status == 400 and "line 3: weekday must be Mon-Sun" in await bad.text()
    with session_scope() as session:
        assert session.query(Shift).count() == 0
    good = header + f"{staff['day']},Mon,,07:00,17:00,\n{staff['night']},,2026-12-24,19:00,07:00,\n"
    assert (await upload(console, good)).status == 303
    response = await console.client.get("/console/roster/export")
    exported = await response.text()
    assert exported == header + f"{staff['day']},Mon,,07:00,17:00,\n{staff['night']},,2026-12-24,19:00,07:00,\n"
    assert {"roster_import_refused", "roster_import", "roster_export"} <= set(audit_actions())


async def test_test_alerts_say_who_cannot_be_reached(console_with_telegram, staff):
    console, fake = console_with_telegram  # noqa: F811
    no_telegram, _ = roster.add_officer("Cán bộ chưa có Telegram", "police", "officer", "*")
    fake.fail("sendMessage", "403", chat_id=1002, times=5)  # Cán bộ B never pressed Start
    user("dieu.phoi", "coordinator")
    await console.sign_in("dieu.phoi")
    await console.post(f"/console/roster/{staff['day']}/test", "/console/roster")
    _, html = await console.get("/console/roster")
    assert "Đã gửi cảnh báo thử đến Cán bộ A." in html
    await console.post("/console/roster/test", "/console/roster")
    _, html = await console.get("/console/roster")
    notice = html.split('class="flash"')[1].split("</p>")[0]
    assert "Không liên lạc được" in notice and "Cán bộ B (Telegram không chuyển được" in notice
    assert "Cán bộ chưa có Telegram (chưa đăng ký Telegram)" in notice and "Cán bộ A" not in notice
    assert sum("Kiểm tra kết nối" in m["text"] for m in fake.sent) >= 5
    assert (await console.post(f"/console/roster/{no_telegram + 100}/test", "/console/roster")).status == 404


async def test_without_telegram_configured_nobody_can_be_reached(console, staff):  # noqa: F811
    user("dieu.phoi", "coordinator")
    await console.sign_in("dieu.phoi")
    await console.post(f"/console/roster/{staff['day']}/test", "/console/roster")
    _, html = await console.get("/console/roster")
    assert "Cán bộ A (hệ thống chưa bật Telegram)" in html
