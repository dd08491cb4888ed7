"""A resident converses with the real stack over /api/chat (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import database_dump
from tests.e2e.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.e2e


def new_session() -> str:
    return "s" + uuid.uuid4().hex


def texts(body) -> str:
    return "\n".join(m["text"] for m in body["messages"])


def test_health_reports_every_component_up(stack):
    status, body = stack.get("/healthz")
    assert status == 200
    assert '"rasa": "up"' in body and '"actions": "up"' in body and '"db": "up"' in body


def test_greeting_gets_a_vietnamese_answer_with_buttons(stack):
    status, body = stack.chat(new_session(), text="xin chào")
    assert status == 200
    assert body["escalation"] is None
    assert body["messages"] and body["messages"][0]["text"]
    assert any(m["buttons"] for m in body["messages"])


def test_first_message_telling_of_beatings_asks_about_danger_now_then_answers(stack):
    session = new_session()
    status, body = stack.chat(session, text="Chồng em hay say rượu rồi chửi bới, đánh em, em không biết phải làm sao")
    assert status == 200 and body["escalation"] is None
    payloads = [b["payload"] for m in body["messages"] for b in m["buttons"]]
    assert "/urgent_danger" in payloads and "/deny" in payloads
    status, body = stack.chat(session, payload="/deny")
    assert status == 200 and "Về việc bị đánh" in texts(body)


def test_xem_them_sends_the_rest_of_a_long_answer_once(stack):
    session = new_session()
    status, first = stack.chat(session, text="lệnh cấm tiếp xúc là gì")
    assert status == 200 and "/more" in [b["payload"] for m in first["messages"] for b in m["buttons"]]
    status, rest = stack.chat(session, payload="/more")
    assert status == 200 and "4 tháng" in texts(rest) and texts(rest) not in texts(first)
    status, again = stack.chat(session, text="xem thêm")
    assert status == 200 and "chưa có thêm thông tin" in texts(again)


def test_usefulness_is_asked_after_the_second_topic_answer_and_a_tap_is_thanked(stack):
    session = new_session()
    status, first = stack.chat(session, text="lệnh cấm tiếp xúc là gì")
    assert status == 200 and "hữu ích" not in texts(first)
    status, second = stack.chat(session, payload="/ask_legal_aid")
    assert status == 200 and second["messages"][-1]["text"] == "Câu trả lời này có hữu ích với bạn không?"
    yes = second["messages"][-1]["buttons"][0]["payload"]
    status, thanks = stack.chat(session, payload=yes)
    assert status == 200 and texts(thanks) == "Cảm ơn bạn đã cho biết." and thanks["escalation"] is None


def test_unaccented_emergency_gets_113_first(stack):
    status, body = stack.chat(new_session(), text="cuu em voi ck dang cam dao doi giet em")
    assert status == 200
    assert "113" in body["messages"][0]["text"]


def test_low_confidence_offers_the_closest_topics_instead_of_a_dead_end(stack):
    status, body = stack.chat(new_session(), text="qwrt zxcv plmk")
    assert status == 200
    payloads = [b["payload"] for m in body["messages"] for b in m["buttons"]]
    assert len(payloads) >= 3 and "/menu" in payloads


def test_button_payload_and_location_are_answered(stack):
    session = new_session()
    status, body = stack.chat(session, payload="/ask_rights")
    assert status == 200 and "Điều 9" in texts(body)
    status, body = stack.chat(session, location={"lat": 16.52, "lon": 107.48})
    assert status == 200 and body["messages"]


def test_sharing_a_location_lists_the_nearest_place_first(stack):
    session = new_session()
    stack.chat(session, payload="/find_police")
    status, body = stack.chat(session, location={"lat": 16.5060, "lon": 107.5260})  # near Kim Trà
    assert status == 200
    reply = texts(body)
    assert reply.index("Công an Phường Kim Trà") < reply.index("Công an Phường Hương Trà")
    assert "km" in reply and "openstreetmap.org" in reply


def test_asking_for_a_trusted_address_in_an_old_ward_name_finds_the_new_ward(stack):
    status, body = stack.chat(new_session(), text="nhà tạm lánh ở Tứ Hạ ở đâu")
    assert status == 200
    assert "Hương Trà" in texts(body)


# A long letter, as residents paste them into the web chat: several years told in turn, then the question.
LONG_LETTER = " ".join(
    f"Năm thứ {n} sau khi cưới, chồng em vẫn giữ hết tiền lương của em, mỗi tháng chỉ đưa vài trăm nghìn đi chợ "
    f"và bắt em ghi sổ từng khoản. Em mua cho con hộp sữa cũng bị anh ấy hỏi vặn cả buổi tối, nói em tiêu hoang, "
    f"không biết thân phận. Bố mẹ chồng biết chuyện nhưng bảo đàn bà phải nhịn cho êm cửa êm nhà. Em đi làm về "
    f"còn phải nấu nướng, giặt giũ, dạy con học, anh ấy thì đi nhậu với bạn đến khuya mới về rồi chê em ăn mặc "
    f"quê mùa, cấm em về thăm ngoại. Nhiều đêm em ngồi khóc một mình mà không dám kể với ai."
    for n in ("nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười")
) + (" Nay em đã suy nghĩ kỹ và muốn ly hôn. Xin hỏi em có được nuôi hai con không, "
     "và tài sản chung là căn nhà hai vợ chồng cùng mua sẽ được chia thế nào ạ?")


def test_a_whole_letter_longer_than_a_phone_message_is_read_and_answered(stack):
    assert 4_000 < len(LONG_LETTER) < 16_000
    session = new_session()
    status, body = stack.chat(session, text=LONG_LETTER)
    assert status == 200 and body["escalation"] is None and "an toàn để trò chuyện" in texts(body)
    status, body = stack.chat(session, text="có")  # safe to talk: the letter's own question is answered
    assert status == 200 and body["escalation"] is None
    assert "nuôi con" in texts(body).lower(), texts(body)


def test_a_long_letter_that_ends_in_danger_now_escalates_at_once(stack):
    letter = LONG_LETTER + " Bây giờ anh ấy say rượu về đang cầm dao đập cửa phòng, em và hai con trốn trong này, cứu em với."
    status, body = stack.chat(new_session(), text=letter)
    assert status == 200 and body["escalation"] is not None and "113" in texts(body)


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"session_id": "bad id!", "text": "hi"}', 400),
        (b'{"session_id": "abc", "text": ""}', 400),
        (b'{"session_id": "abc", "text": "hi", "payload": "/greet"}', 400),
        (b'{"session_id": "abc", "payload": "/no_such_intent"}', 400),
        (b'{"session_id": "abc", "location": {"lat": 200, "lon": 1}}', 400),
        (b'{"session_id": "abc", "text": "\xff\xfe"}', 400),
        (b'{"session_id": "abc", "text": "' + b"a" * 16001 + b'"}', 400),
        (b'{"session_id": "abc", "text": "' + b"a" * 200000 + b'"}', 413),
    ],
    ids=lambda value: value[:40].decode(errors="replace") if isinstance(value, bytes) else str(value),
)
def test_bad_input_gets_a_vietnamese_error_not_a_500(stack, raw, status):
    got, body = stack.post("/api/chat", None, raw=raw)
    assert got == status
    assert isinstance(body["error"], str) and body["error"]


def test_a_flooding_session_is_slowed_down(stack):
    session = new_session()
    codes = [stack.chat(session, payload="/menu")[0] for _ in range(45)]
    assert codes.count(200) == 40 and codes[-1] == 429


def test_cases_api_needs_the_admin_token(stack):
    assert stack.get("/api/cases")[0] == 401
    assert stack.get("/api/cases", {"Authorization": "Bearer wrong-token-123456789"})[0] == 401
    status, body = stack.get("/api/cases?status=all", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status == 200 and body.startswith("[")


def test_database_holds_neither_message_text_nor_session_id(stack):
    session = "privacy-" + uuid.uuid4().hex[:12]
    marker = "Hoàng Thị Lan số 0912345678 bị chồng đánh"
    assert stack.chat(session, text=marker)[0] == 200
    dump = database_dump(stack.database_url)
    assert dump, "the database should not be empty after a conversation"
    for secret in (session, marker, "0912345678", "Hoàng Thị Lan"):
        assert secret.encode() not in dump
    log = "".join(stack.output)
    for secret in (session, marker, "0912345678"):
        assert secret not in log


def stored_conversations(stack, session: str) -> int:
    from bot.storage.crypto import pseudonym

    sender = pseudonym("web", session, secret=stack.env["GBVBOT_SECRET_KEY"].encode())
    engine = create_engine(stack.database_url, future=True)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM conversations WHERE sender = :s"), {"s": sender}).scalar()
    engine.dispose()
    return count


def test_erasing_my_data_removes_the_conversation(stack):
    session = new_session()
    stack.chat(session, text="xin chào")
    assert stored_conversations(stack, session) == 1
    status, body = stack.chat(session, text="xóa hết dữ liệu của tôi")
    assert status == 200 and any(b["payload"] == "/affirm" for m in body["messages"] for b in m["buttons"])
    status, body = stack.chat(session, payload="/affirm")
    assert status == 200 and body["messages"]
    assert stored_conversations(stack, session) == 0


def test_quick_exit_forgets_the_conversation(stack):
    session = new_session()
    stack.chat(session, text="xin chào")
    assert stored_conversations(stack, session) == 1
    status, _ = stack.post("/api/forget", {"session_id": session})
    assert status == 204
    assert stored_conversations(stack, session) == 0


def _activity(stack) -> dict:
    engine = create_engine(stack.database_url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT unit, kind, sum(count) FROM activity WHERE channel = 'web' GROUP BY unit, kind"))
        found = {(unit, kind): int(n) for unit, kind, n in rows}
    engine.dispose()
    return found


def test_the_real_stack_counts_conversations_and_referrals_for_the_reports(stack):
    before = _activity(stack)
    session = new_session()
    stack.chat(session, text="xin chào")
    stack.chat(session, text="công an ở Kim Trà ở đâu")
    stack.chat(session, payload="/ask_legal_aid")
    after = _activity(stack)

    def added(unit, kind):
        return after.get((unit, kind), 0) - before.get((unit, kind), 0)

    assert added("", "conversation") == 1  # one conversation, not one per message
    assert added("Phường Kim Trà", "referral:police") == 1
    assert added("", "referral:legal_aid") == 1
