"""The ready-made campaigns (bot/content/campaigns/): one for each date of the calendar in
facts.md §5, one for storms and floods, one for trusted addresses; each passes the content
checks (facts, a neutral first line, the length once the stop line and options are added)."""

from __future__ import annotations

import pytest

from bot.services import campaigns

TEMPLATES = campaigns.templates()
CALENDAR = {"15/11", "25/11", "Tháng 6", "28/6", "8/3", "Tháng 10", "30/7"}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_passes_the_content_checks(name):
    spec = campaigns.parse(TEMPLATES[name])
    assert spec.template == name
    for channel in spec.channels:
        text, _ = campaigns.render(spec.text, spec.buttons, channel, spec.kind, ["x" * 80] * 3)
        assert len(text) <= 600


def test_the_calendar_and_the_emergencies_have_templates():
    titles = " ".join(t["name"] + t["text"] for t in TEMPLATES.values())
    assert all(day in titles for day in CALENDAR)
    storm = TEMPLATES["storm_flood"]["text"]
    assert all(number in storm for number in ("113", "115", "112")) and "sơ tán" in storm
    assert TEMPLATES["trusted_address"]["kind"] == "trusted_address" and "Điều 36" in TEMPLATES["trusted_address"]["text"]


def test_a_template_that_states_an_unverified_fact_would_be_refused():
    bad = {**TEMPLATES["october"], "text": TEMPLATES["october"]["text"] + "\nGọi 1800 1567."}
    with pytest.raises(campaigns.SpecError, match="1800"):
        campaigns.parse(bad)
