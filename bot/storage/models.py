"""Tables. Nothing here holds a resident's platform id, name, phone number or message text
in plaintext: senders are pseudonyms (keyed hashes) and conversation state is sealed.
(`places` holds only the public contacts of services.)"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC-aware (SQLite returns naive UTC)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


class Conversation(Base):
    """Rasa's conversation state for one pseudonymous sender, sealed with AES-GCM."""

    __tablename__ = "conversations"

    sender = Column(String(64), primary_key=True)
    state = Column(LargeBinary, nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_conversations_updated_at", "updated_at"),)


class Forgotten(Base):
    """A resident erased their conversation at `at` (a pseudonym and a time, nothing else):
    the tracker store refuses to save a conversation begun before then. Pruned after a day."""

    __tablename__ = "forgotten"

    sender = Column(String(64), primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False)


class RecentMessage(Base):
    """One message of a Telegram chat (the bot's or the resident's), for /thoat: the message
    id is sealed, the chat is known only by the resident's pseudonym. Pruned after 48 hours."""

    __tablename__ = "recent_messages"

    id = Column(Integer, primary_key=True)
    sender = Column(String(64), nullable=False, index=True)
    message = Column(LargeBinary, nullable=False)  # Sealer("recent-message")
    at = Column(DateTime(timezone=True), nullable=False, index=True)


class Case(Base):
    """An escalation episode of one pseudonymous resident. `reply_to` (the channel's id
    for the resident, needed for the relay) and `shared` (what the resident agreed to send
    the officer: the risk self-check's answers) are sealed."""

    __tablename__ = "cases"

    id = Column(String(16), primary_key=True)
    sender = Column(String(64), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="open")  # queued | alerting | acknowledged | unreached | closed
    severity = Column(String(16), nullable=False)
    category = Column(String(32), nullable=False)
    channel = Column(String(16), nullable=False)
    ward = Column(String(64))  # the current unit, when known
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    rung = Column(Integer, nullable=False, default=0)
    assigned_officer_id = Column(Integer, ForeignKey("officers.id", ondelete="SET NULL"))
    reply_to = Column(LargeBinary)
    shared = Column(LargeBinary)
    reporter = Column(String(16), nullable=False, default="resident")  # resident | third_party
    relay = Column(Boolean, nullable=False, default=False)
    acknowledged_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    outcome = Column(String(32))
    note = Column(LargeBinary)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # A case closed as referred: the officer checks on it after a chosen number of days.
    follow_up_at = Column(DateTime(timezone=True))
    follow_up_officer_id = Column(Integer)
    follow_up_done_at = Column(DateTime(timezone=True))
    follow_up_answer = Column(String(16))  # helped | not_helped | unreachable
    # The resident's own check-in (bot/services/checkin.py): their consent when the case was
    # closed, when the one check-in went out, and their answer (helped | not_helped).
    check_in_consent = Column(Boolean)  # None: not asked, or no answer
    check_in_sent_at = Column(DateTime(timezone=True))
    resident_answer = Column(String(16))


class Place(Base):
    """A service a resident can be sent to: trusted address, shelter, police, health...

    Only `verified` entries reach residents in production; `sample` entries are demo data
    (names start with "[Mẫu] ", fake phones). `updated_at` lets the in-memory directory
    index notice changes without re-reading the table.
    """

    __tablename__ = "places"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False)  # stable slug, unique: imports upsert by it
    name = Column(String(200), nullable=False)
    kind = Column(String(32), nullable=False)
    unit = Column(String(64))  # canonical current unit (gazetteer); empty for national hotlines
    address = Column(String(300))
    phones = Column(String(200))  # ';'-separated
    hours = Column(String(200))  # "Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30"
    open_24_7 = Column(Boolean, nullable=False, default=False)
    hours_note = Column(String(300))
    lat = Column(Float)
    lon = Column(Float)
    services = Column(Text)
    verified = Column(Boolean, nullable=False, default=False)
    source = Column(Text)
    last_verified = Column(Date)  # when it was last verified (due again six months later)
    verified_by = Column(String(64))  # who verified it: a console user ("officer:ID") or what the CSV says
    verified_how = Column(String(16))  # called | visited | official_list
    sample = Column(Boolean, nullable=False, default=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("key", name="uq_places_key"),
        Index("ix_places_unit", "unit"),
        Index("ix_places_updated_at", "updated_at"),
    )


