"""Report reminders: 10 and 3 days before 20/06 and 30/11 (Huế time), a draft report is written
and officials and admins with Telegram are told; nobody else, and no other day."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services import accounts, reminders
from tests.services.reports.synthetic import at


@pytest.mark.parametrize("today, period, days_left", [
    (date(2026, 6, 10), "2026-H1", 10),
    (date(2026, 6, 17), "2026-H1", 3),
    (date(2026, 6, 20), "2026-H1", 0),
    (date(2026, 6, 21), "2026", 162),
    (date(2026, 11, 20), "2026", 10),
    (date(2026, 12, 1), "2027-H1", 201),
])
def test_the_next_deadline(today, period, days_left):
    due = reminders.next_due(today)
    assert (due.period, due.days_left) == (period, days_left)


class Recorder:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def send_alert(self, chat, text, buttons):
        self.sent.append((chat, text))
        return "ref"


@pytest.fixture
def people(db_url):
    password = "a long enough password"
    accounts.add_user("lanh.dao", "official", password, telegram_id="7001")
    accounts.add_user("quan.tri", "admin", password, telegram_id="7002")
    accounts.add_user("lanh.dao.b", "official", password)  # no Telegram: sees the console notice only
    accounts.add_user("can.bo", "officer", password, units="Phường Kim Trà", telegram_id="7003")


async def test_ten_days_before_20_06_officials_are_told_and_the_draft_is_ready(people, tmp_path):
    sender = Recorder()
    due = await reminders.remind(tmp_path / "reports", now=at("2026-06-10 08:00"), sender=sender)
    assert (due.period, due.days_left) == ("2026-H1", 10)
    assert sorted(chat for chat, _ in sender.sent) == ["7001", "7002"]  # not the officer, not the one without Telegram
    text = sender.sent[0][1]
    assert "6 tháng đầu năm 2026" in text and "20/06/2026" in text and "còn 10 ngày" in text
    assert "bạo lực" not in text  # neutral on a lock screen
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["bao-cao-2026-H1.docx", "bao-cao-2026-H1.xlsx"]


async def test_three_days_before_30_11_late_in_the_evening_utc_is_already_the_next_day_in_hue(people, tmp_path):
    sender = Recorder()
    due = await reminders.remind(tmp_path, now=at("2026-11-27 00:30"), sender=sender)  # 26/11 17:30 UTC
    assert (due.period, due.days_left) == ("2026", 3)
    assert len(sender.sent) == 2 and (tmp_path / "bao-cao-2026.docx").exists()


@pytest.mark.parametrize("day", ["2026-06-09 08:00", "2026-06-11 08:00", "2026-11-29 08:00", "2026-12-25 08:00"])
async def test_no_reminder_on_other_days(people, tmp_path, day):
    sender = Recorder()
    assert await reminders.remind(tmp_path / "reports", now=at(day), sender=sender) is None
    assert sender.sent == [] and not (tmp_path / "reports").exists()


def test_the_console_notice_shows_from_ten_days_before():
    assert reminders.notice(at("2026-06-09 08:00")) is None
    assert reminders.notice(at("2026-06-12 08:00")).days_left == 8


def test_an_official_s_telegram_id_serves_reminders_only(people):
    from bot.services import roster

    assert roster.officer_by_telegram("7001") is None  # no key: Telegram buttons and commands do not know them
    assert roster.officer_by_telegram("7003") is not None  # the officer's do
    assert all(o.console_role not in ("official", "admin") for o in roster.list_officers())


def test_the_scheduler_runs_the_reminder_every_morning_in_hue(db_url):
    from bot import scheduler
    from bot.config import settings

    job = {job.id: job for job in scheduler.build(settings()).get_jobs()}["report_reminder"]
    assert job.func is reminders.reminder_job
    assert job.args == (str(settings().var_dir / "reports"),)
    assert str(job.trigger) == "cron[hour='8']" and str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
