"""Roster and escalation ladder, on SQLite and PostgreSQL, with a recording alert sender."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.services import escalation as escalation_module
from bot.services import roster
from bot.services.escalation import Escalation
from bot.storage.db import session_scope
from bot.storage.models import AuditLog, Case, CaseEvent

HUE = roster.HUE


class RecordingSender:
    def __init__(self, fail_chats: set[str] = frozenset()):
        self.alerts: list[tuple[str, str, list]] = []
        self.edits: list[tuple[str, str]] = []
        self.to_residents: list[tuple[str, str, str]] = []
        self.resident_buttons: list[tuple] = []
        self.fail_chats = fail_chats

    async def send_alert(self, chat, text, buttons):
        if chat in self.fail_chats:
            return None
        self.alerts.append((chat, text, buttons))
        return f"{chat}:{len(self.alerts)}"

    async def edit_alert(self, ref, text):
        self.edits.append((ref, text))

    async def send_to_resident(self, channel, reply_to, text, buttons=()):
        self.to_residents.append((channel, reply_to, text))
        self.resident_buttons.append(buttons)
        return True


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make(db_url, at=datetime(2026, 12, 1, 10, 0, tzinfo=HUE), fail=frozenset()):
    timers: list[tuple[str, int, datetime]] = []
    sender = RecordingSender(fail)
    service = Escalation(sender, timedelta(minutes=3), lambda c, r, when: timers.append((c, r, when)), Clock(at))
    return service, sender, timers


def write_roster(tmp_path, rows: str) -> str:
    path = tmp_path / "roster.csv"
    path.write_text("officer_id,weekday,date,start,end,off\n" + rows, encoding="utf-8")
    return str(path)


def test_weekly_shifts_overrides_and_midnight(staff, tmp_path):
    day, night, backup = staff["day"], staff["night"], staff["backup"]
    rows = "".join(f"{day},{d},,07:00,19:00,\n" for d in ("Mon", "Tue", "Wed", "Thu", "Fri"))
    rows += "".join(f"{night},{d},,19:00,07:00,\n" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    rows += f"{backup},,2026-12-01,08:00,12:00,\n{day},,2026-12-02,,,true\n"
    assert roster.import_roster(write_roster(tmp_path, rows)) == 14
    names = lambda at: [o.display_name for o in roster.on_duty(roster.parse_local(at))]  # noqa: E731
    assert names("2026-12-01 10:00") == ["Cán bộ A", "Cán bộ C", "Trực ban", "Điều phối"]  # Tuesday
    assert names("2026-12-01 23:30") == ["Cán bộ B", "Trực ban", "Điều phối"]
    assert names("2026-12-02 06:59") == ["Cán bộ B", "Trực ban", "Điều phối"]  # Monday's night shift crosses midnight
    assert "Cán bộ A" not in names("2026-12-02 10:00")  # day off override
    assert "Cán bộ A" in names("2026-12-03 10:00")


def test_roster_import_reports_every_bad_line_and_writes_nothing(staff, tmp_path):
    bad = write_roster(tmp_path, f"{staff['day']},Mon,,07:00,19:00,\n999,Mon,,07:00,19:00,\n{staff['day']},Xyz,,7h,19:00,\n")
    with pytest.raises(roster.RosterError) as error:
        roster.import_roster(bad)
    assert "line 3" in str(error.value) and "line 4" in str(error.value)
    assert [o.display_name for o in roster.on_duty(roster.parse_local("2026-11-30 10:00"))] == ["Trực ban", "Điều phối"]


def test_officer_ids_are_not_stored_in_plaintext(staff, db_url):
    with session_scope() as session:
        cells = [str(cell) for row in session.execute(text("SELECT * FROM officers")).all() for cell in row]
    # whole-number match: a timestamp such as 05:44:59.551005 must not count as the id 1005
    assert not [cell for cell in cells if re.search(r"(?<!\d)100[15](?!\d)", cell)]
    assert roster.officer_by_telegram("1001").display_name == "Cán bộ A"
    assert roster.officer_by_telegram("9999") is None


async def test_an_urgent_report_alerts_the_on_duty_officer_for_the_unit(staff, tmp_path):
    roster.import_roster(write_roster(tmp_path, f"{staff['day']},Tue,,07:00,19:00,\n{staff['night']},Tue,,19:00,07:00,\n"))
    service, sender, timers = make(None)
    report = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc",
                                  text="cứu tôi, tôi ở Tứ Hạ")
    await service.drain()
    assert report.created and report.reachable
    assert [chat for chat, _, _ in sender.alerts] == ["1001"]
    alert_text, buttons = sender.alerts[0][1], sender.alerts[0][2]
    assert "Phường Hương Trà" in alert_text and "abc" not in alert_text and "cứu tôi" not in alert_text
    assert [b.payload for b in buttons] == [f"ack:{report.case_id}", f"pass:{report.case_id}"]
    assert timers == [(report.case_id, 0, service.now() + escalation_module.FIRST_RUNG_RESCUE),  # no-op: rung 0 done
                      (report.case_id, 1, service.now() + timedelta(minutes=3))]


async def test_a_connection_the_database_drops_while_opening_a_case_is_retried_at_once(staff, db_url):
    """PostgreSQL terminates the backend under the INSERT of the case (a restart, an admin's
    pg_terminate_backend): the report is made again on a fresh connection, once, and alerts once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a backend terminated under the pool is a PostgreSQL event")
    from sqlalchemy import create_engine, event

    from bot.storage import db

    killer, cut = create_engine(db_url, future=True), []

    def terminate_once(_conn, cursor, statement, *_args):
        if not cut and statement.lstrip().upper().startswith("INSERT INTO CASES"):
            cursor.execute("SELECT pg_backend_pid()")
            cut.append(cursor.fetchone()[0])
            with killer.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut[0]})

    event.listen(db.engine(), "before_cursor_execute", terminate_once)
    try:
        service, sender, _ = make(None)
        report = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
        await service.drain()
    finally:
        event.remove(db.engine(), "before_cursor_execute", terminate_once)
        killer.dispose()
    assert cut and report.created and report.reachable
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.sender == "w-1")) == 1
    assert [chat for chat, _, _ in sender.alerts] == ["1004"]  # no shifts: the duty desk, once


