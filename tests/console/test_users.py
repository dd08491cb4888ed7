"""Admins manage accounts in the console: the list, disabling an account (its sessions end),
a new password (checked, lifts a lock); never themselves disabled; audited with their name."""

from __future__ import annotations

from datetime import timedelta

from bot.services import accounts
from bot.storage.db import session_scope
from bot.storage.models import Officer, utcnow
from tests.console.test_console import PASSWORD, audit_actions, console, user  # noqa: F401

NEW_PASSWORD = "một mật khẩu mới dài 2026"


async def test_an_admin_disables_an_account_and_sets_a_new_password(console):  # noqa: F811
    admin = user("quan.tri", "admin")
    officer = user("can.bo", "officer", "Phường Kim Trà")
    with session_scope() as session:
        session.get(Officer, officer).locked_until = utcnow() + timedelta(minutes=10)
    await console.sign_in("quan.tri")
    status, html = await console.get("/console/users")
    assert status == 200 and "can.bo" in html and "Tạm khóa do sai mật khẩu" in html
    assert f'/console/users/{admin}/disable' not in html  # not yourself

    page = f"/console/users/{officer}/reset"
    differ = await console.post(page, page, password=NEW_PASSWORD, again=NEW_PASSWORD + "x")
    assert differ.status == 400 and "khác nhau" in await differ.text()
    short = await console.post(page, page, password="ngắn", again="ngắn")
    assert short.status == 400
    assert (await console.post(page, page, password=NEW_PASSWORD, again=NEW_PASSWORD)).status == 303
    assert accounts.sign_in("can.bo", NEW_PASSWORD) is not None  # the lock is lifted too

    assert (await console.post(f"/console/users/{officer}/disable", "/console/users")).status == 303
    assert "Đã khóa tài khoản can.bo" in (await console.get("/console/users"))[1]
    assert accounts.sign_in("can.bo", NEW_PASSWORD) is None
    assert {"user_reset", "user_disable", "users_read"} <= set(audit_actions(f"officer:{admin}"))


async def test_only_admins_manage_accounts(console):  # noqa: F811
    coordinator = user("dieu.phoi", "coordinator")
    await console.sign_in("dieu.phoi")
    assert (await console.get("/console/users"))[0] == 403
    refused = await console.post(f"/console/users/{coordinator}/disable", "/console/cases")
    assert refused.status == 403
    with session_scope() as session:
        assert session.get(Officer, coordinator).active
