"""What the channels share when translating between a platform and the core: which button
payloads are acceptable, and splitting long texts."""

from __future__ import annotations

import json
import re
from typing import Any

from bot import content
from bot.conversation.core import CORE_PAYLOADS

PAYLOAD = re.compile(r"/([a-z_]{1,40})(\{[^\n]{0,200}\})?")


def valid_payload(payload: Any) -> bool:
    """A button payload a resident may send: "/intent" or "/intent{json object}" naming a domain intent,
    or one the conversation core answers itself (campaign buttons, quizzes)."""
    match = PAYLOAD.fullmatch(payload) if isinstance(payload, str) else None
    if not match or match.group(1) not in content.intents() | CORE_PAYLOADS:
        return False
    if match.group(2):
        try:
            return isinstance(json.loads(match.group(2)), dict)
        except ValueError:
            return False
    return True


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into pieces of at most `limit` characters, at paragraph, line or word ends."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind(sep, 0, limit + 1) for sep in ("\n\n", "\n", " "))
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
