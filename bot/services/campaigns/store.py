"""Campaigns in the database: create, list, change status, the delivery rows, counters.

Exactly once per subscriber and campaign: `start` writes one `pending` row per subscriber
of the audience (a unique constraint forbids a second); the delivery engine `claim`s a row
(pending → sending) in the same moment it calls the platform, and `finish`es it after the
answer (sent, failed with a reason). A row found `sending` when the gateway starts again
was in flight when the process died: the platform may or may not have delivered it, so it
becomes `unknown` and is never sent again — at most once, never twice. A graceful stop
(SIGTERM) lets in-flight calls finish first, so only a hard kill leaves `unknown` rows,
at most as many as the calls in flight at that instant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, select, update

from bot.geo.hours import covers, local_time, minutes
from bot.services.campaigns.spec import Spec
from bot.storage import subscriptions
from bot.storage.db import engine, session_scope
from bot.storage.models import Campaign, CampaignDelivery, Subscription, aware, utcnow

ACTIONS = {  # what each command may change: from these statuses, to that one
    "send": (("draft",), "scheduled"),
    "pause": (("scheduled", "sending"), "paused"),
    "resume": (("paused",), "sending"),
    "cancel": (("draft", "scheduled", "sending", "paused"), "cancelled"),
}
RESULTS = ("sent", "failed", "stopped", "unknown")


class CampaignError(ValueError):
    pass


def create(spec: Spec, actor: str) -> int:
    now = utcnow()
    with session_scope() as session:
        row = Campaign(
            name=spec.name, kind=spec.kind, text=spec.text, buttons=spec.buttons_json(),
            channels=";".join(spec.channels), units=";".join(spec.units) if spec.units else "*",
            topics=";".join(spec.topics) if spec.topics else "*", starts_at=spec.starts_at,
            quiet_start=spec.quiet_start, quiet_end=spec.quiet_end, status="draft", template=spec.template,
            created_by=actor, created_at=now, updated_at=now, taps=0,
        )
        session.add(row)
        session.flush()
        return row.id


def update_draft(campaign_id: int, spec: Spec) -> None:
    with session_scope() as session:
        row = session.get(Campaign, campaign_id)
        if row is None or row.status != "draft":
            raise CampaignError(f"campaign {campaign_id} is not a draft: only drafts can be edited")
        row.name, row.kind, row.text, row.buttons = spec.name, spec.kind, spec.text, spec.buttons_json()
        row.channels, row.units = ";".join(spec.channels), ";".join(spec.units) if spec.units else "*"
        row.topics = ";".join(spec.topics) if spec.topics else "*"
        row.starts_at, row.quiet_start, row.quiet_end = spec.starts_at, spec.quiet_start, spec.quiet_end
        row.updated_at = utcnow()


def get(campaign_id: int) -> Campaign | None:
    with session_scope() as session:
        return session.get(Campaign, campaign_id)


def all_campaigns() -> list[Campaign]:
    with session_scope() as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def act(campaign_id: int, action: str) -> Campaign:
    """send | pause | resume | cancel; raises CampaignError if the campaign is not in a state
    that allows it. Takes effect at once: the engine claims no row of a campaign that is
    not `sending`."""
    allowed, target = ACTIONS[action]
    with session_scope() as session:
        done = session.execute(
            update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(allowed))
            .values(status=target, updated_at=utcnow())
        ).rowcount
        row = session.get(Campaign, campaign_id)
    if row is None:
        raise CampaignError(f"no campaign {campaign_id}")
    if not done:
        raise CampaignError(f"campaign {campaign_id} is {row.status}: cannot {action} it")
    return row


def quiet(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether Huế time is inside the campaign's quiet hours (nothing is sent then)."""
    local = local_time(now)
    start, end, minute = minutes(campaign.quiet_start), minutes(campaign.quiet_end), local.hour * 60 + local.minute
    return covers(start, end, minute) or covers(start, end, minute, previous_day=True)


def due(now: datetime | None = None) -> list[Campaign]:
    """Campaigns whose messages may go out now: scheduled or sending, start time reached,
    outside quiet hours. Scheduled ones become `sending` with one delivery row per subscriber."""
    now = now or utcnow()
    with session_scope() as session:
        rows = list(session.scalars(select(Campaign).where(Campaign.status.in_(("scheduled", "sending")))))
    ready = []
    for campaign in rows:
        if (campaign.starts_at and aware(campaign.starts_at) > now) or quiet(campaign, now):
            continue
        if campaign.status == "scheduled":
            start(campaign)
        ready.append(campaign)
    return ready


