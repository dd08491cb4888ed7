"""What a campaign says and to whom, validated before anything is written: a campaign file
(YAML) or a console form becomes a `Spec`, or a `SpecError` listing every problem in plain
English. Texts go through the same content checks as every other text (bot/content/check.py):
a campaign cannot state a phone number, article or fine that docs/facts.md does not verify,
and its first line must be one a lock screen can show. `render` is the exact message a
subscriber receives on each channel, with the line that says how to stop."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from bot import content
from bot.geo.hours import HUE
from bot.geo.names import gazetteer
from bot.messages import Button
from bot.services import quiz

KINDS = ("message", "trusted_address")
CHANNELS = ("telegram", "zalo")
TOPICS = ("law", "support", "children", "contest", "disaster")
MAX_CHARS = 600  # the rendered message, stop line and list included
MAX_BUTTONS = 3
MAX_TITLE = 40
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
QUIZ_PAYLOAD = re.compile(r"/quiz\{\"id\": ?\"[a-z0-9_-]{1,32}\"\}")
TEMPLATES = Path(content.__file__).parent / "campaigns"
FIELDS = {"name", "kind", "text", "buttons", "channels", "units", "topics", "starts_at", "quiet_hours", "template"}


class SpecError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Spec:
    name: str
    text: str
    kind: str = "message"
    buttons: tuple[tuple[str, str], ...] = ()
    channels: tuple[str, ...] = CHANNELS
    units: tuple[str, ...] | None = None  # None: every unit
    topics: tuple[str, ...] | None = None  # None: every subscriber whatever they chose
    starts_at: datetime | None = None  # None: as soon as it is sent
    quiet_start: str = "21:00"
    quiet_end: str = "07:00"
    template: str | None = None
    extra: dict = field(default_factory=dict)

    def buttons_json(self) -> str:
        return json.dumps([{"title": t, "payload": p} for t, p in self.buttons], ensure_ascii=False)


def _list(value, name: str, problems: list[str]) -> list[str] | None:
    if value is None or value == "*" or value == ["*"]:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in re.split(r"[;,]", value) if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{name}: expected a list of names or '*'")
        return None
    return value


def _start(value, problems: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        local = value
    else:
        try:
            local = datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            problems.append(f"starts_at: {value!r} is not 'YYYY-MM-DD HH:MM' (Huế time)")
            return None
    return (local.replace(tzinfo=HUE) if local.tzinfo is None else local).astimezone(timezone.utc)


def text_problems(text: str, where: str) -> list[str]:
    """The content checks of one campaign text: facts, and a neutral first line."""
    from bot.content import check  # reads facts.md and every text: only when a campaign is written
    found = [f"{where}: {p}" for p in check.problems(text)]
    first = text.strip().split("\n")[0]
    if len(first) > 60 or check.REVEALING.search(first):
        found.append(f"{where}: the first line must be short and neutral (a lock screen shows it): {first[:60]!r}")
    return found


def parse(data: dict) -> Spec:
    """A campaign from a mapping (a YAML file, a form); raises SpecError with every problem."""
    from bot.content import check

    if not isinstance(data, dict):
        raise SpecError(["a campaign file must be a YAML mapping (name: …, text: …)"])
    problems = [f"unknown field {k!r} (known: {', '.join(sorted(FIELDS))})" for k in data if k not in FIELDS]
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        problems.append("name: required, at most 100 characters")
    kind = data.get("kind", "message")
    if kind not in KINDS:
        problems.append(f"kind: one of {', '.join(KINDS)}")
    text = str(data.get("text") or "").strip()
    if not text:
        problems.append("text: required")
    else:
        problems += text_problems(text, "text")
    buttons = []
    raw_buttons = data.get("buttons") or []
    if not isinstance(raw_buttons, list) or len(raw_buttons) > MAX_BUTTONS:
        problems.append(f"buttons: a list of at most {MAX_BUTTONS} {{title, payload}}")
        raw_buttons = []
    for number, button in enumerate(raw_buttons, 1):
        title = str((button or {}).get("title") or "").strip() if isinstance(button, dict) else ""
        payload = str((button or {}).get("payload") or "").strip() if isinstance(button, dict) else ""
        if not title or len(title) > MAX_TITLE:
            problems.append(f"button {number}: a title of 1–{MAX_TITLE} characters")
        quiz_id = json.loads(payload[len("/quiz"):])["id"] if QUIZ_PAYLOAD.fullmatch(payload) else None
        if not (payload.startswith("/") and payload[1:] in content.intents()) and quiz_id not in quiz.quizzes():
            problems.append(f"button {number}: payload {payload!r} must open a bot topic (/intent of domain.yml) "
                            "or a quiz (/quiz{{\"id\": \"…\"}})")
        problems += [f"button {number}: {p}" for p in check.problems(title)]
        buttons.append((title, payload))
    channels = _list(data.get("channels"), "channels", problems) or list(CHANNELS)
    problems += [f"channels: unknown channel {c!r} (telegram, zalo)" for c in channels if c not in CHANNELS]
    units = _list(data.get("units"), "units", problems)
    if units is not None:
        resolved = []
        for unit in units:
            found = gazetteer().resolve(unit)
            if found is None or not found.in_area:
                problems.append(f"units: {unit!r} is not a phường/xã of the area")
            else:
                resolved.append(found.name)
        units = resolved
    topics = _list(data.get("topics"), "topics", problems)
    problems += [f"topics: unknown topic {t!r} ({', '.join(TOPICS)})" for t in topics or () if t not in TOPICS]
    quiet = str(data.get("quiet_hours") or "21:00-07:00")
    quiet_start, _, quiet_end = quiet.partition("-")
    if not (HHMM.fullmatch(quiet_start) and HHMM.fullmatch(quiet_end)):
        problems.append(f"quiet_hours: {quiet!r} is not 'HH:MM-HH:MM' (Huế time; 'none' is not allowed)")
    starts_at = _start(data.get("starts_at"), problems)
    if problems:
        raise SpecError(problems)
    spec = Spec(name=name, text=text, kind=kind, buttons=tuple(buttons), channels=tuple(channels),
                units=tuple(units) if units is not None else None, topics=tuple(topics) if topics else None,
                starts_at=starts_at, quiet_start=quiet_start, quiet_end=quiet_end,
                template=data.get("template"))
    long = [f"the message on {c} would be {n} characters (at most {MAX_CHARS})"
            for c in spec.channels if (n := len(render(spec.text, spec.buttons, c, spec.kind, sample_places())[0])) > MAX_CHARS]
    if long:
        raise SpecError(long)
    return spec


def load(path: str) -> Spec:
    """A campaign file; OSError and YAML errors become SpecError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise SpecError([f"cannot read {path}: {error.strerror}"]) from None
    except yaml.YAMLError as error:
        raise SpecError([f"{path} is not valid YAML: {str(error).splitlines()[0]}"]) from None
    return parse(data)