class HangingSender(RecordingSender):
    """The process is killed while its alert waits in the outbox: the send never returns."""

    async def send_alert(self, chat, text, buttons):
        await asyncio.Event().wait()


async def test_an_alert_lost_with_the_process_sending_it_is_sent_again_once_by_the_sweep(staff, monkeypatch):
    monkeypatch.setattr(escalation_module, "FIRST_ALERT_WAIT", 0.1)
    service, sender, _ = make(None)  # no shifts: the duty desk is alerted first
    service.sender = HangingSender()
    report = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    for task in list(service._tasks):  # the process dies with the alert in its outbox
        task.cancel()
    await asyncio.gather(*service._tasks, return_exceptions=True)
    service.sender = sender
    service.now.at += escalation_module.RESEND_AFTER - timedelta(seconds=1)
    await service.sweep()
    assert sender.alerts == []  # still in time for the first sender to finish
    service.now.at += timedelta(seconds=2)
    await service.sweep()
    await service.sweep()
    assert [chat for chat, _, _ in sender.alerts] == ["1004"]  # once, to the rung that lost it
    assert f"ack:{report.case_id}" in [b.payload for b in sender.alerts[0][2]]


async def test_an_alert_that_failed_is_not_sent_again_by_the_sweep(staff):
    service, _, _ = make(None, fail={"1004"})
    await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    await service.drain()
    before = len(service.sender.alerts)
    service.now.at += escalation_module.RESEND_AFTER + timedelta(seconds=1)
    await service.sweep()
    assert len(service.sender.alerts) == before


