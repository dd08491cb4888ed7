"""The one seam between the gateway and Rasa: its REST webhook, plus health probes."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer in time."""


class RasaClient:
    def __init__(self, rasa_url: str, actions_url: str, timeout: float = 10.0):
        self.rasa_url = rasa_url
        self.actions_url = actions_url
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=1.0)
        self._probe_timeout = aiohttp.ClientTimeout(total=1.0)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def send(self, sender: str, message: str, channel: str) -> list[dict]:
        """One turn; returns Rasa's bot messages (text/buttons/custom)."""
        assert self._session is not None
        body = {"sender": sender, "message": message, "metadata": {"channel": channel}}
        try:
            async with self._session.post(
                f"{self.rasa_url}/webhooks/gateway/webhook", json=body, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"status {response.status}")
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from error

    async def _probe(self, url: str) -> bool:
        assert self._session is not None
        try:
            async with self._session.get(url, timeout=self._probe_timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def rasa_health(self) -> bool:
        return await self._probe(f"{self.rasa_url}/")

    async def actions_health(self) -> bool:
        return await self._probe(f"{self.actions_url}/health")
