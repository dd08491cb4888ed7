"""`gbvbot`: the one command surface (README, Makefile and CI all use it)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import timedelta

from bot import log as logsetup
from bot.config import ConfigError, settings
from bot.geo.hours import HUE
from bot.storage.models import aware

log = logging.getLogger("gbvbot")


def _prepare(demo_seed: bool = True):
    """Migrations, and in demo mode the sample directory; warnings about the directory."""
    from bot.storage import db

    config = settings()
    db.upgrade()
    from bot.services import directory

    if config.demo and demo_seed:
        with db.session_scope() as session:
            directory.seed_demo(session)
    for warning in directory.check_directory():
        log.warning("%s", warning)
    return config


def cmd_run(args) -> int:
    import dataclasses

    from bot import config, scheduler, supervisor

    topology = {"gateways": args.gateways, "rasa_servers": args.rasa}
    chosen = dataclasses.replace(settings(), **{k: v for k, v in topology.items() if v is not None})
    try:
        config.check_topology(chosen)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    _prepare()
    scheduler.create_job_table(chosen.database_url)  # before several gateways start at once
    return supervisor.run(chosen)


def cmd_gateway(_args) -> int:
    from bot import gateway

    gateway.serve(settings())
    return 0


def cmd_train(args) -> int:
    from bot import training

    training.train(force=args.force)
    return 0


def cmd_db(args) -> int:
    from bot.storage import db

    if args.action == "upgrade":
        db.upgrade()
        print("database is up to date")
    return 0


def cmd_purge(_args) -> int:
    from bot.services.escalation import anonymise_closed
    from bot.storage import conversations

    removed = conversations.purge_older_than(settings().retention_days)
    print(f"removed {removed} conversations older than {settings().retention_days} days")
    anonymised = anonymise_closed(settings().case_retention_days)
    print(f"anonymised {anonymised} cases closed more than {settings().case_retention_days} days ago")
    return 0


def cmd_keys(_args) -> int:
    from bot.storage import db, keys

    db.upgrade()
    for name, count in keys.rotate().items():
        print(f"{name}: {count} re-sealed with the current key")
    return 0


def cmd_places(args) -> int:
    from bot.services import directory
    from bot.storage import db

    db.upgrade()
    if args.action == "import":
        def bar(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done >= total:
                sys.stderr.write("\n")

        report = directory.import_csv(args.file, progress=bar)
        if report.errors:
            for error in report.errors:
                print(error, file=sys.stderr)
            print(f"import failed: {len(report.errors)} error(s); nothing was written", file=sys.stderr)
            return 1
        print(f"imported {report.inserted} new and {report.updated} updated places")
    elif args.action == "export":
        if args.file:
            with open(args.file, "w", encoding="utf-8", newline="") as out:
                directory.export_csv(out)
        else:
            directory.export_csv(sys.stdout)
    elif args.action == "leads":
        from bot.services.directory import leads

        try:
            added, updated = leads.load(args.file or leads.RESEARCH_FILE)
        except (leads.LeadsError, OSError) as error:
            print(f"error: {error}; nothing was written", file=sys.stderr)
            return 1
        print(f"research leads: {added} added, {updated} updated (never shown to residents; "
              "check them in the console: /console/places/due)")
    elif args.action == "list":
        try:
            places = directory.list_places(args.ward)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for place in places:
            flag = "verified" if place.verified else "UNVERIFIED"
            print(f"{place.key}\t{place.kind}\t{place.unit}\t{flag}\t{place.name}")
    return 0


def cmd_telegram(_args) -> int:
    import asyncio

    from bot.channels import telegram

    ok, lines = asyncio.run(telegram.check(settings()))
    for line in lines:
        print(line)
    return 0 if ok else 1


def cmd_zalo(_args) -> int:
    import asyncio

    from bot.channels import zalo
    from bot.storage import db

    if settings().zalo_enabled:
        db.upgrade()
    ok, lines = asyncio.run(zalo.check(settings()))
    for line in lines:
        print(line)
    return 0 if ok else 1


def cmd_officers(args) -> int:
    from bot.services import roster
    from bot.storage import db

    db.upgrade()
    if args.action == "add":
        try:
            officer_id, token = roster.add_officer(args.name, args.agency, args.role, args.units, args.telegram_id)
        except roster.RosterError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"added officer {officer_id}; API token (shown once, keep it safe): {token}")
    elif args.action == "list":
        for officer in roster.list_officers():
            reach = "telegram" if officer.telegram_chat else "no channel"
            print(f"{officer.id}\t{officer.role}\t{officer.agency}\t{officer.units}\t{reach}\t{officer.display_name}")
    elif args.action == "remove":
        if not roster.remove_officer(args.id):
            print(f"error: no officer {args.id}", file=sys.stderr)
            return 1
        print(f"removed officer {args.id}")
    elif args.action == "check":
        return _check_officers(roster.list_officers())
    elif args.action == "token":
        if args.days < 1:
            print("error: --days must be at least 1", file=sys.stderr)
            return 1
        try:
            token, expires = roster.rotate_token(args.id, args.days)
        except roster.RosterError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"new API token for officer {args.id} (shown once; the old one no longer works; "
              f"expires {expires:%Y-%m-%d}): {token}")
    return 0


def _check_officers(officers: list) -> int:
    """Send each officer a test message; list who cannot be alerted (exit 1 if anyone)."""
    import asyncio

    from bot.channels.telegram import check_officers
    from bot.config import settings

    config = settings()
    if not config.telegram_enabled:
        print("error: TELEGRAM_BOT_TOKEN is not set: officers are alerted on Telegram only", file=sys.stderr)
        return 1
    failed = 0
    for officer, why in asyncio.run(check_officers(config, officers)):
        failed += why is not None
        print(f"{officer.id}\t{officer.role}\t{officer.display_name}\t" + ("ok" if why is None else f"CANNOT BE ALERTED: {why}"))
    print(f"{len(officers) - failed} of {len(officers)} officers can be alerted")
    return 1 if failed else 0


def _new_password() -> str | None:
    """GBVBOT_NEW_PASSWORD, else asked twice on the terminal (never echoed, never logged)."""
    import getpass
    import os

    password = os.environ.get("GBVBOT_NEW_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        print("error: set GBVBOT_NEW_PASSWORD or run on a terminal to be asked for the password", file=sys.stderr)
        return None
    first = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != first:
        print("error: the two passwords differ; nothing was written", file=sys.stderr)
        return None
    return first


def cmd_users(args) -> int:
    from bot.services import accounts, roster
    from bot.storage import db

    db.upgrade()
    try:
        if args.action == "add":
            accounts.check_new_user(args.username, args.role, args.units, args.telegram_id, args.name,
                                    args.agency, args.officer_id)  # bad flags fail before the password is asked
            password = _new_password()
            if password is None:
                return 1
            user_id = accounts.add_user(args.username, args.role, password, units=args.units,
                                        telegram_id=args.telegram_id, display_name=args.name,
                                        agency=args.agency, officer_id=args.officer_id)
            print(f"added user {args.username.strip().lower()} (id {user_id}, role {args.role}); "
                  "sign in at /console/")
        elif args.action == "list":
            now = accounts.utcnow()
            for user in accounts.list_users():
                state = "disabled" if not user.active else "locked" if user.locked_until and \
                    accounts.aware(user.locked_until) > now else "active"
                seen = f"{user.last_seen_at:%Y-%m-%d %H:%M}" if user.last_seen_at else "never"
                print(f"{user.id}\t{user.username}\t{user.console_role}\t{user.role or '-'}\t{user.units}\t"
                      f"{state}\t{seen}\t{user.display_name}")
        elif args.action == "disable":
            accounts.disable_user(args.username)
            print(f"disabled {args.username}: no sign-in, no API token, no alerts; sessions ended")
        elif args.action == "totp":
            uri = accounts.set_totp(args.username)
            print("second factor set: add this to an authenticator app now (shown once; the old one, "
                  f"if any, no longer works):\n{uri}")
        elif args.action == "reset":
            password = _new_password()
            if password is None:
                return 1
            accounts.reset_password(args.username, password)
            print(f"new password set for {args.username}; the lock is lifted and sessions ended")
    except (accounts.AccountError, roster.RosterError) as error:
        print(f"error: {error}; nothing was written", file=sys.stderr)
        return 1
    return 0


def cmd_roster(args) -> int:
    from bot.services import roster
    from bot.storage import db

    db.upgrade()
    try:
        if args.action == "import":
            print(f"imported {roster.import_roster(args.file)} shifts")
        else:
            at = roster.parse_local(args.at) if args.at else None
            for officer in roster.on_duty(at):
                print(f"{officer.id}\t{officer.role}\t{officer.agency}\t{';'.join(officer.units)}\t{officer.display_name}")
    except (roster.RosterError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_cases(args) -> int:
    from bot import admin
    from bot.services.escalation import OUTCOMES, Escalation, audit
    from bot.storage import db

    db.upgrade()
    if args.action == "list":
        audit("cli", "list")
        for case in admin.list_cases("all" if args.all else "open"):
            print(f"{case.id}\t{case.status}\t{case.severity}\t{case.category}\t{case.channel}\t{case.ward or '-'}\t{case.created_at:%Y-%m-%d %H:%M}")
    elif args.action == "show":
        found = admin.show_case(args.id)
        if found is None:
            print(f"error: no case {args.id}", file=sys.stderr)
            return 1
        audit("cli", "read", args.id)
        print(json.dumps(admin.case_json(*found), indent=2, ensure_ascii=False))
    elif args.action == "close":
        if args.outcome not in OUTCOMES:
            print(f"error: outcome must be one of {', '.join(OUTCOMES)}", file=sys.stderr)
            return 1
        service = Escalation(None, timedelta(seconds=settings().ack_timeout), lambda *_: None)
        if not service.close(args.id, "cli", args.outcome, args.note):
            print(f"error: no open case {args.id}", file=sys.stderr)
            return 1
        print(f"closed {args.id}: {args.outcome}")
    return 0


def cmd_campaigns(args) -> int:
    from bot.services import campaigns
    from bot.services.escalation import audit
    from bot.storage import db

    db.upgrade()
    try:
        if args.action == "create":
            if bool(args.file) == bool(args.template):
                raise campaigns.SpecError(["give either --file or --template"])
            found = campaigns.templates().get(args.template) if args.template else None
            if args.template and found is None:
                raise campaigns.SpecError([f"no template {args.template!r} ({', '.join(campaigns.templates())})"])
            spec = campaigns.parse(found) if found else campaigns.load(args.file)
            campaign_id = campaigns.create(spec, "cli")
            audit("cli", "campaign_create", subject=f"campaign:{campaign_id}")
            print(f"created campaign {campaign_id} (draft): `gbvbot campaigns send {campaign_id}` to send it")
        elif args.action == "list":
            for c in campaigns.all_campaigns():
                counts = campaigns.stats(c.id)
                start = f"{aware(c.starts_at).astimezone(HUE):%Y-%m-%d %H:%M}" if c.starts_at else "when sent"
                print(f"{c.id}\t{c.status}\t{c.kind}\t{c.channels}\t{start}\t"
                      f"{counts['sent']}/{counts['targeted']} sent\t{c.name}")
        elif args.action == "show":
            campaign = campaigns.get(args.id)
            if campaign is None:
                raise campaigns.CampaignError(f"no campaign {args.id}")
            print(json.dumps(_campaign_json(campaign), indent=2, ensure_ascii=False))
        else:
            campaign = campaigns.act(args.id, args.action)
            audit("cli", f"campaign_{args.action}", subject=f"campaign:{args.id}")
            print(f"campaign {args.id} is now {campaign.status}"
                  + (" (the gateway delivers it outside quiet hours)" if args.action in ("send", "resume") else ""))
    except (campaigns.SpecError, campaigns.CampaignError) as error:
        for problem in getattr(error, "problems", [str(error)]):
            print(f"error: {problem}", file=sys.stderr)
        print("nothing was written" if args.action == "create" else "nothing was changed", file=sys.stderr)
        return 1
    return 0


def _campaign_json(campaign) -> dict:
    from bot.services import campaigns

    return {
        "id": campaign.id, "name": campaign.name, "kind": campaign.kind, "status": campaign.status,
        "channels": campaign.channels.split(";"), "units": campaign.units, "topics": campaign.topics,
        "starts_at": f"{aware(campaign.starts_at).astimezone(HUE):%Y-%m-%d %H:%M}" if campaign.starts_at else None,
        "quiet_hours": f"{campaign.quiet_start}-{campaign.quiet_end}",
        "rendering": {c: campaigns.message_for(campaign, c, None).text for c in campaign.channels.split(";")},
        "stats": campaigns.stats(campaign.id),
    }


def cmd_report(args) -> int:
    from bot.services import indicators, reports
    from bot.storage import db

    try:
        period, unit = indicators.parse_period(args.period), indicators.resolve_unit(args.unit)
        db.upgrade()
        docx, xlsx = reports.write(indicators.compute(period, unit), args.out)
    except indicators.ReportError as error:
        print(f"error: {error}; nothing was written", file=sys.stderr)
        return 1
    print(f"wrote {docx} and {xlsx}")
    return 0


def _count(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise argparse.ArgumentTypeError(f"expected a whole number 1-16, got {raw!r}")
    return int(raw)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gbvbot", description="Nơi tin cậy: GBV support chatbot")
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start and supervise the whole stack")
    run.add_argument("--gateways", type=_count, help="gateway processes on the one public port (default GBVBOT_GATEWAYS, 1)")
    run.add_argument("--rasa", type=_count, help="Rasa servers on consecutive loopback ports (default GBVBOT_RASA_SERVERS, 1)")
    run.set_defaults(func=cmd_run)
    sub.add_parser("gateway", help="run only the gateway (normally started by `run`)").set_defaults(func=cmd_gateway)
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="retrain even if up to date")
    train.set_defaults(func=cmd_train)
    dbp = sub.add_parser("db", help="database migrations")
    dbp.add_argument("action", choices=["upgrade"])
    dbp.set_defaults(func=cmd_db)
    sub.add_parser("purge", help="delete conversations past the retention period").set_defaults(func=cmd_purge)
    places = sub.add_parser("places", help="referral directory")
    places_sub = places.add_subparsers(dest="action", required=True)
    imp = places_sub.add_parser("import", help="import/upsert places from a CSV file (all or nothing)")
    imp.add_argument("file")
    exp = places_sub.add_parser("export", help="export places as CSV (stdout if no file)")
    exp.add_argument("file", nargs="?")
    leads = places_sub.add_parser("leads", help="load desk-research leads for the office to check (never shown to residents)")
    leads.add_argument("file", nargs="?", help="default: the research file shipped in bot/services/directory/")
    lst = places_sub.add_parser("list", help="list places")
    lst.add_argument("--ward", help="current or former name of a phường/xã")
    places.set_defaults(func=cmd_places)
    key = sub.add_parser("keys", help="encryption keys")
    key_sub = key.add_subparsers(dest="action", required=True)
    key_sub.add_parser("rotate", help="re-seal everything with GBVBOT_SECRET_KEY (old keys in GBVBOT_PREVIOUS_SECRET_KEYS)")
    key.set_defaults(func=cmd_keys)
    officers = sub.add_parser("officers", help="officers who receive escalation alerts")
    officers_sub = officers.add_subparsers(dest="action", required=True)
    add = officers_sub.add_parser("add", help="register an officer (prints their API token once)")
    add.add_argument("--name", required=True, help="display name shown to colleagues")
    add.add_argument("--agency", required=True, help="police, social_affairs, womens_union, health, justice, coordination")
    add.add_argument("--role", default="officer", help="officer, backup, duty_desk or coordinator (the ladder's rungs)")
    add.add_argument("--units", default="*", help="';'-separated phường/xã (current or former names), or * for area-wide")
    add.add_argument("--telegram-id", help="numeric Telegram user id (alerts go to this private chat)")
    officers_sub.add_parser("list", help="list active officers")
    officers_sub.add_parser("check", help="send every officer a test message; list who cannot be alerted")
    tok = officers_sub.add_parser("token", help="issue a new API token for an officer (the old one stops working)")
    tok.add_argument("id", type=int)
    tok.add_argument("--days", type=int, default=90, help="days until the new token expires (default 90)")
    rem = officers_sub.add_parser("remove", help="deactivate an officer and forget their channel ids")
    rem.add_argument("id", type=int)
    officers.set_defaults(func=cmd_officers)
    users = sub.add_parser("users", help="web console accounts (/console/)")
    users_sub = users.add_subparsers(dest="action", required=True)
    uadd = users_sub.add_parser("add", help="create an account (password from GBVBOT_NEW_PASSWORD, else asked)")
    uadd.add_argument("--username", required=True, help="3-32 characters: a-z, 0-9, '.', '_', '-'")
    uadd.add_argument("--role", required=True, choices=["officer", "coordinator", "official", "admin"],
                      help="officer: cases of their units; coordinator: all cases; official: no case content; admin: users, audit")
    uadd.add_argument("--units", help="officers: comma- or ';'-separated phường/xã, or * for area-wide")
    uadd.add_argument("--telegram-id", help="numeric Telegram user id (officers, coordinators: alerts; officials, admins: report reminders)")
    uadd.add_argument("--name", help="display name shown to colleagues (default: the username)")
    uadd.add_argument("--agency", help="police, social_affairs, womens_union, health, justice, coordination")
    uadd.add_argument("--officer-id", type=int, help="give an officer already on the roster a sign-in")
    users_sub.add_parser("list", help="every account: id, username, role, roster role, units, state, last seen")
    udis = users_sub.add_parser("disable", help="stop an account: no sign-in, API token or alerts")
    udis.add_argument("username")
    ures = users_sub.add_parser("reset", help="set a new password (GBVBOT_NEW_PASSWORD, else asked); lifts a lock")
    ures.add_argument("username")
    utotp = users_sub.add_parser("totp", help="coordinators and admins: a new second factor (prints the otpauth URI once)")
    utotp.add_argument("username")
    users.set_defaults(func=cmd_users)
    rost = sub.add_parser("roster", help="duty shifts")
    rost_sub = rost.add_subparsers(dest="action", required=True)
    rimp = rost_sub.add_parser("import", help="replace shifts from a CSV: officer_id,weekday,date,start,end,off")
    rimp.add_argument("file")
    rshow = rost_sub.add_parser("show", help="who is on duty (now, or --at 'YYYY-MM-DD HH:MM' Huế time)")
    rshow.add_argument("--at")
    rost.set_defaults(func=cmd_roster)
    cases = sub.add_parser("cases", help="escalation cases (every read is audited)")
    cases_sub = cases.add_subparsers(dest="action", required=True)
    clist = cases_sub.add_parser("list", help="open cases (--all for every case)")
    clist.add_argument("--all", action="store_true")
    cshow = cases_sub.add_parser("show", help="one case with its timeline")
    cshow.add_argument("id")
    cclose = cases_sub.add_parser("close", help="close a case with an outcome")
    cclose.add_argument("id")
    cclose.add_argument("--outcome", required=True)
    cclose.add_argument("--note", help="stored encrypted")
    cases.set_defaults(func=cmd_cases)
    camp = sub.add_parser("campaigns", help="awareness campaigns (delivered by the gateway)")
    camp_sub = camp.add_subparsers(dest="action", required=True)
    ccreate = camp_sub.add_parser("create", help="create a draft from a campaign file (checked; all or nothing)")
    ccreate.add_argument("--file", help="YAML: name, text, buttons, channels, units, topics, starts_at, quiet_hours")
    ccreate.add_argument("--template", help="a ready-made campaign of bot/content/campaigns/ (file name without .yml)")
    camp_sub.add_parser("list", help="every campaign: id, status, kind, channels, start, sent/targeted, name")
    for action, what in (("show", "one campaign: its rendering per channel and its counters"),
                         ("send", "send a draft (at its start time, outside quiet hours)"),
                         ("pause", "stop sending at once (resume continues where it stopped)"),
                         ("resume", "continue a paused campaign"), ("cancel", "stop for good")):
        camp_sub.add_parser(action, help=what).add_argument("id", type=int)
    camp.set_defaults(func=cmd_campaigns)
    report = sub.add_parser("report", help="the programme report: FILE.docx (báo cáo) and FILE.xlsx (same figures)")
    report.add_argument("--period", required=True, help="2026-H1 (Jan-Jun), 2026-H2 (Jul-Dec) or 2026 (the year)")
    report.add_argument("--unit", help="one phường/xã (current or former name); default: the whole area")
    report.add_argument("--out", required=True, help="FILE.docx; FILE.xlsx is written next to it")
    report.set_defaults(func=cmd_report)
    telegram = sub.add_parser("telegram", help="Telegram channel")
    telegram.add_argument("action", choices=["check"], help="check: is the token accepted, is the webhook as configured")
    telegram.set_defaults(func=cmd_telegram)
    zalo = sub.add_parser("zalo", help="Zalo OA channel")
    zalo.add_argument("action", choices=["check"], help="check: token validity (refreshed if needed), undelivered counts")
    zalo.set_defaults(func=cmd_zalo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logsetup.setup(config.log_level, "supervisor" if args.command == "run" else None)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
