"""The console's campaign pages through the real gateway app: officials create a campaign
from a template, see the exact message per channel, are told every problem of a bad text,
send and pause it (audited, CSRF); officers never reach these pages."""

from __future__ import annotations

import tests.console.test_console
from bot.services import campaigns
from tests.console.test_console import audit_actions, user

console = tests.console.test_console.console  # the fixture: the console through the real gateway app


async def test_an_official_creates_from_a_template_previews_and_sends(console):
    official = user("chuyen.vien", "official")
    await console.sign_in("chuyen.vien")
    status, html = await console.get("/console/campaigns/new?template=day_25_11")
    assert status == 200 and "Ngày Quốc tế xóa bỏ bạo lực đối với phụ nữ" in html and "<script" not in html
    template = campaigns.templates()["day_25_11"]
    form = {"name": template["name"], "text": template["text"], "kind": "message", "template": "day_25_11",
            "buttons": "Quyền của tôi | /ask_rights", "channels": "telegram", "quiet_hours": "21:00-07:00"}
    created = await console.post("/console/campaigns/new", "/console/campaigns/new", **form)
    assert created.status == 303 and created.headers["Location"] == "/console/campaigns/1"
    status, html = await console.get("/console/campaigns/1")
    assert status == 200 and "gõ /huy." in html and "Quyền của tôi" in html and "Bản nháp" in html
    sent = await console.post("/console/campaigns/1/send", "/console/campaigns/1")
    assert sent.status == 303 and campaigns.get(1).status == "scheduled"
    assert (await console.post("/console/campaigns/1/pause", "/console/campaigns/1")).status == 303
    assert campaigns.get(1).status == "paused"
    assert audit_actions(f"officer:{official}")[-3:] == ["campaign_create", "campaign_send", "campaign_pause"]


async def test_a_text_that_states_an_unverified_number_is_refused_with_the_reason(console):
    user("chuyen.vien", "official")
    await console.sign_in("chuyen.vien")
    refused = await console.post("/console/campaigns/new", "/console/campaigns/new", name="x", kind="message",
                                 text="Tin mới.\n\nGọi 1800 1567 để được giúp.", channels="telegram")
    assert refused.status == 400 and "1800" in await refused.text()
    assert campaigns.all_campaigns() == []


async def test_officers_cannot_open_campaigns_and_forms_need_the_token(console):
    user("can.bo", "officer", "*")
    await console.sign_in("can.bo")
    status, _ = await console.get("/console/campaigns")
    assert status == 403
    user("chuyen.vien", "official")
    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    await console.sign_in("chuyen.vien")
    forged = await console.client.post("/console/campaigns/new", data={"csrf": "forged", "name": "x"},
                                       allow_redirects=False)
    assert forged.status == 403 and campaigns.all_campaigns() == []


async def test_the_quiz_page_shows_participation_and_the_most_missed_question(console):
    from bot.services import quiz

    user("chuyen.vien", "official")
    quiz.handle("t1", quiz.start_payload("hieu_luat"))
    quiz.handle("t1", '/quiz_answer{"id":"hieu_luat","q":0,"a":1}')
    await console.sign_in("chuyen.vien")
    status, html = await console.get("/console/quizzes")
    assert status == 200 and "Bắt đầu: 1" in html and "sai 1 lần" in html
    assert "Chửi mắng, lăng mạ" in html