class PlaceLead(Base):
    """A place found by desk research (docs: bot/services/directory/places_research_2026-12.csv),
    kept as written for the office to check by phone or visit. Never shown to residents: a
    lead becomes a `Place` only through the console's form, and reaches residents only once
    verified. `research` is the file's own verdict (yes | partial | no)."""

    __tablename__ = "place_leads"

    id = Column(Integer, primary_key=True)
    name = Column(String(300), nullable=False, unique=True)
    kind = Column(String(32), nullable=False)  # as the research wrote it (commune_office, forensic…)
    unit = Column(String(64))  # the current unit, when the lead names one of the area
    address = Column(Text)
    phone = Column(Text)  # as written, often "NOT FOUND" or a sentence
    hours = Column(Text)
    lat = Column(Float)
    lon = Column(Float)
    research = Column(String(16), nullable=False)
    sources = Column(Text)
    source_date = Column(Text)
    notes = Column(Text)
    place_key = Column(String(64))  # the place made from it, once one is
    loaded_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ProcessedEvent(Base):
    """A platform event (Telegram update_id, Zalo msg_id) already handled: a keyed hash of
    channel + event id, so a replay is never processed twice. Pruned after 48 hours."""

    __tablename__ = "processed_events"

    key = Column(String(64), primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_processed_events_created_at", "created_at"),)


class Subscription(Base):
    """A resident's opt-in to campaign messages; the chat id needed to reach them is sealed.
    `unit` and `topics` (';'-separated) are optional choices; `active` turns false when the
    platform says the resident blocked the bot (opting out deletes the row)."""

    __tablename__ = "subscriptions"

    sender = Column(String(64), primary_key=True)  # pseudonym
    channel = Column(String(16), nullable=False)
    chat = Column(LargeBinary, nullable=False)  # Sealer("subscription")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    unit = Column(String(64))
    topics = Column(String(200))
    active = Column(Boolean, nullable=False, default=True)


class Campaign(Base):
    """An awareness campaign: content (text, up to three buttons as JSON), audience
    (channels, units, topics: ';'-separated, "*" = all), when (Huế time, quiet hours) and
    where it stands: draft | scheduled | sending | paused | done | cancelled."""

    __tablename__ = "campaigns"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False, default="message")  # message | trusted_address
    text = Column(Text, nullable=False)
    buttons = Column(Text, nullable=False, default="[]")
    channels = Column(String(64), nullable=False, default="telegram;zalo")
    units = Column(String(300), nullable=False, default="*")
    topics = Column(String(200), nullable=False, default="*")
    starts_at = Column(DateTime(timezone=True))
    quiet_start = Column(String(5), nullable=False, default="21:00")
    quiet_end = Column(String(5), nullable=False, default="07:00")
    status = Column(String(16), nullable=False, default="draft")
    template = Column(String(64))
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    taps = Column(Integer, nullable=False, default=0)


class CampaignDelivery(Base):
    """One campaign message to one subscriber: pending → sending (claimed just before the
    platform call) → sent | failed (reason) | stopped (opted out meanwhile) | unknown (the
    gateway died during the call: never sent again). One row per campaign and subscriber."""

    __tablename__ = "campaign_deliveries"

    id = Column(Integer, primary_key=True)
    campaign_id = Column(Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    sender = Column(String(64), nullable=False)
    channel = Column(String(16), nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    reason = Column(String(32))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "sender", name="uq_campaign_deliveries_recipient"),
        Index("ix_campaign_deliveries_status", "campaign_id", "status"),
    )


class QuizAttempt(Base):
    """One pseudonymous resident's (or officer's) run through a quiz: where they are, what
    they answered ("1:ok;2:no" by question number), the score, and for a contest finisher
    the participant code they show to claim a prize. One attempt per quiz and sender."""

    __tablename__ = "quiz_attempts"

    id = Column(Integer, primary_key=True)
    quiz = Column(String(32), nullable=False)
    sender = Column(String(64), nullable=False)
    position = Column(Integer, nullable=False, default=0)
    answers = Column(String(400), nullable=False, default="")
    score = Column(Integer, nullable=False, default=0)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))
    code = Column(String(16), unique=True)

    __table_args__ = (UniqueConstraint("quiz", "sender", name="uq_quiz_attempts_sender"),)


class ReplyWindow(Base):
    """When a resident last wrote (Zalo lets an OA answer for 48 hours after that)."""

    __tablename__ = "reply_windows"

    sender = Column(String(64), primary_key=True)  # pseudonym
    last_message_at = Column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_reply_windows_last_message_at", "last_message_at"),)


