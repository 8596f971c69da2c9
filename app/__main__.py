"""Command line: ``python -m app …`` (serve, migrate, tenants, users, demo)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.settings import ROOT, settings


def _maintenance() -> None:
    """Schema and manifest work runs as the maintenance role (BYPASSRLS on PostgreSQL)."""
    from app import db

    db.use_url(settings.maintenance_database_url)


async def _migrate() -> None:
    from app import maintenance

    await maintenance.migrate(app_role=maintenance.app_role_from_url(settings.database_url))


def cmd_migrate(args: argparse.Namespace) -> int:
    _maintenance()
    asyncio.run(_migrate())
    print("Migrations applied.")
    return 0


def cmd_tenants_apply(args: argparse.Namespace) -> int:
    from app.tenancy.apply import apply_path
    from app.tenancy.manifests import ManifestError

    _maintenance()
    try:
        report = asyncio.run(apply_path(Path(args.path)))
    except ManifestError as exc:
        print("Manifest rejected; nothing was applied:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    print(report.summary(verbose=getattr(args, "verbose", False)))
    return 0


def cmd_tenants_list(args: argparse.Namespace) -> int:
    from app.tenancy import queries

    tree = asyncio.run(queries.tree())

    def walk(parent: int | None, depth: int) -> None:
        for node in sorted(
            (n for n in tree.nodes.values() if n.parent_id == parent), key=lambda n: n.slug
        ):
            print(f"{'  ' * depth}{node.slug:<14} {node.kind:<10} {node.status:<10} {node.name}")
            walk(node.id, depth + 1)

    walk(None, 0)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from app.accounts.bootstrap import create_admin

    link = asyncio.run(create_admin(args.username, args.name or args.username))
    print(f"Platform admin {args.username!r}: set the password at {link}")
    return 0


def cmd_reset_link(args: argparse.Namespace) -> int:
    from app.accounts.bootstrap import reset_link

    try:
        link = asyncio.run(reset_link(args.username))
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"One-time set-password link for {args.username!r}: {link}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import load_demo

    for line in asyncio.run(load_demo(Path(args.path))):
        print(line)
    return 0


def _admin_lines() -> None:
    from app.accounts.bootstrap import ensure_admin

    for line in asyncio.run(ensure_admin()):
        print(f"\n  >>> {line}\n", flush=True)


def _metrics_dir(workers: int) -> None:
    """Several web workers count into one directory (prometheus_client multiprocess mode),
    set before any worker starts; files of processes that are gone are cleared."""
    import os

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.var_dir / "prometheus")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from app.ops.prometheus import prepare_multiprocess_dir

        prepare_multiprocess_dir(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve on granian (default: tests/bench/load measured it 1.2-1.8x uvicorn's req/s on
    the busiest pages with 2 workers on PostgreSQL) or uvicorn (WEB_SERVER / --server)."""
    from app.ops import logs

    _metrics_dir(args.workers)
    _admin_lines()
    print(f"Serving on http://{args.host}:{args.port} ({args.server})", flush=True)
    if args.server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            "app.main:create_served_app",
            factory=True,
            address=args.host,
            port=args.port,
            interface=Interfaces.ASGI,
            workers=args.workers,
            log_dictconfig=logs.dict_config(),  # JSON (LOG_FORMAT) in every worker process
            log_level=settings.log_level.lower(),  # type: ignore[arg-type]
            log_access=False,  # the app's own access log has route templates, no query strings
            respawn_failed_workers=True,
        ).serve()
        return 0
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,  # client address from X-Forwarded-For of FORWARDED_ALLOW_IPS only
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=logs.dict_config(),  # JSON (LOG_FORMAT) in every worker process too
        log_level=settings.log_level.lower(),
        access_log=False,  # it would log query strings: app.ops.access logs route templates
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Everything ``make run`` needs: migrate, apply tenants/, demo into a new database, serve."""
    from app import db

    new_database = settings.is_sqlite and not db.sqlite_path(settings.database_url).exists()
    if cmd_migrate(args) != 0 or cmd_tenants_apply(argparse.Namespace(path=str(ROOT / "tenants"))):
        return 1
    if new_database and settings.is_sqlite:
        cmd_demo(argparse.Namespace(path=str(ROOT / "tenants" / "demo")))
    from app import db as _db

    _db.use_url(settings.database_url)
    return cmd_serve(args)


def cmd_worker(args: argparse.Namespace) -> int:
    from app.jobs.runner import run_worker
    from app.ops import logs

    logs.configure()  # LOG_FORMAT / LOG_LEVEL, as in the web processes
    return run_worker(args.threads)


def cmd_scheduler(args: argparse.Namespace) -> int:
    from app.jobs.runner import run_scheduler
    from app.ops import logs

    logs.configure()
    return run_scheduler()


def cmd_backup(args: argparse.Namespace) -> int:
    from app.backup import commands

    if bool(args.dest) == bool(args.prune):
        print("backup: give either DEST or --prune DIR", file=sys.stderr)
        return 2
    if args.prune:
        keep = (args.keep_daily, args.keep_weekly, args.keep_monthly)
        return commands.run_prune(Path(args.prune), *keep, dry_run=args.dry_run)
    return commands.run_backup(Path(args.dest))


def cmd_restore(args: argparse.Namespace) -> int:
    from app.backup import commands

    if args.check:
        return commands.run_check(Path(args.src))
    return commands.run_restore(
        Path(args.src), resume=args.resume, ignore_id_key=args.ignore_id_key
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m app",
        description="Bianmin (便民) service platform",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "commands:\n"
            "  serve [--workers N]        serve the web app (granian, or --server uvicorn)\n"
            "  up                         migrate, apply tenants/, demo (new embedded db), serve\n"
            "  migrate                    migrations + row-level security (maintenance role)\n"
            "  worker [--threads N]       job worker (needs BROKER_URL)\n"
            "  scheduler                  periodic sweeps, once a minute (needs BROKER_URL)\n"
            "  tenants apply PATH         upsert onboarding manifests, never delete\n"
            "  tenants list               print the tenant tree\n"
            "  users create-admin USER    create a platform admin, print a set-password link\n"
            "  users reset-link USERNAME  print a one-time set-password link\n"
            "  demo [PATH]                load demo data into the embedded database\n"
            "  backup DEST                database snapshot + stored files + manifest\n"
            "  backup --prune DIR         delete old backups (14 daily, 8 weekly, 12 monthly)\n"
            "  restore SRC [--resume]     restore a backup into an empty database and store\n"
            "  restore SRC --check        verify a backup's checksums, restore nothing"
        ),
    )
    sub = p.add_subparsers(dest="command", required=True)

    for name, func, text in (
        ("serve", cmd_serve, "serve the web app (uvicorn)"),
        ("up", cmd_up, "migrate, apply tenants/, load demo into a new embedded database, serve"),
    ):
        s = sub.add_parser(name, help=text)
        s.add_argument("--host", default=settings.host)
        s.add_argument("--port", type=int, default=settings.port)
        s.add_argument("--workers", type=int, default=1)
        s.add_argument("--server", choices=("granian", "uvicorn"), default=settings.web_server)
        s.set_defaults(func=func)

    sub.add_parser("migrate", help="apply migrations and row-level security").set_defaults(
        func=cmd_migrate
    )
    worker = sub.add_parser("worker", help="run the job worker (needs BROKER_URL)")
    worker.add_argument("--threads", type=int, default=4)
    worker.set_defaults(func=cmd_worker)
    scheduler = sub.add_parser("scheduler", help="run the sweep scheduler (needs BROKER_URL)")
    scheduler.set_defaults(func=cmd_scheduler)

    tenants = sub.add_parser("tenants", help="onboarding manifests").add_subparsers(
        dest="tenants_command", required=True
    )
    apply = tenants.add_parser("apply", help="upsert the manifests in PATH (never deletes)")
    apply.add_argument("path")
    apply.add_argument("--verbose", action="store_true", help="list every change")
    apply.set_defaults(func=cmd_tenants_apply)
    tenants.add_parser("list", help="print the tenant tree").set_defaults(func=cmd_tenants_list)

    users = sub.add_parser("users", help="accounts").add_subparsers(
        dest="users_command", required=True
    )
    admin = users.add_parser("create-admin", help="create a platform admin and print a link")
    admin.add_argument("username")
    admin.add_argument("--name", default="")
    admin.set_defaults(func=cmd_create_admin)
    reset = users.add_parser("reset-link", help="print a one-time set-password link")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_reset_link)

    demo = sub.add_parser("demo", help="load demo data (embedded database only)")
    demo.add_argument("path", nargs="?", default=str(ROOT / "tenants" / "demo"))
    demo.set_defaults(func=cmd_demo)

    backup = sub.add_parser("backup", help="write a backup, or prune old ones (maintenance role)")
    backup.add_argument("dest", nargs="?", help="a new (or empty) directory")
    backup.add_argument("--prune", metavar="DIR", help="apply the retention rule in DIR")
    backup.add_argument("--keep-daily", type=int, default=14)
    backup.add_argument("--keep-weekly", type=int, default=8)
    backup.add_argument("--keep-monthly", type=int, default=12)
    backup.add_argument("--dry-run", action="store_true", help="with --prune: only list")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup into an empty database and store")
    restore.add_argument("src")
    restore.add_argument(
        "--check", action="store_true", help="only verify the backup (every checksum)"
    )
    restore.add_argument(
        "--resume", action="store_true", help="accept objects a failed restore already stored"
    )
    restore.add_argument(
        "--ignore-id-key",
        action="store_true",
        help="restore although the ID hash key differs (ID-number searches will find nothing)",
    )
    restore.set_defaults(func=cmd_restore)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
