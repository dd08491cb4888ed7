"""The directory in the console (coordinators, officials, admins): list and search, a form
to add or edit a place, "verify now" (who, when, how), what is due for re-verification and
the research leads still to check, CSV import (all or nothing, as `gbvbot places import`)
and export. Every change is audited by the directory services."""

from __future__ import annotations

import io
from datetime import date

from aiohttp import web

from bot import content
from bot.console.kit import Kit
from bot.services import directory
from bot.services.directory import leads, verification
from bot.services.directory.csvio import HOWS
from bot.services.directory.index import current, due_date
from bot.services.escalation import audit
from bot.storage.models import Place
from bot.vietnamese import strip_marks

DIRECTORY_ROLES = ("coordinator", "official", "admin")
RESERVED = ("new", "due", "export", "import")  # paths under /console/places/, never a place's key
MAX_QUERY = 100


def state(place: Place, today: date) -> tuple[str, date | None]:
    """sample | unverified | current | due_soon | overdue, and the date it is (was) due."""
    if place.sample:
        return "sample", None
    if not place.verified or place.last_verified is None:
        return "unverified", None
    due = due_date(place.last_verified)
    if not current(True, place.last_verified, today):
        return "overdue", due
    return ("due_soon" if (due - today).days <= verification.SOON_DAYS else "current"), due


def _matches(place: Place, folded: str) -> bool:
    return folded in strip_marks(" ".join(filter(None, (place.key, place.name, place.unit, place.address, place.phones))))


def table(kit: Kit) -> list[tuple[str, str, object]]:
    page, error, signed_in = kit.page, kit.error, kit.signed_in

    def form_page(session, place: dict, status: int = 200, errors: list[str] = (), lead=None) -> web.Response:
        place = dict.fromkeys([*Place.__table__.columns.keys(), "state", "due"]) | place
        return page("place.html", status, session, place=place, errors=list(errors), lead=lead, hows=HOWS,
                    kinds=directory.KINDS, units=directory.area_units(), today=verification.today().isoformat())

    @signed_in(*DIRECTORY_ROLES)
    async def listing(request: web.Request) -> web.Response:
        session = request["session"]
        query = request.query.get("q", "").strip()[:MAX_QUERY]
        today = verification.today()
        places = directory.list_places()
        if query:
            places = [p for p in places if _matches(p, strip_marks(query))]
        rows = [(p, *state(p, today)) for p in places]
        return page("places.html", session=session, rows=rows, query=query)

    @signed_in(*DIRECTORY_ROLES)
    async def due_page(request: web.Request) -> web.Response:
        session = request["session"]
        today = verification.today()
        due = [(p, d, d <= today) for p, d in verification.due(today)]
        return page("places_due.html", session=session, due=due, unverified=verification.unverified(),
                    leads=leads.open_leads())

    @signed_in(*DIRECTORY_ROLES)
    async def new_form(request: web.Request) -> web.Response:
        lead = None
        raw = request.query.get("lead", "")
        if raw.isdigit():
            lead = leads.get(int(raw))
        place = {"kind": "trusted_address", "verified": False}
        if lead is not None:
            known = lead.address if lead.address and "NOT FOUND" not in lead.address else ""
            place.update(name=lead.name[:200], unit=lead.unit or "", address=known,
                         phones="", hours="", lat=lead.lat, lon=lead.lon)
        return form_page(request["session"], place, lead=lead)

    @signed_in(*DIRECTORY_ROLES)
    async def create(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        fields = {k: str(v) for k, v in form.items() if k != "csrf"}
        lead_id = fields.get("lead", "")
        lead = leads.get(int(lead_id)) if lead_id.isdigit() else None
        if fields.get("key", "") in RESERVED:
            return form_page(session, fields, 400, [f"key: {fields['key']!r} is reserved"], lead)
        saved = verification.save(None, fields, session.user.actor)
        if saved.errors:
            return form_page(session, fields, 400, saved.errors, lead)
        if lead is not None:
            leads.made_into(lead.id, saved.key)
        return kit.back(session, f"/console/places/{saved.key}", content.text("console_place_saved_unverified"))

    def found(key: str) -> Place | None:
        return next((p for p in directory.list_places() if p.key == key), None)

    @signed_in(*DIRECTORY_ROLES)
    async def edit_form(request: web.Request) -> web.Response:
        session = request["session"]
        place = found(request.match_info["key"])
        if place is None:
            return error(404, "console_place_not_found", session)
        values = {c: getattr(place, c) for c in Place.__table__.columns.keys()}
        values["due"] = due_date(place.last_verified) if place.last_verified else None
        values["state"] = state(place, verification.today())[0]
        return form_page(session, values)

    @signed_in(*DIRECTORY_ROLES)
    async def edit(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        key = request.match_info["key"]
        place = found(key)
        if place is None:
            return error(404, "console_place_not_found", session)
        fields = {k: str(v) for k, v in form.items() if k != "csrf"}
        saved = verification.save(key, fields, session.user.actor)
        if saved.errors:
            values = {c: getattr(place, c) for c in Place.__table__.columns.keys()} | fields
            values["state"] = state(place, verification.today())[0]
            values["due"] = None
            return form_page(session, values, 400, saved.errors)
        notice = "console_place_saved_unverified" if saved.unverified or not place.verified else "console_place_saved"
        return kit.back(session, f"/console/places/{key}", content.text(notice))

    @signed_in(*DIRECTORY_ROLES)
    async def verify(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        key = request.match_info["key"]
        try:
            on = date.fromisoformat(str(form.get("date", ""))) if form.get("date") else None
        except ValueError:
            on = date.min
        errors = verification.verify(key, session.user.actor, str(form.get("how", "")), str(form.get("source", "")), on)
        if errors == [f"no place {key!r}"]:
            return error(404, "console_place_not_found", session)
        notice = content.text("console_place_verified") if not errors else \
            content.text("console_place_not_verified", errors="; ".join(errors))
        return kit.back(session, f"/console/places/{key}", notice)

    @signed_in(*DIRECTORY_ROLES)
    async def upload(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        data = form.get("file")
        if not isinstance(data, bytes) or not data.strip():
            return kit.back(session, "/console/places", content.text("console_places_no_file"))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return page("places_import.html", 400, session, errors=["the file is not UTF-8 text (save it as CSV UTF-8)"])
        report = directory.import_csv(io.StringIO(text, newline=""))
        if report.errors:
            audit(session.user.actor, "places_import_refused")
            return page("places_import.html", 400, session, errors=report.errors)
        audit(session.user.actor, "places_import")
        return kit.back(session, "/console/places", content.text(
            "console_places_imported", inserted=report.inserted, updated=report.updated))

    @signed_in(*DIRECTORY_ROLES)
    async def export(request: web.Request) -> web.Response:
        audit(request["session"].user.actor, "places_export")
        return kit.csv_file(directory.export_csv, "places.csv")

    return [
        ("GET", "/places", listing),
        ("GET", "/places/due", due_page),
        ("GET", "/places/export", export),
        ("POST", "/places/import", upload),
        ("GET", "/places/new", new_form),
        ("POST", "/places/new", create),
        ("GET", "/places/{key}", edit_form),
        ("POST", "/places/{key}", edit),
        ("POST", "/places/{key}/verify", verify),
    ]
