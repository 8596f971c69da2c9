"""Issuing and acknowledging circulars (通报); what a circular links to.

``issue`` validates everything first, stores the attachments (outside any transaction, as
:mod:`app.storage` requires), then writes the circular, its attachments, one receipt per
recipient centre and the audit row in one transaction; if that fails the stored files are
deleted again.  After the commit each recipient centre's managers get an inbox notice under
an explicit system scope (a division cannot write a centre's inbox under its own).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.cases import ledger
from app.circulars import queries
from app.notify import services as notify
from app.storage import services as storage
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.circulars")
DOMAIN = "circulars"
MAX_FILES = 5
LINK = re.compile(r"^(inspection):([0-9]{1,9})$|^(league):([0-9]{4})-([0-9]{2})$")


class CircularError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Draft:
    title: str
    body: str
    link: str = ""
    everyone: bool = True
    chosen: list[int] = field(default_factory=list)
    uploads: list[Any] = field(default_factory=list)


def now() -> datetime:
    return datetime.now(UTC)


def recipients_of(tree: Tree, issuer_id: int) -> list[Any]:
    """The centres a tenant may address: its whole subtree except itself."""
    ids = tree.subtree(issuer_id) - {issuer_id}
    return sorted((tree.nodes[i] for i in ids), key=lambda n: (n.kind != "regiment", n.slug))


def paragraphs(body: str) -> list[list[str]]:
    """Plain text → paragraphs (blank-line separated) of lines; rendered escaped."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [p.split("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


# --- links ------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


async def _league(scope: TenantScope, tree: Tree, month: int) -> list[dict[str, Any]] | None:
    """The ranked league table of ``month`` from app.supervision.league (None if that module
    or its function is not available)."""
    try:
        from app.supervision import league as league_module  # written by another area
    except ImportError:
        return None
    compute = getattr(league_module, "league", None)
    if compute is None:
        return None
    try:
        rows = await compute(scope, month)
    except Exception:
        log.exception("league table of %s could not be computed", month)
        return None
    out = []
    for position, row in enumerate(rows, start=1):
        centre = getattr(row, "centre", None)
        figures = getattr(row, "figures", None)
        tenant_id: Any = getattr(centre, "id", None) or getattr(figures, "tenant_id", None)
        node = tree.nodes.get(tenant_id) if isinstance(tenant_id, int) else None
        out.append(
            {
                "rank": getattr(row, "rank", None) or position,
                "centre": node.name if node else str(getattr(centre, "name", "")),
                "score": _text(getattr(row, "score", None)),
                "on_time_rate": _text(getattr(figures, "on_time_rate", None)),
                "good_rate": _text(getattr(figures, "good_rate", None)),
                "unrated_rate": _text(getattr(figures, "unrated_rate", None)),
                "overdue": _text(getattr(figures, "overdue", None)),
                "inspection_percent": _text(getattr(figures, "inspection_percent", None)),
            }
        )
    return out


async def resolve_link(scope: TenantScope, tree: Tree, link: str) -> dict[str, Any]:
    """The snapshot of what ``link`` points at; ``CircularError`` if it may not be linked."""
    match = LINK.match(link)
    if match is None:
        raise CircularError({"link": _("This link is not an inspection or a league table.")})
    if match.group(1):
        found = await queries.inspection_result(scope, int(match.group(2)))
        if found is None:
            raise CircularError(
                {"link": _("Only a submitted inspection of a centre you supervise can be linked.")}
            )
        return {
            "kind": "inspection",
            "inspection_id": found["id"],
            "centre": found["tenant_name"],
            "centre_slug": found["tenant_slug"],
            "checklist": found["checklist_title"],
            "date": str(found["planned_on"]),
            "score": _text(found["score"]),
            "max_score": _text(found["max_score"]),
            "percent": _text(found["percent"]),
            "findings": int(found["findings"]),
        }
    year, mon = int(match.group(4)), int(match.group(5))
    if not (2000 <= year <= 2100 and 1 <= mon <= 12):
        raise CircularError({"link": _("This link is not an inspection or a league table.")})
    rows = await _league(scope, tree, year * 100 + mon)
    return {"kind": "league", "month": f"{year:04d}-{mon:02d}", "rows": rows}


# --- issuing -------------------------------------------------------------------------------


def validate(tree: Tree, issuer_id: int, draft: Draft) -> tuple[dict[str, str], list[int]]:
    errors: dict[str, str] = {}
    if not draft.title:
        errors["title"] = _("Enter a title.")
    elif len(draft.title) > 200:
        errors["title"] = _("At most %(n)d characters.", n=200)
    if not draft.body:
        errors["body"] = _("Enter the text of the circular.")
    elif len(draft.body) > 20000:
        errors["body"] = _("At most %(n)d characters.", n=20000)
    allowed = {n.id for n in recipients_of(tree, issuer_id)}
    targets = sorted(allowed) if draft.everyone else sorted(set(draft.chosen))
    if not targets:
        errors["recipients"] = _("Choose at least one centre.")
    elif any(t not in allowed for t in targets):
        errors["recipients"] = _("Choose centres from the list.")
    if len(draft.uploads) > MAX_FILES:
        errors["files"] = _("At most %(n)d files.", n=MAX_FILES)
    return errors, targets


