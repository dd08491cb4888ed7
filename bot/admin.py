"""The case API for officers (their own token) and the admin (GBVBOT_ADMIN_TOKEN).

No resident identity is ever returned; every read and every change writes an audit row.
An officer lists, reads and acknowledges only the cases of their units (and cases whose unit
is not known, which alert everyone on duty); coordinators and the admin see all. A case is
closed by the officer who holds it, a coordinator or the admin. Officers' tokens expire
(`gbvbot officers token ID` issues a new one); failed sign-ins are audited, and an address
that fails too often is refused for ten minutes. Errors are in English (operators).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from bot.channels.http import BodyRejected, read_body
from bot.channels.web import client_address
from bot.config import Settings
from bot.conversation.core import RateLimited, SharedFloodGuard
from bot.services import roster
from bot.services.escalation import OUTCOMES, Escalation, audit
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent
from bot.storage.shared import Store

MAX_BODY = 32 * 1024
FAILED_AUTH_LIMIT = 10  # failed sign-ins per client address per ten minutes

NO_STORE = {"Cache-Control": "no-store"}


def case_json(case: Case, events: list[CaseEvent] | None = None) -> dict:
    body = {
        "id": case.id, "status": case.status, "severity": case.severity, "category": case.category,
        "created_at": case.created_at.isoformat(), "channel": case.channel, "ward": case.ward,
    }
    if events is not None:
        body.update(
            assigned_officer_id=case.assigned_officer_id, outcome=case.outcome,
            acknowledged_at=case.acknowledged_at.isoformat() if case.acknowledged_at else None,
            closed_at=case.closed_at.isoformat() if case.closed_at else None,
            events=[{"at": e.at.isoformat(), "kind": e.kind, "officer_id": e.officer_id, "rung": e.rung}
                    for e in events],
        )
    return body


def list_cases(status: str = "open") -> list[Case]:
    query = select(Case).order_by(Case.created_at.desc())
    if status == "open":
        query = query.where(Case.status != "closed")
    with session_scope() as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class Actor:
    """Who calls the API: the admin, or an officer with their role and units."""

    name: str  # "admin" or "officer:ID" (what the audit log records)
    role: str = "admin"
    units: tuple[str, ...] = ("*",)
    officer_id: int | None = None

    def may_see(self, case: Case) -> bool:
        return roster.may_see(self.role, self.units, case.ward)

    def may_close(self, case: Case) -> bool:
        return self.role in ("admin", "coordinator") or case.assigned_officer_id == self.officer_id


def show_case(case_id: str) -> tuple[Case, list[CaseEvent]] | None:
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
        return case, events


class Unauthorized(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def routes(settings: Settings, escalation: Escalation | None, store: Store) -> list[web.RouteDef]:
    failures = SharedFloodGuard(store, "admin_auth_failed", FAILED_AUTH_LIMIT, window=600)  # on every gateway

    async def actor(request: web.Request) -> Actor:
        """The caller, or Unauthorized (401; 429 once this address failed too often)."""
        address = client_address(request, settings.trusted_proxies)
        if await failures.count(address) >= FAILED_AUTH_LIMIT:
            raise Unauthorized(429, "too many failed attempts from this address: try again in ten minutes")
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if token and settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return Actor("admin")
        officer = roster.officer_by_token(token) if token else None
        if officer is None:
            try:
                await failures.check(address)
            except RateLimited:
                pass
            audit("unknown", "auth_failed")
            raise Unauthorized(401, "unauthorized: a valid, unexpired token is required")
        return Actor(f"officer:{officer.id}", officer.role, tuple(officer.units.split(";")), officer.id)

    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status, headers=NO_STORE)

    def visible_case(request: web.Request, who: Actor) -> Case:
        found = show_case(request.match_info["case_id"])
        if found is None or not who.may_see(found[0]):  # another unit's case: as if it did not exist
            raise Unauthorized(404, "no such case")
        return found[0]

    async def cases(request: web.Request) -> web.Response:
        try:
            who = await actor(request)
        except Unauthorized as denied:
            return error(denied.status, denied.message)
        status = request.query.get("status", "open")
        if status not in ("open", "all"):
            return error(400, "status must be 'open' or 'all'")
        rows = [c for c in list_cases(status) if who.may_see(c)]
        audit(who.name, "list")
        return web.json_response([case_json(c) for c in rows], headers=NO_STORE)

    async def case(request: web.Request) -> web.Response:
        try:
            who = await actor(request)
            visible_case(request, who)
        except Unauthorized as denied:
            return error(denied.status, denied.message)
        found = show_case(request.match_info["case_id"])
        audit(who.name, "read", found[0].id)
        return web.json_response(case_json(*found), headers=NO_STORE)

    async def acknowledge(request: web.Request) -> web.Response:
        try:
            who = await actor(request)
            if who.officer_id is None:
                raise Unauthorized(403, "only an officer acknowledges a case (with their own token)")
            visible_case(request, who)
        except Unauthorized as denied:
            return error(denied.status, denied.message)
        if escalation is None:
            return error(503, "escalation is not running")
        result = await escalation.acknowledge(request.match_info["case_id"], who.officer_id)
        return web.json_response({"result": result}, status=200 if result == "assigned" else 409, headers=NO_STORE)

    async def close(request: web.Request) -> web.Response:
        try:
            who = await actor(request)
            case = visible_case(request, who)
            if not who.may_close(case):
                raise Unauthorized(403, "a case is closed by the officer who holds it, a coordinator or the admin")
        except Unauthorized as denied:
            return error(denied.status, denied.message)
        if escalation is None:
            return error(503, "escalation is not running")
        try:
            body = json.loads((await read_body(request, MAX_BODY)).decode("utf-8") or "{}")
            if not isinstance(body, dict):
                raise ValueError
        except BodyRejected as rejected:
            return error(rejected.status, "the body must be at most 32 KiB and not compressed")
        except (UnicodeDecodeError, ValueError):
            return error(400, "body must be JSON: {\"outcome\": …, \"note\": …}")
        outcome, note = body.get("outcome"), body.get("note")
        if outcome not in OUTCOMES:
            return error(400, f"outcome must be one of {', '.join(OUTCOMES)}")
        if note is not None and (not isinstance(note, str) or len(note) > 2000):
            return error(400, "note must be text of at most 2000 characters")
        closed = escalation.close(request.match_info["case_id"], who.name, outcome, note)
        return web.json_response({"closed": closed}, status=200 if closed else 409, headers=NO_STORE)

    return [
        web.get("/api/cases", cases),
        web.get("/api/cases/{case_id}", case),
        web.post("/api/cases/{case_id}/ack", acknowledge),
        web.post("/api/cases/{case_id}/close", close),
    ]