class ChannelToken(Base):
    """A channel's API tokens (Zalo: access + single-use refresh token), sealed.

    `version` grows on every refresh; `lease_until` lets one process at a time refresh.
    `seed` is a keyed hash of the configured refresh token, so a newly configured token
    replaces the stored pair while a restart with the old configuration does not."""

    __tablename__ = "channel_tokens"

    channel = Column(String(16), primary_key=True)
    access_token = Column(LargeBinary)  # Sealer("channel-token")
    refresh_token = Column(LargeBinary, nullable=False)
    expires_at = Column(DateTime(timezone=True))
    version = Column(Integer, nullable=False, default=1)
    lease_until = Column(DateTime(timezone=True))
    seed = Column(String(64), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Undelivered(Base):
    """Messages a channel could not deliver, counted per day and reason (no content, no recipient)."""

    __tablename__ = "undelivered"

    channel = Column(String(16), primary_key=True)
    reason = Column(String(32), primary_key=True)
    day = Column(Date, primary_key=True)
    count = Column(Integer, nullable=False, default=0)


class Officer(Base):
    """A person of the service: an on-duty responder of the roster, a console user, or both
    (one table). The Telegram user id is only a keyed hash (for recognising commands); the
    chat id needed to send alerts is sealed. `role` is the ladder rung (None: not on the
    duty roster, e.g. an official or an admin); `console_role` what the web console lets
    them do. Passwords are argon2id hashes."""

    __tablename__ = "officers"

    id = Column(Integer, primary_key=True)
    display_name = Column(String(100), nullable=False)
    agency = Column(String(32))
    role = Column(String(16))  # officer | backup | duty_desk | coordinator | None (not on the roster)
    units = Column(String(300), nullable=False, default="*")  # ';'-separated current units, or "*"
    telegram_key = Column(String(64), unique=True)
    telegram_chat = Column(LargeBinary)
    token_hash = Column(String(64), unique=True)
    token_expires_at = Column(DateTime(timezone=True))  # the API token stops working then
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    username = Column(String(64), unique=True)  # None: cannot sign in to the console
    password_hash = Column(String(200))
    console_role = Column(String(16))  # officer | coordinator | official | admin
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    last_seen_at = Column(DateTime(timezone=True))
    totp_secret = Column(LargeBinary)  # Sealer("totp"): the second sign-in factor, when set
    totp_step = Column(Integer)  # the last time step accepted (a code is used once)


class ConsoleSession(Base):
    """A signed-in console user. The cookie holds a random token; only its SHA-256 is stored.
    `seen_at` is the last request (the idle timeout counts from it); `flash` is a one-shot
    notice for the next page."""

    __tablename__ = "console_sessions"

    key = Column(String(64), primary_key=True)
    officer_id = Column(Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    flash = Column(String(300))


class Shift(Base):
    """A duty period: weekly (`weekday` 0=Mon) or on one `day` (an override for that day;
    `off` marks a day off). Times are Asia/Ho_Chi_Minh "HH:MM"; end < start crosses midnight."""

    __tablename__ = "shifts"

    id = Column(Integer, primary_key=True)
    officer_id = Column(Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday = Column(Integer)
    day = Column(Date)
    start = Column(String(5), nullable=False, default="00:00")
    end = Column(String(5), nullable=False, default="24:00")
    off = Column(Boolean, nullable=False, default=False)


class CaseEvent(Base):
    """Every step of a case with its time: opened, joined, alert_sent, alert_failed,
    escalated, acknowledged, passed, relay_in, relay_out, relay_ended, unreached, closed."""

    __tablename__ = "case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(String(16), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    kind = Column(String(32), nullable=False)
    officer_id = Column(Integer)
    rung = Column(Integer)
    ref = Column(LargeBinary)  # sealed channel message reference of an alert (to edit it later)
    text = Column(LargeBinary)  # relay_in / relay_out: the message, sealed (Sealer("case-message"))


class OfficerMessage(Base):
    """A message the bot sent an officer about a case (alert, relayed resident message,
    notice): an officer's reply to it goes to that case. `key` is a keyed digest of the
    channel's message reference ("chat:message_id"), not the reference itself."""

    __tablename__ = "officer_messages"

    key = Column(String(64), primary_key=True)
    case_id = Column(String(16), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditLog(Base):
    """Append-only: who read or changed which case. Updates and deletes are refused by
    database triggers (migration 0004)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    case_id = Column(String(16))
    subject = Column(String(64))  # whom an account change concerns ("officer:ID")


class Activity(Base):
    """Anonymous counters for the reports (migration 0012): per Huế day, channel, unit ("" when
    unknown) and kind (`conversation`, `disclosure`, `referral:<place kind>`), how many times.
    No sender and no text, so nothing here can lead back to a resident."""

    __tablename__ = "activity"

    day = Column(Date, primary_key=True)
    channel = Column(String(16), primary_key=True)
    unit = Column(String(64), primary_key=True)
    kind = Column(String(32), primary_key=True)
    count = Column(Integer, nullable=False)
