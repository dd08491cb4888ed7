"""Statistics for officials, coordinators and admins: this month and this year, by unit,
category, channel and outcome, and the time urgent cases waited for an officer. Aggregates
only (bot/services/stats.py): never a case, and counts of 1–4 shown as "<5"."""

from __future__ import annotations

from aiohttp import web

from bot.console.kit import Kit
from bot.services import stats
from bot.services.escalation import audit

STATS_ROLES = ("coordinator", "official", "admin")


def minutes(value) -> str:
    """A waiting time in words: "4 phút", "1 giờ 5 phút"; "—" when too few cases."""
    if value is None:
        return "—"
    total = round(value.total_seconds() / 60)
    return f"{total} phút" if total < 60 else f"{total // 60} giờ {total % 60} phút"


def table(kit: Kit) -> list[tuple[str, str, object]]:
    @kit.signed_in(*STATS_ROLES)
    async def statistics(request: web.Request) -> web.Response:
        session = request["session"]
        month, year = stats.this_month_and_year()
        audit(session.user.actor, "stats_read")
        return kit.page("stats.html", session=session, periods=[("month", month), ("year", year)],
                        shown=stats.shown, minutes=minutes, dimensions=stats.DIMENSIONS, small=stats.SMALL)

    return [("GET", "/stats", statistics)]