async def test_a_second_urgent_message_joins_the_open_case(staff):
    service, sender, _ = make(None)
    first = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    second = await service.report(sender="w-1", channel="web", category="self_harm", reply_to="abc")
    await service.drain()
    assert second.case_id == first.case_id and not second.created
    with session_scope() as session:
        assert session.scalar(select(Case).where(Case.sender == "w-1")).id == first.case_id
        kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == first.case_id))]
    assert kinds.count("opened") == 1 and "joined" in kinds


async def test_no_acknowledgement_climbs_the_ladder_once_per_rung(staff):
    service, sender, timers = make(None)  # no shifts: only the desk and coordinator are reachable
    await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    await service.drain()
    assert [chat for chat, _, _ in sender.alerts] == ["1004"]  # officer and backup rungs are empty
    case_id, rung, _ = timers[-1]
    await service.ladder_step(case_id, rung)
    await service.ladder_step(case_id, rung)  # the same timer firing twice acts once
    assert [chat for chat, _, _ in sender.alerts] == ["1004", "1005"]
    assert "bậc 4" in sender.alerts[1][1]


async def test_acknowledgement_assigns_the_case_and_stops_the_ladder(staff):
    service, sender, timers = make(None)
    report = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    await service.drain()
    assert await service.acknowledge(report.case_id, staff["desk"]) == "assigned"
    assert await service.acknowledge(report.case_id, staff["coord"]) == "taken"
    await service.ladder_step(report.case_id, 3)
    assert [chat for chat, _, _ in sender.alerts] == ["1004"]
    assert await service.pending_for_web("w-1") and await service.pending_for_web("w-1") == []
    with session_scope() as session:
        case = session.get(Case, report.case_id)
        assert case.status == "acknowledged" and case.assigned_officer_id == staff["desk"]
        assert session.scalar(select(AuditLog.action).where(AuditLog.case_id == report.case_id)) == "acknowledge"


async def test_an_officer_who_cannot_receive_alerts_is_not_counted_as_reached(db_url):
    """An officer who never pressed Start (Telegram answers 403) is on the roster but cannot be
    alerted: the resident's reply says at once that nobody was reached (not "alerting…"), and
    is not told a second time."""
    roster.add_officer("Điều phối", "coordination", "coordinator", "*", telegram_id="1005")
    service, sender, _ = make(None, fail={"1005"})
    report = await service.report(sender="t-1", channel="telegram", category="child", reply_to="777")
    await service.drain()
    assert not report.reachable and report.status == "unreached"
    assert sender.to_residents == []  # the reply itself tells the truth, once
    with session_scope() as session:
        assert session.get(Case, report.case_id).status == "unreached"
        told = session.scalars(select(CaseEvent.kind).where(
            CaseEvent.case_id == report.case_id, CaseEvent.kind == "resident_told_unreached")).all()
    assert len(told) == 1


async def test_a_ladder_that_ends_unreached_after_the_reply_tells_the_resident_once(db_url, monkeypatch):
    import asyncio

    roster.add_officer("Điều phối", "coordination", "coordinator", "*", telegram_id="1005")
    monkeypatch.setattr(escalation_module, "FIRST_ALERT_WAIT", 0.05)
    service, sender, _ = make(None, fail={"1005"})
    slow = sender.send_alert
    answered = asyncio.Event()

    async def slow_alert(chat, text, buttons):
        await answered.wait()  # the platform answers only after the resident's reply went out
        return await slow(chat, text, buttons)

    sender.send_alert = slow_alert
    report = await service.report(sender="t-2", channel="telegram", category="child", reply_to="778")
    assert report.reachable  # still unknown when the reply went out: "an alert is being sent" is true
    assert sender.to_residents == []
    answered.set()
    await service.drain()
    assert len(sender.to_residents) == 1 and "113" in sender.to_residents[0][2]


