"""What the product says to a person, as every channel receives it: a text and its buttons.

The core builds these from Rasa's answers and its own texts; escalation builds them for
officers; each channel renders them its own way (Telegram inline keyboards, Zalo numbered
options, JSON for the web page)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    title: str
    payload: str  # "/intent" for residents, "ack:CASE" / "pass:CASE" under an officer alert


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: tuple[Button, ...] = ()

    def as_json(self) -> dict:
        """The web page's wire format."""
        return {"text": self.text, "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons]}

    @classmethod
    def from_json(cls, data: dict) -> BotMessage:
        """The web page's wire format read back (the letters evaluation reads /api/chat)."""
        return cls(data.get("text") or "", tuple(Button(b["title"], b["payload"]) for b in data.get("buttons") or []))
