"""What every console page module gets from views.routes: render a page or an error, guard a
handler by role (with CSRF on POST), leave a one-shot notice, redirect."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.console import auth


@dataclass(frozen=True)
class Kit:
    page: Callable[..., web.Response]  # page(template, status=200, session=None, **context)
    error: Callable[..., web.Response]  # error(status, text_name, session)
    signed_in: Callable  # @signed_in(*roles)

    @staticmethod
    def redirect(location: str) -> web.Response:
        return web.Response(status=303, headers={"Location": location})

    @staticmethod
    def back(session: auth.Session, location: str, notice: str) -> web.Response:
        """Back to `location` with `notice` shown there once."""
        auth.flash(session.key, notice)
        return web.Response(status=303, headers={"Location": location})

    @staticmethod
    def csv_file(write: Callable[[io.StringIO], object], filename: str) -> web.Response:
        """A CSV export as a UTF-8 attachment: `write` fills the buffer (export_csv, export_roster)."""
        out = io.StringIO()
        write(out)
        return web.Response(body=out.getvalue().encode("utf-8"), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
