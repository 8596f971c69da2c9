"""Demo data for a new embedded database.

Loaded by ``make run`` only: never by the release, never into PostgreSQL.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from app import db
from app.accounts import queries
from app.accounts.services import issue_link
from app.tenancy.scope import user_scope


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
    return lines
