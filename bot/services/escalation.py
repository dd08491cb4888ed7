"""Escalation: an urgent message opens (or joins) a case, the on-duty officers are alerted,
and the alert climbs a ladder until someone acknowledges it.

Rungs follow `roster.ROLES`: on-duty officers covering the unit (or area-wide) → backups →
the agency duty desk → the coordinator. A rung with nobody reachable is skipped at once;
otherwise, with no acknowledgement within `ack_timeout`, a timer in the persistent
APScheduler job store starts the next rung. Timers survive restarts; each step is guarded
by a conditional update on the case's rung, so a timer that fires twice acts once.
Nobody reachable at all: the resident is told plainly to call 113, and every coordinator
is alerted whatever the roster says. Alerts carry no resident identity.

Channels deliver through an `AlertSender` (Telegram in production, a fake in tests); a
service never imports a channel. What must hold across several gateways (the check-in
question just asked, a web resident's waiting messages, the count of new cases) is in the
shared store (bot/storage/shared.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, or_, select, update

from bot import content
from bot.geo.distance import haversine_km
from bot.geo.hours import HUE
from bot.geo.names import gazetteer
from bot.messages import BotMessage, Button
from bot.services import roster
from bot.storage.crypto import Sealer, pseudonym
from bot.storage.db import dropped, session_scope
from bot.storage.models import AuditLog, Case, CaseEvent, Officer, OfficerMessage, utcnow
from bot.storage.shared import MemoryStore, Store

log = logging.getLogger(__name__)

CATEGORIES = {  # safety-net / intent category → (case category, severity)
    "danger_to_life": ("danger_to_life", "critical"),
    "trafficking": ("trafficking", "critical"),
    "child": ("child", "critical"),
    "self_harm": ("self_harm", "critical"),
    "sexual_violence": ("sexual_violence", "high"),
}
# A request for contact waits for office hours (Huế time): Monday–Friday 07:30–17:00.
OFFICE_DAYS, OFFICE_OPEN, OFFICE_CLOSE = range(0, 5), time(7, 30), time(17, 0)
QUEUED_RUNG = -1  # schedule(case_id, QUEUED_RUNG, at): notify a queued request at office opening
FIRST_ALERT_WAIT = 8.0  # seconds the resident's reply waits to know whether an alert got through
# A timer for the first rung too, in case this gateway dies between opening the case and
# claiming that rung (another gateway, or this one restarted, then sends the first alerts).
FIRST_RUNG_RESCUE = timedelta(seconds=30)
# A ladder whose timer was lost (the database went away between taking a rung and writing its
# timer) is found by the leader's sweep once it has waited this much longer than a timer would.
STUCK_GRACE = timedelta(seconds=30)
# A rung taken this long ago with no alert recorded, sent or failed, lost its alerts with the
# process that was sending them (killed while they waited in its outbox): the sweep sends them
# again, if the rung still has time before its timer climbs on.
RESEND_AFTER = timedelta(seconds=45)
FLOOD_WINDOW = timedelta(minutes=5)
REPORT_RETRY = timedelta(minutes=10)  # an urgent report the database refused is retried this long
WAITING_SECONDS = 7 * 24 * 3600  # a web resident's waiting messages, the check-in question asked
ANONYMOUS = "-"  # a closed case's sender after the retention period
OUTCOMES = (
    "referred_police", "referred_health", "referred_legal_aid", "referred_shelter",
    "counselled", "unreachable", "false_alarm",
)
OPEN = ("queued", "alerting", "acknowledged", "unreached")
REFERRED = ("referred_police", "referred_health", "referred_legal_aid", "referred_shelter")
MAX_FOLLOW_UP_DAYS = 60  # a follow-up comes well before the case is anonymised


class AlertSender(Protocol):
    async def send_alert(self, chat: str, text: str, buttons: tuple[Button, ...]) -> str | None:
        """Deliver an officer alert (highest priority); returns a message reference or None."""

    async def edit_alert(self, ref: str, text: str) -> None:
        """Replace an alert's text and remove its buttons (the case was taken)."""

    async def send_to_resident(self, channel: str, reply_to: str, text: str, buttons: tuple[Button, ...] = ()) -> bool:
        """A message from the officer (or the service) to the resident; False if undeliverable."""


@dataclass(frozen=True)
class Report:
    case_id: str
    status: str
    created: bool
    reachable: bool  # someone can be alerted now

    def as_json(self) -> dict:
        return {"case_id": self.case_id, "status": self.status}


def _sealer() -> Sealer:
    return Sealer("case")


def _opened(sealed: bytes | None) -> str | None:
    """The resident's channel id, or None once they left (it is dropped then)."""
    return _sealer().open(sealed).decode() if sealed else None


