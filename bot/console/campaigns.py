"""The console's campaign and quiz pages, for officials (and coordinators, admins): the list with
counters, a new campaign from a template or from scratch, editing a draft, the exact message
per channel, a test to the user's own Telegram chat, send / pause / resume / cancel; each
quiz's participation, scores and most missed questions. Every
change goes through bot/services/campaigns and is audited; no script, CSRF on every form
(the `signed_in` wrapper of views.py)."""

from __future__ import annotations

import json
import re

from aiohttp import web

from bot import content
from bot.geo.hours import HUE
from bot.messages import Button
from bot.services import campaigns, directory, quiz, roster
from bot.services.escalation import audit
from bot.storage.db import session_scope
from bot.storage.models import Officer, aware

ROLES = ("official", "coordinator", "admin")
ACTIONS = ("send", "pause", "resume", "cancel")
BUTTON_LINE = re.compile(r"\s*(.+?)\s*\|\s*(\S+)\s*")


def _form_data(form) -> dict:
    """A campaign mapping from the form: buttons one per line as "title | /payload"."""
    buttons = []
    for line in str(form.get("buttons", "")).splitlines():
        if line.strip():
            match = BUTTON_LINE.fullmatch(line)
            buttons.append({"title": match.group(1), "payload": match.group(2)} if match else {"title": line})
    return {
        "name": str(form.get("name", "")), "kind": str(form.get("kind", "message")), "text": str(form.get("text", "")),
        "buttons": buttons, "channels": form.getall("channels", []) or ["none"],
        "units": form.getall("units", []) or "*", "topics": form.getall("topics", []) or "*",
        "starts_at": str(form.get("starts_at", "")).strip() or None,
        "quiet_hours": str(form.get("quiet_hours", "")).strip() or None, "template": form.get("template") or None,
    }


def _fields(data: dict) -> dict:
    """What the form shows for a campaign mapping (a template, a draft, what was posted)."""
    listed = lambda value: [] if value in (None, "*") else list(value)  # noqa: E731
    return {
        "name": data.get("name", ""), "kind": data.get("kind", "message"), "text": data.get("text", ""),
        "buttons": "\n".join(f"{b.get('title', '')} | {b.get('payload', '')}" for b in data.get("buttons") or []),
        "channels": listed(data.get("channels")) or list(campaigns.spec.CHANNELS),
        "units": listed(data.get("units")), "topics": listed(data.get("topics")),
        "starts_at": data.get("starts_at") or "", "quiet_hours": data.get("quiet_hours") or "21:00-07:00",
        "template": data.get("template") or "",
    }


def _draft_data(campaign) -> dict:
    return {
        "name": campaign.name, "kind": campaign.kind, "text": campaign.text, "buttons": json.loads(campaign.buttons),
        "channels": campaign.channels.split(";"), "units": campaign.units.split(";") if campaign.units != "*" else "*",
        "topics": campaign.topics.split(";") if campaign.topics != "*" else "*",
        "starts_at": f"{aware(campaign.starts_at).astimezone(HUE):%Y-%m-%d %H:%M}" if campaign.starts_at else "",
        "quiet_hours": f"{campaign.quiet_start}-{campaign.quiet_end}", "template": campaign.template,
    }


