"""Local stand-ins for the Telegram Bot API and the Zalo OA API that speak their real wire
formats, so the real clients (python-telegram-bot, the project's Zalo client) run against
them with no network. Both can inject 429/retry_after, slow answers, dropped connections
and error codes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any


class InThread:
    """Run a fake on its own event loop in a background thread, for tests that drive a
    subprocess (the real stack) from synchronous code."""

    def __init__(self, fake):
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> InThread:
        self._thread.start()
        self.call(self.fake.start())
        return self

    def __exit__(self, *_exc) -> None:
        self.call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def call(self, coroutine: Coroutine, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def run(self, function, *args) -> Any:
        """Call a plain method of the fake on its loop (its state belongs to that loop)."""

        async def call():
            return function(*args)

        return self.call(call())
