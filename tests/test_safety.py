"""The safety net catches emergencies however they are typed, and not idioms or negations."""

import pytest

from bot.conversation.safety import assess


@pytest.mark.parametrize(
    "text, category",
    [
        ("Cứu tôi với, chồng tôi đang cầm dao đòi giết tôi", "danger_to_life"),
        ("cuu em voi ck dang cam dao", "danger_to_life"),
        ("ck e đg đánh e, cứu e", "danger_to_life"),
        ("nó bóp cổ tôi, tôi không thở được", "danger_to_life"),
        ("toi bi nhot trong nha khong ra duoc", "danger_to_life"),
        ("tôi đang chảy máu nhiều lắm", "danger_to_life"),
        ("ổng dọa giết hai mẹ con tui tối nay", "danger_to_life"),
        ("Em lấy chồng được 5 năm, ổng hay say xỉn về chửi bới. Tối nay ổng cầm rựa đuổi em chạy ra đường, em đang trốn nhà hàng xóm", "danger_to_life"),
        ("tôi vừa bị hiếp dâm", "sexual_violence"),
        ("em bị lừa sang Trung Quốc, họ giữ hết giấy tờ không cho về", "trafficking"),
        ("tôi muốn chết", "self_harm"),
        ("toi khong muon song nua", "self_harm"),
        ("e uống thuốc ngủ rồi", "self_harm"),
        ("mệt mỏi quá, chỉ muốn kết thúc tất cả", "self_harm"),
        ("Bố nó đang đánh con tôi chảy máu đầu", "child"),
    ],
)
def test_emergencies_are_urgent(text, category):
    result = assess(text)
    assert result.urgent, text
    assert result.category == category


@pytest.mark.parametrize(
    "text",
    [
        "cười muốn chết",
        "nóng chết đi được",
        "hôm nay mệt muốn chết luôn",
        "không có ai đánh tôi cả",
        "bạo lực gia đình là gì",
        "cho tôi hỏi về trợ giúp pháp lý miễn phí",
        "xin chào",
        "truy cứu trách nhiệm hình sự là gì",
        "giết thời gian bằng cách đọc sách",
        "phim này nhiều cảnh giết chóc quá",
        "",
    ],
)
def test_idioms_negations_and_questions_are_not_emergencies(text):
    assert not assess(text).urgent, text


def test_an_unclear_mention_of_violence_asks_instead_of_escalating():
    result = assess("hôm qua nó đánh tôi")
    assert result.level == "ask"


def test_the_assessment_never_carries_message_text():
    result = assess("cứu tôi với")
    assert "cứu" not in repr(result) and "cuu" not in repr(result)


@pytest.mark.parametrize(
    "text",
    [
        "Tôi muốn ly hôn vì chồng thường xuyên đánh đập. Xin tư vấn giúp tôi.",
        "dạo này chồng em hay đi nhậu về muộn",
        "từ từ rồi em tính, cảm ơn chị",
        "được người thân cưu mang mấy tháng nay",
        "trời tối rồi mà ổng chưa về",
        "lương giảm còn 3 triệu, chồng cấm em đi làm thêm",
        "em đợi một xíu nha",
        "đám cưới em gái tôi tuần sau",
    ],
)
def test_words_typed_with_marks_that_only_look_alarming_when_folded(text):
    assert not assess(text).urgent, text


def test_the_same_words_typed_without_marks_keep_the_alarming_reading():
    assert assess("em muon tu tu").urgent
    assert assess("tự vẫn cho xong").category == "self_harm"


@pytest.mark.parametrize(
    "text",
    [
        "Chồng em có lần còn bóp cổ em nhưng em không dám nói với ai",
        "Chồng tôi từng cầm dao dọa giết tôi năm ngoái, giờ tôi vẫn sợ",
        "chong toi da tung cam dao doa giet toi",
    ],
)
def test_past_violence_asks_whether_the_danger_is_now(text):
    assert assess(text).level == "ask", text


def test_tung_typed_without_marks_is_not_taken_for_the_past():
    assert assess("no doa tung anh roi dang cam dao").urgent
