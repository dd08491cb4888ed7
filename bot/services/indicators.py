"""The programme's indicators (docs/indicators.md), computed from the database for a period and
optionally one unit. Plain data out: raw counts in `Table`s, which every report prints only
through `suppress` (small cells hidden), and a few single figures.

Sources hold no resident identity and no text: `activity` counters, the cases' fields (never
their notes or relayed messages) and the public directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from bot import content
from bot.geo.hours import HUE
from bot.geo.names import gazetteer
from bot.services.directory.index import current
from bot.services.escalation import OUTCOMES
from bot.services.quiz import quizzes
from bot.services.stats import FOLLOW_UPS, SMALL, follow_up, percentile
from bot.storage import activity
from bot.storage.db import session_scope
from bot.storage.models import Activity, Campaign, CampaignDelivery, Case, Place, QuizAttempt, aware, utcnow

CHANNELS = ("web", "telegram", "zalo")
REFERRAL_KINDS = ("police", "health", "legal_aid", "shelter", "trusted_address")
HELP_OUTCOMES = ("referred_police", "referred_health", "referred_legal_aid", "referred_shelter", "counselled")
DELIVERIES = ("sent", "failed", "stopped", "other")  # a campaign message's end; other: pending, sending, unknown
QUIZ_ROWS = ("started", "finished", "code")
ANSWERS = ("yes", "no")  # to "Câu trả lời này có hữu ích với bạn không?" (activity kinds useful_*)

_PERIOD = re.compile(r"(\d{4})(?:-H([12]))?")


class ReportError(ValueError):
    """Bad input for a report (period, unit): the message is for the operator, in English."""


@dataclass(frozen=True)
class Period:
    key: str  # "2026-H1" | "2026-H2" | "2026"
    year: int
    half: int | None
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        """"6 tháng đầu năm 2026", "năm 2026"."""
        return content.text(f"report_period_h{self.half}" if self.half else "report_period_year", year=self.year)

    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(), HUE), datetime.combine(self.end, time(), HUE))


def parse_period(text: str) -> Period:
    match = _PERIOD.fullmatch((text or "").strip())
    if not match or not 2020 <= int(match[1]) <= 2100:
        raise ReportError(f"period must be YYYY, YYYY-H1 or YYYY-H2 (e.g. 2026-H1), got {text!r}")
    year, half = int(match[1]), int(match[2]) if match[2] else None
    start = date(year, 7 if half == 2 else 1, 1)
    end = date(year + 1, 1, 1) if half != 1 else date(year, 7, 1)
    return Period(match[0], year, half, start, end)


def resolve_unit(name: str | None) -> str | None:
    """The canonical name of a phường/xã of the area (current or former name), or None for all."""
    if not name:
        return None
    unit = gazetteer().resolve(name)
    if unit is None or not unit.in_area:
        names = ", ".join(u.name for u in gazetteer().units if u.in_area)
        raise ReportError(f"unknown unit {name!r}; one of: {names}")
    return unit.name


# --- small cells -------------------------------------------------------------------------------


def with_totals(counts: list[list[int]], row_totals: bool = True, col_totals: bool = True) -> list[list[int]]:
    grid = [list(row) + ([sum(row)] if row_totals else []) for row in counts]
    if col_totals and grid:
        grid.append([sum(column) for column in zip(*grid)])
    return grid


def suppress(counts: list[list[int]], *, row_totals: bool = True, col_totals: bool = True) -> list[list[str]]:
    """The table as printed: totals appended (a column and/or a row), cells of 1-4 shown as "<5",
    and complementary cells shown as "x" so that no hidden cell can be worked out from its row or
    column total: while a line that has a total has exactly one hidden cell, the smallest other
    non-zero cell of that line (totals included) is hidden too."""
    grid = with_totals(counts, row_totals, col_totals)
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    lines = []
    if row_totals:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    if col_totals:
        lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    hidden = {(i, j) for i in range(n_rows) for j in range(n_cols) if 0 < grid[i][j] < SMALL}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            others = [cell for cell in line if cell not in hidden and grid[cell[0]][cell[1]] > 0]
            if others:
                hidden.add(min(others, key=lambda cell: grid[cell[0]][cell[1]]))
                changed = True
    return [
        [("<5" if grid[i][j] < SMALL else "x") if (i, j) in hidden else str(grid[i][j]) for j in range(n_cols)]
        for i in range(n_rows)
    ]


def share(part: int, whole: int) -> str:
    """A percentage as printed, or why not (docs/indicators.md, "Small numbers")."""
    if whole == 0:
        return content.text("report_no_cases")
    if any(0 < n < SMALL for n in (part, whole, whole - part)):
        return content.text("report_small_share")
    return f"{round(100 * part / whole)}%"


# --- the indicators ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    title: str
    rows: list[str]
    cols: list[str]
    counts: list[list[int]]
    row_totals: bool = True
    col_totals: bool = True
    private: bool = True  # counts people or events: printed through `suppress`

    def total(self) -> int:
        return sum(map(sum, self.counts))

    def shown(self) -> list[list[str]]:
        """Every printed cell, with a header row and the row labels (totals included)."""
        total = content.text("report_total")
        if self.private:
            body = suppress(self.counts, row_totals=self.row_totals, col_totals=self.col_totals)
        else:
            body = [list(map(str, row)) for row in with_totals(self.counts, self.row_totals, self.col_totals)]
        header = [""] + self.cols + ([total] if self.row_totals else [])
        labels = self.rows + ([total] if self.col_totals else [])
        return [header] + [[label] + row for label, row in zip(labels, body)]


@dataclass(frozen=True)
class Cases:
    table: Table  # by outcome (or in progress) and unit
    decided: int  # closed by the end of the period, not false alarms
    helped: int
    never_reached: int
    in_progress: int
    ack_minutes: list[float]  # urgent cases that were taken

    def ack(self, p: float) -> str:
        """The p-th percentile (0–100) of the minutes to acknowledge, as printed."""
        if len(self.ack_minutes) < SMALL:
            return content.text("report_small_share")
        minutes = f"{round(percentile(self.ack_minutes, p), 1):g}".replace(".", ",")  # Vietnamese decimal comma
        return content.text("report_minutes", minutes=minutes)


@dataclass(frozen=True)
class Campaigns:
    table: Table  # campaign messages by how they ended and channel (the total: recipients targeted)
    sent: int  # campaigns that began sending in the period
    taps: int  # taps on their buttons (the platforms do not say by whom: no channel)


@dataclass(frozen=True)
class Quizzes:
    table: Table  # attempts started, finished, finished with a participant code, by quiz
    correct: int  # right answers of the attempts finished in the period
    asked: int  # their questions

    def mean(self) -> str:
        """The mean score as a share of right answers, as printed (at least SMALL finishers)."""
        finished = sum(self.table.counts[QUIZ_ROWS.index("finished")])
        if finished == 0:
            return content.text("report_no_cases")
        if finished < SMALL:
            return content.text("report_small_share")
        return f"{round(100 * self.correct / self.asked)}%"


@dataclass(frozen=True)
class Indicators:
    period: Period
    unit: str | None
    until: datetime  # the end of the period, or when the report was made if earlier
    conversations: Table
    disclosures: Table
    referrals: Table
    cases: Cases
    directory: Table
    usefulness: Table  # answers (yes, no) by channel
    follow_ups: Table  # referred cases by follow-up answer and unit
    campaigns: Campaigns
    quiz: Quizzes

    def useful_share(self) -> str:
        """Share of "Có" among the answers, as printed (small numbers withheld)."""
        yes, no = (sum(row) for row in self.usefulness.counts)
        return share(yes, yes + no)

    @property
    def partial(self) -> bool:
        return self.until < self.period.bounds()[1]

    def span(self) -> tuple[str, str]:
        """The first and last day counted, as printed ("01/01/2026", "30/06/2026" or, for a period
        not yet over, the moment the figures were read)."""
        last = self.until.strftime("%d/%m/%Y %H:%M") if self.partial else \
            (self.period.end - timedelta(days=1)).strftime("%d/%m/%Y")
        return self.period.start.strftime("%d/%m/%Y"), last


def compute(period: Period, unit: str | None = None, now: datetime | None = None) -> Indicators:
    start, end = period.bounds()
    until = min(end, (now or utcnow()).astimezone(HUE))
    if until <= start:
        raise ReportError(f"period {period.key} has not begun")
    units = [unit] if unit else [u.name for u in gazetteer().units if u.in_area]
    months = _months(period.start, until)
    with session_scope() as session:
        rows = session.execute(
            select(Activity.day, Activity.channel, Activity.unit, Activity.kind, func.sum(Activity.count))
            .where(Activity.day >= period.start, Activity.day < until.date() + timedelta(days=1),
                   Activity.day < period.end)
            .group_by(Activity.day, Activity.channel, Activity.unit, Activity.kind)
        ).all()
        cases = list(session.scalars(select(Case).where(  # stored in UTC (SQLite keeps no zone)
            Case.created_at >= start.astimezone(timezone.utc), Case.created_at < until.astimezone(timezone.utc))))
        places = list(session.scalars(select(Place).where(Place.sample.is_(False))))
        campaigns = _campaigns(session, start, until)
        quiz = _quizzes(session, start, until)
    return Indicators(
        period=period, unit=unit, until=until,
        conversations=_by_month(rows, activity.CONVERSATION, months, content.text("report_t_conversations")),
        disclosures=_by_month(rows, activity.DISCLOSURE, months, content.text("report_t_disclosures")),
        referrals=_referrals(rows, units, unit),
        cases=_cases(cases, units, unit, until),
        directory=_directory(places, units, unit, until.date()),
        usefulness=_usefulness(rows),
        follow_ups=_follow_ups(cases, units, unit),
        campaigns=campaigns,
        quiz=quiz,
    )


def _months(start: date, until: datetime) -> list[tuple[int, int]]:
    months, (year, month) = [], (start.year, start.month)
    while date(year, month, 1) < until.date() or (date(year, month, 1) == until.date() and until.time() > time()):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_label(year: int, month: int) -> str:
    return content.text("report_month", month=month, year=year)


def _by_month(rows, kind: str, months: list[tuple[int, int]], title: str) -> Table:
    index = {m: i for i, m in enumerate(months)}
    counts = [[0] * len(CHANNELS) for _ in months]
    for day, channel, _unit, row_kind, count in rows:
        if row_kind == kind and (day.year, day.month) in index and channel in CHANNELS:
            counts[index[(day.year, day.month)]][CHANNELS.index(channel)] += count
    return Table(title, [_month_label(*m) for m in months], [content.text(f"report_channel_{c}") for c in CHANNELS],
                 counts)


def _unit_columns(units: list[str], unit: str | None) -> list[str]:
    return units + ([] if unit else [content.text("report_unit_unknown")])


def _column(value: str | None, units: list[str], unit: str | None) -> int | None:
    """Which column a unit's count goes to: its own, "không rõ" (all units), or none (another unit)."""
    if value in units:
        return units.index(value)
    return None if unit else len(units)


