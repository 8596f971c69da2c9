"""Telling a centre's managers about their monthly report (returned, approved, exception,
reminders): the inbox, and for reminders the centre's group-robot channel.

Reviewers write nothing in a centre's inbox under their own scope (inbox rows belong to the
centre), so the notice goes out under an explicit system scope after the review commits.
"""

from __future__ import annotations

import logging

from app import db
from app.cases import ledger
from app.notify import services as notify
from app.tenancy.scope import Tree, system_scope

log = logging.getLogger("bianmin.reports")


async def tell_managers(
    tree: Tree,
    tenant_id: int,
    title: str,
    *,
    body: str = "",
    link: str = "",
    channel: bool = False,
) -> int:
    """Inbox notice to the centre's active managers (and its channel when asked); returns
    how many managers were told.  A failure only logs: the review itself has committed."""
    scope = system_scope(tree, reason="reports: notice to a centre's managers")
    try:
        async with db.write(scope):
            managers = [m["user_id"] for m in await ledger.managers(scope, tenant_id)]
            if managers:
                await notify.notify(
                    scope, tenant_id, managers, title, body=body, link=link, kind="report"
                )
            if channel:
                await notify.post(scope, tenant_id, f"{title}\n{body}".strip())
        return len(managers)
    except Exception:
        log.exception("report notice to tenant %s failed", tenant_id)
        return 0
