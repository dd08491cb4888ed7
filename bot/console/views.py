"""The console's pages: sign-in, the queue of open cases, a case with its timeline, its relay
and the officer's actions, the audit log (admin), the programme reports (officials, admin).

Server-rendered HTML (Jinja2, autoescaped), no script at all: the queue refreshes itself with
a meta refresh. Every action goes through the officer desk (bot/services/desk.py), exactly
as a tap in Telegram does; every read and change is audited. Officials never see a case:
every case URL answers them 403. An officer asking for another unit's case gets the same 404
as for a case that does not exist.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from datetime import timedelta
from pathlib import Path

import jinja2
from aiohttp import web
from sqlalchemy import select

from bot import admin, content
from bot.channels.web import client_address
from bot.config import Settings
from bot.console import auth, places, roster, stats, users
from bot.console import campaigns as campaign_pages
from bot.console.kit import Kit
from bot.conversation.core import RateLimited, SharedFloodGuard
from bot.geo.names import gazetteer
from bot.services import accounts, escalation, followups, indicators, reminders
from bot.services.desk import Close, OfficerDesk, PassOn, Take, Write
from bot.services.escalation import MAX_FOLLOW_UP_DAYS, OUTCOMES, REFERRED, audit
from bot.services.reports import document, workbook
from bot.services.roster import HUE
from bot.storage.db import session_scope
from bot.storage.models import AuditLog, Case, Officer, aware, utcnow
from bot.storage.shared import Store
from bot.vietnamese import strip_marks

HERE = Path(__file__).parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"
CSP = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
CASE_ID = re.compile(r"[A-Z0-9]{1,16}")
MAX_TEXT = 2000
FAILED_SIGN_INS = 20  # per client address per ten minutes, whatever the usernames
SEVERITY_ORDER = {"critical": 0, "high": 1}
REFRESH_SECONDS = 30
ROLES_WITH_CASES = ("officer", "coordinator", "admin")
ROLES_WITH_REPORTS = ("official", "admin")
REPORT_FORMATS = {  # what the form may ask for → renderer, media type
    "docx": (document.render, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (workbook.render, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
MESSAGES = ("expired", "signed_out")  # notices the sign-in page may be asked to show
MAX_UPLOAD = 1024 * 1024  # a CSV file sent from the console (the gateway's other bodies stay small)
MAX_FIELD = 4096  # any other field of an uploading form


def secure_headers(handler):
    """Every console response: strict CSP, never cached, no referrer, no framing."""

    @functools.wraps(handler)
    async def inner(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            error.headers.update(HEADERS)
            raise
        response.headers.update(HEADERS)
        return response

    return inner


def _label(kind: str, value: str | None) -> str:
    return content.texts().get(f"{kind}_{value}", value or "")


def _local(value) -> str:
    return f"{aware(value).astimezone(HUE):%H:%M %d/%m/%Y}" if value else ""


def _day(value) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _slug(unit: str) -> str:
    """"Phường Kim Trà" → "phuong-kim-tra" (a file name any system accepts)."""
    return re.sub(r"[^a-z0-9]+", "-", strip_marks(unit).lower()).strip("-")


def _report_notice() -> str | None:
    due = reminders.notice()
    return content.text("report_notice", period=due.label, deadline=f"{due.deadline:%d/%m/%Y}",
                        days=due.days_left) if due else None


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _same_origin(request: web.Request) -> bool:
    """A form posted from another site is refused. Browsers say so in Sec-Fetch-Site; with
    Referrer-Policy no-referrer their Origin on a form POST is "null", so Origin is only
    compared when it names a site (and when Sec-Fetch-Site is absent: older browsers)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin in (None, "null") or origin.split("://", 1)[-1].rstrip("/") == request.host


