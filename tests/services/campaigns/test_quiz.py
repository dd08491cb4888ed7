"""Quizzes: every question cites a verified line of docs/facts.md and passes the content
checks; one question at a time with buttons through the conversation core, the fact after
each answer, the score and, while a contest is open, a participant code; resumable, and an
old button changes nothing; the console's figures count who got what wrong."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.content.check import FACTS, UNVERIFIED_MARK, _section, problems
from bot.conversation.core import ConversationCore, Message
from bot.services import quiz

QUIZZES = quiz.quizzes()
QUESTIONS = [pytest.param(q, id=f"{k}-{n}") for k, bank in QUIZZES.items() for n, q in enumerate(bank.questions)]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_question_cites_a_verified_line_of_the_facts(question):
    heading = next(h for h in (f"### {question.source['section']}", f"## {question.source['section']}.")
                   if h in FACTS)
    line = next((line for line in _section(FACTS, heading).splitlines() if question.source["quote"] in line), None)
    assert line is not None, question.source
    assert not UNVERIFIED_MARK.search(line), line
    for text in (question.question, question.fact, *question.options):
        assert problems(text) == [], text
    assert 0 <= question.answer < len(question.options) <= 3


def test_banks_have_five_to_ten_questions_and_one_is_for_officers():
    assert all(5 <= len(bank.questions) <= 10 for bank in QUIZZES.values())
    assert any(bank.audience == "officers" for bank in QUIZZES.values())


class NoRasa:
    async def send(self, *_args):
        raise AssertionError("a quiz payload never reaches Rasa")


async def test_a_quiz_through_the_core_one_question_at_a_time_resumable_with_a_code(db_url, monkeypatch):
    core = ConversationCore(NoRasa(), 100)
    bank = QUIZZES["hieu_luat"]
    monkeypatch.setattr(quiz.Quiz, "contest_open", lambda self, today=None: True)
    reply = await core.handle(Message("telegram", "7", payload=quiz.start_payload("hieu_luat")))
    [first] = reply.messages
    assert first.text.startswith("Câu 1/5") and len(first.buttons) == len(bank.questions[0].options)
    wrong = next(b for n, b in enumerate(first.buttons) if n != bank.questions[0].answer)
    reply = await core.handle(Message("telegram", "7", payload=wrong.payload))
    assert reply.messages[0].text.startswith("Chưa đúng") and bank.questions[0].fact in reply.messages[0].text
    stale = await core.handle(Message("telegram", "7", payload=wrong.payload))  # the same button again
    assert stale.messages[0].text.startswith("Câu 2/5")
    resumed = await core.handle(Message("telegram", "7", payload=quiz.start_payload("hieu_luat")))
    assert resumed.messages[0].text.startswith("Câu 2/5")
    for number in range(1, 5):
        question = bank.questions[number]
        payload = "/quiz_answer" + json.dumps({"id": "hieu_luat", "q": number, "a": question.answer})
        reply = await core.handle(Message("telegram", "7", payload=payload))
        assert reply.messages[0].text.startswith("Đúng rồi")
    assert "4/5" in reply.messages[-1].text and "Mã dự thi" in reply.messages[-1].text
    figures = quiz.results("hieu_luat")
    assert (figures["started"], figures["finished"], figures["codes"]) == (1, 1, 1)
    assert figures["scores"] == {4: 1} and figures["missed"] == [(1, 1)]


def test_no_code_outside_the_contest_dates():
    bank = QUIZZES["hieu_luat"]
    assert bank.contest_open(date(2026, 11, 20)) and not bank.contest_open(date(2027, 1, 5))
    assert not QUIZZES["can_bo_tiep_nhan"].contest_open(date(2026, 11, 20))
