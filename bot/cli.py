"""`gbvbot`: the one command surface (README, Makefile and CI all use it)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot import log as logsetup
from bot.config import ConfigError, settings

log = logging.getLogger("gbvbot")


def _prepare(demo_seed: bool = True):
    """Migrations, and in demo mode the sample directory; warnings about the directory."""
    from bot.storage import db

    config = settings()
    db.upgrade()
    try:
        from bot.services import directory
    except ImportError:  # the directory service is optional at this layer
        return config
    if config.demo and demo_seed:
        with db.session_scope() as session:
            directory.seed_demo(session)
    for warning in directory.check_directory():
        log.warning("%s", warning)
    return config


def cmd_run(_args) -> int:
    from bot import supervisor

    return supervisor.run(_prepare())


def cmd_gateway(_args) -> int:
    from bot import gateway

    gateway.serve(settings())
    return 0


def cmd_scheduler(_args) -> int:
    from bot import scheduler

    scheduler.serve(settings())
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
    from bot.storage import conversations

    removed = conversations.purge_older_than(settings().retention_days)
    print(f"removed {removed} conversations older than {settings().retention_days} days")
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gbvbot", description="Nơi tin cậy: GBV support chatbot")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start and supervise the whole stack").set_defaults(func=cmd_run)
    sub.add_parser("gateway", help="run only the gateway (normally started by `run`)").set_defaults(func=cmd_gateway)
    sub.add_parser("scheduler", help="run only the scheduler (normally started by `run`)").set_defaults(func=cmd_scheduler)
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
    lst = places_sub.add_parser("list", help="list places")
    lst.add_argument("--ward", help="current or former name of a phường/xã")
    places.set_defaults(func=cmd_places)
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