async def _read_form(request: web.Request):
    """The posted form. A file upload (multipart) is read part by part, so it may be larger
    than the gateway's 32 KiB body limit, up to MAX_UPLOAD; None when it is too large, and an
    empty form when it cannot be read (not UTF-8, malformed): refused like a form without its token."""
    try:
        if request.content_type != "multipart/form-data":
            return await request.post()
        form: dict = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            limit = MAX_UPLOAD if part.filename is not None else MAX_FIELD
            data = bytearray()
            while chunk := await part.read_chunk():
                data += chunk
                if len(data) > limit:
                    return None
            form[part.name] = bytes(data) if part.filename is not None else data.decode("utf-8", "replace")
        return form
    except (UnicodeDecodeError, ValueError, AssertionError):
        return {}


def routes(settings: Settings, service: escalation.Escalation | None, store: Store) -> list[web.RouteDef]:
    """The console's routes, under /console/ on the gateway."""
    idle = timedelta(minutes=settings.console_idle_minutes)
    desk = OfficerDesk(service) if service else None
    failures = SharedFloodGuard(store, "console_sign_in_failed", FAILED_SIGN_INS, window=600)  # on every gateway
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
    )
    templates.globals.update(t=content.text, label=_label, local=_local, day=_day, outcomes=OUTCOMES)

    def page(name: str, status: int = 200, session: auth.Session | None = None, **context) -> web.Response:
        context.setdefault("refresh", None)
        html = templates.get_template(name).render(session=session, flash=session.flash if session else None,
                                                   **context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def error(status: int, text_name: str, session: auth.Session | None = None) -> web.Response:
        return page("error.html", status, session, status_code=status, message=content.text(text_name))

    def signed_in(*roles: str):
        """Only for a signed-in user with one of `roles`; a POST must carry the session's
        CSRF token (and, from a browser, come from this site)."""

        def wrap(handler):
            @functools.wraps(handler)
            async def inner(request: web.Request) -> web.StreamResponse:
                cookie = request.cookies.get(auth.COOKIE)
                touch = not (request.method == "GET" and request.query.get("auto") == "1")
                session = auth.load(cookie, idle, touch=touch)
                if session is None:
                    response = _redirect("/console/login" + ("?m=expired" if cookie else ""))
                    if cookie:
                        auth.clear_cookie(response, auth.COOKIE)
                    return response
                if roles and session.user.role not in roles:
                    audit(session.user.actor, "console_refused", request.match_info.get("case_id"))
                    return error(403, "console_forbidden", session)
                if request.method == "POST":
                    form = await _read_form(request)
                    if form is None:
                        return error(413, "console_file_too_large", session)
                    if not _same_origin(request) or not auth.same_token(form.get("csrf"), session.csrf):
                        audit(session.user.actor, "csrf_refused")
                        return error(403, "console_form_expired", session)
                    request["form"] = form
                request["session"] = session
                return await handler(request)

            return inner

        return wrap

    # ------------------------------------------------------------------ signing in and out
    def login_page(status: int = 200, message: str | None = None) -> web.Response:
        nonce = secrets.token_urlsafe(24)
        response = page("login.html", status, csrf=auth.login_token(nonce), message=message)
        auth.set_cookie(response, auth.LOGIN_COOKIE, nonce)
        return response

    async def login_form(request: web.Request) -> web.Response:
        if auth.load(request.cookies.get(auth.COOKIE), idle, touch=False) is not None:
            return _redirect("/console/")
        note = request.query.get("m")
        return login_page(message=content.text(f"console_{note}") if note in MESSAGES else None)

    async def login(request: web.Request) -> web.Response:
        form = await _read_form(request) or {}
        nonce = request.cookies.get(auth.LOGIN_COOKIE, "")
        if not _same_origin(request) or not nonce or not auth.same_token(form.get("csrf"), auth.login_token(nonce)):
            audit("unknown", "csrf_refused")
            return login_page(403, content.text("console_form_expired"))
        address = client_address(request, settings.trusted_proxies)
        if await failures.count(address) >= FAILED_SIGN_INS:
            return login_page(429, content.text("console_too_many_attempts"))
        username, password = str(form.get("username", ""))[:64], str(form.get("password", ""))
        user = None
        if len(password) <= accounts.MAX_PASSWORD:
            user = await asyncio.to_thread(accounts.sign_in, username, password)
        if user is None:
            try:
                await failures.check(address)
            except RateLimited:
                pass
            return login_page(401, content.text("console_sign_in_failed"))
        if user.second_factor:
            response = page("code.html", csrf=auth.login_token(nonce), message=None)
            auth.set_cookie(response, auth.CODE_COOKIE, auth.password_passed(user.id))
            return response
        return signed_in_as(user)

    def signed_in_as(user: accounts.User) -> web.Response:
        token = auth.start(user)
        auth.prune(idle)
        response = _redirect("/console/")
        auth.set_cookie(response, auth.COOKIE, token)
        auth.clear_cookie(response, auth.LOGIN_COOKIE)
        return response

    async def login_code(request: web.Request) -> web.Response:
        """The TOTP code, after a right password (coordinators and admins who set one)."""
        form = await request.post()
        nonce = request.cookies.get(auth.LOGIN_COOKIE, "")
        if not _same_origin(request) or not nonce or not auth.same_token(form.get("csrf"), auth.login_token(nonce)):
            audit("unknown", "csrf_refused")
            return login_page(403, content.text("console_form_expired"))
        user_id = auth.code_pending(request.cookies.get(auth.CODE_COOKIE))
        if user_id is None:
            return login_page(401, content.text("console_expired"))
        address = client_address(request, settings.trusted_proxies)
        if await failures.count(address) >= FAILED_SIGN_INS:
            return login_page(429, content.text("console_too_many_attempts"))
        user = accounts.second_factor(user_id, str(form.get("code", ""))[:16])
        if user is None:
            try:
                await failures.check(address)
            except RateLimited:
                pass
            return page("code.html", 401, csrf=auth.login_token(nonce), message=content.text("console_code_failed"))
        response = signed_in_as(user)
        auth.clear_cookie(response, auth.CODE_COOKIE)
        return response

    @signed_in()
    async def logout(request: web.Request) -> web.Response:
        session = request["session"]
        auth.end(session.key)
        audit(session.user.actor, "sign_out")
        response = _redirect("/console/login?m=signed_out")
        auth.clear_cookie(response, auth.COOKIE)
        return response

    @signed_in()
    async def home(request: web.Request) -> web.Response:
        session = request["session"]
        if session.user.handles_cases:
            return _redirect("/console/cases")
        return page("home.html", session=session, message=content.text("console_official_home"),
                    notice=_report_notice())

    # ------------------------------------------------------------------ cases
    def visible(session: auth.Session, case_id: str) -> tuple[Case, list] | None:
        found = admin.show_case(case_id) if CASE_ID.fullmatch(case_id) else None
        if found is None:
            return None
        if not session.user.may_see(found[0].ward):
            audit(session.user.actor, "read_refused", case_id)
            return None
        return found

    @signed_in(*ROLES_WITH_CASES)
    async def queue(request: web.Request) -> web.Response:
        session = request["session"]
        now = utcnow()
        rows = [c for c in admin.list_cases("open") if session.user.may_see(c.ward)]
        rows.sort(key=lambda c: (SEVERITY_ORDER.get(c.severity, 9), aware(c.created_at)))
        audit(session.user.actor, "list")
        cases = [{
            "id": c.id, "severity": c.severity, "category": c.category, "status": c.status, "ward": c.ward,
            "minutes": int((now - aware(c.created_at)).total_seconds() // 60), "at": _local(c.created_at),
            "mine": c.assigned_officer_id == session.user.id,
        } for c in rows]
        # The page refreshes itself unless the user turned that off (WCAG 2.2.1); the refresh
        # is not activity (the idle timeout still runs).
        live = request.query.get("live") != "0"
        coordinating = session.user.role in ("coordinator", "admin")
        due = [{"id": c.id, "outcome": c.outcome, "at": _local(c.follow_up_at)}
               for c in followups.due(None if coordinating else session.user.id)]
        return page("queue.html", session=session, cases=cases, live=live, follow_ups=due,
                    refresh=f"{REFRESH_SECONDS}; url=/console/cases?auto=1" if live else None)

    @signed_in(*ROLES_WITH_CASES)
    async def case_page(request: web.Request) -> web.Response:
        session = request["session"]
        case_id = request.match_info["case_id"]
        found = visible(session, case_id)
        if found is None:
            return error(404, "console_not_found", session)
        case, events = found
        audit(session.user.actor, "read", case.id)
        with session_scope() as db:
            names = dict(db.execute(select(Officer.id, Officer.display_name).where(
                Officer.id.in_({e.officer_id for e in events if e.officer_id} | {case.assigned_officer_id or 0})))
                .all())
        user = session.user
        open_ = case.status != "closed"
        return page(
            "case.html", session=session, case=case, events=events, names=names,
            messages=escalation.relayed_messages(case.id),
            can_take=case.status in ("queued", "alerting", "unreached"),
            can_pass=case.status == "alerting",
            can_write=open_ and case.status == "acknowledged" and case.relay and case.assigned_officer_id == user.id,
            can_close=open_ and (user.role in ("coordinator", "admin") or case.assigned_officer_id == user.id),
            can_follow_up=case.follow_up_at is not None and case.follow_up_done_at is None and (
                user.role in ("coordinator", "admin") or case.follow_up_officer_id == user.id),
            max_text=MAX_TEXT, max_days=MAX_FOLLOW_UP_DAYS, answers=followups.ANSWERS,
        )

    def action(kind: str):
        """POST /console/cases/{id}/{kind}: one desk event, then back to the case page with
        the desk's answer as a notice."""

        @signed_in(*ROLES_WITH_CASES)
        async def handler(request: web.Request) -> web.Response:
            session, form = request["session"], request["form"]
            case_id = request.match_info["case_id"]
            found = visible(session, case_id)
            if found is None:
                return error(404, "console_not_found", session)
            if desk is None:
                return error(503, "console_no_service", session)
            back = f"/console/cases/{case_id}"
            user = session.user
            if kind == "ack":
                event = Take(case_id)
            elif kind == "pass":
                event = PassOn(case_id)
            elif kind == "write":
                text = str(form.get("text", "")).strip()
                if not text or len(text) > MAX_TEXT:
                    auth.flash(session.key, content.text("console_write_empty"))
                    return _redirect(back)
                event = Write(case_id, text)
            else:
                outcome, note = form.get("outcome"), str(form.get("note", "")).strip()
                if outcome not in OUTCOMES:
                    auth.flash(session.key, content.text("console_outcome_missing"))
                    return _redirect(back)
                if len(note) > MAX_TEXT:
                    auth.flash(session.key, content.text("console_note_too_long"))
                    return _redirect(back)
                if user.role not in ("coordinator", "admin") and found[0].assigned_officer_id != user.id:
                    audit(user.actor, "close_refused", case_id)
                    auth.flash(session.key, content.text("console_close_refused"))
                    return _redirect(back)
                days = str(form.get("follow_up_days", "")).strip()
                if outcome in REFERRED and days and not (days.isdigit() and 1 <= int(days) <= MAX_FOLLOW_UP_DAYS):
                    auth.flash(session.key, content.text("console_follow_up_days_invalid"))
                    return _redirect(back)
                event = Close(case_id, outcome, note or None, int(days) if outcome in REFERRED and days else None)
            answer = await desk.handle(user.id, event)
            auth.flash(session.key, answer.notice)
            return _redirect(back)

        return handler

    @signed_in(*ROLES_WITH_CASES)
    async def follow_up(request: web.Request) -> web.Response:
        """POST /console/cases/{id}/follow_up: was the resident helped? (recorded on the case)"""
        session, form = request["session"], request["form"]
        case_id = request.match_info["case_id"]
        if visible(session, case_id) is None:
            return error(404, "console_not_found", session)
        answer = form.get("answer")
        user = session.user
        done = answer in followups.ANSWERS and followups.record(
            case_id, user.actor, None if user.role in ("coordinator", "admin") else user.id, answer)
        auth.flash(session.key, content.text("console_follow_up_recorded" if done else "console_follow_up_refused"))
        return _redirect(f"/console/cases/{case_id}")

    # ------------------------------------------------------------------ reports
    def reports_page(session: auth.Session, status: int = 200, message: str | None = None,
                     chosen: dict | None = None) -> web.Response:
        year = utcnow().astimezone(HUE).year
        periods = [(f"{y}{s}", indicators.parse_period(f"{y}{s}").label) for y in (year, year - 1)
                   for s in ("", "-H1", "-H2")]
        units = [u.name for u in gazetteer().units if u.in_area]
        due = reminders.notice()
        return page("reports.html", status, session, periods=periods, units=units, message=message,
                    notice=_report_notice(), chosen=chosen or {"period": due.period if due else periods[1][0], "unit": ""})

    @signed_in(*ROLES_WITH_REPORTS)
    async def reports(request: web.Request) -> web.Response:
        return reports_page(request["session"])

    @signed_in(*ROLES_WITH_REPORTS)
    async def report_download(request: web.Request) -> web.Response:
        """POST period, unit, format → the file as an attachment; audited. Figures only, through
        the same suppression as `gbvbot report`."""
        session, form = request["session"], request["form"]
        chosen = {name: str(form.get(name, ""))[:64] for name in ("period", "unit", "format")}
        try:
            if chosen["format"] not in REPORT_FORMATS:
                raise indicators.ReportError("format")
            period, unit = indicators.parse_period(chosen["period"]), indicators.resolve_unit(chosen["unit"] or None)
            render, media = REPORT_FORMATS[chosen["format"]]
            data = await asyncio.to_thread(lambda: render(indicators.compute(period, unit)))
        except indicators.ReportError:
            return reports_page(session, 400, content.text("console_report_invalid"), chosen)
        audit(session.user.actor, "report", subject=f"{period.key}:{unit or '*'}:{chosen['format']}")
        name = f"bao-cao-{period.key}{'-' + _slug(unit) if unit else ''}.{chosen['format']}"
        return web.Response(body=data, content_type=media,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # ------------------------------------------------------------------ admin
    @signed_in("admin")
    async def audit_log(request: web.Request) -> web.Response:
        session = request["session"]
        audit(session.user.actor, "audit_read")
        with session_scope() as db:
            rows = list(db.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(200)))
        return page("audit.html", session=session, rows=rows)

    files = {name: ((STATIC / name).read_bytes(), kind)
             for name, kind in (("console.css", "text/css"), ("favicon.svg", "image/svg+xml"))}

    async def static(request: web.Request) -> web.Response:
        found = files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def to_console(_request: web.Request) -> web.Response:
        return _redirect("/console/")

    kit = Kit(page=page, error=error, signed_in=signed_in)
    table = [
        ("GET", "", to_console),
        ("GET", "/", home),
        ("GET", "/login", login_form),
        ("POST", "/login", login),
        ("POST", "/login/code", login_code),
        ("POST", "/logout", logout),
        ("GET", "/cases", queue),
        ("GET", "/cases/{case_id}", case_page),
        ("POST", "/cases/{case_id}/ack", action("ack")),
        ("POST", "/cases/{case_id}/pass", action("pass")),
        ("POST", "/cases/{case_id}/write", action("write")),
        ("POST", "/cases/{case_id}/close", action("close")),
        ("POST", "/cases/{case_id}/follow_up", follow_up),
        ("GET", "/reports", reports),
        ("POST", "/reports", report_download),
        ("GET", "/audit", audit_log),
        ("GET", "/static/{name}", static),
        *campaign_pages.table(page, error, signed_in, auth.flash, _redirect, service),
        *places.table(kit),
        *stats.table(kit),
        *users.table(kit),
        *roster.table(kit, service.sender if service and settings.telegram_enabled else None),
    ]
    return [web.route(method, "/console" + path, secure_headers(handler)) for method, path, handler in table]
