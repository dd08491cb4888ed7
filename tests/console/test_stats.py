"""Statistics for officials: counts by unit, category, channel and outcome for this month and
this year (Huế calendar), time to acknowledge (p50, p90), small counts shown as "<5", and no
case content on the page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.services import stats
from bot.storage.db import session_scope
from bot.storage.models import Case
from tests.console.test_console import console, user  # noqa: F401

HUE = timezone(timedelta(hours=7))
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=HUE)


def add_case(case_id: str, created: datetime, ward: str | None = "Phường Kim Trà", category: str = "danger_to_life",
             channel: str = "telegram", outcome: str | None = None, ack_minutes: float | None = None) -> None:
    created = created.astimezone(timezone.utc)  # as the service stores times
    with session_scope() as session:
        session.add(Case(
            id=case_id, sender="s", status="closed" if outcome else "alerting", severity="critical",
            category=category, channel=channel, ward=ward, created_at=created, updated_at=created, rung=0,
            outcome=outcome, acknowledged_at=created + timedelta(minutes=ack_minutes) if ack_minutes is not None else None,
        ))


def test_small_counts_are_shown_as_under_five():
    assert [stats.shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


def test_counts_by_dimension_and_time_to_acknowledge_for_this_month_and_year(db_url):
    for i, minutes in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 30]):  # ten urgent cases this month
        add_case(f"M{i:07d}", NOW - timedelta(days=1, hours=i), outcome="referred_police" if i < 6 else None,
                 ack_minutes=minutes, channel="web" if i < 7 else "zalo")
    add_case("REQUEST1", NOW - timedelta(days=2), category="contact_request", ack_minutes=600)  # waits for office hours
    add_case("MARCH001", datetime(2026, 3, 1, 8, 0, tzinfo=HUE), ward=None, outcome="false_alarm", ack_minutes=1)
    add_case("LASTYEAR", datetime(2025, 12, 31, 23, 0, tzinfo=HUE))
    add_case("DEC1EARL", datetime(2026, 12, 1, 0, 30, tzinfo=HUE))  # Huế's 1 December, still 30 November in UTC
    month, year = stats.this_month_and_year(NOW)
    assert month.total == 12 and year.total == 13
    assert dict(month.by["channel"]) == {"web": 7, "zalo": 3, "telegram": 2}
    assert dict(month.by["outcome"]) == {"referred_police": 6, "open": 6}
    assert dict(month.by["category"]) == {"danger_to_life": 11, "contact_request": 1}
    assert dict(year.by["unit"]) == {"Phường Kim Trà": 12, "unknown": 1}
    assert month.acknowledged == 10  # the contact request is not an urgent wait
    assert month.ack_p50 == timedelta(minutes=5) and month.ack_p90 == timedelta(minutes=9)


def test_waiting_times_need_five_acknowledged_cases(db_url):
    for i in range(4):
        add_case(f"FEW{i:05d}", NOW - timedelta(hours=i + 1), ack_minutes=3)
    month, _ = stats.this_month_and_year(NOW)
    assert month.acknowledged == 4 and month.ack_p50 is None and month.ack_p90 is None


async def test_officials_see_aggregates_with_small_counts_hidden_and_no_case(console):  # noqa: F811
    now = datetime.now(timezone.utc)
    for i in range(6):
        add_case(f"KT{i:06d}", now - timedelta(minutes=i + 1), channel="web")
    add_case("BD000001", now - timedelta(minutes=9), ward="Xã Bình Điền", channel="zalo")
    user("lanh.dao", "official")
    await console.sign_in("lanh.dao")
    status, html = await console.get("/console/stats")
    assert status == 200
    assert "<td>Phường Kim Trà</td><td>6</td>" in html
    assert "<td>Xã Bình Điền</td><td>&lt;5</td>" in html and "<td>Zalo</td><td>&lt;5</td>" in html
    assert "KT000000" not in html and "BD000001" not in html
    user("can.bo", "officer", "*")
    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/stats")})
    await console.sign_in("can.bo")
    assert (await console.get("/console/stats"))[0] == 403
