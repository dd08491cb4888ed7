"""The duty roster in the console (coordinators and admins): who is on duty now, a week's
calendar of shifts (weekly pattern and dated overrides, Huế time), CSV import (all or
nothing, as `gbvbot roster import`) and export, and a test alert per officer, or to all,
that says who cannot be reached."""

from __future__ import annotations

import io
from datetime import timedelta

from aiohttp import web

from bot import content
from bot.console.kit import Kit
from bot.geo.hours import local_time
from bot.services import roster
from bot.services.escalation import audit

ROSTER_ROLES = ("coordinator", "admin")
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def table(kit: Kit, sender: roster.Alerts | None) -> list[tuple[str, str, object]]:
    """`sender`: how alerts go out (None: Telegram is not configured)."""

    @kit.signed_in(*ROSTER_ROLES)
    async def page(request: web.Request) -> web.Response:
        session = request["session"]
        today = local_time().date()
        days = [today + timedelta(days=n) for n in range(7)]
        audit(session.user.actor, "roster_read")
        return kit.page("roster.html", session=session, officers=roster.list_officers(),
                        on_duty=roster.on_duty(), calendar=roster.week(today), days=days, weekdays=WEEKDAYS)

    async def alert(officers, actor: str) -> list[tuple[str, str]]:
        """(name, why) of those the test alert did not reach."""
        failed = []
        for officer in officers:
            why = await roster.send_test_alert(sender, officer, content.text("officer_check"))
            if why:
                failed.append((officer.display_name, content.text(f"console_unreached_{why}")))
        audit(actor, "roster_test_alert")
        return failed

    @kit.signed_in(*ROSTER_ROLES)
    async def test_one(request: web.Request) -> web.Response:
        session = request["session"]
        raw = request.match_info["officer_id"]
        officer = next((o for o in roster.list_officers() if str(o.id) == raw), None)
        if officer is None:
            return kit.error(404, "console_officer_not_found", session)
        failed = await alert([officer], session.user.actor)
        notice = content.text("console_test_failed", who=f"{failed[0][0]} ({failed[0][1]})") if failed else \
            content.text("console_test_ok", officer=officer.display_name)
        return kit.back(session, "/console/roster", notice)

    @kit.signed_in(*ROSTER_ROLES)
    async def test_all(request: web.Request) -> web.Response:
        session = request["session"]
        officers = roster.list_officers()
        failed = await alert(officers, session.user.actor)
        notice = content.text("console_test_failed", who="; ".join(f"{n} ({w})" for n, w in failed)) if failed else \
            content.text("console_test_all_ok", count=len(officers))
        return kit.back(session, "/console/roster", notice)

    @kit.signed_in(*ROSTER_ROLES)
    async def upload(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        data = form.get("file")
        if not isinstance(data, bytes) or not data.strip():
            return kit.back(session, "/console/roster", content.text("console_places_no_file"))
        try:
            count = roster.import_roster(io.StringIO(data.decode("utf-8-sig"), newline=""))
        except UnicodeDecodeError:
            return kit.page("roster_import.html", 400, session, errors=["the file is not UTF-8 text"])
        except roster.RosterError as error:
            audit(session.user.actor, "roster_import_refused")
            return kit.page("roster_import.html", 400, session, errors=str(error).splitlines())
        audit(session.user.actor, "roster_import")
        return kit.back(session, "/console/roster", content.text("console_roster_imported", count=count))

    @kit.signed_in(*ROSTER_ROLES)
    async def export(request: web.Request) -> web.Response:
        audit(request["session"].user.actor, "roster_export")
        return kit.csv_file(roster.export_roster, "roster.csv")

    return [
        ("GET", "/roster", page),
        ("GET", "/roster/export", export),
        ("POST", "/roster/import", upload),
        ("POST", "/roster/test", test_all),
        ("POST", "/roster/{officer_id}/test", test_one),
    ]
