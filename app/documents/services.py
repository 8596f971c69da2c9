"""Rules for a centre's documents: validation, validity of authorisation letters, saving
(with the file stored first, outside the transaction), retiring, and the gap report.

An authorisation letter (授权书) is *valid* from ``valid_from`` to ``valid_until``
(inclusive, local days; no end date = open-ended), *expiring* when it ends within
``EXPIRING_DAYS`` days, *expired* after.  The gap report lists, for each centre of a
supervisor's subtree, the departments of its active adopted items without a letter in
force today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.documents import queries
from app.reports.periods import local_today
from app.storage import services as storage
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

log = logging.getLogger("bianmin.documents")
DOMAIN = "documents"
EXPIRING_DAYS = 30
KINDS = {"rules": _l("Rules compilation"), "authorisation": _l("Authorisation letter")}
STATUSES = {
    "valid": _l("Valid"),
    "expiring": _l("Expiring within 30 days"),
    "expired": _l("Expired"),
    "pending": _l("Not yet in force"),
    "retired": _l("Retired"),
}


class DocumentError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class StaleDocument(Exception):
    """Someone else saved (or retired) the document since the form was opened."""


@dataclass
class Entry:
    kind: str
    title: str
    edition: str = ""
    department_id: int | None = None
    window_id: int | None = None
    granted_by: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    upload: Any = None


def _day(value: Any) -> date | None:
    return queries._day(value)


def status(doc: dict[str, Any], today: date | None = None) -> str:
    """valid | expiring | expired | pending | retired (a rules compilation: valid/retired)."""
    today = today or local_today()
    if doc.get("retired_at") is not None:
        return "retired"
    if doc.get("kind") != "authorisation":
        return "valid"
    start, end = _day(doc.get("valid_from")), _day(doc.get("valid_until"))
    if start is not None and today < start:
        return "pending"
    if end is not None and end < today:
        return "expired"
    if end is not None and end <= today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"


async def choices(scope: TenantScope, tenant_id: int) -> tuple[list[Any], list[Any]]:
    """(departments of the shared list, the centre's windows) for the form."""
    departments = await tenancy.departments(scope)
    windows = await tenancy.windows(scope, tenant_id)
    return departments, windows


async def validate(
    scope: TenantScope, tenant_id: int, entry: Entry, *, new: bool
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if entry.kind not in KINDS:
        errors["kind"] = _("Choose the kind of document.")
        return errors
    departments, windows = await choices(scope, tenant_id)
    if entry.kind == "rules" and not entry.title:
        errors["title"] = _("Enter a title.")
    if len(entry.title) > 200:
        errors["title"] = _("At most %(n)d characters.", n=200)
    if len(entry.edition) > 40:
        errors["edition"] = _("At most %(n)d characters.", n=40)
    if len(entry.granted_by) > 120:
        errors["granted_by"] = _("At most %(n)d characters.", n=120)
    if entry.kind == "authorisation":
        if entry.department_id not in {d["id"] for d in departments}:
            errors["department"] = _("Choose the department that granted the letter.")
        if entry.window_id is not None and entry.window_id not in {w["id"] for w in windows}:
            errors["window"] = _("Choose one of the centre's windows.")
        if entry.valid_from is None:
            errors["valid_from"] = _("Enter the date the letter takes effect.")
        elif entry.valid_until is not None and entry.valid_until < entry.valid_from:
            errors["valid_until"] = _("The end date is before the start date.")
    if new and entry.upload is None:
        errors["file"] = _("Choose a file to upload.")
    if entry.upload is not None and "file" not in errors:
        try:
            await storage.check_upload(entry.upload)
        except storage.UploadRefused as exc:
            errors["file"] = exc.message
    return errors


def _values(entry: Entry, departments: list[dict[str, Any]]) -> dict[str, Any]:
    authorisation = entry.kind == "authorisation"
    title = entry.title
    if authorisation and not title:
        name = next((d["name"] for d in departments if d["id"] == entry.department_id), "")
        title = _("Authorisation letter of %(department)s", department=name)
    return {
        "title": title,
        "edition": entry.edition if not authorisation else "",
        "department": entry.department_id if authorisation else None,
        "window": entry.window_id if authorisation else None,
        "granted_by": entry.granted_by if authorisation else "",
        "valid_from": entry.valid_from if authorisation else None,
        "valid_until": entry.valid_until if authorisation else None,
    }


async def _store(scope: TenantScope, entry: Entry) -> storage.StoredFileInfo | None:
    if entry.upload is None:
        return None
    return await storage.accept_upload(scope, entry.upload, domain=DOMAIN)


async def create(
    request: Request | None, scope: TenantScope, entry: Entry, now: datetime | None = None
) -> int:
    scope.require("document.manage")
    tenant_id = scope.own()
    scope.check_write(tenant_id)
    errors = await validate(scope, tenant_id, entry, new=True)
    if errors:
        raise DocumentError(errors)
    departments, _windows = await choices(scope, tenant_id)
    info = await _store(scope, entry)
    assert info is not None
    when = now or datetime.now(UTC)
    try:
        async with db.write(scope):
            doc_id = await queries.insert_document(
                scope,
                tenant_id,
                kind=entry.kind,
                file=info.id,
                created_by=scope.user_id,
                updated_by=scope.user_id,
                created_at=when,
                updated_at=when,
                **_values(entry, departments),
            )
            await audit.record(
                request,
                "document.created",
                tenant_id=tenant_id,
                object_type="document",
                object_id=doc_id,
                kind=entry.kind,
            )
    except BaseException:
        await storage.delete_file(scope, info.id)
        raise
    return doc_id


async def update(
    request: Request | None,
    scope: TenantScope,
    doc: dict[str, Any],
    entry: Entry,
    lock_version: int,
) -> None:
    """Change the details (and replace the file when one is uploaded)."""
    scope.require("document.manage")
    tenant_id = doc["tenant_id"]
    scope.check_write(tenant_id)
    entry.kind = doc["kind"]
    errors = await validate(scope, tenant_id, entry, new=False)
    if errors:
        raise DocumentError(errors)
    departments, _windows = await choices(scope, tenant_id)
    info = await _store(scope, entry)
    values = _values(entry, departments)
    if info is not None:
        values["file"] = info.id
    try:
        async with db.write(scope):
            ok = await queries.update_document(
                scope,
                tenant_id,
                doc["id"],
                lock_version,
                updated_by=scope.user_id,
                updated_at=datetime.now(UTC),
                **values,
            )
            if not ok:
                raise StaleDocument()
            await audit.record(
                request,
                "document.updated",
                tenant_id=tenant_id,
                object_type="document",
                object_id=doc["id"],
                replaced_file=info is not None,
            )
    except BaseException:
        if info is not None:
            await storage.delete_file(scope, info.id)
        raise


async def retire(
    request: Request | None, scope: TenantScope, doc: dict[str, Any], lock_version: int
) -> None:
    scope.require("document.manage")
    tenant_id = doc["tenant_id"]
    scope.check_write(tenant_id)
    now = datetime.now(UTC)
    async with db.write(scope):
        ok = await queries.update_document(
            scope,
            tenant_id,
            doc["id"],
            lock_version,
            retired_at=now,
            updated_by=scope.user_id,
            updated_at=now,
        )
        if not ok:
            raise StaleDocument()
        await audit.record(
            request,
            "document.retired",
            tenant_id=tenant_id,
            object_type="document",
            object_id=doc["id"],
        )


# --- the gap report --------------------------------------------------------------------------


@dataclass
class Gap:
    tenant_id: int
    slug: str
    name: str
    missing: list[dict[str, Any]]  # {"id", "name", "items"}
    covered: int  # departments of adopted items that do have a valid letter


async def gaps(
    scope: TenantScope, tree: Tree, tenant_id: int, today: date | None = None
) -> list[Gap]:
    """For each centre of the subtree (the tenant itself included when it adopts items): the
    departments of its active adopted items without an authorisation letter in force."""
    today = today or local_today()
    ids = sorted(t for t in tree.subtree(tenant_id) if t in scope.read_ids)
    adopted = await queries.adopted_departments(scope, ids)
    letters = await queries.valid_letters(scope, ids, today)
    out = []
    for tid in ids:
        departments = adopted.get(tid, {})
        if not departments:
            continue
        have = letters.get(tid, set())
        missing = sorted(
            ({"id": d, **v} for d, v in departments.items() if d not in have),
            key=lambda m: (m["sort"], m["name"]),
        )
        node = tree.nodes[tid]
        out.append(Gap(tid, node.slug, node.name, missing, len(departments) - len(missing)))
    out.sort(key=lambda g: (not g.missing, g.slug))
    return out
