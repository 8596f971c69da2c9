"""Loading a generated world into the migrated database: PostgreSQL with COPY (as the
superuser, foreign-key triggers off for the session, the big tables' secondary indexes
dropped before and rebuilt after — their definitions read back from ``pg_indexes``, so
the app's own indexes are what gets measured), SQLite with ``executemany``.

Reference rows come from the manifests (tenant d4, the seed form ``monthly-centre`` and its
version, catalogue templates); the benchmark adds one clerk user, the centres, their item
adoptions, the periods, submissions, roll-up values, cases, timelines and ratings.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.rollup import cases as case_rows
from tests.bench.rollup import rows
from tests.bench.rollup.rows import Centre, Item, World

BIG = ("service_case", "case_event", "rating")


class Loader:
    """One connection that inserts rows in bulk (PostgreSQL COPY or SQLite executemany)."""

    def __init__(self, engine: str, url: str, path: Path | None = None) -> None:
        self.engine = engine
        self.url = url
        if engine == "pg":
            self.pg = psycopg.connect(url)
            self.pg.execute("SET session_replication_role = replica")  # no FK triggers
            self.pg.execute("SET maintenance_work_mem = '1GB'")
        else:
            assert path is not None
            self.lite = sqlite3.connect(path, isolation_level=None)
            self.lite.execute("PRAGMA synchronous = OFF")
            self.lite.execute("BEGIN")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.engine == "pg":
            cur = self.pg.execute(sql, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
        return self.lite.execute(sql.replace("%s", "?"), params).fetchall()

    def insert(self, table: str, columns: list[str], items: Iterable[tuple[Any, ...]]) -> int:
        cols = ", ".join(f'"{c}"' for c in columns)
        n = 0
        if self.engine == "pg":
            with self.pg.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in items:
                    copy.write_row(row)
                    n += 1
            return n
        marks = ", ".join("?" for _ in columns)
        batch = list(items)
        self.lite.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
        return len(batch)

    @contextlib.contextmanager
    def streams(self, tables: dict[str, list[str]]) -> Iterator[Any]:
        """Write to several tables at once (PostgreSQL: one COPY per extra connection)."""
        if self.engine != "pg":
            yield lambda table, items: self.insert(table, tables[table], items)
            return
        with contextlib.ExitStack() as stack:
            copies = {}
            for table, columns in tables.items():
                con = stack.enter_context(psycopg.connect(self.url))
                con.execute("SET session_replication_role = replica")
                cols = ", ".join(f'"{c}"' for c in columns)
                copies[table] = stack.enter_context(
                    con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN")
                )

            def write(table: str, items: list[tuple[Any, ...]]) -> None:
                copy = copies[table]
                for row in items:
                    copy.write_row(row)

            yield write

    def commit(self) -> None:
        if self.engine == "pg":
            self.pg.commit()
        else:
            self.lite.execute("COMMIT")
            self.lite.execute("BEGIN")

    def close(self) -> None:
        if self.engine == "pg":
            self.pg.close()
        else:
            self.lite.execute("COMMIT")
            self.lite.close()


def _one(loader: Loader, sql: str, *params: Any) -> Any:
    found = loader.query(sql, *params)
    if not found:
        raise RuntimeError(f"benchmark: nothing found for {sql} {params}")
    return found[0][0]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def reference(loader: Loader, months: int, last_month: int) -> World:
    """The division, the seed form and its newest version, a clerk for the cases."""
    from app.reports import definition as definitions

    division = _one(loader, "SELECT id FROM tenant WHERE slug = %s", "d4")
    form = _one(
        loader,
        "SELECT id FROM report_form WHERE tenant_id = %s AND code = %s",
        division,
        "monthly-centre",
    )
    version, stored = loader.query(
        "SELECT id, definition FROM form_version WHERE form_id = %s ORDER BY number DESC",
        form,
    )[0]
    spec = definitions.load(_json(stored))
    loader.insert("app_user", ["username", "display_name"], [("bench-clerk", "基准窗口")])
    owner = _one(loader, "SELECT id FROM app_user WHERE username = %s", "bench-clerk")
    return World(
        division_id=division,
        form_id=form,
        version_id=version,
        owner_id=owner,
        months=rows.months_ending(last_month, months),
        fields=[(f.key, f.type) for f in spec.fields() if f.numeric],
        all_fields=[
            (f.key, f.type, f.source, f.choices[0] if f.choices else "") for f in spec.fields()
        ],
    )


def centres(loader: Loader, world: World, wanted: int) -> None:
    """The filing centres: the manifests' under d4, plus generated ones up to ``wanted``."""

    def existing() -> list[Centre]:
        found = loader.query("SELECT id, slug, kind, parent_id FROM tenant ORDER BY id")
        return [Centre(*r) for r in found if r[2] in ("regiment", "community")]

    planned = rows.new_tenants(len(existing()), wanted)
    columns = ["slug", "name", "kind", "parent_id", "status", "hours", "address", "phone"]
    ids: dict[str, int] = {}
    for kind in ("regiment", "community"):
        batch = [p for p in planned if p[2] == kind]
        loader.insert("tenant", columns, rows.tenant_rows(batch, ids, world.division_id))
        ids = {r[0]: r[1] for r in loader.query("SELECT slug, id FROM tenant")}
    world.centres = existing()