def table(page, error, signed_in, flash, redirect, service) -> list[tuple]:
    """(method, path, handler) rows for views.routes."""

    def form_page(session, fields: dict, action: str, problems=(), status: int = 200) -> web.Response:
        return page("campaign_form.html", status, session, fields=fields, action=action, problems=problems,
                    channels=campaigns.spec.CHANNELS, topics=campaigns.spec.TOPICS,
                    units=[u.name for u in directory.area_units()], templates=campaigns.templates())

    def found(request: web.Request):
        raw = request.match_info["campaign_id"]
        return campaigns.get(int(raw)) if raw.isdigit() and len(raw) < 10 else None

    @signed_in(*ROLES)
    async def listing(request: web.Request) -> web.Response:
        session = request["session"]
        rows = [(c, campaigns.stats(c.id)) for c in campaigns.all_campaigns()]
        return page("campaigns.html", session=session, rows=rows, templates=campaigns.templates())

    @signed_in(*ROLES)
    async def new(request: web.Request) -> web.Response:
        template = campaigns.templates().get(request.query.get("template", ""), {})
        return form_page(request["session"], _fields(template), "/console/campaigns/new")

    @signed_in(*ROLES)
    async def create(request: web.Request) -> web.Response:
        session, data = request["session"], _form_data(request["form"])
        try:
            campaign_id = campaigns.create(campaigns.parse(data), session.user.actor)
        except campaigns.SpecError as problem:
            return form_page(session, _fields(data), "/console/campaigns/new", problem.problems, 400)
        audit(session.user.actor, "campaign_create", subject=f"campaign:{campaign_id}")
        return redirect(f"/console/campaigns/{campaign_id}")

    @signed_in(*ROLES)
    async def edit(request: web.Request) -> web.Response:
        campaign = found(request)
        if campaign is None or campaign.status != "draft":
            return error(404, "console_not_found", request["session"])
        return form_page(request["session"], _fields(_draft_data(campaign)), f"/console/campaigns/{campaign.id}/edit")

    @signed_in(*ROLES)
    async def save(request: web.Request) -> web.Response:
        session, campaign = request["session"], found(request)
        if campaign is None:
            return error(404, "console_not_found", session)
        data = _form_data(request["form"])
        try:
            campaigns.update_draft(campaign.id, campaigns.parse(data))
        except campaigns.SpecError as problem:
            return form_page(session, _fields(data), f"/console/campaigns/{campaign.id}/edit", problem.problems, 400)
        except campaigns.CampaignError as problem:
            return form_page(session, _fields(data), f"/console/campaigns/{campaign.id}/edit", [str(problem)], 409)
        audit(session.user.actor, "campaign_edit", subject=f"campaign:{campaign.id}")
        return redirect(f"/console/campaigns/{campaign.id}")

    @signed_in(*ROLES)
    async def show(request: web.Request) -> web.Response:
        session, campaign = request["session"], found(request)
        if campaign is None:
            return error(404, "console_not_found", session)
        sample_unit = next(iter(campaign.units.split(";")), None) if campaign.units != "*" else None
        previews = {c: campaigns.message_for(campaign, c, sample_unit or directory.area_units()[0].name)
                    for c in campaign.channels.split(";")}
        return page("campaign.html", session=session, campaign=campaign, previews=previews,
                    stats=campaigns.stats(campaign.id), actions=ACTIONS,
                    starts=f"{aware(campaign.starts_at).astimezone(HUE):%H:%M %d/%m/%Y}" if campaign.starts_at else None)

    def act(kind: str):
        @signed_in(*ROLES)
        async def handler(request: web.Request) -> web.Response:
            session, campaign = request["session"], found(request)
            if campaign is None:
                return error(404, "console_not_found", session)
            back = f"/console/campaigns/{campaign.id}"
            if kind == "test":
                flash(session.key, await _test(session.user, campaign))
                return redirect(back)
            try:
                campaigns.act(campaign.id, kind)
            except campaigns.CampaignError:
                flash(session.key, content.text("console_campaign_refused"))
                return redirect(back)
            audit(session.user.actor, f"campaign_{kind}", subject=f"campaign:{campaign.id}")
            flash(session.key, content.text(f"console_campaign_{kind}"))
            return redirect(back)

        return handler

    async def _test(user, campaign) -> str:
        """The Telegram rendering to the user's own chat (their registered Telegram id)."""
        with session_scope() as db:
            sealed = db.get(Officer, user.id).telegram_chat
        if sealed is None or service is None or service.sender is None:
            return content.text("console_campaign_test_no_chat")
        text = campaigns.message_for(campaign, "telegram", None).text
        buttons = tuple(Button(b["title"], b["payload"]) for b in json.loads(campaign.buttons))
        ref = await service.sender.send_alert(roster._sealer().open(sealed).decode(), text, buttons)
        audit(user.actor, "campaign_test", subject=f"campaign:{campaign.id}")
        return content.text("console_campaign_test_sent" if ref else "console_campaign_test_failed")

    @signed_in(*ROLES)
    async def quizzes(request: web.Request) -> web.Response:
        rows = [(bank, quiz.results(bank.id)) for bank in quiz.quizzes().values()]
        return page("quizzes.html", session=request["session"], rows=rows)

    return [
        ("GET", "/quizzes", quizzes),
        ("GET", "/campaigns", listing),
        ("GET", "/campaigns/new", new),
        ("POST", "/campaigns/new", create),
        ("GET", "/campaigns/{campaign_id}", show),
        ("GET", "/campaigns/{campaign_id}/edit", edit),
        ("POST", "/campaigns/{campaign_id}/edit", save),
        *(("POST", f"/campaigns/{{campaign_id}}/{kind}", act(kind)) for kind in (*ACTIONS, "test")),
    ]