async def test_relay_and_close_with_a_sealed_note(staff):
    service, sender, _ = make(None)
    report = await service.report(sender="t-9", channel="telegram", category="danger_to_life", reply_to="555")
    await service.drain()
    await service.acknowledge(report.case_id, staff["desk"])
    assert await service.relay_to_resident(report.case_id, staff["desk"], "Chị ở đâu?")
    assert sender.to_residents[-1] == ("telegram", "555", "Bạn có một tin nhắn mới.\n\nCán bộ trực: Chị ở đâu?")
    assert not await service.relay_to_resident(report.case_id, staff["coord"], "không phải ca của tôi")
    assert await service.resident_message("t-9", "em ở Hương Vân")
    assert sender.alerts[-1][0] == "1004" and "em ở Hương Vân" in sender.alerts[-1][1]
    assert service.end_relay("t-9")
    assert not await service.resident_message("t-9", "còn đó không")
    with pytest.raises(ValueError):
        service.close(report.case_id, "officer:1", "whatever")
    assert service.close(report.case_id, f"officer:{staff['desk']}", "referred_police", "Đã chuyển công an xã")
    with session_scope() as session:
        case = session.get(Case, report.case_id)
        assert case.status == "closed" and b"chuy" not in case.note


def test_audit_rows_cannot_be_edited_or_deleted(db_url):
    escalation_module.audit("admin", "read", "X1")
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with session_scope() as session:
                session.execute(text(statement))
    with session_scope() as session:
        assert session.scalar(select(AuditLog.actor)) == "admin"


async def test_a_resident_who_leaves_is_never_written_to_again_and_the_officer_is_told(staff):
    service, sender, _ = make(None)
    report = await service.report(sender="t-10", channel="telegram", category="danger_to_life", reply_to="556")
    await service.drain()
    await service.acknowledge(report.case_id, staff["desk"])
    before = len(sender.to_residents)
    await service.resident_left("t-10")  # the safe word, /xoa or quick exit
    await service.drain()
    assert any("đã thoát khỏi cuộc trò chuyện" in text for _chat, text, _b in sender.alerts)
    assert not await service.relay_to_resident(report.case_id, staff["desk"], "Chị còn đó không?")
    assert not await service.resident_message("t-10", "tin nhắn của người cầm máy")
    assert len(sender.to_residents) == before
    with session_scope() as session:
        case = session.get(Case, report.case_id)
        kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert case.status == "acknowledged" and case.reply_to is None and not case.relay
    assert "resident_left" in kinds
    assert service.close(report.case_id, f"officer:{staff['desk']}", "unreachable")


async def test_every_message_the_resident_did_not_ask_for_starts_with_a_neutral_line(staff):
    service, sender, _ = make(None)
    report = await service.report(sender="t-11", channel="telegram", category="danger_to_life", reply_to="557")
    await service.drain()
    await service.acknowledge(report.case_id, staff["desk"])
    await service.relay_to_resident(report.case_id, staff["desk"], "Chị ở đâu?")
    assert sender.to_residents and all(text.split("\n")[0] == "Bạn có một tin nhắn mới." for _c, _r, text in sender.to_residents)


async def test_a_flood_of_cases_gets_one_summary_while_danger_told_in_words_is_still_alerted(staff):
    service, sender, _ = make(None)
    service.cases_per_window = 3
    for n in range(6):  # the "Tôi đang gặp nguy hiểm" button, pressed from six new sessions
        await service.report(sender=f"flood-{n}", channel="web", category="danger_to_life", reply_to=f"f{n}",
                             evidence=False)
    real = await service.report(sender="real", channel="web", category="danger_to_life", reply_to="r",
                                text="cứu em, nó đang cầm dao", evidence=True)
    await service.drain()
    summaries = [text for _chat, text, _b in sender.alerts if "ca mới trong 5 phút" in text]
    individual = {text.split("CA KHẨN CẤP ")[1][:8] for _chat, text, _b in sender.alerts if "CA KHẨN CẤP" in text}
    assert len(summaries) >= 1 and "3 ca mới" in summaries[0]
    assert len(individual) == 4 and real.case_id in individual  # three before the cap, and the real one
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 7  # every case waits in the queue


