"""The officer desk: what an officer does with a case, whatever they use (Telegram, the web
console). A channel turns the officer's tap, reply or command into one of the typed
events below and shows the `Answer`; it never reads case ids out of message text: a reply is
matched to its case by the message it answers (escalation.case_of_message)."""

from __future__ import annotations

from dataclasses import dataclass

from bot import content
from bot.services import checkin
from bot.services import escalation as cases
from bot.services.escalation import MAX_FOLLOW_UP_DAYS, OUTCOMES, REFERRED, Escalation


@dataclass(frozen=True)
class Take:
    """«Nhận xử lý» under an alert."""

    case_id: str


@dataclass(frozen=True)
class PassOn:
    """«Chuyển người khác» under an alert: the next rung now."""

    case_id: str


@dataclass(frozen=True)
class Reply:
    """The officer answered one of the bot's messages (`message_ref`, "chat:message_id"):
    the text goes to the resident of that message's case."""

    message_ref: str
    text: str


@dataclass(frozen=True)
class Write:
    """The officer wrote to the resident of a case from the web console's relay form."""

    case_id: str
    text: str


@dataclass(frozen=True)
class Close:
    case_id: str
    outcome: str
    note: str | None = None
    follow_up_days: int | None = None  # a referred case: check on it after this many days


Event = Take | PassOn | Reply | Write | Close


@dataclass(frozen=True)
class Answer:
    notice: str  # what the officer is told
    taken: bool = False  # the alert they tapped is now their case
    settled: bool = False  # the alert's buttons have done their job
    handled: bool = True  # False: a reply to a message that belongs to no case (not for the desk)


def close_command(args: list[str]) -> Close | str:
    """"/dong ID outcome [+days] [note]" → Close, or the usage text. "+7" after a referral
    outcome: the resident who agreed gets one check-in after 7 days (as on the console)."""
    usage = content.text("officer_close_usage").format(outcomes=", ".join(OUTCOMES), days=MAX_FOLLOW_UP_DAYS)
    if len(args) < 2 or args[1] not in OUTCOMES:
        return usage
    rest, days = args[2:], None
    if rest and rest[0].startswith("+"):
        if not (args[1] in REFERRED and rest[0][1:].isdigit() and 1 <= int(rest[0][1:]) <= MAX_FOLLOW_UP_DAYS):
            return usage
        days, rest = int(rest[0][1:]), rest[1:]
    return Close(args[0].upper(), args[1], " ".join(rest) or None, days)


class OfficerDesk:
    def __init__(self, escalation: Escalation):
        self.escalation = escalation

    async def handle(self, officer_id: int, event: Event) -> Answer:
        match event:
            case Take(case_id):
                result = await self.escalation.acknowledge(case_id, officer_id)
                return Answer(content.text(f"officer_ack_{result}"), taken=result == "assigned", settled=result == "assigned")
            case PassOn(case_id):
                moved = await self.escalation.pass_on(case_id, officer_id)
                return Answer(content.text("officer_passed" if moved else "officer_ack_closed"), settled=True)
            case Reply(message_ref, text):
                case_id = cases.case_of_message(message_ref)
                if case_id is None:
                    return Answer("", handled=False)
                relayed = await self.escalation.relay_to_resident(case_id, officer_id, text)
                return Answer(content.text("officer_relayed" if relayed else "officer_not_relayed"))
            case Write(case_id, text):
                relayed = await self.escalation.relay_to_resident(case_id, officer_id, text)
                return Answer(content.text("officer_relayed" if relayed else "officer_not_relayed"))
            case Close(case_id, outcome, note, follow_up_days):
                closed = self.escalation.close(case_id, f"officer:{officer_id}", outcome, note, follow_up_days)
                if closed and follow_up_days:  # may the resident get one check-in later?
                    await checkin.ask_consent(self.escalation, case_id)
                return Answer(content.text("officer_closed" if closed else "officer_ack_closed"))
        raise TypeError(f"not a desk event: {event!r}")
