"""The one seam between the gateway and Rasa: its REST webhook, plus health probes.

With several Rasa servers (`gbvbot run --rasa M`) turns go round robin; a server that cannot
be reached, or answers with an error, is skipped for the next one. They share the tracker
store and Rasa's Redis lock store, so any server can take any conversation."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer in time."""


class RasaClient:
    def __init__(self, rasa_url: str | tuple[str, ...], actions_url: str, timeout: float = 10.0):
        self.rasa_urls = (rasa_url,) if isinstance(rasa_url, str) else tuple(rasa_url)
        self._next = 0
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
        """One turn; returns Rasa's bot messages (text/buttons/custom). The next server is
        tried when one is down or fails; not after a timeout (the turn may have been taken)."""
        start, self._next = self._next, (self._next + 1) % len(self.rasa_urls)
        for n in range(len(self.rasa_urls)):
            try:
                return await self._send(self.rasa_urls[(start + n) % len(self.rasa_urls)], sender, message, channel)
            except RasaUnavailable as error:
                if n == len(self.rasa_urls) - 1 or isinstance(error.__cause__, asyncio.TimeoutError):
                    raise
        raise AssertionError("unreachable")

    async def _send(self, url: str, sender: str, message: str, channel: str) -> list[dict]:
        assert self._session is not None
        body = {"sender": sender, "message": message, "metadata": {"channel": channel}}
        try:
            async with self._session.post(f"{url}/webhooks/gateway/webhook", json=body, timeout=self._timeout) as response:
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
        """Up while at least one Rasa server answers."""
        return any(await self.rasa_servers_health())

    async def rasa_servers_health(self) -> list[bool]:
        return list(await asyncio.gather(*(self._probe(f"{url}/") for url in self.rasa_urls)))

    async def actions_health(self) -> bool:
        return await self._probe(f"{self.actions_url}/health")
