"""Triage catches danger now however it is typed, asks about high risk, and leaves idioms,
negations and past stories alone."""

import pytest

from bot.nlu.triage import DANGER_NOW, HIGH_RISK, NONE_LEVEL, assess


@pytest.mark.parametrize(
    "text, category",
    [
        ("Cứu em với, ông ấy đang cầm dao đòi giết em", "danger_to_life"),
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
        "bạo lực gia đình được hiểu là gì vậy",
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
    assert result.level == "high_risk"


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
    assert assess(text).level == "high_risk", text


def test_tung_typed_without_marks_is_not_taken_for_the_past():
    assert assess("no doa tung anh roi dang cam dao").urgent


# --- the marks a resident typed settle the word ----------------------------------------


def test_a_marked_word_is_not_taken_for_another_word_with_the_same_letters():
    """"giết cả hai mẹ con" (kill both) is not the idiom "giết cá" (kill fish)."""
    assert assess("Anh ta nhắn là nếu em bỏ đi thì sẽ giết cả nhà em").level != "none"
    assert assess("hôm nay nhà em giết cá nấu canh chua").level == "none"


def test_unmarked_text_keeps_the_alarming_reading_when_the_context_says_so():
    assert assess("no doa giet ca hai me con toi").level != "none"


# --- letters: past violence asks, only danger now escalates ------------------------------

PAST_LETTER = (
    "Em lấy chồng được 5 năm, có một bé trai 3 tuổi. Từ khi cưới chồng em thường xuyên say xỉn, "
    "chửi bới và đánh em, có lần em phải vào viện khâu mấy mũi. Giờ em đã về nhà mẹ đẻ ở được hai tháng. "
    "Em muốn ly hôn và nuôi con thì phải làm thủ tục thế nào, em có được nuôi con không ạ?"
)


def test_a_letter_about_past_violence_does_not_raise_an_alarm():
    result = assess(PAST_LETTER)
    assert not result.urgent


def test_a_letter_whose_last_sentences_place_the_danger_now_is_urgent():
    letter = PAST_LETTER + " Nhưng tối nay anh ta say rượu tìm đến nhà mẹ em, đang đập cửa đòi giết em."
    assert assess(letter).urgent


def test_a_child_harmed_now_is_danger_now():
    result = assess("dì ghẻ phạt cháu quỳ ngoài hiên từ trưa tới giờ, chẳng cho ăn uống gì, cháu mới 9 tuổi")
    assert result.urgent and result.category == "child"


def test_a_child_who_expects_to_be_beaten_again_tonight_is_danger_now():
    assert assess("hôm qua bố dượng lấy thước đánh em mấy lần, tối nay bố về chắc lại đánh em tiếp").urgent


def test_someone_held_abroad_and_beaten_is_danger_now_and_a_third_party_report():
    result = assess("Hãy giúp em gái tôi, nó bị lừa sang Campuchia, họ giữ hộ chiếu và không cho về, ai không chịu làm là bị đánh")
    assert result.urgent and result.category == "trafficking"
    assert result.third_party


def test_a_woman_chained_by_her_husband_is_danger_now():
    assert assess("chồng xích cổ tôi trong chuồng, con trai tôi bị nó đánh gãy tay").urgent


def test_a_neighbour_reporting_violence_next_door_is_a_third_party_report():
    result = assess("nhà hàng xóm đang đánh vợ dã man, tôi nghe tiếng kêu cứu")
    assert result.urgent and result.third_party


@pytest.mark.parametrize("text", [
    "Hồi nhỏ em từng bị anh họ xâm hại, giờ em 20 tuổi rồi mà vẫn ám ảnh, em nên làm gì để vượt qua?",
    "Năm ngoái chồng tôi đánh tôi gãy tay, chúng tôi đã ly hôn. Giờ tôi muốn hỏi về việc chia tài sản.",
    "Nhiều lúc em chỉ muốn chết quách cho xong, nhưng nghĩ đến con em lại cố gắng. Chồng em cứ chửi em là đồ vô dụng, "
    "không cho em đi làm, không đưa tiền. Em phải làm sao để thoát khỏi cuộc hôn nhân này?",
])
def test_stories_of_past_harm_or_despair_ask_instead_of_escalating(text):
    assert not assess(text).urgent


@pytest.mark.parametrize("text", [
    "từ đó tới nay chồng em vẫn đánh em mỗi khi say",
    "tu do toi nay chong em van danh em moi khi say",
    "chong em danh em tu nam 2019 toi nay, lan nao say cung vay",  # từ … tới nay, not tối nay
    "tu khi cuoi toi nay anh ay danh em nhieu lan",
    "Chồng đánh em suốt mấy năm, bây giờ em phải làm sao?",
    "chong danh em suot may nam, bay gio em phai lam sao",
])
def test_since_then_and_what_now_do_not_place_violence_now(text):
    assert not assess(text).urgent, text


def test_tonight_still_places_violence_now_without_marks():
    assert assess("toi nay no ve se danh chet em").urgent


@pytest.mark.parametrize("text", [
    "Chong toi la dang vien nen toi da co chiu dung, so anh huong den uy tin cua anh ay. Bao nam nay anh ay danh toi moi khi say ruou. Toi nen lam gi?",
    "Toi nam nay hoc lop 12. Toi biet neu vay thi minh se phai song voi nguoi bo nat ruou, suot ngay danh dap vo con nhung neu bo me ly di thi cuoc song cua me va em toi se khong con dau don nhu bay gio nua. Toi co nen khuyen me ly hon khong?",
])
def test_party_member_and_like_now_do_not_place_a_letter_now_without_marks(text):
    assert not assess(text).urgent, text


def test_like_now_does_not_hide_a_real_now():
    assert assess("Ổng đánh em như mọi khi, bây giờ ổng đang cầm dao đứng ngoài cửa").urgent


@pytest.mark.parametrize("text", [
    "họ đe dọa và nhốt tụi em trong phòng",
    "bon em bi nhot, ho giu het ho chieu",
    "anh ta bán tôi sang bên kia làm vợ",
    "em xin họ thả em về nhưng không được",
])
def test_held_sold_or_kept_from_going_home_is_danger_now(text):
    assert assess(text).urgent, text


@pytest.mark.parametrize("text", [
    "nằm im không tao đánh chết mày",
    "chồng cũ cứ đe dọa em suốt",
    "họ bắt gia đình mang tiền sang chuộc",
    "người ta đưa em vượt biên qua biên giới",
])
def test_threats_ransom_and_border_crossings_are_at_least_asked_about(text):
    assert assess(text).level in ("high_risk", "danger_now"), text


def test_or_else_is_not_a_negation_but_a_real_no_still_is():
    assert assess("không tao chém mày").level != "none"
    assert assess("anh ấy không bị ai đe dọa").level == "none"


# --- typed without marks: letters that only look like danger now by their letters ----------
# Written for these tests. Without marks "dang" is đang (now) but also đáng, đăng, đằng, dạng;
# "da" is đá but mostly đã or dạ; "day" đẩy but mostly dạy, đây, dậy; "doi xu" is đối xử.

UNMARKED_PAST_LETTERS = [
    # đáng bị: "do I deserve to be beaten?", a story told two years later
    "Em lay chong duoc 9 nam, co hai chau. Hai nam truoc em lam mat tien cua chong, anh ay noi em co dang bi "
    "danh khong thi em cung khong biet. Tu do anh ay khong danh em nua nhung hay chui em. Em muon ly hon thi "
    "con nho o voi ai?",
    # đăng: the ex posted the story online
    "Chao luat su. Nam ngoai em chia tay nguoi yeu vi anh ta hay ghen. Thang truoc anh ta dang lai chuyen em bi "
    "danh hoi con quen nhau len nhom facebook cua truong, ai cung biet. Em co the kien anh ta toi gi va can "
    "nhung giay to nao?",
    # đáng ra / dễ dàng: looking back on a marriage that is over
    "Dang ra toi phai bo anh ta tu lau. Ngay moi cuoi anh ta da de dang danh toi chi vi mot bua com nguoi. "
    "Nay toi da ly hon duoc ba nam, con o voi toi. Toi muon doi them tien cap duong thi lam the nao?",
]


@pytest.mark.parametrize("text", UNMARKED_PAST_LETTERS)
def test_an_unmarked_letter_whose_only_now_is_dang_asks_instead_of_escalating(text):
    result = assess(text)
    assert not result.urgent, text
    assert result.level == "high_risk", text  # violence is told: the bot still asks


@pytest.mark.parametrize("text", [
    # đang with something else in the letter that places it now: a time word, a cry for help
    "Em lay chong 5 nam, anh ay hay say ruou chui boi em. Toi nay anh ay ve say, dap pha het do dac trong "
    "nha. Gio anh ay dang cam dao dung ngoai cua phong, em voi con o trong nay, em so lam",
    "Chi oi em lay chong 4 nam roi, truoc gio anh ay chi chui thoi. Nhung ma hom nay anh ay thua bac ve, "
    "anh ay dang danh em trong bep, con em khoc suot, cuu em voi",
])
def test_an_unmarked_letter_with_another_sign_of_now_still_escalates(text):
    assert assess(text).urgent, text


@pytest.mark.parametrize("text", [
    "cuu toi",
    "no dang danh toi",
    "anh ta cam dao dang o ngoai cua",
    "ck dang danh e",
    "chong em dang bop co em",
    "no dang cam dao doi giet em",
    "em dang tron trong nha ve sinh",
    "cha dang danh em",  # cha is father here, not chả (a negation)
    "chong em dang dung ngoai cua cam dao",  # đứng, not đừng
    "nguoi yeu cu dang dung truoc nha doa giet em",
    "no het len roi dang danh me con em",  # hét, not hết
    "chang trai do dang danh em",  # chàng, not chẳng
])
def test_short_unmarked_cries_still_escalate_at_once(text):
    assert assess(text).urgent, text


def test_a_negation_typed_with_its_marks_still_cancels():
    assert not assess("chẳng ai đánh tôi cả").urgent
    assert assess("hết bị đánh rồi, giờ em ổn").level != "danger_now"


@pytest.mark.parametrize("text", [
    "da em dang o nha a",  # dạ
    "toi dang day con hoc bai",  # dạy con
    "chong em dang doi xu te voi em",  # đối xử
    "em bi ban lua mat tien",  # bị bạn lừa
    "em bi giam luong thang nay",  # giảm lương
    "hom nay troi co mua khong",  # trời
    "ban an sang chua",  # bạn ăn sáng
    "toi nay 30 tuoi, chong toi hay danh toi",  # tôi nay … tuổi
    "luc bay gio toi bi chong danh",  # lúc bấy giờ
    "no dang hinh em bi danh len mang",  # đăng hình
    "em thich bai giang cua co",  # của cô, not cứa cổ
    "em dang di kiem viec lam",  # đi kiếm, not dí kiếm
])
def test_everyday_unmarked_words_that_look_alarming_do_not_escalate(text):
    assert not assess(text).urgent, text


@pytest.mark.parametrize("text", [
    "da em dang o nha a",
    "chong em dang doi xu te voi em",
    "vo chong em dang mau thuan",
])
def test_everyday_unmarked_phrases_are_not_even_asked_about(text):
    assert assess(text).level == "none", text


@pytest.mark.parametrize("text", [
    "đánh vợ đang có bầu thì bị xử thế nào", "danh vo dang co bau thi bi xu the nao",
    "tôi đang ly hôn, chồng cũ đánh tôi thì sao",
])
def test_being_pregnant_or_divorcing_now_does_not_place_the_violence_now(text):
    assert assess(text).level == HIGH_RISK


@pytest.mark.parametrize("text", ["chồng đang đánh tôi, tôi đang có bầu", "ck dang danh e, e dang mang thai"])
def test_violence_now_against_a_pregnant_woman_is_still_danger_now(text):
    assert assess(text).urgent


@pytest.mark.parametrize("text", [
    "luật sư tư vấn giúp em với",
    "tu van giup em voi",
    "cho em hỏi giúp em với ạ",
    "chỉ giúp em với, em muốn ly hôn",
    "mong mọi người giúp em với",
    "admin giup em voi",
])
def test_asking_for_advice_is_not_a_cry_for_help(text):
    assert assess(text).level == NONE_LEVEL


@pytest.mark.parametrize("text", ["giúp em với", "giup toi voi", "ai giúp em với", "cứu em với",
                                  "tư vấn gì nữa, giúp em với, anh ta đang đánh em"])
def test_a_plea_for_help_still_escalates_at_once(text):
    assert assess(text).level == DANGER_NOW


def test_advice_typed_without_marks_is_not_suicide():
    assert assess("em muon tu van ve ly hon").level == NONE_LEVEL
    assert assess("em muốn tự vẫn").category == "self_harm"


@pytest.mark.parametrize("text", [
    "Hồi đó ông ấy đánh mẹ con em suốt, lúc này em mới 10 tuổi. Giờ em muốn hỏi về quyền nuôi con.",
    "Hoi do ong ay danh me con em suot, luc nay em moi 10 tuoi. Gio em muon hoi ve quyen nuoi con.",
    "Khi đó chồng tôi đánh tôi, lúc này tôi đang mang thai 3 tháng. Xin hỏi tôi có thể ly hôn không?",
    "Tối hôm đó anh ta say rượu về nhà. Lúc này anh ta lao vào đánh tôi túi bụi. "
    "Tôi phải làm sao để ly hôn với người chồng này?",
])
def test_lúc_này_in_a_story_is_the_story_s_time_not_now(text):
    assert not assess(text).urgent, text


@pytest.mark.parametrize("text", [
    "lúc này chồng em đang cầm dao", "luc nay no danh em", "Hôm qua nó đánh em, lúc này nó lại đánh em",
    "Em viết những dòng này khi đang trốn trong nhà vệ sinh. Lúc này anh ta vẫn đang đập cửa đòi giết em. Em phải làm sao?",
])
def test_lúc_này_still_places_danger_now(text):
    assert assess(text).urgent, text


@pytest.mark.parametrize("text", [
    "Gần đây hôm nào tôi cũng nghe bà hàng xóm vừa đánh vừa chửi mắng một bé gái",
    "đêm nào bên kia tường cũng có tiếng roi vụt và tiếng trẻ con khóc",
    "ông ta đánh một bé trai hàng xóm",
])
def test_what_a_neighbour_hears_of_a_child_beaten_is_asked_about(text):
    assert assess(text).level in (HIGH_RISK, DANGER_NOW), text


def test_held_from_then_until_now_is_danger_now_but_fear_since_then_is_not():
    assert assess("Tôi bị con trai nhốt trong cũi sắt từ đó đến nay").level == DANGER_NOW
    assert assess("bi nhot trong phong tu do toi nay").level == DANGER_NOW
    assert not assess("hồi đó em bị nhốt 3 ngày, từ đó đến nay em vẫn sợ").urgent


def test_taking_a_grandchild_typed_without_marks_is_not_kicking_one():
    assert assess("gia dinh da dua chau di chua tri nhieu noi").level == NONE_LEVEL


@pytest.mark.parametrize("text", [
    "em vừa bị chồng đâm", "em bị chồng nhốt trong phòng", "em dang bi chong nhot trong phong",
])
def test_the_one_who_does_it_named_between_bị_and_the_act_is_still_danger_now(text):
    assert assess(text).level == DANGER_NOW, text


@pytest.mark.parametrize("text", ["tôi bị nó chém", "em bị bố dượng xâm hại", "em bị chồng bóp cổ"])
def test_named_attackers_are_at_least_asked_about(text):
    assert assess(text).level in (HIGH_RISK, DANGER_NOW), text


@pytest.mark.parametrize("text", ["em bị xe đâm", "bé bị ong đốt", "em bi muoi dot", "em bị công ty cắt giảm lương"])
def test_cars_bees_and_pay_cuts_are_not_violence(text):
    assert assess(text).level == NONE_LEVEL, text