def _referrals(rows, units: list[str], unit: str | None) -> Table:
    kinds = REFERRAL_KINDS + ("other",)
    counts = [[0] * len(_unit_columns(units, unit)) for _ in kinds]
    for _day, _channel, row_unit, row_kind, count in rows:
        if not row_kind.startswith(activity.REFERRAL):
            continue
        kind = row_kind.removeprefix(activity.REFERRAL)
        column = _column(row_unit or None, units, unit)
        if column is not None:
            counts[kinds.index(kind if kind in kinds else "other")][column] += count
    return Table(content.text("report_t_referrals"), [content.text(f"report_kind_{k}") for k in kinds],
                 _unit_columns(units, unit), counts)


def _cases(cases: list[Case], units: list[str], unit: str | None, until: datetime) -> Cases:
    labels = OUTCOMES + ("in_progress",)
    counts = [[0] * len(_unit_columns(units, unit)) for _ in labels]
    decided = helped = never_reached = in_progress = 0
    ack_minutes = []
    for case in cases:
        column = _column(case.ward, units, unit)
        if column is None:
            continue
        closed = case.status == "closed" and case.closed_at is not None and aware(case.closed_at) < until
        acknowledged = case.acknowledged_at is not None and aware(case.acknowledged_at) < until
        outcome = case.outcome if closed else "in_progress"
        counts[labels.index(outcome if outcome in labels else "in_progress")][column] += 1
        if not closed:
            in_progress += 1
        elif outcome != "false_alarm":
            decided += 1
            helped += outcome in HELP_OUTCOMES
            never_reached += outcome == "unreachable" or not acknowledged
        if acknowledged and case.category != "contact_request":
            ack_minutes.append((aware(case.acknowledged_at) - aware(case.created_at)).total_seconds() / 60)
    rows = [content.text(f"console_outcome_{o}") for o in OUTCOMES] + [content.text("report_in_progress")]
    table = Table(content.text("report_t_cases"), rows, _unit_columns(units, unit), counts)
    return Cases(table, decided, helped, never_reached, in_progress, ack_minutes)


