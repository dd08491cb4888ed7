"""The web console at /console/: officers, coordinators, officials and admins sign in to
work on cases (bot/console/views.py), with server-side sessions and CSRF tokens
(bot/console/auth.py). Accounts are bot/services/accounts.py."""

from bot.console.views import routes

__all__ = ["routes"]
