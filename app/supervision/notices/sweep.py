"""The light-notice sweep.

Every case whose *stored* light is yellow or red (clock running, not paused) and that has
no :class:`~app.supervision.tables.LightNotice` for that light and promised due moment is a
candidate (an anti-join, read in batches).  Per centre, only inside its service hours
(a working day of its calendar, within a morning or afternoon session): outside them the
candidates simply wait for a later run.  For each case one write inserts the notice row
(``ON CONFLICT DO NOTHING``) and — only when that insert took — puts the notice in the
inboxes of the case owner and the centre's active managers (and, for red, queues it on
the centre's channel).  A second run, or a second scheduler, finds the row and sends
nothing again.  Runs under an explicit system scope: the sweep crosses tenants.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from app import db
from app.calendar import services as calendar
from app.cases import ledger
from app.notify import services as notify
from app.supervision.queries import notices as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.supervision")

BATCH = 200


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _message(case: dict[str, Any]) -> tuple[str, str]:
    from app.web.templating import local_time

    due = local_time(_when(case["promised_due_at"]))
    if case["light"] == "red":
        title = _("Red light: case %(number)s is overdue", number=case["number"])
        body = _(
            "%(item)s — the promised date %(due)s has passed. Conclude it or record why.",
            item=case["item_name"],
            due=due,
        )
    else:
        title = _("Yellow light: case %(number)s is due soon", number=case["number"])
        body = _(
            "%(item)s — promised for %(due)s. Please make sure it is concluded on time.",
            item=case["item_name"],
            due=due,
        )
    return title, body


async def _notify_case(
    scope: TenantScope, tree: Tree, case: dict[str, Any], managers: list[int], now: datetime
) -> int:
    """One case in one write: the notice row first, the inbox only if it took."""
    tenant_id = int(case["tenant_id"])
    recipients = sorted({int(case["owner_id"]), *managers})
    async with db.write(scope):
        claimed = await queries.claim(
            scope, tenant_id, int(case["id"]), case["light"], len(recipients), now
        )
        if claimed is None:
            return 0
        title, body = _message(case)
        slug = tree.nodes[tenant_id].slug
        await notify.notify(
            scope,
            tenant_id,
            recipients,
            title,
            body=body,
            link=f"/t/{slug}/cases/{case['id']}",
            kind="light",
        )
        if case["light"] == "red":
            await notify.post(scope, tenant_id, f"{title}\n{body}", urgent=True)
    return 1


async def send_light_notices(now: datetime | None = None, *, only: list[int] | None = None) -> int:
    """The sweep's body: notify every new yellow or red light of centres now in service
    hours (of ``only`` these centres, when given); returns how many cases were notified."""
    now = now or datetime.now(UTC)
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="supervision: light notices")
    open_now = []
    for tenant_id in await queries.tenants_waiting(scope):
        if only is not None and tenant_id not in only:
            continue
        cal = await calendar.load(scope, tenant_id, tree)
        if cal.in_service(now):
            open_now.append(tenant_id)
    if not open_now:
        return 0
    managers: dict[int, list[int]] = {}
    for tenant_id in open_now:
        managers[tenant_id] = [int(m["user_id"]) for m in await ledger.managers(scope, tenant_id)]
    sent, after = 0, 0
    while True:
        batch = await queries.waiting(scope, open_now, after, BATCH)
        if not batch:
            break
        by_tenant: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for case in batch:
            by_tenant[int(case["tenant_id"])].append(case)
        for tenant_id, cases in by_tenant.items():
            for case in cases:
                try:
                    sent += await _notify_case(scope, tree, case, managers[tenant_id], now)
                except Exception:  # one broken case must not stop the others
                    log.exception("light notice for case %s failed", case["id"])
        after = int(batch[-1]["id"])
        if len(batch) < BATCH:
            break
    if sent:
        log.info("sent %d light notices", sent)
    return sent
