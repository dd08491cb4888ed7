"""The case API for officers (their own token) and the admin (GBVBOT_ADMIN_TOKEN).

No resident identity is ever returned; every read and every change writes an audit row.
Errors are in English (operators).
"""

from __future__ import annotations

import hmac
import json

from aiohttp import web
from sqlalchemy import select

from bot.channels.http import BodyRejected, read_body
from bot.config import Settings
from bot.services import roster
from bot.services.escalation import OUTCOMES, Escalation, audit
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent

MAX_BODY = 32 * 1024

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


def show_case(case_id: str) -> tuple[Case, list[CaseEvent]] | None:
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
        return case, events


def routes(settings: Settings, escalation: Escalation | None) -> list[web.RouteDef]:
    def actor(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if not token:
            return None
        if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return "admin"
        officer = roster.officer_by_token(token)
        return f"officer:{officer.id}" if officer else None

    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status, headers=NO_STORE)

    async def cases(request: web.Request) -> web.Response:
        who = actor(request)
        if who is None:
            return error(401, "unauthorized")
        status = request.query.get("status", "open")
        if status not in ("open", "all"):
            return error(400, "status must be 'open' or 'all'")
        rows = list_cases(status)
        audit(who, "list")
        return web.json_response([case_json(c) for c in rows], headers=NO_STORE)

    async def case(request: web.Request) -> web.Response:
        who = actor(request)
        if who is None:
            return error(401, "unauthorized")
        found = show_case(request.match_info["case_id"])
        if found is None:
            return error(404, "no such case")
        audit(who, "read", found[0].id)
        return web.json_response(case_json(*found), headers=NO_STORE)

    async def acknowledge(request: web.Request) -> web.Response:
        who = actor(request)
        if who is None or not who.startswith("officer:"):
            return error(401, "an officer token is required")
        if escalation is None:
            return error(503, "escalation is not running")
        result = await escalation.acknowledge(request.match_info["case_id"], int(who.split(":")[1]))
        return web.json_response({"result": result}, status=200 if result == "assigned" else 409, headers=NO_STORE)

    async def close(request: web.Request) -> web.Response:
        who = actor(request)
        if who is None:
            return error(401, "unauthorized")
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
        closed = escalation.close(request.match_info["case_id"], who, outcome, note)
        return web.json_response({"closed": closed}, status=200 if closed else 409, headers=NO_STORE)

    return [
        web.get("/api/cases", cases),
        web.get("/api/cases/{case_id}", case),
        web.post("/api/cases/{case_id}/ack", acknowledge),
        web.post("/api/cases/{case_id}/close", close),
    ]
