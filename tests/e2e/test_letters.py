"""Letters and triage through the real stack: a letter is answered after one question, each
triage level gets its own first reply, "có" after a mention of danger escalates, the risk
self-check runs to its result, and a neighbour's report asks where."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.e2e

# Written for these tests (not from the real-letter corpus).
LETTER_NONE = (
    "Chào chị, em năm nay 31 tuổi, lấy chồng được 6 năm và có một bé gái 2 tuổi. Mấy năm nay chồng em "
    "nhậu nhẹt, không đưa tiền nhà, hễ em nói gì là chửi em ngu, bảo em ăn bám. Em đã dọn về nhà mẹ đẻ "
    "được ba tháng. Giờ em muốn ly hôn, em có được nuôi con không và phải nộp đơn ở đâu ạ?"
)
LETTER_HIGH_RISK = (
    "Em chào mọi người. Chồng em ghen tuông vô cớ, kiểm tra điện thoại của em hằng ngày. Tuần trước anh ta "
    "bóp cổ em vì em về muộn, còn nói nếu em dám bỏ đi thì anh ta sẽ giết em. Em đang có bầu tháng thứ 5. "
    "Em muốn xin cấm anh ta lại gần thì làm thế nào?"
)
LETTER_DANGER_NOW = (
    "Em viết vội. Chồng em say rượu về, đập phá đồ đạc rồi cầm dao đuổi em. Em với con đang trốn trong "
    "nhà tắm, anh ta đang đập cửa ngoài kia. Em phải làm sao bây giờ"
)


def new_session() -> str:
    return "l" + uuid.uuid4().hex


def texts(body) -> str:
    return "\n".join(m["text"] for m in body["messages"])


def payloads(body) -> list[str]:
    return [b["payload"] for m in body["messages"] for b in m["buttons"]]


def test_a_letter_gets_the_safety_question_then_its_own_answers(stack):
    session = new_session()
    status, first = stack.chat(session, text=LETTER_NONE)
    assert status == 200 and first["escalation"] is None
    assert "/affirm" in payloads(first) and "an toàn để trò chuyện" in texts(first)
    status, second = stack.chat(session, text="có")
    answers = texts(second)
    assert "Về quyền nuôi con" in answers or "Về ly hôn" in answers
    assert "Bạn muốn bắt đầu từ đâu" not in answers
    assert second["escalation"] is None


def test_the_same_letter_without_marks_is_answered_too(stack):
    from tests.letters.evaluate import unaccent

    session = new_session()
    stack.chat(session, text=unaccent(LETTER_NONE))
    status, second = stack.chat(session, payload="/affirm")
    assert "Về quyền nuôi con" in texts(second) or "Về ly hôn" in texts(second)


def test_a_high_risk_letter_asks_about_danger_now_and_no_answers_it(stack):
    session = new_session()
    status, first = stack.chat(session, text=LETTER_HIGH_RISK)
    assert first["escalation"] is None
    assert "nguy hiểm ngay lúc này" in texts(first) and "/urgent_danger" in payloads(first)
    status, second = stack.chat(session, text="không")
    assert "Về cấm tiếp xúc" in texts(second)
    assert second["escalation"] is None
    assert "/risk_check" in payloads(second)


def test_a_high_risk_letter_then_yes_escalates(stack):
    session = new_session()
    stack.chat(session, text=LETTER_HIGH_RISK)
    status, second = stack.chat(session, text="dạ có")
    assert second["escalation"] is not None
    assert texts(second).startswith("Hãy gọi ngay 113")


def test_a_letter_telling_danger_now_escalates_at_once(stack):
    status, body = stack.chat(new_session(), text=LETTER_DANGER_NOW)
    assert body["escalation"] is not None
    assert texts(body).startswith("Hãy gọi ngay 113")


def test_an_unmarked_story_whose_only_now_is_dang_is_asked_and_yes_escalates(stack):
    from tests.nlu.test_triage import UNMARKED_PAST_LETTERS

    session = new_session()
    status, first = stack.chat(session, text=UNMARKED_PAST_LETTERS[0])
    assert status == 200 and first["escalation"] is None
    assert "nguy hiểm ngay lúc này" in texts(first)
    status, second = stack.chat(session, text="co")
    assert second["escalation"] is not None


def test_a_letter_telling_danger_now_without_marks_escalates_at_once(stack):
    from tests.letters.evaluate import unaccent

    status, body = stack.chat(new_session(), text=unaccent(LETTER_DANGER_NOW))
    assert body["escalation"] is not None
    assert texts(body).startswith("Hãy gọi ngay 113")


@pytest.mark.parametrize("first", [
    "con tôi bị bố nó đánh thì báo ở đâu",  # the child-protection answer says "nếu trẻ đang gặp nguy hiểm…"
    "qwrt zxcv plmk",  # the fallback
])
def test_yes_after_an_answer_that_mentions_danger_escalates(stack, first):
    session = new_session()
    status, body = stack.chat(session, text=first)
    assert "nguy hiểm" in texts(body)
    status, body = stack.chat(session, text="có")
    assert body["escalation"] is not None


def test_a_neighbour_reporting_danger_now_is_asked_where_and_the_case_gets_the_place(stack):
    session = new_session()
    status, body = stack.chat(session, text="nhà hàng xóm đang đánh vợ dã man, chị ấy kêu cứu mà không ai dám vào")
    assert body["escalation"] is not None
    assert "phường, xã nào" in texts(body)
    case_id = body["escalation"]["case_id"]
    stack.chat(session, text="ở Kim Trà")
    status, case = stack.get(f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status == 200 and json.loads(case)["ward"] == "Phường Kim Trà"


def test_the_risk_self_check_runs_one_question_at_a_time_to_a_plain_result(stack):
    session = new_session()
    status, body = stack.chat(session, payload="/risk_check")
    assert "1/10" in texts(body) and {"/affirm", "/deny", "/skip", "/stop"} <= set(payloads(body))
    answers = ["có", "/deny", "bỏ qua"] + ["/deny"] * 7
    for answer in answers:
        status, body = stack.chat(session, **({"payload": answer} if answer.startswith("/") else {"text": answer}))
        assert body["escalation"] is None
    result = texts(body)
    assert "Kế hoạch an toàn" in result and "nghiên cứu" in result  # a "yes" to question 1 screens in
    assert "/request_contact" in payloads(body)
    assert not any(ch.isdigit() and "điểm" in result for ch in result)  # no score


def test_asking_for_contact_after_the_check_asks_consent_to_share_the_answers(stack):
    session = new_session()
    stack.chat(session, payload="/risk_check")
    for _ in range(10):
        stack.chat(session, payload="/deny")
    status, body = stack.chat(session, payload="/request_contact")
    assert "gửi kèm câu trả lời" in texts(body)
    status, body = stack.chat(session, payload="/deny")
    assert "ghi nhận yêu cầu" in texts(body)


def test_stopping_the_check_forgets_it(stack):
    session = new_session()
    stack.chat(session, payload="/risk_check")
    stack.chat(session, payload="/affirm")
    status, body = stack.chat(session, text="dừng lại")
    assert "không giữ lại câu trả lời" in texts(body)