async def issue(
    request: Request | None,
    scope: TenantScope,
    tree: Tree,
    draft: Draft,
    *,
    at: datetime | None = None,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
) -> int:
    """Issue a circular to centres of the scope's subtree; returns its id.  ``files`` are
    (name, bytes) the server has (the demo), stored like uploads; ``at`` the issue time."""
    scope.require("circular.issue")
    issuer_id = scope.own()
    scope.check_write(issuer_id)
    errors, targets = validate(tree, issuer_id, draft)
    linked: dict[str, Any] = {}
    if draft.link and "link" not in errors:
        try:
            linked = await resolve_link(scope, tree, draft.link)
        except CircularError as exc:
            errors.update(exc.errors)
    for upload in draft.uploads:
        if "files" in errors:
            break
        try:
            await storage.check_upload(upload)
        except storage.UploadRefused as exc:
            errors["files"] = exc.message
    if errors:
        raise CircularError(errors)
    stored: list[storage.StoredFileInfo] = []
    try:
        for upload in draft.uploads:
            stored.append(await storage.accept_upload(scope, upload, domain=DOMAIN))
        for name, data in files:
            stored.append(await storage.store_bytes(scope, data, domain=DOMAIN, filename=name))
        async with db.write(scope):
            circular_id = await queries.insert_circular(
                scope,
                issuer_id,
                title=draft.title,
                body=draft.body,
                link=draft.link if linked else "",
                linked=linked,
                recipient_count=len(targets),
                issued_by=scope.user_id,
                issued_at=at or now(),
            )
            for position, info in enumerate(stored):
                await queries.insert_attachment(scope, issuer_id, circular_id, position, info.id)
            await queries.insert_recipients(scope, issuer_id, circular_id, targets)
            await audit.record(
                request,
                "circular.issued",
                tenant_id=issuer_id,
                object_type="circular",
                object_id=circular_id,
                title=draft.title,
                recipients=len(targets),
            )
    except BaseException:
        for info in stored:
            try:
                await storage.delete_file(scope, info.id)
            except Exception:
                log.warning("could not delete file %s of a failed circular", info.id)
        raise
    await tell_recipients(tree, issuer_id, circular_id, draft.title, targets)
    return circular_id


async def tell_recipients(
    tree: Tree, issuer_id: int, circular_id: int, title: str, targets: list[int]
) -> int:
    """Inbox notice to each recipient centre's managers (system scope, after the commit);
    returns how many managers were told.  A failure only logs: the circular is issued."""
    scope = system_scope(tree, reason="circulars: notice to recipient centres' managers")
    issuer = tree.nodes.get(issuer_id)
    told = 0
    for tenant_id in targets:
        node = tree.nodes.get(tenant_id)
        if node is None:
            continue
        try:
            async with db.write(scope):
                managers = [m["user_id"] for m in await ledger.managers(scope, tenant_id)]
                if managers:
                    await notify.notify(
                        scope,
                        tenant_id,
                        managers,
                        _("Circular: %(title)s", title=title),
                        body=_(
                            "Issued by %(issuer)s. Please read and acknowledge it.",
                            issuer=issuer.name if issuer else "",
                        ),
                        link=f"/t/{node.slug}/circulars/{circular_id}",
                        kind="circular",
                    )
            told += len(managers)
        except Exception:
            log.exception("circular notice to tenant %s failed", tenant_id)
    return told


# --- reading and acknowledging ------------------------------------------------------------


async def load(scope: TenantScope, tenant_id: int, circular_id: int) -> tuple[str, dict[str, Any]]:
    """(``"issuer"`` | ``"recipient"``, circular) as seen at ``tenant_id``; 404 otherwise."""
    scope.require("circular.view")
    row = await queries.issued_one(scope, tenant_id, circular_id)
    if row is not None:
        return "issuer", row
    row = await queries.received_one(scope, tenant_id, circular_id)
    if row is not None:
        return "recipient", row
    raise NotFound()


async def acknowledge(
    request: Request | None,
    scope: TenantScope,
    tenant_id: int,
    circular_id: int,
    note: str,
    *,
    at: datetime | None = None,
) -> bool:
    """The centre's manager marks the circular read (once); False if it already was."""
    scope.require("circular.acknowledge")
    role, row = await load(scope, tenant_id, circular_id)
    if role != "recipient":
        raise NotFound()
    scope.check_write(tenant_id)
    async with db.write(scope):
        done = await queries.acknowledge(
            scope, tenant_id, circular_id, scope.user_id, note, at or now()
        )
        if done:
            await audit.record(
                request,
                "circular.acknowledged",
                tenant_id=tenant_id,
                object_type="circular",
                object_id=circular_id,
                title=row["title"],
            )
    return done
