"""督办: a supervisor marks a red-light case for supervision, which opens a ledger item.

Only a case whose light is red or that is past its legal limit may be supervised
(``case.supervise``, the case's centre in the supervisor's subtree).  The item
(``source`` = supervision, ``source_id`` = the case id) is owned by the case's owner
(首问负责) while they are active at the centre, otherwise by the centre's first manager; it is
due ``days`` working days later on the centre's calendar.  One open supervision item per
case: pressing again points at the existing one.  After the commit the owner and the
centre's managers are told in their inbox (under a system scope, like report notices: a
supervisor does not write a centre's inbox under its own scope).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.cases import ledger
from app.cases.queries import ledger as queries
from app.cases.queries import ledger_flow
from app.notify import services as notify
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.errors import Forbidden
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.cases")
DEFAULT_DAYS = 3
MAX_DAYS = 20


class AlreadySupervised(Exception):
    def __init__(self, item_id: int) -> None:
        super().__init__(item_id)
        self.item_id = item_id


@dataclass(frozen=True)
class Opened:
    item_id: int
    tenant_id: int
    owner_id: int | None
    title: str


def is_red(case: dict[str, Any]) -> bool:
    return case.get("light") == "red" or bool(case.get("legal_exceeded"))


def may_supervise(scope: TenantScope, case: dict[str, Any]) -> bool:
    return scope.can("case.supervise") and case["tenant_id"] in scope.supervise_ids


async def _owner(scope: TenantScope, case: dict[str, Any]) -> int | None:
    members = [m for m in await accounts.members(scope, case["tenant_id"]) if m["active"]]
    if any(m["user_id"] == case["owner_id"] for m in members):
        return int(case["owner_id"])
    managers = await ledger.managers(scope, case["tenant_id"])
    return int(managers[0]["user_id"]) if managers else None


async def supervise(
    request: Request | None,
    scope: TenantScope,
    case: dict[str, Any],
    days: int | None,
    note: str,
    *,
    now: datetime | None = None,
) -> Opened:
    """Open the 督办 item of ``case`` (raises ``LedgerError`` / ``AlreadySupervised``)."""
    if not may_supervise(scope, case):
        raise Forbidden()
    if not is_red(case):
        raise ledger.LedgerError(
            _("Only a case with a red light or past its legal limit can be put under supervision."),
            "",
        )
    if days is None or not 1 <= days <= MAX_DAYS:
        raise ledger.LedgerError(
            _("The time allowed is 1 to %(n)d working days.", n=MAX_DAYS), "days"
        )
    note = (note or "").strip()
    if len(note) > ledger.NOTE_MAX:
        raise ledger.LedgerError(_("At most %(n)d characters.", n=ledger.NOTE_MAX), "note")
    now = now or datetime.now(UTC)
    tenant_id = case["tenant_id"]
    owner_id = await _owner(scope, case)
    due = await ledger.due_in(scope, tenant_id, now, days * 2)
    title = _("Supervision of case %(number)s", number=case["number"])
    detail = note or _("The case %(number)s is overdue: rectify and answer.", number=case["number"])
    async with db.write(scope):
        await ledger_flow.lock_case(scope, case["id"])
        existing = await queries.open_supervision(scope, case["id"])
        if existing is not None:
            raise AlreadySupervised(int(existing["id"]))
        item_id = await ledger.open_item(
            scope,
            tenant_id,
            "supervision",
            case["id"],
            case["id"],
            title,
            detail,
            owner_id,
            due,
            now=now,
            request=request,
        )
        await audit.record(
            request,
            "rectification.supervised",
            tenant_id=tenant_id,
            object_type="case",
            object_id=case["id"],
            rectification=item_id,
            days=days,
        )
    return Opened(item_id, tenant_id, owner_id, title)


async def tell(tree: Tree, opened: Opened, slug: str, body: str) -> int:
    """Inbox notice to the item's owner and the centre's managers, after the commit; a
    failure only logs (the item exists)."""
    scope = system_scope(tree, reason="cases: 督办 notice to the centre")
    try:
        async with db.write(scope):
            users = {m["user_id"] for m in await ledger.managers(scope, opened.tenant_id)}
            if opened.owner_id is not None:
                users.add(opened.owner_id)
            if users:
                await notify.notify(
                    scope,
                    opened.tenant_id,
                    sorted(users),
                    opened.title,
                    body=body,
                    link=f"/t/{slug}/rectifications/{opened.item_id}",
                    kind="rectification",
                )
        return len(users)
    except Exception:
        log.exception("督办 notice for rectification %s failed", opened.item_id)
        return 0
