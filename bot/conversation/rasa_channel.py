"""The Rasa input channel the gateway talks to (credentials.yml), loaded by the Rasa server.

Rasa's stock REST channel splits every text at blank lines into separate messages (so one
answer arrives as three chat bubbles, each a notification on a phone) and logs the message
text when a turn times out. This channel keeps each response whole, says which response it
is (`utter_action`, so the gateway can tell an informational answer from the rest) and logs
no text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)


class WholeMessages(CollectingOutputChannel):
    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._persist_message(self._named(kwargs, self._message(recipient_id, text=text.strip())))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self._persist_message(self._named(kwargs, self._message(recipient_id, text=text, buttons=buttons)))

    @staticmethod
    def _named(kwargs: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("utter_action"):
            message["utter_action"] = kwargs["utter_action"]
        return message


class GatewayInput(InputChannel):
    """POST /webhooks/gateway/webhook {"sender", "message", "metadata"} → the bot's messages."""

    @classmethod
    def name(cls) -> str:
        return "gateway"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            collector = WholeMessages()
            try:
                await on_new_message(UserMessage(
                    body.get("message"), collector, body.get("sender"),
                    input_channel=self.name(), metadata=body.get("metadata"),
                ))
            except asyncio.CancelledError:
                log.error("turn cancelled (timeout)")
            except Exception as error:  # its message may quote the text: only the type is logged
                log.error("turn failed: %s", type(error).__name__)
            return response.json(collector.messages)

        return webhook
