"""The optional second factor of coordinators and admins: RFC 6238 codes, asked after the
password; a wrong or reused code is refused and counts towards the lock; the secret is sealed."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlparse

import pytest

from bot.services import accounts, totp
from bot.storage.db import session_scope
from bot.storage.models import Officer
from tests.console.test_console import CSRF, audit_actions, console, user  # noqa: F401


def test_codes_match_the_rfc_6238_test_vectors():
    secret = b"12345678901234567890"
    # RFC 6238 appendix B (SHA1), last six of the eight digits.
    for seconds, expected in ((59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")):
        assert totp.code(secret, seconds // 30) == expected
    assert totp.matching_step(secret, "287082", now=59) == 1
    assert totp.matching_step(secret, "287082", now=59 + 30) == 1  # one step of clock drift
    assert totp.matching_step(secret, "287082", now=59 + 90) is None
    assert totp.matching_step(secret, "287082", now=59, after=1) is None  # used already


def secret_of(uri: str) -> bytes:
    key = parse_qs(urlparse(uri).query)["secret"][0]
    return base64.b32decode(key + "=" * (-len(key) % 8))


def test_only_coordinators_and_admins_set_a_second_factor_and_it_is_sealed(db_url):
    user("can.bo", "officer", "*")
    user("quan.tri", "admin")
    with pytest.raises(accounts.AccountError):
        accounts.set_totp("can.bo")
    uri = accounts.set_totp("quan.tri")
    assert uri.startswith("otpauth://totp/Noi%20tin%20cay%3Aquan.tri?secret=")
    with session_scope() as session:
        stored = session.query(Officer).filter_by(username="quan.tri").one().totp_secret
    assert secret_of(uri) not in stored


async def test_sign_in_asks_for_the_code_after_the_password(console):  # noqa: F811
    admin = user("quan.tri", "admin")
    secret = secret_of(accounts.set_totp("quan.tri"))
    first = await console.sign_in("quan.tri")
    html = await first.text()
    assert first.status == 200 and "Mã xác thực" in html and "gbv_console=" not in first.headers.get("Set-Cookie", "")
    assert (await console.get("/console/audit"))[0] == 303  # not signed in yet
    token = CSRF.search(html).group(1)
    wrong = await console.client.post("/console/login/code", data={"csrf": token, "code": "000000"}, allow_redirects=False)
    assert wrong.status == 401 and "Mã không đúng" in await wrong.text()
    right = await console.client.post("/console/login/code", data={"csrf": token, "code": totp.code(secret, totp.step_now())},
                                      allow_redirects=False)
    assert right.status == 303
    assert (await console.get("/console/audit"))[0] == 200
    assert audit_actions(f"officer:{admin}")[:4] == ["sign_in_password", "totp_failed", "sign_in", "audit_read"]


async def test_a_code_is_used_once_and_the_code_step_needs_the_password_first(console):  # noqa: F811
    user("dieu.phoi", "coordinator")
    secret = secret_of(accounts.set_totp("dieu.phoi"))
    html = await (await console.sign_in("dieu.phoi")).text()
    code = totp.code(secret, totp.step_now())
    token = CSRF.search(html).group(1)
    assert (await console.client.post("/console/login/code", data={"csrf": token, "code": code},
                                      allow_redirects=False)).status == 303
    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    html = await (await console.sign_in("dieu.phoi")).text()
    again = await console.client.post("/console/login/code", data={"csrf": CSRF.search(html).group(1), "code": code},
                                      allow_redirects=False)
    assert again.status == 401  # the same code twice
    console.client.session.cookie_jar.clear(lambda cookie: cookie.key == "gbv_console_code")
    token = await console.csrf("/console/login")
    skipped = await console.client.post("/console/login/code", data={"csrf": token, "code": totp.code(secret, totp.step_now() + 1)},
                                        allow_redirects=False)
    assert skipped.status == 401 and re.search("hết hạn", await skipped.text())