def _directory(places: list[Place], units: list[str], unit: str | None, day: date) -> Table:
    columns = units + ([] if unit else [content.text("report_unit_national")])
    counts = [[0] * 3 for _ in columns]
    for place in places:
        column = _column(place.unit, units, unit)
        if column is None:
            continue
        overdue = place.verified and not current(place.verified, place.last_verified, day)
        counts[column][0] += bool(place.verified)
        counts[column][1] += bool(overdue)
        counts[column][2] += not place.verified
    cols = [content.text(f"report_places_{c}") for c in ("verified", "overdue", "unverified")]
    return Table(content.text("report_t_directory"), columns, cols, counts, row_totals=False, private=False)


def _usefulness(rows) -> Table:
    """Answers to the usefulness question by channel, for the whole area (no unit is known)."""
    counts = [[0] * len(CHANNELS) for _ in ANSWERS]
    for _day, channel, _unit, row_kind, count in rows:
        answer = row_kind.removeprefix(activity.USEFUL)
        if row_kind.startswith(activity.USEFUL) and answer in ANSWERS and channel in CHANNELS:
            counts[ANSWERS.index(answer)][CHANNELS.index(channel)] += count
    return Table(content.text("report_t_usefulness"), [content.text(f"report_useful_{a}") for a in ANSWERS],
                 [content.text(f"report_channel_{c}") for c in CHANNELS], counts)


