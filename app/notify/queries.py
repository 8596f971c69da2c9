"""All database access for the inbox, channels and outbound messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.columns.combination import And, Where
from piccolo.querystring import QueryString

from app import db
from app.notify.tables import Channel, InboxItem, Outbound
from app.tenancy.scope import TenantScope

# --- inbox (personal rows: a user sees only their own) --------------------------------


async def add_inbox_items(
    scope: TenantScope,
    tenant_id: int,
    user_ids: list[int],
    kind: str,
    title: str,
    body: str,
    link: str,
) -> None:
    scope.check_write(tenant_id)
    # Plain INSERTs without RETURNING (Piccolo adds one on PostgreSQL): under row-level
    # security the new rows are visible only to their recipients, not to the writer.
    for uid in user_ids:
        await db.engine().run_querystring(
            QueryString(
                "INSERT INTO inbox_item (tenant_id, user_id, kind, title, body, link, created_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, CURRENT_TIMESTAMP)",
                tenant_id,
                uid,
                kind,
                title,
                body,
                link,
            )
        )


async def unread_count(scope: TenantScope) -> int:
    async with db.read(scope):
        return await InboxItem.count().where(
            (InboxItem.user == scope.user_id) & InboxItem.read_at.is_null()
        )


async def inbox(
    scope: TenantScope, limit: int = 50, before_id: int | None = None
) -> list[dict[str, Any]]:
    where: Where | And = InboxItem.user == scope.user_id
    if before_id:
        where &= InboxItem.id < before_id
    async with db.read(scope):
        return (
            await InboxItem.select(
                *InboxItem.all_columns(),
                InboxItem.tenant.name.as_alias("tenant_name"),
            )
            .where(where)
            .order_by(InboxItem.id, ascending=False)
            .limit(limit)
        )


async def inbox_item(scope: TenantScope, item_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await InboxItem.select()
            .where((InboxItem.id == item_id) & (InboxItem.user == scope.user_id))
            .first()
        )


async def mark_read(scope: TenantScope, now: datetime, item_id: int | None = None) -> None:
    where: Where | And = (InboxItem.user == scope.user_id) & InboxItem.read_at.is_null()
    if item_id is not None:
        where &= InboxItem.id == item_id
    await InboxItem.update({InboxItem.read_at: now}).where(where)


# --- channels ---------------------------------------------------------------------------


async def channel(scope: TenantScope, tenant_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Channel.select()
            .where((Channel.tenant == tenant_id) & Channel.tenant.is_in(list(scope.read_ids)))
            .first()
        )


async def save_channel(
    scope: TenantScope, tenant_id: int, kind: str, url: str, enabled: bool
) -> int:
    scope.check_write(tenant_id)
    row = await Channel.select(Channel.id).where(Channel.tenant == tenant_id).first()
    if row is None:
        rows = await Channel.insert(
            Channel(tenant=tenant_id, kind=kind, url=url, enabled=enabled)
        ).returning(Channel.id)
        return rows[0]["id"]
    await Channel.update({Channel.kind: kind, Channel.url: url, Channel.enabled: enabled}).where(
        Channel.id == row["id"]
    )
    return row["id"]


async def channels_with_tenants(scope: TenantScope) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await Channel.select(
                *Channel.all_columns(),
                Channel.tenant.name.as_alias("tenant_name"),
                Channel.tenant.slug.as_alias("tenant_slug"),
            )
            .where(Channel.tenant.is_in(list(scope.read_ids)))
            .order_by(Channel.failures, ascending=False)
            .order_by(Channel.id)
        )


async def channel_result(
    scope: TenantScope, channel_id: int, now: datetime, error: str | None
) -> None:
    if error is None:
        await Channel.update({Channel.last_ok_at: now, Channel.failures: 0}).where(
            Channel.id == channel_id
        )
    else:
        await Channel.update(
            {
                Channel.last_error: error[:1000],
                Channel.last_error_at: now,
                Channel.failures: Channel.failures + 1,
            }
        ).where(Channel.id == channel_id)


# --- outbound ---------------------------------------------------------------------------


async def add_outbound(
    scope: TenantScope, tenant_id: int, channel_id: int, text: str, urgent: bool
) -> int:
    scope.check_write(tenant_id)
    rows = await Outbound.insert(
        Outbound(tenant=tenant_id, channel=channel_id, text=text, urgent=urgent)
    ).returning(Outbound.id)
    return rows[0]["id"]


async def outbound(scope: TenantScope, outbound_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Outbound.select(
                *Outbound.all_columns(),
                Outbound.channel.url.as_alias("url"),
                Outbound.channel.kind.as_alias("kind"),
                Outbound.channel.enabled.as_alias("enabled"),
            )
            .where((Outbound.id == outbound_id) & Outbound.tenant.is_in(list(scope.read_ids)))
            .first()
        )


async def update_outbound(scope: TenantScope, outbound_id: int, **values: Any) -> None:
    await Outbound.update({getattr(Outbound, k): v for k, v in values.items()}).where(
        (Outbound.id == outbound_id) & Outbound.tenant.is_in(list(scope.write_ids))
    )


async def claim_outbound(scope: TenantScope, outbound_id: int, lease_until: datetime) -> bool:
    """Take a message for sending (pending/held → sending, the claim's lease ending at
    ``lease_until``); ``False`` if another has it."""
    rows = (
        await Outbound.update({Outbound.status: "sending", Outbound.next_attempt_at: lease_until})
        .where(
            (Outbound.id == outbound_id)
            & Outbound.status.is_in(["pending", "held"])
            & Outbound.tenant.is_in(list(scope.write_ids))
        )
        .returning(Outbound.id)
    )
    return bool(rows)


async def drop_lost(scope: TenantScope, outbound_id: int, now: datetime) -> bool:
    """Take a ``sending`` message whose claim's lease has ended (its worker died) so that it
    can be failed once; ``False`` if it is not (or no longer) such a message."""
    rows = (
        await Outbound.update({Outbound.status: "failed"})
        .where(
            (Outbound.id == outbound_id)
            & (Outbound.status == "sending")
            & (Outbound.next_attempt_at.is_null() | (Outbound.next_attempt_at < now))
            & Outbound.tenant.is_in(list(scope.write_ids))
        )
        .returning(Outbound.id)
    )
    return bool(rows)


async def due_outbound(scope: TenantScope, now: datetime, stale_before: datetime) -> list[int]:
    """Held messages whose time has come, and pending or sending ones that look lost."""
    async with db.read(scope):
        rows = await Outbound.select(Outbound.id).where(
            (
                (Outbound.status == "held") & (Outbound.next_attempt_at <= now)
                | (
                    Outbound.status.is_in(["pending", "sending"])
                    & (Outbound.created_at < stale_before)
                )
            )
            & Outbound.tenant.is_in(list(scope.read_ids))
        )
    return [r["id"] for r in rows]


async def recent_outbound(
    scope: TenantScope, tenant_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await Outbound.select()
            .where((Outbound.tenant == tenant_id) & Outbound.tenant.is_in(list(scope.read_ids)))
            .order_by(Outbound.id, ascending=False)
            .limit(limit)
        )
