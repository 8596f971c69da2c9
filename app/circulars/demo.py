"""Demo circulars (``tenants/demo/circulars.toml``) issued by the division through
:func:`app.circulars.services.issue` with past times, and read receipts acknowledged by the
listed centres' managers through :func:`app.circulars.services.acknowledge`.

A circular with ``link = "april-inspection"`` links the latest submitted inspection of that
month (the inspections demo loads first); without one it links the month's league table.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app.circulars import queries, services
from app.documents.demo import pdf_bytes, scope_of
from app.tenancy import queries as tenancy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(text: str) -> datetime:
    """``"2026-05-08 10:30"`` local time → UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


async def load(path: Path, now: datetime | None = None) -> list[str]:
    spec = tomllib.loads((path / "circulars.toml").read_text(encoding="utf-8"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tree = await tenancy.tree()
    division = spec["division"]
    if division not in tree.by_slug:
        return [f"Demo circulars: no tenant {division!r}; skipped."]
    try:
        issuer = await scope_of(tree, division, spec["issuer"])
    except LookupError as exc:
        return [f"Demo circulars skipped: {exc}."]
    division_id = tree.by_slug[division].id
    known = {c["title"] for c in await queries.issued(issuer, division_id)}
    lines = []
    for number, item in enumerate(spec.get("circulars", []), start=1):
        if item["title"] in known:
            lines.append(f"Demo circular {item['title']!r} is already issued; skipped.")
            continue
        at = min(_at(item["issued_at"]), now - timedelta(hours=1))
        link = ""
        if item.get("link", "").startswith("inspections:"):
            month = item["link"].split(":", 1)[1]  # yyyy-mm
            year, mon = (int(p) for p in month.split("-"))
            start = date(year, mon, 1)
            end = date(year + (mon == 12), mon % 12 + 1, 1)
            found = await queries.submitted_between(issuer, start, end)
            link = f"inspection:{found[0]['id']}" if found else f"league:{month}"
        draft = services.Draft(title=item["title"], body=item["body"].strip(), link=link)
        files = [(f"circular-{number}.pdf", pdf_bytes(f"Bianmin demo circular {number}"))]
        try:
            circular_id = await services.issue(None, issuer, tree, draft, at=at, files=files)
        except services.CircularError as exc:
            lines.append(f"Demo circular {item['title']!r} refused: {exc}.")
            continue
        read = []
        for slug, when in item.get("read_by", {}).items():
            manager = spec["managers"].get(slug)
            if slug not in tree.by_slug or manager is None:
                continue
            scope = await scope_of(tree, slug, manager)
            ack_at = min(_at(when), now - timedelta(minutes=30))
            await services.acknowledge(None, scope, scope.own(), circular_id, "", at=ack_at)
            read.append(slug)
        count = len(services.recipients_of(tree, division_id))
        lines.append(
            f"Demo circular {item['title']!r} issued to {count}"
            f" centres{(' (' + link + ')') if link else ''}; read by {', '.join(read) or 'none'}."
        )
    return lines