def audit(actor: str, action: str, case_id: str | None = None, subject: str | None = None) -> None:
    """An append-only row: `actor` did `action` (to `case_id`, or to the account `subject`)."""
    with session_scope() as session:
        session.add(AuditLog(actor=actor, action=action, case_id=case_id, subject=subject))


def _outbox_sealer() -> Sealer:
    return Sealer("web-outbox")


def _message_sealer() -> Sealer:
    return Sealer("case-message")


def _event(session, case_id: str, kind: str, officer_id: int | None = None, rung: int | None = None,
           ref: bytes | None = None, text: str | None = None) -> None:
    """One step of a case; a relayed message's text is kept sealed (the console shows it)."""
    session.add(CaseEvent(case_id=case_id, kind=kind, officer_id=officer_id, rung=rung, ref=ref,
                          text=_message_sealer().seal(text.encode()) if text else None))


def relayed_messages(case_id: str) -> list[tuple[datetime, str, str]]:
    """The messages relayed on a case, oldest first: (time, "relay_in" | "relay_out", text).
    Texts erased by the resident or by retention are left out."""
    sealer = _message_sealer()
    with session_scope() as session:
        rows = session.execute(select(CaseEvent.at, CaseEvent.kind, CaseEvent.text).where(
            CaseEvent.case_id == case_id, CaseEvent.text.isnot(None)).order_by(CaseEvent.id)).all()
    return [(at, kind, sealer.open(text).decode()) for at, kind, text in rows]


def _forget_messages(session, case_ids) -> None:
    session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(case_ids), CaseEvent.text.isnot(None))
                    .values(text=None).execution_options(synchronize_session=False))


def _message_key(ref: str) -> str:
    """What is stored of a message reference ("chat:message_id"): a keyed digest."""
    return pseudonym("officer-message", ref)


def case_of_message(ref: str) -> str | None:
    """The case a message the bot sent an officer belongs to (the officer replied to it)."""
    with session_scope() as session:
        return session.scalar(select(OfficerMessage.case_id).where(OfficerMessage.key == _message_key(ref)))