def _follow_ups(cases: list[Case], units: list[str], unit: str | None) -> Table:
    """Referred cases of the period by follow-up answer (bot.services.stats.follow_up) and unit."""
    counts = [[0] * len(_unit_columns(units, unit)) for _ in FOLLOW_UPS]
    for case in cases:
        answer = follow_up(case.follow_up_at, case.follow_up_answer, case.resident_answer)
        column = _column(case.ward, units, unit)
        if answer in FOLLOW_UPS and column is not None:
            counts[FOLLOW_UPS.index(answer)][column] += 1
    return Table(content.text("report_t_follow_ups"), [content.text(f"report_follow_up_{a}") for a in FOLLOW_UPS],
                 _unit_columns(units, unit), counts)


def _within(moment: datetime | None, start: datetime, until: datetime) -> bool:
    return moment is not None and start <= aware(moment) < until


def _campaigns(session, start: datetime, until: datetime) -> Campaigns:
    """Campaigns that began sending in the period (their start time, else when they were made),
    for the whole area: a delivery row has no unit."""
    chosen = {row.id: row.taps for row in session.execute(select(Campaign.id, Campaign.starts_at, Campaign.created_at,
                                                                 Campaign.taps))
              if _within(row.starts_at or row.created_at, start, until)}
    rows = session.execute(
        select(CampaignDelivery.campaign_id, CampaignDelivery.channel, CampaignDelivery.status, func.count())
        .where(CampaignDelivery.campaign_id.in_(list(chosen)))
        .group_by(CampaignDelivery.campaign_id, CampaignDelivery.channel, CampaignDelivery.status)
    ).all() if chosen else []
    counts = [[0] * len(CHANNELS) for _ in DELIVERIES]
    for _campaign, channel, status, count in rows:
        if channel in CHANNELS:
            counts[DELIVERIES.index(status if status in DELIVERIES else "other")][CHANNELS.index(channel)] += count
    sent = {campaign for campaign, *_ in rows}
    table = Table(content.text("report_t_campaigns"), [content.text(f"report_delivery_{d}") for d in DELIVERIES],
                  [content.text(f"report_channel_{c}") for c in CHANNELS], counts)
    return Campaigns(table, len(sent), sum(chosen[c] for c in sent))


def _quizzes(session, start: datetime, until: datetime) -> Quizzes:
    """Residents' quizzes (not officers' training), for the whole area: an attempt has no unit."""
    banks = [quiz for quiz in quizzes().values() if quiz.audience == "residents"]
    ids = [quiz.id for quiz in banks]
    counts = [[0] * len(banks) for _ in QUIZ_ROWS]
    correct = asked = 0
    for quiz_id, score, started, finished, code in session.execute(
            select(QuizAttempt.quiz, QuizAttempt.score, QuizAttempt.started_at, QuizAttempt.finished_at,
                   QuizAttempt.code).where(QuizAttempt.quiz.in_(ids))):
        column = ids.index(quiz_id)
        counts[0][column] += _within(started, start, until)
        if _within(finished, start, until):
            counts[1][column] += 1
            counts[2][column] += code is not None
            correct += score
            asked += len(banks[column].questions)
    table = Table(content.text("report_t_quiz"), [content.text(f"report_quiz_{r}") for r in QUIZ_ROWS],
                  [quiz.title for quiz in banks], counts, col_totals=False)
    return Quizzes(table, correct, asked)
