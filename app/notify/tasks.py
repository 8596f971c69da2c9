"""Delivering channel messages: retries with backoff, held outside service hours unless urgent.

A message is claimed (``sending``, with a lease in ``next_attempt_at``) before its POST.  If
the worker dies between the claim and recording the result, nobody can know whether the
robot received it: once the lease has run out, the next job for it marks it failed and tells
the managers, and never posts it again (at most once: a group never sees a message twice;
the same notice is always in the inbox too).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from app import db
from app.accounts import queries as accounts
from app.calendar import services as calendar
from app.jobs import actor, faults
from app.jobs.leases import lease
from app.jobs.sweeps import sweep
from app.notify import queries
from app.notify.services import notify, now
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.notify")
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 10
SENDING_LEASE_SECONDS = 60  # a claim older than this belongs to a dead worker
LOST = "the worker stopped while sending: delivery unknown, not sent again"


class DeliveryFailed(Exception):
    """Raised so dramatiq retries the message with backoff."""


async def _system(reason: str) -> TenantScope:
    return system_scope(await tenancy.tree(), reason=reason)


def payload(kind: str, text: str) -> dict:
    """WeCom and DingTalk group robots both take this text message shape."""
    return {"msgtype": "text", "text": {"content": text}}


def post_json(url: str, body: dict) -> None:
    """POST and check the robot's answer; raises with a short reason on any failure."""
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL was checked to be http(s) on save
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return
    if isinstance(parsed, dict) and parsed.get("errcode", 0) not in (0, "0"):
        raise DeliveryFailed(f"errcode {parsed.get('errcode')}: {parsed.get('errmsg', '')}")


@actor(
    queue_name="notify",
    max_retries=MAX_ATTEMPTS - 1,
    min_backoff=settings.notify_min_backoff_ms,
    max_backoff=600_000,
)
async def deliver(outbound_id: int) -> None:
    scope = await _system("notify.deliver")
    row = await queries.outbound(scope, outbound_id)
    if row is None or row["status"] in ("sent", "failed"):
        return
    moment = now()
    if row["status"] == "sending":
        await _sending(scope, row, moment)
        return
    tenant_id = row["tenant_id"]
    if not row["urgent"] and not await calendar.in_service(scope, tenant_id, moment):
        async with db.write(scope):
            await queries.update_outbound(
                scope,
                outbound_id,
                status="held",
                next_attempt_at=await calendar.next_session_start(scope, tenant_id, moment),
            )
        return
    async with db.write(scope):
        if not await queries.claim_outbound(
            scope, outbound_id, moment + lease(SENDING_LEASE_SECONDS)
        ):
            return
    try:
        if not row["enabled"]:
            raise DeliveryFailed("channel disabled")
        await asyncio.to_thread(post_json, row["url"], payload(row["kind"], row["text"]))
    except DeliveryFailed as exc:
        await _failed(scope, row, str(exc))
        return
    await faults.checkpoint("notify.deliver.posted")
    async with db.write(scope):
        await queries.update_outbound(
            scope, outbound_id, status="sent", sent_at=now(), attempts=row["attempts"] + 1
        )
        await queries.channel_result(scope, row["channel_id"], now(), None)


async def _sending(scope: TenantScope, row: dict, moment: datetime) -> None:
    """Another job claimed this message: look again when its lease ends, or — past it — the
    worker died mid-send: fail it without posting again."""
    until = row["next_attempt_at"]
    if until is not None and until > moment:
        delay = int((until - moment).total_seconds() * 1000) + 1000
        deliver.send_with_options(args=(row["id"],), delay=delay)
        return
    await _failed(scope, row, LOST, lost=True)


async def _failed(scope: TenantScope, row: dict, error: str, *, lost: bool = False) -> None:
    attempts = row["attempts"] + 1
    final = lost or attempts >= MAX_ATTEMPTS or error == "channel disabled"
    log.warning("channel delivery %s failed (attempt %d): %s", row["id"], attempts, error)
    async with db.write(scope):
        if lost and not await queries.drop_lost(scope, row["id"], now()):
            return  # another job resolved it first
        await queries.update_outbound(
            scope,
            row["id"],
            status="failed" if final else "pending",
            attempts=attempts,
            last_error=error[:1000],
        )
        await queries.channel_result(scope, row["channel_id"], now(), error)
        if final:
            managers = [
                m["user_id"]
                for m in await accounts.members(scope, row["tenant_id"])
                if m["active"] and "manager" in m["roles"]
            ]
            tree = await tenancy.tree()
            await notify(
                scope,
                row["tenant_id"],
                managers,
                _("The group-robot channel could not deliver a message."),
                body=error,
                link=f"/t/{tree.nodes[row['tenant_id']].slug}/channel",
                kind="channel.failed",
            )
    if not final:
        raise DeliveryFailed(error)


@sweep("notify.release", every="minute")
async def release(slot: str) -> None:
    """Send held messages whose service session has begun, and ones that look lost."""
    scope = await _system("notify.release")
    moment = now()
    for outbound_id in await queries.due_outbound(scope, moment, moment - timedelta(minutes=10)):
        deliver.send(outbound_id)
