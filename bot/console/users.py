"""User accounts in the console (admins): every account with its role, units, state and last
sign-in; disable an account; set a new password (which lifts a lock and ends the account's
sessions). The same functions as `gbvbot users`, audited with the admin's name."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot import content
from bot.console.kit import Kit
from bot.services import accounts
from bot.services.escalation import audit
from bot.storage.models import aware, utcnow


def table(kit: Kit) -> list[tuple[str, str, object]]:
    def account(raw: str):
        return next((u for u in accounts.list_users() if str(u.id) == raw), None)

    @kit.signed_in("admin")
    async def listing(request: web.Request) -> web.Response:
        session = request["session"]
        now = utcnow()
        rows = [(u, "disabled" if not u.active else "locked" if u.locked_until and aware(u.locked_until) > now
                 else "active") for u in accounts.list_users()]
        audit(session.user.actor, "users_read")
        return kit.page("users.html", session=session, rows=rows)

    @kit.signed_in("admin")
    async def disable(request: web.Request) -> web.Response:
        session = request["session"]
        target = account(request.match_info["user_id"])
        if target is None:
            return kit.error(404, "console_user_not_found", session)
        if target.id == session.user.id:
            return kit.back(session, "/console/users", content.text("console_user_not_yourself"))
        accounts.disable_user(target.username, session.user.actor)
        return kit.back(session, "/console/users", content.text("console_user_disabled", username=target.username))

    @kit.signed_in("admin")
    async def reset_form(request: web.Request) -> web.Response:
        session = request["session"]
        target = account(request.match_info["user_id"])
        if target is None:
            return kit.error(404, "console_user_not_found", session)
        return kit.page("user_reset.html", session=session, target=target, message=None,
                        min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)

    @kit.signed_in("admin")
    async def reset(request: web.Request) -> web.Response:
        session, form = request["session"], request["form"]
        target = account(request.match_info["user_id"])
        if target is None:
            return kit.error(404, "console_user_not_found", session)
        password, again = str(form.get("password", "")), str(form.get("again", ""))
        problem = "console_passwords_differ" if password != again else None
        if problem is None:
            try:
                accounts.check_password(password)
            except accounts.AccountError:
                problem = "console_password_rules"
        if problem:
            return kit.page("user_reset.html", 400, session, target=target, message=content.text(problem),
                            min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)
        await asyncio.to_thread(accounts.reset_password, target.username, password, session.user.actor)
        return kit.back(session, "/console/users", content.text("console_user_reset", username=target.username))

    return [
        ("GET", "/users", listing),
        ("POST", "/users/{user_id}/disable", disable),
        ("GET", "/users/{user_id}/reset", reset_form),
        ("POST", "/users/{user_id}/reset", reset),
    ]
