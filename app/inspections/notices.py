"""Telling a centre's managers about an inspection result.

The inspector cannot write a centre's inbox under its own scope (inbox rows belong to the
centre), so the notice goes out under an explicit system scope after the submission
commits — like :func:`app.reports.notices.tell_managers`.
"""

from __future__ import annotations

import logging

from app import db
from app.cases import ledger
from app.notify import services as notify
from app.tenancy.scope import Tree, system_scope

log = logging.getLogger("bianmin.inspections")


async def tell_managers(
    tree: Tree, tenant_id: int, title: str, *, body: str = "", link: str = ""
) -> int:
    """Inbox notice to the centre's active managers; returns how many were told.  A failure
    only logs: the submission itself has committed."""
    scope = system_scope(tree, reason="inspections: result to a centre's managers")
    try:
        async with db.write(scope):
            managers = [m["user_id"] for m in await ledger.managers(scope, tenant_id)]
            if managers:
                await notify.notify(
                    scope, tenant_id, managers, title, body=body, link=link, kind="inspection"
                )
        return len(managers)
    except Exception:
        log.exception("inspection notice to tenant %s failed", tenant_id)
        return 0
