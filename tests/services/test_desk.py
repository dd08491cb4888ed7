"""The officer desk: taps, replies and /dong as typed events; a reply reaches the case of the
message it answers, whatever that message says."""

from __future__ import annotations

from bot.services import escalation as escalation_module
from bot.services.desk import Close, OfficerDesk, PassOn, Reply, Take, close_command
from tests.services.test_escalation import make


async def test_take_reply_and_close_through_the_desk(staff):
    service, sender, _ = make(None)
    desk = OfficerDesk(service)
    report = await service.report(sender="t-1", channel="telegram", category="danger_to_life", reply_to="555")
    await service.drain()
    alert_ref = f"{sender.alerts[0][0]}:1"
    officer = staff["desk"]

    taken = await desk.handle(officer, Take(report.case_id))
    assert taken.taken and taken.settled and "nhận ca" in taken.notice
    answer = await desk.handle(officer, Reply(alert_ref, "Chị đang ở đâu?"))
    assert answer.handled and sender.to_residents[-1][2].endswith("Cán bộ trực: Chị đang ở đâu?")

    await service.resident_message("t-1", "em ở Hương Vân")  # relayed to the officer: a message they can answer
    relayed_ref = f"{sender.alerts[-1][0]}:{len(sender.alerts)}"
    assert (await desk.handle(officer, Reply(relayed_ref, "Tôi đến ngay"))).handled
    assert sender.to_residents[-1][2].endswith("Cán bộ trực: Tôi đến ngay")

    closed = await desk.handle(officer, Close(report.case_id, "referred_police"))
    assert "Đã đóng ca" in closed.notice
    late = await desk.handle(officer, Reply(alert_ref, "còn đó không?"))
    assert late.handled and "Không chuyển được" in late.notice


async def test_a_reply_finds_its_case_by_the_message_not_by_its_text(staff, monkeypatch):
    monkeypatch.setattr(escalation_module.Escalation, "_alert_text", lambda self, *a, **k: "Có việc cần bạn xem.")
    service, sender, _ = make(None)
    desk = OfficerDesk(service)
    report = await service.report(sender="t-2", channel="telegram", category="danger_to_life", reply_to="777")
    await service.drain()
    assert report.case_id not in sender.alerts[0][1]
    await desk.handle(staff["desk"], Take(report.case_id))
    assert (await desk.handle(staff["desk"], Reply(f"{sender.alerts[0][0]}:1", "Alo"))).handled
    assert sender.to_residents[-1][1] == "777"


async def test_a_reply_to_a_message_of_no_case_is_not_the_desks(staff):
    service, _, _ = make(None)
    answer = await OfficerDesk(service).handle(staff["desk"], Reply("1004:999", "xin chào"))
    assert not answer.handled


async def test_passing_on_settles_the_alert_without_taking_the_case(staff):
    service, sender, _ = make(None)
    desk = OfficerDesk(service)
    report = await service.report(sender="t-3", channel="telegram", category="danger_to_life", reply_to="1")
    await service.drain()
    passed = await desk.handle(staff["day"], PassOn(report.case_id))
    assert passed.settled and not passed.taken


def test_the_close_command_is_parsed_or_explained():
    assert close_command(["ab12cd34", "referred_police", "đã", "chuyển"]) == Close("AB12CD34", "referred_police", "đã chuyển")
    assert "Cách đóng ca" in close_command(["AB12CD34", "nonsense"])
    assert "Cách đóng ca" in close_command([])
    assert close_command(["ab12cd34", "referred_health", "+7", "khám"]) == Close("AB12CD34", "referred_health", "khám", 7)
    assert close_command(["ab12cd34", "referred_shelter", "+60"]) == Close("AB12CD34", "referred_shelter", None, 60)
    for wrong in (["AB12CD34", "counselled", "+7"], ["AB12CD34", "referred_police", "+0"],
                  ["AB12CD34", "referred_police", "+61"], ["AB12CD34", "referred_police", "+bảy"]):
        assert "+số ngày" in close_command(wrong), wrong
