"""Where and when: distances between places, opening hours that cross midnight, and how
hours are shown to residents (bot/geo)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.geo.distance import haversine_km
from bot.geo.hours import covers, hours_vi, is_open, minutes, parse_hours


def test_haversine_matches_a_known_distance():
    # Tứ Hạ (former town centre) to the Bình Điền centroid: 0.1616° of latitude, 0.02° of longitude
    assert haversine_km(16.5216, 107.48, 16.36, 107.46) == pytest.approx(18.09, abs=0.05)
    assert haversine_km(16.5, 107.5, 16.5, 107.5) == 0


def test_hours_crossing_midnight_are_open_until_the_next_morning():
    rules = parse_hours("Mon 22:00-06:00")

    def at(day: int, hour: int, minute: int = 0) -> datetime:  # day 0 = Monday 30/11/2026
        return datetime(2026, 11, 30) + timedelta(days=day, hours=hour, minutes=minute)

    assert is_open(rules, at(0, 23))  # Monday night
    assert is_open(rules, at(1, 5, 59))  # Tuesday early morning
    assert not is_open(rules, at(1, 6))  # Tuesday 06:00: closed
    assert not is_open(rules, at(0, 21, 59))  # Monday before opening
    assert not is_open(rules, at(0, 5))  # Monday early morning belongs to Sunday night
    assert not is_open(rules, at(1, 23))  # Tuesday night is not listed


@pytest.mark.parametrize("text, problem", [
    ("Mon-Fri", "expected days then times"),
    ("Mon-Fri 7:30-11:30", "HH:MM-HH:MM"),
    ("Lun 08:00-12:00", "days are"),
    ("Mon 25:00-26:00", "not a time of day"),
    ("Mon 08:00-08:00", "empty range"),
])
def test_bad_hours_are_rejected_with_a_reason(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_hours(text)


def test_hours_are_shown_in_vietnamese():
    rules = parse_hours("Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30")
    assert hours_vi(rules) == "T2–T6: 07:30–11:30, 13:30–17:00; T7: 07:30–11:30"
    assert hours_vi(parse_hours("Daily 18:00-07:00")) == "Hằng ngày: 18:00–07:00"


def test_a_shift_that_ends_where_it_starts_lasts_a_whole_day():
    """The roster's shifts count time the same way: 08:00-08:00 is 24 hours, 24:00 ends the day."""
    start = end = minutes("08:00")
    assert covers(start, end, minutes("23:00")) and not covers(start, end, minutes("07:59"))
    assert covers(start, end, minutes("07:59"), previous_day=True)
    assert not covers(start, end, minutes("08:00"), previous_day=True)
    assert covers(minutes("17:00"), minutes("24:00"), minutes("23:59"))
    assert not covers(minutes("17:00"), minutes("24:00"), 0, previous_day=True)


def test_place_names_and_hours_need_neither_the_nlu_nor_the_services():
    """bot/geo sits below both (the NLU finds place names with it): no import cycle."""
    code = "import sys, bot.geo.names, bot.geo.hours, bot.geo.distance; print(sorted(m for m in sys.modules if m[:4] == 'bot.'))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(["bot.geo", "bot.geo.distance", "bot.geo.hours", "bot.geo.names", "bot.vietnamese"])
