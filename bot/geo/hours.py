"""Huế time, opening hours and shifts.

A time range is [start, end) in minutes of one day; a range whose end is not after its
start crosses midnight ("22:00-06:00" runs until 06:00 the next morning). The directory's
opening hours and the roster's shifts both count time this way, in Huế's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as written in CSV files; Monday = 0
DAY_VI = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
DAILY_VI = "Hằng ngày"
_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
Rule = tuple[frozenset[int], int, int]  # weekdays (Mon=0), start minute, end minute


def local_time(now: datetime | None = None) -> datetime:
    """`now` as wall-clock time in Huế; a naive datetime is taken as UTC (server clocks)."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(HUE)


def minutes(hhmm: str) -> int:
    """"07:30" → 450."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def covers(start: int, end: int, minute: int, previous_day: bool = False) -> bool:
    """Whether the range [start, end) of a day contains `minute` of that day — or, with
    `previous_day`, `minute` of the next day, which only a range crossing midnight reaches."""
    if start < end:
        return not previous_day and start <= minute < end
    return minute < end if previous_day else minute >= start


def parse_hours(text: str) -> tuple[Rule, ...]:
    """Parse "Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30" (also "Daily", "Sat,Sun",
    "Fri-Mon"). A range whose end is before its start crosses midnight: "Mon 22:00-06:00"
    is open Monday night until Tuesday 06:00. Raises ValueError saying what is wrong."""
    rules: list[Rule] = []
    for group in (g.strip() for g in text.split(";")):
        if not group:
            continue
        days_text, _, ranges_text = group.partition(" ")
        if not ranges_text.strip():
            raise ValueError(f"{group!r}: expected days then times, e.g. 'Mon-Fri 07:30-11:30'")
        days = _parse_days(days_text)
        for part in ranges_text.replace(" ", "").split(","):
            match = _RANGE.fullmatch(part)
            if not match:
                raise ValueError(f"{part!r}: expected a time range HH:MM-HH:MM")
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60:
                raise ValueError(f"{part!r}: not a time of day (00:00-23:59, 24:00 only as an end)")
            if start == end:
                raise ValueError(f"{part!r}: empty range")
            rules.append((days, start, end))
    if not rules:
        raise ValueError("no opening hours given")
    return tuple(rules)


def _parse_days(text: str) -> frozenset[int]:
    if text.lower() == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        try:
            day, end = DAYS.index(first.lower()), DAYS.index((last or first).lower())
        except ValueError:
            raise ValueError(f"{part!r}: days are Mon Tue Wed Thu Fri Sat Sun, 'Mon-Fri' or 'Daily'") from None
        days.add(day)
        while day != end:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def is_open(rules: Iterable[Rule], local: datetime) -> bool:
    """Whether the rules cover `local` (a wall-clock time in Huế)."""
    weekday, minute = local.weekday(), local.hour * 60 + local.minute
    yesterday = (weekday - 1) % 7
    return any(
        (weekday in days and covers(start, end, minute)) or (yesterday in days and covers(start, end, minute, True))
        for days, start, end in rules
    )


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _days_vi(days: frozenset[int]) -> str:
    if len(days) == 7:
        return DAILY_VI
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(DAY_VI[r[0]] if len(r) == 1 else f"{DAY_VI[r[0]]}–{DAY_VI[r[-1]]}" for r in runs)


def hours_vi(rules: Iterable[Rule]) -> str:
    """"T2–T6: 07:30–11:30, 13:30–17:00; T7: 07:30–11:30"."""
    grouped: dict[frozenset[int], list[str]] = {}
    for days, start, end in rules:
        grouped.setdefault(days, []).append(f"{_hhmm(start)}–{_hhmm(end)}")
    return "; ".join(f"{_days_vi(days)}: {', '.join(ranges)}" for days, ranges in grouped.items())