class Escalation:
    def __init__(
        self,
        sender: AlertSender | None,
        ack_timeout: timedelta,
        schedule: Callable[[str, int, datetime], None],
        now: Callable[[], datetime] = utcnow,
        cases_per_window: int = 10,
        store: Store | None = None,
    ):
        self.sender = sender
        self.ack_timeout = ack_timeout
        self.schedule = schedule  # schedule(case_id, rung, run_at): start that rung at run_at
        self.now = now
        # Flood: past `cases_per_window` new cases in FLOOD_WINDOW, a case without a text rated
        # danger now waits in the queue and officers get one summary per window instead.
        self.cases_per_window = cases_per_window
        self.store = store or MemoryStore()
        # In the store, per sender: "outbox", web residents' messages (sealed) shown on the next
        # turn or poll; "asked", the check-in question just asked (bot/services/checkin.py).
        # For every gateway: "cases", the new cases' window; "flood_held", the ids of cases held
        # for the summary; "flood_summary", whether one is scheduled and when the last was sent.
        self._tasks: set[asyncio.Task] = set()
        # Senders with open cases, when this process is the only one that opens cases.
        self._open_senders: set[str] | None = None
        self._replying: set[str] = set()  # cases whose first reply to the resident is being written

    # ---------------------------------------------------------------- resident side
    def open_case(self, sender: str) -> Case | None:
        """The resident's open case. Most turns have none: a set of senders with open cases
        (loaded once) avoids a query, when this process is the only gateway opening cases;
        with several gateways (the store shared) the database is asked every time."""
        if self._open_senders is None and not self.store.shared:
            with session_scope() as session:
                self._open_senders = set(session.scalars(select(Case.sender).where(Case.status.in_(OPEN))))
        if self._open_senders is not None and sender not in self._open_senders:
            return None
        with session_scope() as session:
            case = session.scalar(
                select(Case).where(Case.sender == sender, Case.status.in_(OPEN)).order_by(Case.created_at.desc())
            )
        if case is None and self._open_senders is not None:
            self._open_senders.discard(sender)
        return case

    async def report(self, **request) -> Report:
        """Open a case for this episode (or join the open one) and start alerting (`_report`).
        A connection the database dropped mid-way is retried at once on a fresh one, so the
        resident is told the officers were alerted; a case written before the drop is joined."""
        try:
            return await self._report(**request)
        except Exception as error:
            if not dropped(error):
                raise
            log.warning("database connection dropped while opening a case: trying again")
            return await self._report(**request)

    async def _report(self, *, sender: str, channel: str, category: str, reply_to: str,
                      text: str | None = None, third_party: bool = False, evidence: bool = True) -> Report:
        """`third_party`: someone reports a danger to another person (a neighbour, a child).
        `evidence`: the message's own text was rated danger now (not only a button or a "có");
        during a flood only such cases are alerted one by one."""
        case_category, severity = CATEGORIES.get(category, ("other", "high"))
        unit = self._unit_in(text)
        existing = self.open_case(sender)
        if existing is not None:
            with session_scope() as session:
                case = session.get(Case, existing.id)
                _event(session, case.id, "joined")
                if case.reply_to is None:  # the resident left, and has written again
                    case.reply_to = _sealer().seal(reply_to.encode())
                if unit and not case.ward:
                    case.ward = unit
                case.updated_at = self.now()
            return Report(existing.id, existing.status, False, existing.status != "unreached")
        case_id = secrets.token_hex(4).upper()
        if self._open_senders is not None:
            self._open_senders.add(sender)
        with session_scope() as session:
            session.add(Case(
                id=case_id, sender=sender, status="alerting", severity=severity, category=case_category,
                channel=channel, ward=unit, created_at=self.now(), updated_at=self.now(), rung=-1,
                reply_to=_sealer().seal(reply_to.encode()), reporter="third_party" if third_party else "resident",
            ))
            _event(session, case_id, "opened")
        if await self._flooded() and not evidence:
            with session_scope() as session:
                _event(session, case_id, "held_in_flood")
            # One summary scheduled at a time, by whichever gateway holds a case when none is (a
            # gateway that dies waiting to send it lets go after two windows).
            await self.store.append("flood_held", "all", case_id.encode(), 2 * FLOOD_WINDOW.total_seconds())
            if await self.store.put_new("flood_summary", "scheduled", 1, 2 * FLOOD_WINDOW.total_seconds()):
                self._spawn(self._summarise())
            log.warning("case opened during a flood: held for the summary alert")
            return Report(case_id, "alerting", True, True)
        self.schedule(case_id, 0, self.now() + FIRST_RUNG_RESCUE)  # a no-op once rung 0 is claimed
        reachable = await self._first_alerts(case_id)
        log.info("case opened category=%s severity=%s reachable=%s", case_category, severity, reachable)
        return Report(case_id, "alerting" if reachable else "unreached", True, reachable)

    def report_later(self, **request) -> None:
        """`report(**request)` failed (the database unreachable): try again in the background,
        every few seconds for REPORT_RETRY, so the officers are alerted when the database is back
        (the resident was already told to call 113). A case half-written before the failure is
        joined, not opened twice. Lost if this gateway stops before then."""

        async def retry() -> None:
            loop = asyncio.get_running_loop()
            deadline, wait = loop.time() + REPORT_RETRY.total_seconds(), 1.0
            while loop.time() < deadline:
                await asyncio.sleep(wait)
                wait = min(2 * wait, 15.0)
                try:
                    await self.report(**request)
                    log.warning("case opened late: the database was unreachable when the resident wrote")
                    return
                except Exception as error:  # still unreachable
                    log.warning("case not opened yet (%s): trying again", type(error).__name__)
            log.error("urgent report not stored: the database stayed unreachable for %d s",
                      REPORT_RETRY.total_seconds())

        self._spawn(retry())

    async def _flooded(self) -> bool:
        """Count this new case (on every gateway); True when more than `cases_per_window` were
        opened in FLOOD_WINDOW."""
        before = await self.store.hit("cases", "all", FLOOD_WINDOW.total_seconds(), None, self.now().timestamp())
        return before + 1 > self.cases_per_window

    async def _summarise(self) -> None:
        """One alert per FLOOD_WINDOW, from one gateway, for the cases every gateway held in a
        flood: "N ca mới — xem hàng chờ". The time it is sent is recorded before the next
        summary may be scheduled, and the held cases taken after, so none is left out."""
        window = FLOOD_WINDOW.total_seconds()
        try:
            last = await self.store.get("flood_summary", "sent")
            wait = 0.0 if last is None else last + window - self.now().timestamp()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.store.put("flood_summary", "sent", self.now().timestamp(), window)
        finally:
            await self.store.pop("flood_summary", "scheduled")
        held = await self.store.take_all("flood_held", "all")
        if not held:  # taken by the summary before
            return
        recipients = next((r for r in (self._recipients(rung, None) for rung in range(len(roster.ROLES))) if r), [])
        recipients = recipients or [o for o in self._all_coordinators() if o.chat]
        text = content.text("officer_flood_summary").format(count=len(held), minutes=int(window // 60))
        for officer in recipients:
            if self.sender:
                await self.sender.send_alert(officer.chat, text, ())

    async def _first_alerts(self, case_id: str) -> bool:
        """Send the first alerts and say whether someone actually received one: an alert
        Telegram refuses (an officer who never pressed Start: 403) is not a reached officer.
        The resident's reply waits for this, up to `FIRST_ALERT_WAIT` seconds; if the answer
        is still unknown then, the reply says an alert is being sent (true), and a ladder that
        later ends with nobody reached tells the resident once."""
        self._replying.add(case_id)
        task = asyncio.ensure_future(self.ladder_step(case_id, 0))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            done, _ = await asyncio.wait({task}, timeout=FIRST_ALERT_WAIT)
        finally:
            self._replying.discard(case_id)
        if not done:
            return True
        with session_scope() as session:
            status = session.scalar(select(Case.status).where(Case.id == case_id))
            if status == "unreached":
                _event(session, case_id, "resident_told_unreached")
        return status != "unreached"

    async def request_contact(self, *, sender: str, channel: str, reply_to: str, text: str | None = None,
                              shared: dict | None = None) -> Report:
        """The resident asked an officer to contact them (not an emergency): a case of
        severity "high" waits in the queue; officers on duty are told once, in office hours,
        and no urgent ladder runs. `shared` (the self-check's answers, with the resident's
        consent) is sealed on the case."""
        existing = self.open_case(sender)
        sealed = _sealer().seal(json.dumps(shared, ensure_ascii=False).encode()) if shared else None
        if existing is not None:
            with session_scope() as session:
                case = session.get(Case, existing.id)
                _event(session, case.id, "contact_requested")
                if sealed:
                    case.shared = sealed
            return Report(existing.id, existing.status, False, True)
        case_id = secrets.token_hex(4).upper()
        if self._open_senders is not None:
            self._open_senders.add(sender)
        with session_scope() as session:
            session.add(Case(
                id=case_id, sender=sender, status="queued", severity="high", category="contact_request",
                channel=channel, ward=self._unit_in(text), created_at=self.now(), updated_at=self.now(),
                rung=QUEUED_RUNG, reply_to=_sealer().seal(reply_to.encode()), shared=sealed,
            ))
            _event(session, case_id, "opened")
        reachable = bool(self.sender) and any(o.telegram_chat for o in roster.list_officers())
        opening = self._next_office_opening()
        if opening <= self.now():
            self._spawn(self.notify_queued(case_id))
        else:
            self.schedule(case_id, QUEUED_RUNG, opening)
        log.info("contact request queued reachable=%s", reachable)
        return Report(case_id, "queued", True, reachable)

    def _next_office_opening(self) -> datetime:
        """Now if it is office hours, else the next opening (Huế time)."""
        local = self.now().astimezone(HUE)
        day = local
        for _ in range(8):
            opening = datetime.combine(day.date(), OFFICE_OPEN, HUE)
            closing = datetime.combine(day.date(), OFFICE_CLOSE, HUE)
            if day.weekday() in OFFICE_DAYS and local < closing:
                return max(opening, local)
            day = datetime.combine(day.date() + timedelta(days=1), time(0), HUE)
        return local

    async def notify_queued(self, case_id: str) -> None:
        """Tell the officers on duty for the unit (or the first rung that has someone) about a
        queued request, once; no timer follows."""
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is None or case.status != "queued":
                return
            unit, created = case.ward, case.created_at
        for rung in range(len(roster.ROLES)):
            recipients = self._recipients(rung, unit)
            if recipients:
                break
        else:
            recipients = [o for o in self._all_coordinators() if o.chat]
        text = self._alert_text(case_id, "contact_request", "high", unit, created, 0, "queued")
        await self._send_alerts(case_id, 0, recipients, text, (Button(content.text("alert_button_take"), f"ack:{case_id}"),))

    def note_place(self, sender: str, text: str | None = None, location: tuple[float, float] | None = None) -> None:
        """A place the resident gives during an open case makes the next alerts more useful."""
        unit = self._unit_in(text) if text else self._unit_near(location) if location else None
        if not unit:
            return
        with session_scope() as session:
            case = session.scalar(select(Case).where(Case.sender == sender, Case.status.in_(OPEN)))
            if case is not None and case.ward != unit:
                case.ward = unit
                _event(session, case.id, "unit_known")

    async def resident_left(self, sender: str) -> None:
        """Safe word, /xoa, quick exit: the resident's open cases stop talking to them. The
        relay ends, the sealed channel id is dropped (nothing can be sent to that chat again)
        and the officers who hold or were alerted to the case are told; the case stays open
        for them to record what they did. Closed cases lose the channel id too: no check-in
        ever reaches a resident who left."""
        await self.store.forget(sender, "outbox", "asked")
        with session_scope() as session:  # the relayed messages go, whatever the case's state
            _forget_messages(session, select(Case.id).where(Case.sender == sender).scalar_subquery())
            session.execute(update(Case).where(Case.sender == sender, Case.status == "closed", Case.reply_to.isnot(None))
                            .values(reply_to=None).execution_options(synchronize_session=False))
        if self._open_senders is not None and sender not in self._open_senders:
            return
        with session_scope() as session:
            cases = list(session.scalars(select(Case).where(Case.sender == sender, Case.status.in_(OPEN))))
            told: list[tuple[str, int | None]] = []
            for case in cases:
                case.relay, case.reply_to, case.updated_at = False, None, self.now()
                _event(session, case.id, "resident_left")
                told.append((case.id, case.assigned_officer_id))
        for case_id, officer_id in told:
            log.info("case %s: the resident left the conversation", case_id)
            self._spawn(self._tell_officers(case_id, officer_id, content.text("officer_resident_left").format(case_id=case_id)))

    async def _tell_officers(self, case_id: str, officer_id: int | None, text: str) -> None:
        """The assigned officer, or else everyone alerted to the case."""
        if self.sender is None:
            return
        with session_scope() as session:
            query = select(Officer).where(Officer.id == officer_id) if officer_id else select(Officer).where(
                Officer.id.in_(select(CaseEvent.officer_id).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "alert_sent")))
            chats = [roster._sealer().open(o.telegram_chat).decode() for o in session.scalars(query) if o.telegram_chat]
        for chat in chats:
            await self._alert(case_id, chat, text)

    async def pending_for_web(self, sender: str) -> list[BotMessage]:
        """A web resident's waiting messages, once, whichever gateway wrote or reads them."""
        sealer = _outbox_sealer()
        waiting = [json.loads(sealer.open(blob)) for blob in await self.store.take_all("outbox", sender)]
        return [BotMessage(text, tuple(Button(*b) for b in buttons)) for text, buttons in waiting]

    async def asked(self, sender: str) -> tuple[str, str] | None:
        """The check-in question (case, question) just asked, if any; it is forgotten."""
        asked = await self.store.pop("asked", sender)
        return tuple(asked) if asked else None

    async def resident_message(self, sender: str, text: str) -> bool:
        """While an officer holds the case with the relay on, they see the resident's messages."""
        with session_scope() as session:
            case = session.scalar(select(Case).where(
                Case.sender == sender, Case.status == "acknowledged", Case.relay.is_(True)))
            if case is None:
                return False
            officer = session.get(Officer, case.assigned_officer_id)
            _event(session, case.id, "relay_in", officer_id=officer.id if officer else None, text=text)
            chat = roster._sealer().open(officer.telegram_chat).decode() if officer and officer.telegram_chat else None
            case_id = case.id
        if chat:
            await self._alert(case_id, chat, content.text("relay_in", case_id=case_id, text=text))
        return True

    def end_relay(self, sender: str) -> bool:
        with session_scope() as session:
            case = session.scalar(select(Case).where(Case.sender == sender, Case.relay.is_(True)))
            if case is None:
                return False
            case.relay = False
            _event(session, case.id, "relay_ended")
            return True

    # ---------------------------------------------------------------- the ladder
    async def sweep(self) -> int:
        """Climb the ladders that stopped: cases still alerting whose rung has not moved for
        longer than their timer would have waited (the first rung: FIRST_RUNG_RESCUE), except
        cases held for a flood summary. A timer that fires after all acts once with the sweep
        (each rung is claimed once). Returns how many ladders were moved on."""
        now = self.now()
        held = exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind == "held_in_flood")
        with session_scope() as session:
            stuck = session.execute(select(Case.id, Case.rung).where(
                Case.status == "alerting", ~held,
                or_(and_(Case.rung == -1, Case.updated_at < now - FIRST_RUNG_RESCUE),
                    Case.updated_at < now - self.ack_timeout - STUCK_GRACE),
            )).all()
        for case_id, rung in stuck:
            log.warning("case %s: its ladder had stopped at rung %d; climbing on", case_id, rung)
            await self.ladder_step(case_id, rung + 1)
        return len(stuck) + await self._resend_lost(now)

    async def _resend_lost(self, now: datetime) -> int:
        """Send again the alerts of rungs taken more than RESEND_AFTER ago that no process
        recorded (at least once: a process killed between Telegram's answer and the record
        will have sent one twice). Only while the rung's timer has not climbed on."""
        if self.ack_timeout <= RESEND_AFTER:
            return 0
        recorded = exists().where(CaseEvent.case_id == Case.id, CaseEvent.rung == Case.rung,
                                  CaseEvent.kind.in_(("alert_sent", "alert_failed")))
        with session_scope() as session:
            lost = session.execute(select(Case.id, Case.rung, Case.ward, Case.category, Case.severity, Case.created_at).where(
                Case.status == "alerting", Case.rung >= 0, Case.rung < len(roster.ROLES),
                Case.updated_at < now - RESEND_AFTER, Case.updated_at > now - self.ack_timeout, ~recorded,
            )).all()
        for case_id, rung, unit, category, severity, created in lost:
            log.warning("case %s: the alerts of rung %d were never recorded; sending them again", case_id, rung)
            text = self._alert_text(case_id, category, severity, unit, created, rung,
                                    "escalated" if rung > 0 and self._was_alerted(case_id) else "first")
            await self._send_alerts(case_id, rung, self._recipients(rung, unit), text, self._alert_buttons(case_id))
        return len(lost)

    def _recipients(self, rung: int, unit: str | None) -> list[roster.OnDuty]:
        """Who is alerted at a rung: those on duty covering the unit (or area-wide); when
        nobody covers it, or the unit is unknown, everyone on duty at that rung."""
        role = roster.ROLES[rung]
        people = [o for o in roster.on_duty(self.now()) if o.role == role and o.chat]
        return [o for o in people if o.covers(unit)] or people

    async def ladder_step(self, case_id: str, rung: int) -> None:
        """Alert rung `rung` (skipping empty rungs); idempotent per (case, rung)."""
        while rung < len(roster.ROLES):
            with session_scope() as session:
                claimed = session.execute(
                    update(Case).where(Case.id == case_id, Case.rung == rung - 1, Case.status == "alerting")
                    .values(rung=rung, updated_at=self.now())
                ).rowcount
                case = session.get(Case, case_id)
                if not claimed:
                    return
                unit, category, severity, created = case.ward, case.category, case.severity, case.created_at
                if rung > 0:
                    _event(session, case_id, "escalated", rung=rung)
            recipients = self._recipients(rung, unit)
            if not recipients:
                rung += 1
                continue
            text = self._alert_text(case_id, category, severity, unit, created, rung,
                                    "escalated" if rung > 0 and self._was_alerted(case_id) else "first")
            buttons = self._alert_buttons(case_id)
            # The next rung's timer before sending: if this process dies while sending, the
            # ladder still climbs. When nobody gets the alert the loop climbs at once, and that
            # timer finds the rung already taken.
            self.schedule(case_id, rung + 1, self.now() + self.ack_timeout)
            if await self._send_alerts(case_id, rung, recipients, text, buttons):
                return
            rung += 1
        await self._unreached(case_id)

    async def _send_alerts(self, case_id, rung, recipients, text, buttons) -> int:
        delivered = 0
        for officer in recipients:
            ref = await self._alert(case_id, officer.chat, text, buttons)
            with session_scope() as session:
                _event(session, case_id, "alert_sent" if ref else "alert_failed", officer.id, rung,
                       _sealer().seal(ref.encode()) if ref else None)
            delivered += bool(ref)
        return delivered

    async def _unreached(self, case_id: str) -> None:
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is None or case.status != "alerting":
                return
            case.status, case.updated_at = "unreached", self.now()
            _event(session, case_id, "unreached")
            channel, reply_to, sender = case.channel, _opened(case.reply_to), case.sender
            category, severity, unit, created = case.category, case.severity, case.ward, case.created_at
            told = case_id in self._replying or session.scalar(select(CaseEvent.id).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "resident_told_unreached"))
            if not told:
                _event(session, case_id, "resident_told_unreached")
        log.warning("case %s: nobody on duty acknowledged; resident told to call 113", case_id)
        if not told:
            await self._to_resident(sender, channel, reply_to, content.text("escalation_unreached"))
        coordinators = [o for o in self._all_coordinators() if o.chat]
        text = self._alert_text(case_id, category, severity, unit, created, len(roster.ROLES), "unreached")
        await self._send_alerts(case_id, len(roster.ROLES), coordinators,
                                text, (Button(content.text("alert_button_take"), f"ack:{case_id}"),))

    def _all_coordinators(self) -> list[roster.OnDuty]:
        sealer = roster._sealer()
        with session_scope() as session:
            rows = session.scalars(select(Officer).where(Officer.role == "coordinator", Officer.active.is_(True)))
            return [roster.OnDuty(o.id, o.display_name, o.agency, o.role, tuple(o.units.split(";")),
                                  sealer.open(o.telegram_chat).decode() if o.telegram_chat else None) for o in rows]

    # ---------------------------------------------------------------- officer side
    @staticmethod
    def _may_act(session, case: Case, officer_id: int, closing: bool = False) -> bool:
        """An officer acts only on their units' cases; closes only the case they hold
        (coordinators and console admins: any). A console official never acts on a case."""
        officer = session.get(Officer, officer_id)
        if officer is None or not officer.active or officer.console_role == "official":
            return False
        coordinating = officer.role == "coordinator" or officer.console_role in ("coordinator", "admin")
        if not coordinating and not roster.may_see(officer.role, officer.units.split(";"), case.ward):
            return False
        return not closing or coordinating or case.assigned_officer_id == officer_id

    async def acknowledge(self, case_id: str, officer_id: int) -> str:
        """'assigned', 'taken' (someone else was first), 'closed', or 'forbidden' (another unit's case)."""
        with session_scope() as session:
            case = session.get(Case, case_id)
            forbidden = case is not None and not self._may_act(session, case, officer_id)
        if forbidden:
            audit(f"officer:{officer_id}", "acknowledge_refused", case_id)
            return "forbidden"
        with session_scope() as session:
            claimed = session.execute(
                update(Case).where(Case.id == case_id, Case.status.in_(("queued", "alerting", "unreached")))
                .values(status="acknowledged", assigned_officer_id=officer_id, acknowledged_at=self.now(),
                        relay=True, updated_at=self.now())
            ).rowcount
            case = session.get(Case, case_id)
            if case is None:
                return "closed"
            if not claimed:
                return "taken" if case.status == "acknowledged" else "closed"
            _event(session, case_id, "acknowledged", officer_id=officer_id)
            officer = session.get(Officer, officer_id)
            name = officer.display_name if officer else "cán bộ"
            refs = session.execute(
                select(CaseEvent.ref, CaseEvent.officer_id).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "alert_sent")
            ).all()
            channel, reply_to, sender = case.channel, _opened(case.reply_to), case.sender
        audit(f"officer:{officer_id}", "acknowledge", case_id)
        if self.sender:
            for ref, other in refs:
                if other != officer_id and ref:
                    await self.sender.edit_alert(_sealer().open(ref).decode(), f"Ca {case_id} đã được {name} nhận xử lý.")
        await self._to_resident(sender, channel, reply_to, content.text("escalation_acknowledged"))
        return "assigned"

    async def pass_on(self, case_id: str, officer_id: int) -> bool:
        """"Chuyển người khác": move to the next rung now."""
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is None or case.status != "alerting":
                return False
            _event(session, case_id, "passed", officer_id=officer_id, rung=case.rung)
            rung = case.rung
        audit(f"officer:{officer_id}", "pass", case_id)
        await self.ladder_step(case_id, rung + 1)
        return True

    async def relay_to_resident(self, case_id: str, officer_id: int, text: str) -> bool:
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is None or case.assigned_officer_id != officer_id or not case.relay or case.status != "acknowledged":
                return False
            _event(session, case_id, "relay_out", officer_id=officer_id, text=text)
            channel, reply_to, sender = case.channel, _opened(case.reply_to), case.sender
        audit(f"officer:{officer_id}", "relay_out", case_id)
        return await self._to_resident(sender, channel, reply_to, content.text("relay_out", text=text))

    def close(self, case_id: str, actor: str, outcome: str, note: str | None = None,
              follow_up_days: int | None = None) -> bool:
        """`actor`: "officer:ID" (only the officer who holds the case, or a coordinator),
        "admin" or "cli" (an operator). A case referred elsewhere (police, health, legal aid,
        shelter) may get a follow-up: after `follow_up_days` the officer who closed it (or
        the one who held it) is asked whether the resident was helped."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if follow_up_days is not None and not (outcome in REFERRED and 1 <= follow_up_days <= MAX_FOLLOW_UP_DAYS):
            raise ValueError(f"a follow-up is for a referred case, after 1-{MAX_FOLLOW_UP_DAYS} days")
        with session_scope() as session:
            case = session.get(Case, case_id)
            refused = case is not None and actor.startswith("officer:") and not self._may_act(
                session, case, int(actor[8:]), closing=True)
        if refused:
            audit(actor, "close_refused", case_id)
            return False
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is None or case.status == "closed":
                return False
            case.status, case.outcome, case.relay = "closed", outcome, False
            case.closed_at = case.updated_at = self.now()
            case.note = _sealer().seal(note.encode()) if note else None
            _event(session, case_id, "closed")
            if follow_up_days:
                case.follow_up_at = self.now() + timedelta(days=follow_up_days)
                case.follow_up_officer_id = int(actor[8:]) if actor.startswith("officer:") else case.assigned_officer_id
                _event(session, case_id, "follow_up_scheduled", officer_id=case.follow_up_officer_id)
        audit(actor, "close", case_id)
        return True

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _alert_buttons(case_id: str) -> tuple[Button, ...]:
        return (Button(content.text("alert_button_take"), f"ack:{case_id}"),
                Button(content.text("alert_button_pass"), f"pass:{case_id}"))

    async def _alert(self, case_id: str, chat: str, text: str, buttons: tuple[Button, ...] = ()) -> str | None:
        """A message to an officer about a case; remembers which case it belongs to, so that
        a reply to it reaches the case (whatever its text says)."""
        ref = await self.sender.send_alert(chat, text, buttons) if self.sender else None
        if ref:
            with session_scope() as session:
                session.merge(OfficerMessage(key=_message_key(ref), case_id=case_id, at=self.now()))
        return ref

    async def _to_resident(self, sender: str, channel: str, reply_to: str | None, text: str,
                           buttons: tuple[Button, ...] = ()) -> bool:
        """A message the resident did not ask for: it starts with a neutral line (a lock-screen
        preview gives nothing away) and arrives without sound; never to a resident who left."""
        if reply_to is None:
            return False
        text = f"{content.text('unsolicited_first_line')}\n\n{text}"
        if channel == "web":
            message = json.dumps([text, [(b.title, b.payload) for b in buttons]])
            await self.store.append("outbox", sender, _outbox_sealer().seal(message.encode()), WAITING_SECONDS)
            return True
        return bool(self.sender and await self.sender.send_to_resident(channel, reply_to, text, buttons))

    def _spawn(self, coroutine: Awaitable) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for alerts started by `report` (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @staticmethod
    def _unit_in(text: str | None) -> str | None:
        found = gazetteer().find(text) if text else []
        return found[0].unit.name if found else None

    @staticmethod
    def _unit_near(location: tuple[float, float], max_km: float = 15.0) -> str | None:
        lat, lon = location
        best = min(gazetteer().units, key=lambda u: haversine_km(lat, lon, u.lat, u.lon))
        return best.name if haversine_km(lat, lon, best.lat, best.lon) <= max_km else None

    @staticmethod
    def _was_alerted(case_id: str) -> bool:
        with session_scope() as session:
            return session.scalar(select(CaseEvent.id).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "alert_sent").limit(1)) is not None

    def _alert_text(self, case_id, category, severity, unit, created, rung, why="first") -> str:
        """`why`: first (the first alert of this case), escalated (an earlier rung did not
        acknowledge), unreached (nobody acknowledged), queued (a request for contact)."""
        local = created.astimezone(HUE) if created.tzinfo else created
        with session_scope() as session:
            reporter = session.scalar(select(Case.reporter).where(Case.id == case_id))
        lines = [
            content.text("alert_queued" if why == "queued" else "alert_urgent", case_id=case_id),
            content.text("alert_kind", category=_label("category", category), severity=_label("severity", severity)),
            content.text("alert_unit", unit=unit or content.text("alert_unit_unknown")),
            content.text("alert_at", at=f"{local:%H:%M %d/%m/%Y}"),
        ]
        if reporter == "third_party":
            lines.append(content.text("alert_third_party"))
        if why == "escalated":
            lines.append(content.text("alert_escalated", rung=rung + 1))
        elif why == "unreached":
            lines.append(content.text("alert_unreached"))
        if why == "queued":
            lines.append(content.text("alert_queued_note"))
        lines.append(content.text("alert_footer"))
        return "\n".join(lines)


def _label(kind: str, value: str) -> str:
    """A category or severity as officers read it (bot/content/officer.yml)."""
    return content.texts().get(f"{kind}_{value}", value)


def anonymise_closed(days: int, now: datetime | None = None) -> int:
    """Retention: a case closed more than `days` ago loses everything that could lead back to
    the resident (pseudonym, sealed chat id, the officer's note, shared answers); what it was,
    where, when and how it ended stay for the statistics. Relayed messages go too. Returns
    how many were anonymised."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with session_scope() as session:
        cases = list(session.scalars(select(Case).where(
            Case.status == "closed", Case.closed_at < cutoff, Case.sender != ANONYMOUS)))
        for case in cases:
            case.sender, case.reply_to, case.note, case.shared = ANONYMOUS, None, None, None
            _event(session, case.id, "anonymised")
        if cases:
            _forget_messages(session, [case.id for case in cases])
    return len(cases)


_service: Escalation | None = None


def install(service: Escalation | None) -> None:
    """The gateway's instance, used by persisted timer jobs (which can only name a function)."""
    global _service
    _service = service


async def ladder_job(case_id: str, rung: int) -> None:
    """APScheduler job target: start rung `rung` of a case (no-op if acknowledged meanwhile),
    or, for `QUEUED_RUNG`, tell the officers about a queued request at office opening."""
    if _service is None:
        return
    if rung == QUEUED_RUNG:
        await _service.notify_queued(case_id)
    else:
        await _service.ladder_step(case_id, rung)
