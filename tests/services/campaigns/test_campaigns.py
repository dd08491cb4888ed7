"""Campaigns: a file is checked before anything is written, the audience is who opted in,
quiet hours hold, each subscriber gets one message per campaign whatever crashes, a block
(403) ends the subscription, Zalo outside its window is counted, and pause / opt-out take
effect at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from telegram.error import Forbidden

from bot import cli
from bot.outbound import Outbox, Priority
from bot.services import campaigns
from bot.services.campaigns import store
from bot.services.campaigns.engine import CampaignEngine
from bot.storage import subscriptions
from bot.storage.crypto import pseudonym
from bot.storage.db import session_scope
from bot.storage.models import Campaign, CampaignDelivery

DAY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # 10:00 in Huế
NIGHT = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)  # 22:00 in Huế
GOOD = {
    "name": "25/11",
    "text": "Bạn có một tin nhắn mới.\n\nNgày 25/11 là ngày quốc tế vì phụ nữ. Gọi 113 khi cần giúp ngay.",
    "buttons": [{"title": "Quyền của tôi", "payload": "/ask_rights"}],
}


def subscriber(number: int, channel: str = "telegram", unit: str | None = None, topics=None) -> str:
    sender = pseudonym(channel, str(number))
    subscriptions.subscribe(sender, channel, str(number))
    subscriptions.choose(sender, unit=unit, topics=topics)
    return sender


def campaign(**fields) -> int:
    campaign_id = campaigns.create(campaigns.parse({**GOOD, **fields}), "test")
    campaigns.act(campaign_id, "send")
    return campaign_id


def rows(campaign_id: int) -> dict[str, str]:
    with session_scope() as session:
        return dict(session.execute(select(CampaignDelivery.sender, CampaignDelivery.status)
                                    .where(CampaignDelivery.campaign_id == campaign_id)).all())


class Outlet:
    """A channel as the engine sees it: a real Outbox whose platform call is recorded."""

    def __init__(self, fail: dict | None = None):
        self.sent: list[tuple[str, str]] = []
        self.fail = fail or {}
        self.outbox = Outbox(self._send, per_second=1000, per_chat_interval=0, name="test")

    async def _send(self, chat, item):
        text, claim = item
        if not claim():
            return None
        if chat in self.fail:
            raise self.fail[chat]
        self.sent.append((chat, text))
        return "ok"

    def broadcast(self, _sender, chat, message, claim):
        return self.outbox.put(chat, (message.text, claim), Priority.BROADCAST)

    @staticmethod
    def failure_reason(error):
        return "blocked" if isinstance(error, Forbidden) else "other"


async def deliver(engine: CampaignEngine, outlet: Outlet) -> None:
    await outlet.outbox.start()
    while engine.tick():
        await asyncio.wait(engine._futures)
    engine.tick()  # notices the campaign is done
    await outlet.outbox.close(drain=0)


# --- the file ----------------------------------------------------------------------------


def test_a_campaign_file_with_problems_lists_them_all_and_writes_nothing(db_url, tmp_path, capsys):
    path = tmp_path / "campaign.yml"
    path.write_text(json.dumps({
        "name": "x", "text": "Chồng đánh vợ bị phạt 50–70 triệu. Gọi 1800 1567.",
        "buttons": [{"title": "a", "payload": "/no_such_topic"}] * 4, "units": ["Hà Nội"],
        "channels": ["sms"], "quiet_hours": "always",
    }), encoding="utf-8")
    assert cli.main(["campaigns", "create", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    for problem in ("1800", "50–70 triệu", "first line", "at most 3", "units: 'Hà Nội'", "unknown channel 'sms'",
                    "quiet_hours", "nothing was written"):
        assert problem in err, problem
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_good_file_becomes_a_draft_and_show_gives_the_rendering_per_channel(db_url, tmp_path, capsys):
    path = tmp_path / "campaign.yml"
    path.write_text(json.dumps({**GOOD, "units": "Tứ Hạ", "starts_at": "2026-11-25 08:00"}), encoding="utf-8")
    assert cli.main(["campaigns", "create", "--file", str(path)]) == 0
    assert cli.main(["campaigns", "show", "1"]) == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert shown["status"] == "draft" and shown["units"] == "Phường Hương Trà"
    assert shown["starts_at"] == "2026-11-25 08:00"
    assert shown["rendering"]["telegram"].endswith("gõ /huy.")
    assert "1. Quyền của tôi" in shown["rendering"]["zalo"] and "nhắn huy" in shown["rendering"]["zalo"]
    assert cli.main(["campaigns", "resume", "1"]) == 1  # a draft cannot be resumed
    assert cli.main(["campaigns", "send", "1"]) == 0
    assert campaigns.get(1).status == "scheduled"


def test_a_message_too_long_once_the_stop_line_is_added_is_refused():
    with pytest.raises(campaigns.SpecError, match="characters"):
        campaigns.parse({**GOOD, "text": "Bạn có một tin nhắn mới.\n" + "a " * 290})


# --- audience and time --------------------------------------------------------------------


def test_the_audience_is_who_opted_in_for_that_unit_and_topic(db_url):
    everyone = subscriber(1)
    kim_tra = subscriber(2, unit="Phường Kim Trà", topics=["law"])
    huong_tra = subscriber(3, unit="Phường Hương Trà")
    children_only = subscriber(4, topics=["children"])
    zalo = subscriber(5, channel="zalo")
    blocked = subscriber(6)
    subscriptions.deactivate(blocked)
    campaign_id = campaign(units=["Kim Trà"], topics=["law"], channels=["telegram"])
    store.due(DAY)
    assert set(rows(campaign_id)) == {everyone, kim_tra}
    assert {huong_tra, children_only, zalo, blocked}.isdisjoint(rows(campaign_id))


def test_nothing_goes_out_in_quiet_hours_or_before_the_start(db_url):
    subscriber(1)
    night = campaign()
    later = campaign(starts_at="2026-11-26 08:00")
    assert store.due(NIGHT) == []
    assert [c.id for c in store.due(DAY)] == [night]
    assert rows(later) == {}


# --- delivery -----------------------------------------------------------------------------


async def test_each_subscriber_gets_the_message_once_and_the_campaign_ends_done(db_url):
    people = [subscriber(n) for n in range(1, 31)]
    campaign_id = campaign()
    outlet = Outlet()
    await deliver(CampaignEngine({"telegram": outlet}, batch=7, clock=lambda: DAY), outlet)
    assert sorted(int(chat) for chat, _ in outlet.sent) == list(range(1, 31))
    assert all(text.endswith("gõ /huy.") for _, text in outlet.sent)
    assert set(rows(campaign_id).values()) == {"sent"} and len(rows(campaign_id)) == len(people)
    assert campaigns.get(campaign_id).status == "done"
    counts = campaigns.stats(campaign_id)
    assert (counts["targeted"], counts["sent"], counts["failed"]) == (30, 30, 0)


async def test_a_restart_sends_no_message_twice(db_url):
    for n in range(1, 11):
        subscriber(n)
    campaign_id = campaign()
    store.due(DAY)
    with session_scope() as session:  # the dead process had sent 1–3 and was calling the platform for 4
        ids = list(session.scalars(select(CampaignDelivery.id).order_by(CampaignDelivery.id)))
    for delivery_id in ids[:3]:
        assert store.claim(delivery_id, campaign_id, "x") is False  # not a subscriber: stopped
    with session_scope() as session:
        session.execute(CampaignDelivery.__table__.update().where(CampaignDelivery.id.in_(ids[:3]))
                        .values(status="sent"))
        session.execute(CampaignDelivery.__table__.update().where(CampaignDelivery.id == ids[3])
                        .values(status="sending"))
    outlet = Outlet()
    engine = CampaignEngine({"telegram": outlet}, clock=lambda: DAY)
    await engine.start()
    await engine.stop()
    await deliver(engine.__class__({"telegram": outlet}, clock=lambda: DAY), outlet)
    assert sorted(int(chat) for chat, _ in outlet.sent) == list(range(5, 11))
    counts = campaigns.stats(campaign_id)
    assert (counts["sent"], counts["unknown"], counts["pending"]) == (9, 1, 0)


async def test_a_block_ends_the_subscription_and_is_counted(db_url):
    blocker = subscriber(1)
    subscriber(2)
    campaign_id = campaign()
    outlet = Outlet(fail={"1": Forbidden("bot was blocked by the user")})
    await deliver(CampaignEngine({"telegram": outlet}, clock=lambda: DAY), outlet)
    assert subscriptions.chat_of(blocker) is None
    assert campaigns.stats(campaign_id)["failed_by_reason"] == {"blocked": 1}
    assert campaigns.stats(campaign_id)["sent"] == 1


async def test_pause_and_opting_out_take_effect_for_messages_already_queued(db_url):
    people = [subscriber(n) for n in range(1, 6)]
    campaign_id = campaign()
    outlet = Outlet()
    engine = CampaignEngine({"telegram": outlet}, clock=lambda: DAY)
    assert engine.tick() == 5  # queued, not yet sent (the outbox is not running)
    subscriptions.unsubscribe(people[0])
    await outlet.outbox.start()
    campaigns.act(campaign_id, "pause")
    await asyncio.wait(engine._futures)
    assert outlet.sent == []
    campaigns.act(campaign_id, "resume")
    while engine.tick():
        await asyncio.wait(engine._futures)
    await outlet.outbox.close(drain=0)
    assert sorted(int(chat) for chat, _ in outlet.sent) == [2, 3, 4, 5]
    assert campaigns.stats(campaign_id)["stopped"] == 1


def test_a_tap_on_a_campaign_button_is_counted_and_opens_its_topic(db_url):
    from bot.conversation.core import Message, _campaign_tap

    campaign_id = campaign()
    tapped = _campaign_tap(Message("telegram", "1", payload=campaigns.tap_payload(campaign_id, 0)))
    assert tapped.payload == "/ask_rights"
    assert _campaign_tap(Message("telegram", "1", payload='/campaign{"c":99,"b":0}')).payload == "/menu"
    assert campaigns.stats(campaign_id)["taps"] == 1


def test_erasing_my_data_leaves_no_pseudonym_in_campaign_rows_and_keeps_the_counts(db_url):
    from bot.storage import residents

    leaving = subscriber(1)
    subscriber(2)
    campaign_id = campaign()
    store.due(DAY)
    assert residents.forget(leaving)
    assert leaving not in rows(campaign_id)
    counts = campaigns.stats(campaign_id)
    assert (counts["targeted"], counts["pending"], counts["stopped"]) == (2, 1, 1)


def test_a_template_becomes_a_draft_from_the_cli(db_url, capsys):
    assert cli.main(["campaigns", "create", "--template", "storm_flood"]) == 0
    assert campaigns.get(1).template == "storm_flood" and campaigns.get(1).quiet_start == "23:00"
    assert cli.main(["campaigns", "create", "--template", "nope"]) == 1
    assert "no template 'nope'" in capsys.readouterr().err


def test_a_campaign_can_announce_a_quiz_that_exists():
    spec = campaigns.parse({**GOOD, "buttons": [{"title": "Thi tìm hiểu", "payload": '/quiz{"id": "hieu_luat"}'}]})
    assert spec.buttons[0][1] == '/quiz{"id": "hieu_luat"}'
    with pytest.raises(campaigns.SpecError, match="button 1"):
        campaigns.parse({**GOOD, "buttons": [{"title": "Thi", "payload": '/quiz{"id": "nope"}'}]})


def test_a_trusted_address_campaign_lists_the_verified_places_of_the_subscribers_unit(db_url):
    from bot.services.campaigns import message_for
    from bot.storage.models import Place

    with session_scope() as session:
        session.add_all([
            Place(key="a", name="Nhà bà A", kind="trusted_address", unit="Phường Kim Trà", address="Tổ 3", verified=True),
            Place(key="b", name="Nhà ông B", kind="trusted_address", unit="Phường Kim Trà", verified=False),
            Place(key="c", name="Nhà cô C", kind="trusted_address", unit="Xã Bình Điền", verified=True),
        ])
    campaign_id = campaigns.create(campaigns.parse(campaigns.templates()["trusted_address"]), "test")
    text = message_for(campaigns.get(campaign_id), "telegram", "Phường Kim Trà").text
    assert "• Nhà bà A, Tổ 3" in text and "Nhà ông B" not in text and "Nhà cô C" not in text
    assert "Điều 36" in text and text.endswith("gõ /huy.")
    nothing = message_for(campaigns.get(campaign_id), "telegram", None).text
    assert "chưa được công bố" in nothing
