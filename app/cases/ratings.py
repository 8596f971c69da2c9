"""The applicant's rating (好差评): once per case, from the lookup page or the receipt's QR.

Which cases may be rated: every *finished* case — ``concluded`` and ``delivered``, and also
``refused`` (不予受理) and ``returned`` (退回).  The national 好差评 rules (国办发〔2019〕51号,
GB/T 39734-2020) let the applicant rate every service event, and a refusal or a return is
exactly where a bad experience most needs to reach the centre's rectification ledger.  Open
cases (still being handled) cannot be rated yet.

Levels 5 非常满意 … 1 非常不满意; a rating of 2 (不满意) or 1 needs at least one of the
GB/T 39734 reasons and opens an item in the centre's rectification ledger
(:func:`app.cases.ledger.open_item`) owned by the centre's manager, due in 5 working days,
in the same transaction; the managers get an inbox notice once it has committed.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.cases import ledger
from app.cases.queries import core
from app.cases.queries import public as queries
from app.cases.tracking import RATEABLE, writer_scope
from app.notify import services as notify
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

log = logging.getLogger("bianmin.cases")

LEVELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Basically satisfied"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}
LOW = 2  # 不满意 or worse opens a rectification
# GB/T 39734-2020 reasons for a low rating.
REASONS = {
    "policy": _l("Policy not explained / service guide unclear"),
    "repeat_materials": _l("Asked to submit the same materials again"),
    "slow": _l("Took too long / concluded late"),
    "many_trips": _l("Had to come back several times"),
    "attitude": _l("Poor service attitude"),
    "unskilled": _l("Window staff did not know the business"),
    "system": _l("System failure / online service hard to use"),
    "other": _l("Other"),
}
CHANNELS = {"lookup": _l("Lookup page"), "receipt": _l("Receipt QR code")}
COMMENT_MAX = 500


class RatingError(Exception):
    """Refused: a form problem (422) or the case cannot be rated (``conflict``: 409)."""

    def __init__(self, message: str, field: str = "", conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True)
class RatingInput:
    level: int
    reasons: list[str]
    comment: str
    channel: str


@dataclass(frozen=True)
class Rated:
    rating_id: int
    rectification_id: int | None


def clean(level: str, reasons: list[str], comment: str, channel: str) -> RatingInput:
    """Validate the form's values (raises :class:`RatingError` on a field)."""
    try:
        value = int(level)
    except (TypeError, ValueError):
        value = 0
    if value not in LEVELS:
        raise RatingError(_("Choose how satisfied you are."), "level")
    chosen = [r for r in REASONS if r in set(reasons or [])]
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise RatingError(_("At most %(n)d characters.", n=COMMENT_MAX), "comment")
    if value <= LOW:
        if not chosen:
            raise RatingError(_("Tell us at least one reason you are not satisfied."), "reasons")
        if chosen == ["other"] and not comment:
            raise RatingError(_("Describe the other reason in the comment."), "comment")
    else:
        chosen = []  # reasons belong to a low rating only
    return RatingInput(value, chosen, comment, channel if channel in CHANNELS else "lookup")


def already_rated() -> RatingError:
    return RatingError(_("This case has already been rated. Thank you."), conflict=True)


def _unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(exc, asyncpg.exceptions.UniqueViolationError)


def _detail(data: RatingInput) -> str:
    parts = [str(LEVELS[data.level])]
    if data.reasons:
        parts.append("、".join(str(REASONS[r]) for r in data.reasons))
    if data.comment:
        parts.append(data.comment)
    return "\n".join(parts)


async def rate(
    request: Request | None,
    tree: Tree,
    case: dict[str, Any],
    data: RatingInput,
    now: datetime | None = None,
) -> Rated:
    """Store the one rating of a verified case (see :func:`app.cases.tracking.verify`)."""
    now = now or datetime.now(UTC)
    tenant_id = case["tenant_id"]
    scope = writer_scope(tree, tenant_id)
    low = data.level <= LOW
    owners: list[dict[str, Any]] = []
    due_at = None
    if low:
        owners = await ledger.managers(scope, tenant_id)
        due_at = await ledger.due_in(scope, tenant_id, now, ledger.DUE_HALVES)
    rectification_id = None
    try:
        async with db.write(scope):
            fresh = await core.case(scope, case["id"])
            if fresh is None or fresh["tenant_id"] != tenant_id:
                raise RatingError(_("This case cannot be rated."), conflict=True)
            if fresh["state"] not in RATEABLE:
                raise RatingError(_("The case can be rated once it is concluded."), conflict=True)
            if fresh["rated"] or await queries.rating_of_case(scope, fresh["id"]) is not None:
                raise already_rated()
            rating_id = await queries.insert_rating(
                scope,
                tenant_id,
                fresh["id"],
                level=data.level,
                reasons=data.reasons,
                comment=data.comment,
                channel=data.channel,
                at=now,
            )
            await core.insert_event(
                scope,
                tenant_id,
                fresh["id"],
                at=now,
                action="rated",
                actor_id=None,
                state=fresh["state"],
                note=data.comment,
                data={"level": data.level, "reasons": data.reasons, "rating": rating_id},
            )
            await core.update_case(scope, fresh["id"], now, rated=True)
            if low:
                assert due_at is not None
                rectification_id = await ledger.open_item(
                    scope,
                    tenant_id,
                    "rating",
                    rating_id,
                    fresh["id"],
                    f"{fresh['number']} · {fresh['item_name']}",
                    _detail(data),
                    owners[0]["user_id"] if owners else None,
                    due_at,
                    now=now,
                    request=request,
                )
    except RatingError:
        raise
    except Exception as exc:
        if _unique_violation(exc):  # a second rating raced this one
            raise already_rated() from None
        raise
    if rectification_id is not None and owners:
        await _notify(scope, tenant_id, case, rectification_id, [m["user_id"] for m in owners])
    return Rated(rating_id, rectification_id)


async def _notify(
    scope: TenantScope, tenant_id: int, case: dict[str, Any], item_id: int, user_ids: list[int]
) -> None:
    """The managers' inbox notice, once the rating has committed (a failure only logs)."""
    try:
        async with db.write(scope):
            await notify.notify(
                scope,
                tenant_id,
                user_ids,
                _("A low rating opened a rectification item: %(title)s", title=case["number"]),
                body=case["item_name"],
                link=f"/t/{case['tenant_slug']}/rectifications/{item_id}",
                kind="rectification",
            )
    except Exception:
        log.exception("inbox notice for rectification %s failed", item_id)
