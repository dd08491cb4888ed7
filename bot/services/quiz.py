"""Quizzes and the contest (hội thi): question banks written from docs/facts.md
(bot/content/quizzes/*.yml, each question citing its line), one question at a time with
buttons, the fact right after each answer, the score at the end. State lives in
`quiz_attempts` under the sender's pseudonym, so a quiz resumes where it stopped (even
after a restart) and nobody is named. A finisher of a quiz whose contest is open gets a
participant code ("mã dự thi") to claim a prize in person. The same engine serves officers'
short knowledge checks. The conversation core answers the payloads `/quiz{"id": …}` and
`/quiz_answer{"id": …, "q": n, "a": k}` before Rasa."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot import content
from bot.geo.hours import local_time
from bot.messages import BotMessage, Button
from bot.storage.db import session_scope
from bot.storage.models import QuizAttempt, utcnow

BANKS = Path(content.__file__).parent / "quizzes"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class Question:
    question: str
    options: tuple[str, ...]
    answer: int
    fact: str
    source: dict


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    questions: tuple[Question, ...]
    audience: str = "residents"
    contest: tuple[date, date] | None = None

    def contest_open(self, today: date | None = None) -> bool:
        today = today or local_time().date()
        return self.contest is not None and self.contest[0] <= today <= self.contest[1]


@lru_cache(maxsize=1)
def quizzes() -> dict[str, Quiz]:
    found = {}
    for path in sorted(BANKS.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        contest = data.get("contest")
        found[data["id"]] = Quiz(
            id=data["id"], title=data["title"], audience=data.get("audience", "residents"),
            questions=tuple(Question(q["question"], tuple(q["options"]), q["answer"], q["fact"], q["source"])
                            for q in data["questions"]),
            contest=(date.fromisoformat(contest["starts"]), date.fromisoformat(contest["ends"])) if contest else None,
        )
    return found


def start_payload(quiz_id: str) -> str:
    return "/quiz" + json.dumps({"id": quiz_id})


def _question(quiz: Quiz, number: int) -> BotMessage:
    question = quiz.questions[number]
    buttons = tuple(Button(option, "/quiz_answer" + json.dumps({"id": quiz.id, "q": number, "a": k}, separators=(",", ":")))
                    for k, option in enumerate(question.options))
    text = content.text("quiz_question", number=number + 1, total=len(quiz.questions), question=question.question)
    return BotMessage(text, buttons)


def _attempt(session, quiz_id: str, sender: str) -> QuizAttempt:
    attempt = session.scalar(select(QuizAttempt).where(QuizAttempt.quiz == quiz_id, QuizAttempt.sender == sender))
    if attempt is None:
        attempt = QuizAttempt(quiz=quiz_id, sender=sender, position=0, answers="", score=0, started_at=utcnow())
        session.add(attempt)
        session.flush()
    return attempt


def handle(sender: str, payload: str) -> list[BotMessage]:
    """The messages answering a quiz payload (start or resume, or one answer)."""
    try:
        data = json.loads(payload[payload.index("{"):])
        quiz = quizzes()[data["id"]]
    except (ValueError, KeyError, TypeError):
        return [BotMessage(content.text("quiz_unknown"))]
    for _attempt_no in range(2):  # two taps at once may both create the attempt: the second retries
        try:
            with session_scope() as session:
                return _step(session, quiz, _attempt(session, quiz.id, sender), data, payload.startswith("/quiz_answer"))
        except IntegrityError:
            continue
    return [BotMessage(content.text("quiz_unknown"))]


def _step(session, quiz: Quiz, attempt: QuizAttempt, data: dict, answering: bool) -> list[BotMessage]:
    messages = []
    if attempt.finished_at is not None:
        return [_result(quiz, attempt)]
    if answering and data.get("q") == attempt.position:  # an old question's button changes nothing
        question = quiz.questions[attempt.position]
        right = data.get("a") == question.answer
        attempt.score += right
        attempt.answers += f"{attempt.position + 1}:{'ok' if right else 'no'};"
        attempt.position += 1
        messages.append(BotMessage(content.text("quiz_right" if right else "quiz_wrong",
                                                answer=question.options[question.answer], fact=question.fact)))
    if attempt.position >= len(quiz.questions):
        attempt.finished_at = utcnow()
        if quiz.contest_open():
            attempt.code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        messages.append(_result(quiz, attempt))
    else:
        messages.append(_question(quiz, attempt.position))
    return messages


def _result(quiz: Quiz, attempt: QuizAttempt) -> BotMessage:
    text = content.text("quiz_score", score=attempt.score, total=len(quiz.questions))
    if attempt.code:
        text += "\n\n" + content.text("quiz_code", code=attempt.code)
    return BotMessage(text, (Button(content.text("button_menu"), "/menu"),))


def results(quiz_id: str) -> dict:
    """Participation, scores and the most missed questions (for the console)."""
    with session_scope() as session:
        rows = session.execute(select(QuizAttempt.finished_at, QuizAttempt.score, QuizAttempt.answers)
                               .where(QuizAttempt.quiz == quiz_id)).all()
        codes = session.scalar(select(func.count()).where(QuizAttempt.quiz == quiz_id, QuizAttempt.code.is_not(None)))
    finished = [r for r in rows if r.finished_at is not None]
    missed: dict[int, int] = {}
    for row in rows:
        for item in filter(None, row.answers.split(";")):
            number, _, verdict = item.partition(":")
            if verdict == "no":
                missed[int(number)] = missed.get(int(number), 0) + 1
    scores: dict[int, int] = {}
    for row in finished:
        scores[row.score] = scores.get(row.score, 0) + 1
    return {"started": len(rows), "finished": len(finished), "codes": codes, "scores": dict(sorted(scores.items())),
            "missed": sorted(missed.items(), key=lambda item: -item[1])}
