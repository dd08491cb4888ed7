"""The web console (/console/) through the real gateway app: sign-in, lockout, cookies,
CSRF, security headers, idle timeout, unit scoping, officials kept out of cases, and case work
that goes through the officer desk (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import settings
from bot.gateway import create_app
from bot.services import accounts, escalation
from bot.storage.crypto import pseudonym
from bot.storage.db import session_scope
from bot.storage.models import AuditLog, Case, CaseEvent, ConsoleSession, Officer, utcnow
from tests.e2e.conftest import free_port

PASSWORD = "mật khẩu thử nghiệm 42"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console:
    def __init__(self, client: TestClient):
        self.client = client

    async def get(self, path: str, **kwargs) -> tuple[int, str]:
        response = await self.client.get(path, allow_redirects=False, **kwargs)
        return response.status, await response.text()

    async def csrf(self, path: str) -> str:
        status, html = await self.get(path)
        assert status == 200, html
        return CSRF.search(html).group(1)

    async def sign_in(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        token = await self.csrf("/console/login")
        return await self.client.post("/console/login", data={"csrf": token, "username": username, "password": password},
                                      allow_redirects=False)

    async def post(self, path: str, page: str, **fields) -> aiohttp.ClientResponse:
        token = await self.csrf(page)
        return await self.client.post(path, data={"csrf": token, **fields}, allow_redirects=False)


async def open_console() -> Console:
    """A gateway app and a browser (its own cookies) on its console."""
    config = dataclasses.replace(settings(), rasa_port=free_port(), actions_port=free_port())
    server = TestServer(create_app(config))
    await server.start_server()
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    client = TestClient(server, cookie_jar=jar)
    await client.start_server()
    return Console(client)


@pytest.fixture
async def console(db_url):
    opened = await open_console()
    try:
        yield opened
    finally:
        await opened.client.close()


def user(username: str, role: str, units: str | None = None) -> int:
    return accounts.add_user(username, role, PASSWORD, units=units)


def open_case(case_id: str, ward: str | None, severity: str = "critical", minutes_ago: int = 1,
              channel: str = "web") -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    with session_scope() as session:
        session.add(Case(id=case_id, sender=pseudonym("web", f"resident-{case_id}"), status="alerting",
                         severity=severity, category="danger_to_life", channel=channel, ward=ward, created_at=at,
                         updated_at=at, rung=0, reply_to=escalation._sealer().seal(f"resident-{case_id}".encode())))
        session.add(CaseEvent(case_id=case_id, kind="opened", at=at))


def audit_actions(actor: str | None = None) -> list[str]:
    with session_scope() as session:
        query = select(AuditLog.action).order_by(AuditLog.id)
        if actor:
            query = query.where(AuditLog.actor == actor)
        return [a for (a,) in session.execute(query)]


async def test_sign_in_sets_a_strict_session_cookie_and_the_pages_are_locked_down(console):
    user("can.bo", "officer", "*")
    login = await console.client.get("/console/login")
    for name, value in {
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    }.items():
        assert login.headers[name] == value
    csp = login.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp and "script-src 'none'" in csp
    html = await login.text()
    assert '<html lang="vi">' in html and 'name="viewport"' in html and "<script" not in html

    signed = await console.sign_in("can.bo")
    assert signed.status == 303 and signed.headers["Location"] == "/console/"
    cookie = next(v for v in signed.headers.getall("Set-Cookie") if v.startswith("gbv_console="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= flags
    with session_scope() as session:
        stored = session.scalar(select(ConsoleSession.key))
    assert stored and stored not in cookie  # only a digest of the cookie is stored
    status, _ = await console.get("/console/cases")
    assert status == 200
    assert audit_actions()[-2:] == ["sign_in", "list"]


async def test_a_wrong_password_or_name_is_refused_the_same_way(console):
    user("can.bo", "officer", "*")
    wrong = await console.sign_in("can.bo", "không phải mật khẩu")
    unknown = await console.sign_in("ai.do", PASSWORD)
    assert wrong.status == unknown.status == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in await wrong.text()
    assert (await wrong.text()).count("không đúng") == (await unknown.text()).count("không đúng")
    status, _ = await console.get("/console/cases")
    assert status == 303  # not signed in


async def test_five_failures_lock_the_account_even_for_the_right_password(console):
    officer_id = user("can.bo", "officer", "*")
    for _ in range(5):
        assert (await console.sign_in("can.bo", "sai mật khẩu nữa rồi")).status == 401
    assert (await console.sign_in("can.bo")).status == 401
    with session_scope() as session:
        assert session.get(Officer, officer_id).locked_until is not None
    assert "locked" in audit_actions(f"officer:{officer_id}")
    assert "sign_in_locked" in audit_actions(f"officer:{officer_id}")


@pytest.mark.redis
async def test_failed_sign_ins_from_one_address_count_on_every_gateway(db_url, shared_gateways):
    a, b = await open_console(), await open_console()
    try:
        statuses = [(await (a, b)[n % 2].sign_in(f"ai.do.{n}", PASSWORD)).status for n in range(21)]
    finally:
        await a.client.close()
        await b.client.close()
    assert statuses == [401] * 20 + [429]


async def test_forms_without_the_right_csrf_token_are_refused(console):
    user("can.bo", "officer", "*")
    open_case("CA000001", "Phường Kim Trà")
    token = await console.csrf("/console/login")
    forged_login = await console.client.post("/console/login", data={
        "csrf": "x" * len(token), "username": "can.bo", "password": PASSWORD}, allow_redirects=False)
    assert forged_login.status == 403
    assert (await console.sign_in("can.bo")).status == 303
    no_token = await console.client.post("/console/cases/CA000001/ack", data={}, allow_redirects=False)
    wrong = await console.client.post("/console/cases/CA000001/ack", data={"csrf": "forged"}, allow_redirects=False)
    other_site = await console.client.post(
        "/console/cases/CA000001/ack", data={"csrf": await console.csrf("/console/cases/CA000001")},
        headers={"Origin": "https://evil.example"}, allow_redirects=False)
    cross_site = await console.client.post(
        "/console/cases/CA000001/ack", data={"csrf": await console.csrf("/console/cases/CA000001")},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"}, allow_redirects=False)
    assert no_token.status == wrong.status == other_site.status == cross_site.status == 403
    with session_scope() as session:
        assert session.get(Case, "CA000001").status == "alerting"
    assert audit_actions().count("csrf_refused") == 5


async def test_a_form_that_is_not_utf8_is_refused_not_a_server_error(console):
    user("can.bo", "officer", "*")
    await console.csrf("/console/login")  # the sign-in cookie is set
    body = b"csrf=%80&username=\x80\xff&password=x"
    response = await console.client.post("/console/login", data=body, allow_redirects=False,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 403
    assert "csrf_refused" in audit_actions()


async def test_an_idle_session_ends_and_the_auto_refresh_does_not_keep_it_alive(console):
    user("can.bo", "officer", "*")
    await console.sign_in("can.bo")
    assert (await console.get("/console/cases?auto=1"))[0] == 200
    with session_scope() as session:
        row = session.scalar(select(ConsoleSession))
        row.seen_at = utcnow() - timedelta(minutes=31)
    # the queue's own refresh does not count as activity
    status, _ = await console.get("/console/cases?auto=1")
    assert status == 303
    response = await console.client.get("/console/cases", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/console/login")
    with session_scope() as session:
        assert session.scalar(select(ConsoleSession)) is None


async def test_an_officer_sees_only_their_units_cases_in_severity_then_age_order(console):
    user("can.bo.kimtra", "officer", "Phường Kim Trà")
    user("dieu.phoi", "coordinator")
    open_case("KT000001", "Phường Kim Trà", severity="high", minutes_ago=50)
    open_case("KT000002", "Phường Kim Trà", severity="critical", minutes_ago=5)
    open_case("KT000003", "Phường Kim Trà", severity="critical", minutes_ago=30)
    open_case("BD000001", "Xã Bình Điền")
    await console.sign_in("can.bo.kimtra")
    status, html = await console.get("/console/cases")
    assert status == 200
    assert re.findall(r"Ca ([A-Z0-9]{8})</strong>", html) == ["KT000003", "KT000002", "KT000001"]
    assert 'content="30; url=/console/cases?auto=1"' in html
    other_status, other = await console.get("/console/cases/BD000001")
    assert other_status == 404 and "Xã Bình Điền" not in other
    take_other = await console.post("/console/cases/BD000001/ack", "/console/cases", )
    assert take_other.status == 404
    missing_status, _ = await console.get("/console/cases/NOSUCH01")
    assert missing_status == 404
    assert "read_refused" in audit_actions()

    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    await console.sign_in("dieu.phoi")
    _, everything = await console.get("/console/cases")
    assert "BD000001" in everything and "KT000001" in everything


async def test_an_official_never_opens_case_content(console):
    official = user("lanh.dao", "official")
    open_case("KT000001", "Phường Kim Trà")
    await console.sign_in("lanh.dao")
    status, home = await console.get("/console/")
    assert status == 200 and "Nội dung từng ca không hiển thị" in home
    for path in ("/console/cases", "/console/cases/KT000001", "/console/audit"):
        status, html = await console.get(path)
        assert status == 403 and "KT000001" not in html and "Nguy hiểm" not in html
    acted = await console.post("/console/cases/KT000001/ack", "/console/")
    assert acted.status == 403
    with session_scope() as session:
        assert session.get(Case, "KT000001").status == "alerting"
    assert audit_actions(f"officer:{official}").count("console_refused") == 4


async def test_acknowledge_write_and_close_go_through_the_desk(console, monkeypatch):
    officer_id = user("can.bo", "officer", "Phường Kim Trà")
    open_case("KT000001", "Phường Kim Trà")
    seen = []
    from bot.services.desk import OfficerDesk

    original = OfficerDesk.handle

    async def spy(self, officer, event):
        seen.append((officer, type(event).__name__))
        return await original(self, officer, event)

    monkeypatch.setattr(OfficerDesk, "handle", spy)
    await console.sign_in("can.bo")
    page = "/console/cases/KT000001"
    _, before = await console.get(page)
    assert "Nhận xử lý" in before and 'id="text"' not in before and 'id="outcome"' not in before

    assert (await console.post(f"{page}/ack", page)).status == 303
    _, taken = await console.get(page)
    assert "Bạn đã nhận ca." in taken and 'id="text"' in taken and 'id="outcome"' in taken

    assert (await console.post(f"{page}/write", page, text="Chị đang ở đâu? Tôi gọi lại được không?")).status == 303
    _, written = await console.get(page)
    assert "Đã chuyển tin nhắn" in written and "Chị đang ở đâu? Tôi gọi lại được không?" in written
    service = escalation._service
    sender = pseudonym("web", "resident-KT000001")
    assert any("Cán bộ trực: Chị đang ở đâu?" in note.text for note in await service.pending_for_web(sender))

    await service.resident_message(sender, "em đang ở nhà hàng xóm")
    _, answered = await console.get(page)
    assert "em đang ở nhà hàng xóm" in answered

    assert (await console.post(f"{page}/close", page, outcome="referred_police", note="đã báo công an phường")).status == 303
    _, closed = await console.get(page)
    assert "Đã đóng ca." in closed and "Chuyển công an" in closed
    assert seen == [(officer_id, "Take"), (officer_id, "Write"), (officer_id, "Close")]
    with session_scope() as session:
        case = session.get(Case, "KT000001")
        assert case.status == "closed" and case.assigned_officer_id == officer_id
        assert "công an phường".encode() not in case.note  # sealed
        texts = [e.text for e in session.scalars(select(CaseEvent).where(CaseEvent.text.isnot(None)))]
    assert len(texts) == 2 and all("nhà".encode() not in t and "Chị".encode() not in t for t in texts)
    assert {"acknowledge", "relay_out", "close", "read"} <= set(audit_actions(f"officer:{officer_id}"))


async def test_a_colleague_cannot_write_or_close_a_case_they_do_not_hold(console):
    user("can.bo.a", "officer", "*")
    user("can.bo.b", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    page = "/console/cases/KT000001"
    await console.sign_in("can.bo.a")
    await console.post(f"{page}/ack", page)
    await console.client.post("/console/logout", data={"csrf": await console.csrf(page)})
    await console.sign_in("can.bo.b")
    assert (await console.post(f"{page}/close", page, outcome="false_alarm")).status == 303
    _, html = await console.get(page)
    assert "Chỉ cán bộ đang giữ ca" in html
    await console.post(f"{page}/write", page, text="xin chào")
    with session_scope() as session:
        assert session.get(Case, "KT000001").status == "acknowledged"
        assert session.scalar(select(CaseEvent).where(CaseEvent.kind == "relay_out")) is None


async def test_relayed_messages_are_erased_with_the_residents_data(console):
    user("can.bo", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    page = "/console/cases/KT000001"
    await console.sign_in("can.bo")
    await console.post(f"{page}/ack", page)
    await console.post(f"{page}/write", page, text="Chị an toàn chưa?")
    await escalation._service.resident_left(pseudonym("web", "resident-KT000001"))
    assert escalation.relayed_messages("KT000001") == []
    _, html = await console.get(page)
    assert "Chị an toàn chưa?" not in html


async def test_the_admin_reads_the_audit_log(console):
    user("quan.tri", "admin")
    await console.sign_in("quan.tri")
    status, html = await console.get("/console/audit")
    assert status == 200 and "sign_in" in html and "<caption>" in html


async def test_relayed_messages_go_when_a_closed_case_is_anonymised(console):
    user("can.bo", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    page = "/console/cases/KT000001"
    await console.sign_in("can.bo")
    await console.post(f"{page}/ack", page)
    await console.post(f"{page}/write", page, text="Chị an toàn chưa?")
    await console.post(f"{page}/close", page, outcome="counselled")
    assert [kind for _, kind, _ in escalation.relayed_messages("KT000001")] == ["relay_out"]
    assert escalation.anonymise_closed(90, now=utcnow() + timedelta(days=91)) == 1
    assert escalation.relayed_messages("KT000001") == []