def templates() -> dict[str, dict]:
    """The ready-made campaigns of bot/content/campaigns/ (the calendar of facts.md §5, storms
    and floods, the trusted-address promotion), by file name, as campaign mappings."""
    return {path.stem: {**yaml.safe_load(path.read_text(encoding="utf-8")), "template": path.stem}
            for path in sorted(TEMPLATES.glob("*.yml"))}


def sample_places() -> list[str]:
    """The longest list a trusted-address campaign may carry, for the length check."""
    return ["x" * 80] * 3


def render(text: str, buttons, channel: str, kind: str = "message",
           places: list[str] | None = None) -> tuple[str, tuple[Button, ...]]:
    """The message and its buttons as `channel` shows them; a trusted-address campaign lists
    `places` (the subscriber's unit's verified addresses) or says none is listed yet."""
    body = text.strip()
    if kind == "trusted_address":
        listed = "\n".join(f"• {p}" for p in places or [])
        body += "\n\n" + (listed or content.text("campaign_no_trusted_address"))
    body += "\n\n" + content.text(f"campaign_stop_{channel}")
    shown = tuple(Button(title, payload) for title, payload in buttons)
    if channel == "zalo" and shown:  # numbered options (bot/channels/zalo.py reads the number back)
        body += "\n\n" + "\n".join(f"{n}. {b.title}" for n, b in enumerate(shown, 1))
    return body, shown
