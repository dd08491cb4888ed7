"""The delivery engine: runs inside the gateway, feeds due campaigns into the channels'
outboxes at broadcast priority (alerts and replies always overtake them; the outbox keeps
each platform's limits), a bounded batch at a time, and records each row's outcome.

A channel offers `broadcast(sender, chat, text, buttons, claim) -> Future` and
`failure_reason(error) -> str`; the outbox calls `claim()` just before the platform call,
and the row is claimed then (bot/services/campaigns/store.py: exactly once). Buttons carry
`/campaign{"c": id, "b": n}` so a tap is counted before the topic opens (conversation core).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime

from bot.messages import BotMessage, Button
from bot.services import directory
from bot.services.campaigns import store
from bot.services.campaigns.spec import render
from bot.storage import subscriptions
from bot.storage.crypto import Sealer
from bot.storage.models import Campaign

log = logging.getLogger(__name__)

BATCH = 200  # messages queued in the outboxes at a time (a pause stops the rest at once)
INTERVAL = 1.0


def tap_payload(campaign_id: int, button: int) -> str:
    return "/campaign" + json.dumps({"c": campaign_id, "b": button}, separators=(",", ":"))


def message_for(campaign: Campaign, channel: str, unit: str | None) -> BotMessage:
    """The exact text and buttons one subscriber receives (tap-counting payloads)."""
    places = directory.trusted_addresses(unit) if campaign.kind == "trusted_address" and unit else []
    buttons = [(b["title"], b["payload"]) for b in json.loads(campaign.buttons)]
    text, shown = render(campaign.text, buttons, channel, campaign.kind, places)
    return BotMessage(text, tuple(Button(b.title, tap_payload(campaign.id, n)) for n, b in enumerate(shown)))


class CampaignEngine:
    def __init__(self, channels: dict, *, batch: int = BATCH, interval: float = INTERVAL,
                 clock: Callable[[], datetime] | None = None):
        self.channels = channels  # name -> channel with broadcast() and failure_reason()
        self.batch, self.interval, self.clock = batch, interval, clock
        self._queued: dict[int, int] = {}  # delivery id -> campaign id, queued or in flight
        self._futures: set[asyncio.Future] = set()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self.sealer = Sealer("subscription")

    async def start(self) -> None:
        recovered = store.recover()
        if recovered:
            log.warning("campaigns: %d messages were in flight when the gateway stopped: counted as unknown, "
                        "not sent again", recovered)
        self._task = asyncio.create_task(self._run(), name="campaigns")

    async def stop(self, drain: float = 5.0) -> None:
        """Claim nothing more; let the platform calls in flight finish and be recorded."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._futures:
            await asyncio.wait(self._futures, timeout=drain)

    async def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception as error:  # a database hiccup must not stop campaigns for good
                log.error("campaigns: delivery round failed (%s)", type(error).__name__)
            await asyncio.sleep(self.interval)

    def tick(self) -> int:
        """One round: queue what is due, up to the batch; returns how many were queued."""
        now = self.clock() if self.clock else None
        # A channel that is off or not connected yet keeps its rows pending until it is.
        ready = [name for name, channel in self.channels.items() if getattr(channel, "ready", True)]
        queued = 0
        for campaign in store.due(now) if ready else ():
            room = self.batch - len(self._queued)
            if room <= 0:
                break
            rows = store.pending(campaign.id, ready, set(self._queued), room)
            if not rows and campaign.id not in self._queued.values():
                if store.complete_if_done(campaign.id):
                    log.info("campaigns: campaign %d done", campaign.id)
                continue
            messages: dict = {}  # (channel, unit) -> text and buttons, for this round
            for delivery_id, sender, channel, chat, unit in rows:
                if chat is None:  # opted out or blocked since the campaign started
                    store.finish(delivery_id, "stopped")
                    continue
                key = (channel, unit if campaign.kind == "trusted_address" else None)
                if key not in messages:
                    messages[key] = message_for(campaign, *key)
                self._queue(campaign, delivery_id, sender, channel, self.sealer.open(chat).decode(), messages[key])
                queued += 1
        return queued

    def _queue(self, campaign: Campaign, delivery_id: int, sender: str, channel: str, chat: str, message) -> None:
        outlet = self.channels[channel]

        def claim() -> bool:
            return not self._stopping and not store.quiet(campaign, self.clock() if self.clock else None) \
                and store.claim(delivery_id, campaign.id, sender)

        future = outlet.broadcast(sender, chat, message, claim)
        self._queued[delivery_id] = campaign.id
        self._futures.add(future)
        future.add_done_callback(functools.partial(self._done, delivery_id, sender, outlet))

    def _done(self, delivery_id: int, sender: str, outlet, future: asyncio.Future) -> None:
        self._queued.pop(delivery_id, None)
        self._futures.discard(future)
        if future.cancelled():  # the outbox closed: a claimed row stays `sending` → unknown at start
            return
        try:
            error = future.exception()
            if error is not None:
                reason = outlet.failure_reason(error)
                if reason == "blocked":
                    subscriptions.deactivate(sender)
                store.finish(delivery_id, "failed", reason)
            elif future.result() is not None:  # None: the claim said no (paused, quiet hours, opted out)
                store.finish(delivery_id, "sent")
        except Exception as failure:
            log.error("campaigns: could not record a delivery (%s)", type(failure).__name__)
