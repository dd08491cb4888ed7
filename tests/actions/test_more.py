"""'Xem thêm' sends the second half of the answer given in the turn before, once."""

from actions.more import continuation

RESPONSES = {"utter_a": [{}], "utter_a_more": [{}], "utter_b": [{}], "utter_ask": [{}]}


def bot(name: str) -> dict:
    return {"event": "bot", "metadata": {"utter_action": name}}


def user(text: str) -> dict:
    return {"event": "user", "text": text}


def test_the_rest_of_the_last_answer_even_when_a_question_followed_it():
    events = [user("cấm tiếp xúc"), bot("utter_a"), bot("utter_ask"), user("/more")]
    assert continuation(events, RESPONSES) == "utter_a_more"


def test_nothing_when_the_last_answer_has_no_second_half():
    assert continuation([user("x"), bot("utter_b"), user("/more")], RESPONSES) is None


def test_an_older_answer_is_not_continued():
    events = [bot("utter_a"), user("hỏi khác"), bot("utter_b"), user("/more")]
    assert continuation(events, RESPONSES) is None


def test_the_second_half_is_not_sent_twice():
    events = [bot("utter_a"), user("/more"), bot("utter_a_more"), user("/more")]
    assert continuation(events, RESPONSES) is None
