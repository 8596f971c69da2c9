"""Saving the division's assessment scheme: each save appends a version (valid from the
month it is saved in); "use the recommended rules" creates version 1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.metrics import month_key
from app.staff import scheme as schemes
from app.staff.queries import assessment as queries
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden
from app.web.i18n import gettext as _


class Stale(Exception):
    """Someone saved the scheme since this copy was loaded."""


class AlreadyDefined(Exception):
    """The recommended rules only start an empty scheme."""


def _may_define(scope: TenantScope, kind: str) -> int:
    if not scope.can("assessment.define") or kind != "division":
        raise Forbidden()
    owner = scope.own()
    if owner not in scope.write_ids:
        raise Forbidden()
    return owner


async def save(
    request: Request | None,
    scope: TenantScope,
    kind: str,
    rows: Sequence[Mapping[str, str]],
    note: str,
    lock_version: int | None,
    *,
    now: datetime | None = None,
) -> int:
    """Validate and save a new version; returns its number (SchemeError, Stale)."""
    owner = _may_define(scope, kind)
    now = now or datetime.now(UTC)
    components = schemes.validate(rows)
    async with db.write(scope):
        current = await queries.scheme_of(scope, owner)
        versions: list[dict[str, Any]] = list(current["versions"]) if current else []
        if current is not None and lock_version != current["lock_version"]:
            raise Stale()
        version: dict[str, Any] = {
            "number": len(versions) + 1,
            "from_month": month_key(now),
            "components": components,
            "note": note.strip()[:200],
            "saved_at": now.isoformat(),
            "saved_by": scope.user_id,
        }
        versions.append(version)
        if current is None:
            await queries.insert_scheme(scope, owner, versions, now)
        elif not await queries.update_scheme(
            scope, owner, int(current["lock_version"]), versions, now
        ):
            raise Stale()
        await audit.record(
            request, "assessment.rules_saved", tenant_id=owner, object_type="assessment_scheme",
            object_id=owner, version=version["number"],
        )  # fmt: skip
    return int(version["number"])


async def use_recommended(
    request: Request | None, scope: TenantScope, kind: str, *, now: datetime | None = None
) -> int:
    """Create version 1 from the recommended rules (only while no scheme exists)."""
    owner = _may_define(scope, kind)
    if await queries.scheme_of(scope, owner) is not None:
        raise AlreadyDefined()
    return await save(
        request, scope, kind, schemes.RECOMMENDED, _("Recommended rules"), None, now=now
    )
