"""The benchmark's world: a throwaway database (PostgreSQL ``bianmin_bench_load_<pid>`` with
its own maintenance and app roles, or a SQLite file), migrated, the real manifests applied
(d4, r63, r68, c-huacheng, the catalogue, the seed form), then generated rows loaded with
the roll-up benchmark's generator (tests/bench/rollup: COPY on PostgreSQL): ``centres``
more centres under d4, ``months`` months of monthly reports ending last month, cases over
the same months plus the current month up to today (timelines, ratings), a manager and a
clerk per generated centre.  The lights sweep and the case-figure refresh then run once, as
the scheduler would, so lights and ``case_month_stat`` are what production would show.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

from tests.bench.rollup import cases as case_rows
from tests.bench.rollup import load, rows
from tests.bench.rollup.database import Target, with_user

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "bianmin_bench_load_"
SUPERVISOR, MANAGER, CENTRE = "d4-liuhong", "r63-zhoujianguo", "r63"


def say(text: str = "") -> None:
    print(text, flush=True)


# --- the database ---------------------------------------------------------------------------


def _roles(suffix: str) -> tuple[str, str]:
    return f"bm_bench_load_maint_{suffix}", f"bm_bench_load_app_{suffix}"


def create_postgres(admin: str) -> Target:
    suffix = str(os.getpid())
    database = PREFIX + suffix
    maint, app_role = _roles(suffix)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for role in (maint, app_role):
            con.execute(f"DROP ROLE IF EXISTS {role}")
        con.execute(f"CREATE ROLE {maint} LOGIN BYPASSRLS")
        con.execute(f"CREATE ROLE {app_role} LOGIN")
        con.execute(f"CREATE DATABASE {database} OWNER {maint}")
    target = attach_postgres(admin, database)
    with psycopg.connect(target.admin_url, autocommit=True) as con:
        con.execute(f"ALTER SCHEMA public OWNER TO {maint}")
    return target


def attach_postgres(admin: str, database: str) -> Target:
    """A database of an earlier ``--keep`` run: its roles follow from its name."""
    if not database.startswith(PREFIX):
        raise SystemExit(f"--reuse takes a {PREFIX}<n> database")
    maint, app_role = _roles(database.removeprefix(PREFIX))
    superuser = urlparse(admin).username or "postgres"
    return Target(
        engine="pg",
        var_dir=Path(tempfile.mkdtemp(prefix="bianmin-bench-load-")),
        app_url=with_user(admin, app_role, database),
        maint_url=with_user(admin, maint, database),
        admin_url=with_user(admin, superuser, database),
        database=database,
        roles=(maint, app_role),
        server_admin=admin,
    )


def create_sqlite(reuse: str | None = None) -> Target:
    """A SQLite file in a temporary VAR_DIR (or the VAR_DIR of a kept run)."""
    var_dir = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="bianmin-bench-load-"))
    url = f"sqlite:///{var_dir / 'bianmin.db'}"
    return Target(engine="sqlite", var_dir=var_dir, app_url=url, maint_url=url)


# --- the generated world --------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    centres: int  # generated centres (the manifests' r63, r68 and c-huacheng come on top)
    months: int  # months of reports and cases, ending last month
    per_month: int  # cases per centre and month on average (regiments twice a community)
    seed: int = 8


async def prepare(target: Target) -> None:
    """Schema (as the maintenance role) and the real manifests."""
    from app import db, maintenance
    from app.tenancy.apply import apply_path

    db.use_url(target.maint_url)
    await maintenance.migrate(app_role=maintenance.app_role_from_url(target.app_url))
    await apply_path(ROOT / "tenants")
    db.use_url(target.app_url)


def _loader(target: Target) -> load.Loader:
    path = target.sqlite_path if target.engine == "sqlite" else None
    return load.Loader(target.engine, target.admin_url or target.app_url, path)


def generate(target: Target, size: Size, last: int, current: int, today: int) -> dict[str, Any]:
    """Every generated row; returns the row counts and the time of each phase."""
    loader = _loader(target)
    phases: dict[str, float] = {}
    try:
        started = time.perf_counter()
        world = load.reference(loader, size.months, last)
        have = loader.query("SELECT count(*) FROM tenant WHERE kind IN ('regiment', 'community')")
        load.centres(loader, world, int(have[0][0]) + size.centres)
        # The generator writes a placeholder for the service hours: take r63's (the calendar
        # reads them when a deadline is computed).
        loader.query(
            "UPDATE tenant SET hours = (SELECT hours FROM tenant WHERE slug = %s)"
            " WHERE slug LIKE %s",
            CENTRE,
            "bench-%",
        )
        load.adoptions(loader, world)
        load.periods(loader, world)
        staff = users(loader, world)
        loader.commit()
        phases["reference rows, users"] = time.perf_counter() - started
        total = size.per_month * len(world.centres) * size.months
        counted = load.load(loader, world, total, "full", size.seed, phases)
        started = time.perf_counter()
        counted["service_case (this month)"] = this_month(loader, world, size, current, today)
        phases["cases of this month"] = time.perf_counter() - started
        counted["users"] = staff
    finally:
        loader.close()
    started = time.perf_counter()
    load.analyze(target.engine, target.admin_url, target.sqlite_path)
    phases["vacuum + analyze"] = time.perf_counter() - started
    return {"centres": len(world.centres), "rows": counted, "phases": phases}


def users(loader: load.Loader, world: rows.World) -> int:
    """A manager and a clerk for every generated centre (the manifests bring their own)."""
    generated = [c for c in world.centres if c.slug.startswith((rows.REGIMENT, rows.COMMUNITY))]
    people = [(f"{c.slug}-{r}", f"{c.slug} {r}") for c in generated for r in ("manager", "clerk")]
    loader.insert("app_user", ["username", "display_name"], people)
    ids = dict(
        loader.query(  # type: ignore[arg-type]
            "SELECT username, id FROM app_user WHERE username LIKE %s", "bench-%"
        )
    )
    loader.insert(
        "membership",
        ["tenant_id", "user_id", "roles", "title", "active"],
        (
            (c.id, ids[f"{c.slug}-{r}"], r, "", True)
            for c in generated
            for r in ("manager", "clerk")
        ),
    )
    return len(people)


def this_month(loader: load.Loader, world: rows.World, size: Size, current: int, today: int) -> int:
    """The current month's cases registered up to yesterday, numbered on from the earlier
    months (open ones carry lights; the sweep after loading sets them right)."""
    rng = random.Random(size.seed + 1)
    recent = dataclasses.replace(world, months=[world.months[-1], current])
    first = int(loader.query("SELECT COALESCE(MAX(id), 0) + 1 FROM service_case")[0][0])
    maker = case_rows.CaseMaker(recent, rng, first, "full")
    for tenant_id, year, seq in loader.query(
        "SELECT tenant_id, year, MAX(seq) FROM service_case GROUP BY tenant_id, year"
    ):
        maker.seq[(int(tenant_id), int(year))] = int(seq)
    wanted = case_rows.counts(
        dataclasses.replace(world, months=[current]), size.per_month * len(world.centres), rng
    )
    days = (rows.month_start(rows.month_after(current)) - rows.month_start(current)) // rows.DAY
    n = 0
    for day in range(today - 1):  # registered before today: nothing in the future
        chunk: case_rows.Chunk = ([], [], [])
        for centre in world.centres:
            share = wanted[(centre.id, current)] // days
            if share:
                maker.day(centre.id, current, day, share, chunk)
        loader.insert("service_case", case_rows.CASE_COLUMNS, chunk[0])
        loader.insert("case_event", case_rows.EVENT_COLUMNS, chunk[1])
        loader.insert("rating", case_rows.RATING_COLUMNS, chunk[2])
        n += len(chunk[0])
    if loader.engine == "pg":
        loader.query(
            "SELECT setval(pg_get_serial_sequence('service_case', 'id'), MAX(id)) FROM service_case"
        )
    loader.commit()
    return n


async def sweeps() -> dict[str, float]:
    """The lights sweep and the case-figure refresh, once, as the app role."""
    from app.cases import lights, stats

    out = {}
    started = time.perf_counter()
    moved = await lights.move_lights()
    out[f"lights sweep ({moved:,} cases)"] = time.perf_counter() - started
    started = time.perf_counter()
    done = await stats.refresh()
    out[f"case_month_stat refresh ({done:,} centre-months)"] = time.perf_counter() - started
    return out


# --- sessions and the pages' URLs -------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    username: str
    user_id: int
    token: str  # the cookie value

    @property
    def cookie(self) -> str:
        return f"bm_session={self.token}"


def sessions(target: Target, usernames: list[str]) -> dict[str, Login]:
    """A fresh session row per user (the cookie is a random token, the row its SHA-256), as
    a login would leave it; earlier benchmark sessions of these users are removed."""
    loader = _loader(target)
    out = {}
    try:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
        for name in usernames:
            found = loader.query("SELECT id FROM app_user WHERE username = %s", name)
            if not found:
                raise RuntimeError(f"benchmark: no user {name}")
            user_id = int(found[0][0])
            loader.query("DELETE FROM web_session WHERE user_id = %s", user_id)
            token = secrets.token_urlsafe(32)
            loader.insert(
                "web_session",
                ["token_hash", "user_id", "csrf_token", "ip", "created_at", "last_seen"],
                [
                    (
                        hashlib.sha256(token.encode()).hexdigest(),
                        user_id,
                        secrets.token_urlsafe(32),
                        "127.0.0.1",
                        now,
                        now,
                    )
                ],
            )
            out[name] = Login(name, user_id, token)
        loader.commit()
    finally:
        loader.close()
    return out


def pages(target: Target, logins: dict[str, Login]) -> dict[str, tuple[str, Login]]:
    """Page name → (path, who asks): r63's case list and one of its cases (its manager), the
    division's report grid and supervision dashboard (the d4 supervisor)."""
    loader = _loader(target)
    try:
        found = loader.query(
            "SELECT c.id FROM service_case c JOIN tenant t ON t.id = c.tenant_id"
            " WHERE t.slug = %s AND c.state = 'delivered' AND c.rated AND c.notices > 0"
            " ORDER BY c.id DESC LIMIT 1",
            CENTRE,
        ) or loader.query(
            "SELECT c.id FROM service_case c JOIN tenant t ON t.id = c.tenant_id"
            " WHERE t.slug = %s ORDER BY c.id DESC LIMIT 1",
            CENTRE,
        )
    finally:
        loader.close()
    case_id = int(found[0][0])
    manager, supervisor = logins[MANAGER], logins[SUPERVISOR]
    return {
        "case list": (f"/t/{CENTRE}/cases", manager),
        "case detail": (f"/t/{CENTRE}/cases/{case_id}", manager),
        "report grid": ("/t/d4/reports/grid", supervisor),
        "supervision": ("/t/d4/supervision", supervisor),
    }


def drop(target: Target) -> None:
    from tests.bench.rollup import database

    database.drop(target)
