"""Demo data for a new embedded database.

Loaded by ``make run`` only: never by the release, never into PostgreSQL.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

from app import db
from app.accounts import queries
from app.accounts.services import issue_link
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, user_scope


async def load_demo(path: Path) -> list[str]:
    if db.is_postgres():
        return ["Demo data is only loaded into the embedded SQLite database; skipped."]
    spec = tomllib.loads((path / "demo.toml").read_text(encoding="utf-8"))
    lines = ["Demo accounts — open a link to set that person's password (each works once):"]
    async with db.write(user_scope(0)):
        for username in spec.get("print_links", []):
            row = await queries.user_by_username(username)
            if row is None:
                lines.append(f"  (no user {username!r})")
                continue
            link = await issue_link(row["id"], None)
            lines.append(f"  {row['display_name']} ({username}): {link}")
    adopted = await _adopt(spec.get("adopt", {}))
    if adopted:
        lines.append(f"Demo centres offer their catalogue items: {adopted}.")
    if (path / "cases.toml").exists():
        from app.cases.demo import load_cases

        lines += await load_cases(path)
    if (path / "reports.toml").exists():
        from app.cases import stats
        from app.reports.demo import load_reports

        await stats.rebuild()  # the monthly case figures the reports are pre-filled from
        lines += await load_reports(path)
    # Issue 7's areas, each from its own file when present: inspections (and their
    # rectifications), the centres' documents, circulars, work logs and assessment, the
    # supervision settings.  Each module's ``load(path)`` goes through its real services.
    for area in ("inspections", "documents", "circulars", "staff", "supervision"):
        if (path / f"{area}.toml").exists():
            module = importlib.import_module(f"app.{area}.demo")
            lines += await module.load(path)
    return lines


async def _adopt(plan: dict[str, list[str]]) -> str:
    """Each demo centre adopts the division's items of the listed departments."""
    from app.catalogue import adoption

    tree = await tenancy.tree()
    done = []
    for slug, departments in plan.items():
        node = tree.by_slug.get(slug)
        if node is None:
            continue
        own = frozenset({node.id})
        scope = TenantScope(
            tenant_id=node.id,
            user_id=None,
            roles=frozenset({"manager"}),
            read_ids=own,
            write_ids=own,
            shared_ids=frozenset({node.id, *tree.ancestors(node.id)}),
            supervise_ids=frozenset(),
            reason="demo data",
        )
        groups = await adoption.catalogue(scope, node.id)
        entries = [e for g in groups if g["code"] in departments for e in g["open"]]
        count = await adoption.adopt(None, scope, entries)
        done.append(f"{slug} {count}")
    return ", ".join(done)
