"""The Rasa input channel the gateway talks to (credentials.yml), loaded by the Rasa server.

Rasa's stock REST channel splits every text at blank lines into separate messages (so one
answer arrives as three chat bubbles, each a notification on a phone) and logs the message
text when a turn times out. This channel keeps each response whole, says which response it
is (`utter_action`, so the gateway can tell an informational answer from the rest) and logs
no text.

Loading it also makes Rasa check each action server answer against a schema compiled once:
Rasa 3.6 calls `jsonschema.validate`, which first re-checks the (large) events schema itself,
~40 ms of every custom action (docs/performance.md). The answer is checked exactly as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

_ACTION_RESULT_SPEC = RemoteAction.action_response_format_spec()
_ACTION_RESULT = validators.validator_for(_ACTION_RESULT_SPEC)(_ACTION_RESULT_SPEC)
_rasa_validate = RemoteAction._validate_action_result


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's own check (`jsonschema.validate`: the first error, its message extended by
    Rasa), with the validator built once instead of on every call."""
    error = best_match(_ACTION_RESULT.iter_errors(result))
    if error is None:
        return True
    return _rasa_validate(self, result)  # raises Rasa's ValidationError with its message


RemoteAction._validate_action_result = _validate_action_result


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
