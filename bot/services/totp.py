"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, six digits), the
optional second sign-in factor of coordinators and admins, with the standard library only.
Any authenticator app reads the otpauth:// URI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6
DRIFT = 1  # steps accepted either side of now (a phone clock a little off)


def new_secret() -> bytes:
    return secrets.token_bytes(20)


def code(secret: bytes, step: int) -> str:
    """The code of one time step (RFC 4226 dynamic truncation)."""
    mac = hmac.new(secret, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10 ** DIGITS:0{DIGITS}d}"


def step_now(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: bytes, given: str, now: float | None = None, after: int | None = None) -> int | None:
    """The time step `given` is the code of (within DRIFT of now, later than `after`: a code
    is used once), or None. Compared in constant time."""
    given = (given or "").strip().replace(" ", "")
    if len(given) != DIGITS or not given.isdigit():
        return None
    current = step_now(now)
    found = None
    for step in range(current - DRIFT, current + DRIFT + 1):
        if hmac.compare_digest(code(secret, step), given) and (after is None or step > after):
            found = step
    return found


def uri(secret: bytes, account: str, issuer: str = "Noi tin cay") -> str:
    label = quote(f"{issuer}:{account}")
    key = base64.b32encode(secret).decode().rstrip("=")
    return f"otpauth://totp/{label}?secret={key}&issuer={quote(issuer)}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
