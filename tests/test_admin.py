"""The case API: officers see and act on their units' cases only, tokens expire and rotate,
failed sign-ins are audited and throttled (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.config import settings
from bot.gateway import create_app
from bot.services import roster
from bot.storage.db import session_scope
from bot.storage.models import AuditLog, Case, Officer, utcnow
from tests.e2e.conftest import free_port

ADMIN = "admin-token-0123456789"


async def api(db_url) -> TestClient:
    config = dataclasses.replace(settings(), rasa_port=free_port(), actions_port=free_port(), admin_token=ADMIN)
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    return client


def open_case(case_id: str, ward: str | None) -> None:
    with session_scope() as session:
        session.add(Case(id=case_id, sender=f"s-{case_id}", status="alerting", severity="critical",
                         category="danger_to_life", channel="web", ward=ward, created_at=utcnow(),
                         updated_at=utcnow(), rung=0))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_an_officer_sees_and_takes_only_their_units_cases(db_url):
    _, kim_tra = roster.add_officer("Cán bộ Kim Trà", "police", "officer", "Kim Trà")
    _, coordinator = roster.add_officer("Điều phối", "coordination", "coordinator", "Hương Trà")
    open_case("KT000001", "Phường Kim Trà")
    open_case("BD000001", "Xã Bình Điền")
    open_case("XX000001", None)  # unit not known: everyone on duty was alerted
    client = await api(db_url)
    try:
        listed = {c["id"] for c in await (await client.get("/api/cases", headers=bearer(kim_tra))).json()}
        other = await client.get("/api/cases/BD000001", headers=bearer(kim_tra))
        take_other = await client.post("/api/cases/BD000001/ack", headers=bearer(kim_tra))
        take_own = await client.post("/api/cases/KT000001/ack", headers=bearer(kim_tra))
        taken = await take_own.json()
        everything = {c["id"] for c in await (await client.get("/api/cases", headers=bearer(coordinator))).json()}
        admin_all = {c["id"] for c in await (await client.get("/api/cases", headers=bearer(ADMIN))).json()}
    finally:
        await client.close()
    assert listed == {"KT000001", "XX000001"}
    assert other.status == 404 and take_other.status == 404
    assert take_own.status == 200 and taken["result"] == "assigned"
    assert everything == admin_all == {"KT000001", "BD000001", "XX000001"}


async def test_a_case_is_closed_by_its_holder_a_coordinator_or_the_admin(db_url):
    holder_id, holder = roster.add_officer("Cán bộ A", "police", "officer", "*")
    _, colleague = roster.add_officer("Cán bộ B", "police", "officer", "*")
    _, coordinator = roster.add_officer("Điều phối", "coordination", "coordinator", "*")
    for case_id in ("C0000001", "C0000002"):
        open_case(case_id, "Phường Hương Trà")
    client = await api(db_url)
    try:
        await client.post("/api/cases/C0000001/ack", headers=bearer(holder))
        by_colleague = await client.post("/api/cases/C0000001/close", json={"outcome": "counselled"}, headers=bearer(colleague))
        by_holder = await client.post("/api/cases/C0000001/close", json={"outcome": "counselled"}, headers=bearer(holder))
        by_coordinator = await client.post("/api/cases/C0000002/close", json={"outcome": "false_alarm"},
                                           headers=bearer(coordinator))
    finally:
        await client.close()
    assert by_colleague.status == 403
    assert by_holder.status == 200 and by_coordinator.status == 200


async def test_tokens_expire_and_rotation_stops_the_old_one(db_url):
    officer_id, old = roster.add_officer("Cán bộ A", "police", "officer", "*")
    client = await api(db_url)
    try:
        assert (await client.get("/api/cases", headers=bearer(old))).status == 200
        new, expires = roster.rotate_token(officer_id, days=30)
        assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)
        assert (await client.get("/api/cases", headers=bearer(old))).status == 401
        assert (await client.get("/api/cases", headers=bearer(new))).status == 200
        with session_scope() as session:
            session.get(Officer, officer_id).token_expires_at = utcnow() - timedelta(seconds=1)
        assert (await client.get("/api/cases", headers=bearer(new))).status == 401
    finally:
        await client.close()


async def test_failed_sign_ins_are_audited_and_an_address_that_keeps_failing_is_refused(db_url):
    _, token = roster.add_officer("Cán bộ A", "police", "officer", "*")
    client = await api(db_url)
    try:
        statuses = [(await client.get("/api/cases", headers=bearer(f"guess-{n}"))).status for n in range(12)]
        good_but_throttled = await client.get("/api/cases", headers=bearer(token))
    finally:
        await client.close()
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    assert good_but_throttled.status == 429
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "auth_failed")) == 10


@pytest.mark.redis
async def test_failed_sign_ins_from_one_address_count_on_every_gateway(db_url, shared_gateways):
    a, b = await api(db_url), await api(db_url)
    try:
        statuses = [(await (a, b)[n % 2].get("/api/cases", headers=bearer(f"guess-{n}"))).status for n in range(12)]
    finally:
        await a.close()
        await b.close()
    assert statuses == [401] * 10 + [429] * 2
