"""A thin client for the Zalo Official Account API (there is no maintained Python SDK for v3).

Tokens live sealed in the database (`bot.storage.tokens`). When Zalo answers -220 (access
token expired or removed) or -216 (invalid) the client refreshes once — single-flight: one
coroutine in this process, and a database lease across processes, because the refresh token
works only once — stores the new pair before using it, then resends the request once.
Other refusals keep their code (`ZaloError.code`); `REASONS` names the ones a channel counts.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from bot.config import Settings
from bot.outbound import TemporaryFailure
from bot.storage import tokens

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TOKEN_EXPIRED = -220  # "access_token is expired or removed"
TOKEN_INVALID = -216  # "Access token is invalid"
REFRESH_ON = (TOKEN_EXPIRED, TOKEN_INVALID)
RATE_LIMITED = -32
V2_SHUT_DOWN = -240  # "MessageV2 API has been shut down, please switch to MessageV3"
# Refusals counted under their own name (shared/notes/zalo_2026.md, error codes).
REASONS = {
    -213: "not_follower",
    -230: "no_interaction_7_days",
    -232: "interaction_expired",
    RATE_LIMITED: "rate_limited",
    V2_SHUT_DOWN: "anonymous_v2_shut_down",
    -201: "invalid_request",
}


class ZaloError(Exception):
    """Zalo answered with a non-zero `error` code."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message


class TokenError(ZaloError):
    """No working access token: the refresh was refused, or the new token was refused too."""


class RateLimitedFailure(TemporaryFailure):
    """Zalo answered -32 (the app's or the OA's call limit): worth retrying later."""


class ZaloClient:
    def __init__(self, settings: Settings, timeout: float = 10.0):
        self.api = settings.zalo_api_base_url
        self.oauth = settings.zalo_oauth_base_url
        self.app_id = settings.zalo_app_id
        self._app_secret = settings.zalo_app_secret
        self._configured = (settings.zalo_access_token, settings.zalo_refresh_token)
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(5.0, timeout))
        self._session: aiohttp.ClientSession | None = None
        self._refreshing = asyncio.Lock()
        self.tokens: tokens.Tokens | None = None
        self.refreshes = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        access, refresh = self._configured
        self.tokens = tokens.seed(CHANNEL, access, refresh)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_text(self, user_id: str, text: str, quote_message_id: str | None = None) -> str:
        """A customer-service (tư vấn) message, v3; quoting the resident's message answers it.
        Returns Zalo's message id."""
        message = {"text": text, **({"quote_message_id": quote_message_id} if quote_message_id else {})}
        data = await self._call("POST", "/v3.0/oa/message/cs", json={"recipient": {"user_id": user_id}, "message": message})
        return str((data.get("data") or {}).get("message_id", ""))

    async def send_anonymous(self, anonymous_id: str, conversation_id: str, text: str, v3: bool = False) -> str:
        """A reply to an anonymous resident: `/v2.0/oa/message` as Zalo's SDKs do (no v3
        endpoint is known); with `v3`, the cs endpoint instead (unconfirmed on the platform)."""
        body = {"recipient": {"anonymous_id": anonymous_id, "conversation_id": conversation_id}, "message": {"text": text}}
        data = await self._call("POST", "/v3.0/oa/message/cs" if v3 else "/v2.0/oa/message", json=body)
        return str((data.get("data") or {}).get("message_id", ""))

    async def oa_info(self) -> dict:
        """The Official Account's public profile: the cheapest call that proves the token works."""
        return (await self._call("GET", "/v2.0/oa/getoa")).get("data") or {}

    async def _call(self, method: str, path: str, **kwargs) -> dict:
        current = self.tokens
        assert current is not None, "start() first"
        if current.access_token is None:  # configured with a refresh token only
            current = await self.refresh(current.version)
        data = await self._request(method, path, current.access_token, **kwargs)
        if data.get("error") in REFRESH_ON:
            current = await self.refresh(current.version)
            data = await self._request(method, path, current.access_token, **kwargs)
        code = data.get("error", 0)
        if code in REFRESH_ON:
            raise TokenError(int(code), str(data.get("message", "")))
        if code == RATE_LIMITED:
            raise RateLimitedFailure("rate_limited")
        if code != 0:
            raise ZaloError(int(code), str(data.get("message", "")))
        return data

    async def _json(self, method: str, url: str, **kwargs):
        """One HTTP call; a 5xx, 429, network error or non-JSON answer is a TemporaryFailure."""
        assert self._session is not None, "start() first"
        try:
            async with self._session.request(method, url, **kwargs) as response:
                if response.status == 429:
                    raise RateLimitedFailure("HTTP 429")
                if response.status >= 500:
                    raise TemporaryFailure(f"HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise TemporaryFailure(type(error).__name__) from error

    async def _request(self, method: str, path: str, access_token: str | None, **kwargs) -> dict:
        data = await self._json(method, self.api + path, headers={"access_token": access_token or ""}, **kwargs)
        if not isinstance(data, dict):
            raise TemporaryFailure("answer is not a JSON object")
        return data

    async def refresh(self, stale_version: int) -> tokens.Tokens:
        """Replace the tokens of `stale_version`, unless someone already did."""
        async with self._refreshing:
            stored = tokens.load(CHANNEL)
            assert stored is not None
            if stored.version != stale_version:
                self.tokens = stored
                return stored
            deadline = time.monotonic() + tokens.LEASE_SECONDS + 5
            while not tokens.claim_refresh(CHANNEL, stale_version):  # another process is refreshing
                await asyncio.sleep(0.2)
                stored = tokens.load(CHANNEL)
                if stored.version != stale_version:
                    self.tokens = stored
                    return stored
                if time.monotonic() > deadline:
                    raise TokenError(TOKEN_EXPIRED, "another process did not finish refreshing the token")
            try:
                access, refresh, expires_in = await self._refresh_request(stored.refresh_token)
            except BaseException:
                tokens.release(CHANNEL, stale_version)
                raise
            try:
                self.tokens = tokens.store_refreshed(CHANNEL, stale_version, access, refresh, expires_in)
            except Exception:
                log.error("zalo: the new refresh token could NOT be stored; re-authorise the OA if this persists")
                raise
            self.refreshes += 1
            log.info("zalo: access token refreshed (token version %d)", self.tokens.version)
            return self.tokens

    async def _refresh_request(self, refresh_token: str) -> tuple[str, str, int | None]:
        form = {"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"}
        data = await self._json(
            "POST", self.oauth + "/v4/oa/access_token", data=form, headers={"secret_key": self._app_secret or ""}
        )
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            data = data if isinstance(data, dict) else {}
            code = data.get("error", TOKEN_EXPIRED)
            reason = data.get("error_name") or data.get("message") or "no tokens in the answer"
            log.error("zalo: token refresh refused (%s %s)", code, reason)
            raise TokenError(int(code) if str(code).lstrip("-").isdigit() else TOKEN_EXPIRED, f"refresh refused: {reason}")
        expires_in = str(data.get("expires_in", "")).strip()
        return str(data["access_token"]), str(data["refresh_token"]), int(expires_in) if expires_in.isdigit() else None
