"""Notifications: the inbox, and a centre's group-robot channel (sent by a job, after commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from app import db, jobs
from app.accounts import audit
from app.notify import queries
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _

KINDS = ("wecom", "dingtalk")


class ChannelError(Exception):
    def __init__(self, message: str, field: str = "url") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def now() -> datetime:
    return datetime.now(UTC)


async def notify(
    scope: TenantScope,
    tenant_id: int,
    user_ids: list[int],
    title: str,
    *,
    body: str = "",
    link: str = "",
    kind: str = "notice",
) -> None:
    """Put a message in these users' inboxes (inside the caller's transaction)."""
    await queries.add_inbox_items(scope, tenant_id, user_ids, kind, title[:200], body, link[:300])


async def post(
    scope: TenantScope, tenant_id: int, text: str, *, urgent: bool = False
) -> int | None:
    """Queue ``text`` for the centre's channel; sent by a job once the transaction commits.

    Returns the outbound id, or ``None`` when the centre has no enabled channel.  Never
    raises for a failing webhook: delivery happens later, in the worker.
    """
    channel = await queries.channel(scope, tenant_id)
    if channel is None or not channel["enabled"]:
        return None
    outbound_id = await queries.add_outbound(scope, tenant_id, channel["id"], text, urgent)
    from app.notify.tasks import deliver

    jobs.send(deliver, outbound_id)
    return outbound_id


def check_url(url: str) -> str:
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ChannelError(_("Enter the full webhook address, starting with https://."))
    return url.strip()


@dataclass
class ChannelForm:
    kind: str
    url: str
    enabled: bool


async def save_channel(request: object, scope: TenantScope, data: ChannelForm) -> None:
    scope.require("channel.manage")
    tenant_id = scope.own()
    if data.kind not in KINDS:
        raise ChannelError(_("Choose the kind of group robot."), "kind")
    url = check_url(data.url)
    async with db.write(scope):
        channel_id = await queries.save_channel(scope, tenant_id, data.kind, url, data.enabled)
        await audit.record(
            request,  # type: ignore[arg-type]
            "channel.saved",
            tenant_id=tenant_id,
            object_type="channel",
            object_id=channel_id,
            kind=data.kind,
            enabled=data.enabled,
        )


async def send_test(scope: TenantScope, centre_name: str) -> int | None:
    """An urgent test message (sent at once, whatever the hour)."""
    scope.require("channel.manage")
    async with db.write(scope):
        return await post(
            scope,
            scope.own(),
            _("Test message from the Bianmin platform for %(name)s.", name=centre_name),
            urgent=True,
        )


async def mark_read(scope: TenantScope, item_id: int | None = None) -> None:
    async with db.write(scope):
        await queries.mark_read(scope, now(), item_id)