async def test_the_service_refuses_another_units_officer_whatever_channel_they_use(db_url):
    """Telegram buttons and /dong reach the service directly: it checks the unit itself."""
    kim_tra, _ = roster.add_officer("Cán bộ Kim Trà", "police", "officer", "Kim Trà", telegram_id="2001")
    huong_tra, _ = roster.add_officer("Cán bộ Hương Trà", "police", "officer", "Hương Trà", telegram_id="2002")
    service, _sender, _ = make(None)
    report = await service.report(sender="t-12", channel="web", category="danger_to_life", reply_to="x",
                                  text="cứu em với, em ở Kim Trà")
    await service.drain()
    assert await service.acknowledge(report.case_id, huong_tra) == "forbidden"
    assert await service.acknowledge(report.case_id, kim_tra) == "assigned"
    assert not service.close(report.case_id, f"officer:{huong_tra}", "counselled")
    assert service.close(report.case_id, f"officer:{kim_tra}", "counselled")


async def test_a_closed_case_loses_the_residents_traces_after_the_retention_period(staff):
    service, _sender, _ = make(None)
    report = await service.report(sender="t-13", channel="telegram", category="danger_to_life", reply_to="559")
    await service.drain()
    await service.acknowledge(report.case_id, staff["desk"])
    service.close(report.case_id, f"officer:{staff['desk']}", "referred_police", "gặp chị tại nhà văn hóa thôn")
    assert escalation_module.anonymise_closed(90) == 0  # not yet
    assert escalation_module.anonymise_closed(90, now=datetime.now(HUE) + timedelta(days=91)) == 1
    with session_scope() as session:
        case = session.get(Case, report.case_id)
        assert (case.sender, case.reply_to, case.note, case.shared) == ("-", None, None, None)
        assert (case.category, case.outcome, case.status) == ("danger_to_life", "referred_police", "closed")
    assert escalation_module.anonymise_closed(90, now=datetime.now(HUE) + timedelta(days=92)) == 0


async def test_a_case_whose_gateway_died_before_the_first_alert_is_rescued_by_its_timer_once(staff, monkeypatch):
    """The gateway that opened the case died before claiming rung 0: the first-rung timer
    (run by whichever gateway leads) sends the first alerts; once sent, it does nothing."""
    service, sender, timers = make(None)

    async def dies(_case_id):
        raise ConnectionResetError("killed")

    monkeypatch.setattr(service, "_first_alerts", dies)
    with pytest.raises(ConnectionResetError):
        await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    [(case_id, rung, when)] = timers
    assert rung == 0 and when == service.now() + escalation_module.FIRST_RUNG_RESCUE and sender.alerts == []
    await service.ladder_step(case_id, 0)
    await service.ladder_step(case_id, 0)
    assert [chat for chat, _, _ in sender.alerts] == ["1004"]


async def test_a_ladder_whose_timer_was_lost_is_climbed_by_the_sweep_once(staff, tmp_path):
    """The database went away between taking a rung and writing its timer: the leader's sweep
    moves the ladder on once it has waited longer than the timer would have."""
    roster.import_roster(write_roster(tmp_path, f"{staff['night']},Tue,,00:00,24:00,\n{staff['backup']},Tue,,00:00,24:00,\n"))
    service, sender, timers = make(None)
    report = await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc")
    await service.drain()
    timers.clear()  # lost
    assert await service.sweep() == 0  # not yet: the timer would still be waiting
    service.now.at += service.ack_timeout + escalation_module.STUCK_GRACE + timedelta(seconds=1)
    assert await service.sweep() == 1
    assert await service.sweep() == 0
    assert [chat for chat, _, _ in sender.alerts] == ["1002", "1003"]
    assert [(case, rung) for case, rung, _ in timers] == [(report.case_id, 2)]


async def test_cases_held_in_a_flood_are_left_to_the_summary_by_the_sweep(staff):
    service, sender, _ = make(None)
    service.cases_per_window = 0
    await service.report(sender="w-1", channel="web", category="danger_to_life", reply_to="abc", evidence=False)
    await service.drain()
    service.now.at += timedelta(hours=1)
    assert await service.sweep() == 0