def start(campaign: Campaign) -> int:
    """Write the delivery rows of the audience and mark the campaign `sending` (once: only
    the process that moves it from `scheduled` writes the rows)."""
    units = None if campaign.units == "*" else campaign.units.split(";")
    topics = None if campaign.topics == "*" else campaign.topics.split(";")
    people = subscriptions.audience(campaign.channels.split(";"), units, topics)
    now = utcnow()
    with session_scope() as session:
        moved = session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "scheduled")
                                .values(status="sending", updated_at=now)).rowcount
        if not moved:
            return 0
        session.execute(CampaignDelivery.__table__.insert(), [
            {"campaign_id": campaign.id, "sender": s, "channel": c, "status": "pending", "updated_at": now}
            for s, c in people
        ] or [])
    campaign.status = "sending"
    return len(people)


def pending(campaign_id: int, channels: list[str], skip: set[int], limit: int) -> list[tuple]:
    """(delivery id, pseudonym, channel, sealed chat or None if no longer subscribed, unit) of
    rows still to send on `channels`, oldest first."""
    d, s = CampaignDelivery.__table__.c, Subscription.__table__.c
    query = (select(d.id, d.sender, d.channel, s.chat, s.unit)
             .select_from(CampaignDelivery.__table__.outerjoin(
                 Subscription.__table__, and_(s.sender == d.sender, s.active.is_(True))))
             .where(d.campaign_id == campaign_id, d.status == "pending", d.channel.in_(channels))
             .order_by(d.id).limit(limit + len(skip)))
    with engine().connect() as connection:
        return [tuple(r) for r in connection.execute(query) if r[0] not in skip][:limit]


def claim(delivery_id: int, campaign_id: int, sender: str) -> bool:
    """pending → sending in one statement, only if the campaign is still `sending` and the
    subscriber has not opted out meanwhile (then the row becomes `stopped`). False: do not send.
    (Quiet hours are the engine's to check: it knows the campaign.)"""
    d, s, c = CampaignDelivery.__table__.c, Subscription.__table__.c, Campaign.__table__.c
    subscribed = exists().where(s.sender == sender, s.active.is_(True))
    sending = exists().where(c.id == campaign_id, c.status == "sending")
    with engine().begin() as connection:
        if connection.execute(update(CampaignDelivery.__table__)
                              .where(d.id == delivery_id, d.status == "pending", subscribed, sending)
                              .values(status="sending", updated_at=utcnow())).rowcount == 1:
            return True
        if not connection.execute(select(subscribed)).scalar():
            connection.execute(update(CampaignDelivery.__table__).where(d.id == delivery_id, d.status == "pending")
                               .values(status="stopped", updated_at=utcnow()))
        return False


def finish(delivery_id: int, status: str, reason: str | None = None) -> None:
    """Record the outcome of a row not yet settled (pending: refused before any call)."""
    d = CampaignDelivery.__table__.c
    with engine().begin() as connection:
        connection.execute(update(CampaignDelivery.__table__).where(d.id == delivery_id, d.status.in_(("pending", "sending")))
                           .values(status=status, reason=reason and reason[:32], updated_at=utcnow()))


def recover() -> int:
    """At start: rows left `sending` by a process that died mid-call become `unknown`."""
    with session_scope() as session:
        return session.execute(update(CampaignDelivery).where(CampaignDelivery.status == "sending")
                                .values(status="unknown", reason="interrupted", updated_at=utcnow())).rowcount


def complete_if_done(campaign_id: int) -> bool:
    """A sending campaign with no pending or in-flight row is done."""
    with session_scope() as session:
        left = session.scalar(select(func.count()).where(
            CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.status.in_(("pending", "sending"))))
        if left:
            return False
        return session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending")
                               .values(status="done", updated_at=utcnow())).rowcount == 1


def tap(campaign_id: int) -> None:
    with session_scope() as session:
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(taps=Campaign.taps + 1))


def stats(campaign_id: int) -> dict:
    """targeted, pending, sent, failed by reason, stopped, unknown, taps."""
    with session_scope() as session:
        rows = session.execute(
            select(CampaignDelivery.status, CampaignDelivery.reason, func.count())
            .where(CampaignDelivery.campaign_id == campaign_id)
            .group_by(CampaignDelivery.status, CampaignDelivery.reason)
        ).all()
        taps = session.scalar(select(Campaign.taps).where(Campaign.id == campaign_id)) or 0
    counts = {"targeted": 0, "pending": 0, "sent": 0, "failed": 0, "stopped": 0, "unknown": 0, "taps": taps}
    reasons: dict[str, int] = {}
    for status, reason, count in rows:
        counts["targeted"] += count
        counts["pending" if status == "sending" else status] += count
        if status == "failed":
            reasons[reason or "?"] = reasons.get(reason or "?", 0) + count
    counts["failed_by_reason"] = dict(sorted(reasons.items()))
    return counts