def adoptions(loader: Loader, world: World, per_centre: int = 6) -> None:
    """Each centre adopts the same few items (promised, immediate, joint, escalated)."""
    found = loader.query(
        "SELECT t.id, t.code, v.id, v.content FROM item_template t JOIN item_version v"
        " ON v.template_id = t.id AND v.number = t.current_version ORDER BY t.id"
    )
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    for tid, code, vid, content in found:
        data = _json(content)
        by_kind.setdefault(data["kind"], []).append((tid, code, vid, data))
    chosen = [*by_kind.get("promised", [])[:3]]
    for kind in ("immediate", "joint", "escalated"):
        chosen += by_kind.get(kind, [])[:1]
    chosen = chosen[:per_centre]
    have = {(r[0], r[1]) for r in loader.query("SELECT tenant_id, template_id FROM tenant_item")}
    loader.insert(
        "tenant_item",
        case_rows.ITEM_COLUMNS,
        (
            (c.id, tid, vid, None, "", True)
            for c in world.centres
            for tid, _code, vid, _data in chosen
            if (c.id, tid) not in have
        ),
    )
    adopted = {
        (r[0], r[1]): r[2]
        for r in loader.query("SELECT tenant_id, template_id, id FROM tenant_item")
    }
    world.items = {
        c.id: [
            Item(
                adopted[(c.id, tid)],
                tid,
                vid,
                code,
                data["name"][:120],
                data["kind"],
                int(data.get("promised_halves") or 2),
                int(data.get("legal_halves") or 4),
            )
            for tid, code, vid, data in chosen
        ]
        for c in world.centres
    }


def periods(loader: Loader, world: World) -> None:
    have = {
        r[0]
        for r in loader.query("SELECT month FROM report_period WHERE form_id = %s", world.form_id)
    }
    new = [r for r in rows.period_rows(world, world.division_id) if r[3] not in have]
    loader.insert(
        "report_period",
        ["tenant_id", "form_id", "version_id", "month", "due_on", "lock_on", "opened_at"],
        new,
    )
    world.periods = {
        r[0]: r[1]
        for r in loader.query(
            "SELECT month, id FROM report_period WHERE form_id = %s", world.form_id
        )
    }


def _next_id(loader: Loader, table: str) -> int:
    return int(_one(loader, f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))


def _rebuild_indexes(
    loader: Loader, drop: bool, saved: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    if loader.engine != "pg":
        return []
    if drop:
        found = loader.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexname NOT LIKE '%%_pkey'",
            list(BIG),
        )
        for name, _ in found:
            loader.query(f"DROP INDEX {name}")
        loader.commit()
        return [(n, d) for n, d in found]
    for _name, definition in saved:
        loader.query(definition)
        loader.commit()
    return saved


def load(
    loader: Loader, world: World, cases: int, events: str, seed: int, out: dict[str, float]
) -> dict[str, int]:
    """Every generated row; ``out`` receives the time of each phase (seconds)."""
    rng = random.Random(seed)
    counted: dict[str, int] = {}
    started = time.perf_counter()
    subs, values = rows.submissions(world, rng, rows.Clock(), _next_id(loader, "submission"))
    counted["submission"] = loader.insert("submission", rows.SUBMISSION_COLUMNS, subs)
    counted["report_value"] = loader.insert("report_value", rows.VALUE_COLUMNS, values)
    loader.commit()
    out["reports"] = time.perf_counter() - started

    started = time.perf_counter()
    saved = _rebuild_indexes(loader, True, [])
    counted.update(service_case=0, case_event=0, rating=0)
    tables = {
        "service_case": case_rows.CASE_COLUMNS,
        "case_event": case_rows.EVENT_COLUMNS,
        "rating": case_rows.RATING_COLUMNS,
    }
    with loader.streams(tables) as write:
        for chunk in case_rows.stream(world, cases, rng, _next_id(loader, "service_case"), events):
            for table, items in zip(tables, chunk, strict=True):
                write(table, items)
                counted[table] += len(items)
    loader.commit()
    pg = loader.engine == "pg"
    out["cases (COPY)" if pg else "cases (executemany)"] = time.perf_counter() - started
    if pg:
        started = time.perf_counter()
        _rebuild_indexes(loader, False, saved)
        out["cases (indexes rebuilt)"] = time.perf_counter() - started

    if loader.engine == "pg":
        for table in ("submission", "service_case"):
            loader.query(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
            )
    # Every centre-month (and the month after: late conclusions) for the stats sweep.
    months = [*world.months, rows.month_after(world.months[-1])]
    loader.insert(
        "stat_dirty",
        ["tenant_id", "month"],
        ((c.id, m) for c in world.centres for m in months),
    )
    loader.commit()
    return counted


def analyze(engine: str, url: str, path: Path | None = None) -> None:
    """VACUUM (visibility map, as autovacuum would keep it) and ANALYZE after loading."""
    if engine == "pg":
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("VACUUM (ANALYZE)")
    else:
        assert path is not None
        lite = sqlite3.connect(path)
        try:
            lite.execute("ANALYZE")
        finally:
            lite.close()
