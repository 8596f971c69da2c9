"""Photos taken during an inspection: stored on the inspected centre (domain
``inspections``, images only), one row per ``client_key`` so a photo resent after the
signal dropped is stored once; served only through the inspection's own route after its
scope check (the division and the centre's manager may see them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app import db
from app.accounts import audit
from app.inspections import inspections as service
from app.inspections.queries import inspections as queries
from app.storage import queries as file_queries
from app.storage import services as storage
from app.storage.filetypes import JPEG, PNG
from app.storage.services import StoredFileInfo, UploadRefused
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.inspections")
DOMAIN = "inspections"
IMAGES = (JPEG, PNG)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


@dataclass
class Added:
    id: int
    item_key: str
    created: bool


async def add_photo(
    request: Request | None,
    scope: TenantScope,
    inspection_id: int,
    item_key: str,
    client_key: str,
    upload: UploadFile | Any,
    *,
    now: datetime | None = None,
) -> Added:
    """Store one photo for one item (``UploadRefused`` / ``InspectionError`` when refused).
    A ``client_key`` seen before returns the photo stored the first time."""
    loaded = await service.load_for_conduct(scope, inspection_id)
    if not service.valid_key(client_key):
        raise service.InspectionError(_("The photo could not be matched: take it again."), "file")
    found = await queries.photo_by_key(scope, loaded.tenant_id, client_key)
    if found is not None:
        if found["inspection_id"] != inspection_id:
            raise NotFound()
        return Added(int(found["id"]), str(found["item_key"]), False)
    if loaded.definition.item(item_key) is None:
        raise service.InspectionError(_("Choose the checklist item the photo is for."), "item_key")
    if loaded.state not in service.OPEN_STATES:
        raise service.InspectionError(
            _("This inspection has been submitted; it can no longer be changed."), ""
        )
    writer = service.acting(scope, loaded.tenant_id)
    info = await storage.accept_upload(
        writer,
        upload,
        domain=DOMAIN,
        allowed=IMAGES,
        max_bytes=MAX_PHOTO_BYTES,
        tenant_id=loaded.tenant_id,
    )
    try:
        async with db.write(writer):
            photo_id = await queries.insert_photo(
                writer,
                loaded.tenant_id,
                inspection=inspection_id,
                item_key=item_key,
                file=info.id,
                client_key=client_key,
                created_by=scope.user_id,
                **({"created_at": now} if now else {}),
            )
            await audit.record(
                request,
                "inspection.photo",
                tenant_id=loaded.tenant_id,
                object_type="inspection",
                object_id=inspection_id,
                item=item_key,
                file=info.id,
            )
    except Exception as exc:
        # The file row is the centre's: only the centre (or the system) deletes its rows.
        await storage.delete_file(
            system_scope(await tenancy.tree(), reason="inspections: drop an unused photo"),
            info.id,
        )
        if not service.unique_violation(exc):
            raise
        found = await queries.photo_by_key(scope, loaded.tenant_id, client_key)
        if found is None:
            raise
        return Added(int(found["id"]), str(found["item_key"]), False)
    return Added(photo_id, item_key, True)


async def photo_file(scope: TenantScope, inspection_id: int, photo_id: int) -> StoredFileInfo:
    """The stored file of one photo of a readable inspection (404 otherwise)."""
    loaded = await service.load(scope, inspection_id)
    photo = await queries.photo(scope, inspection_id, photo_id)
    if photo is None:
        raise NotFound()
    row = await file_queries.file_row(scope, photo["file_id"], loaded.tenant_id)
    if row is None or row["domain"] != DOMAIN:
        raise NotFound()
    return StoredFileInfo.of(row)


def by_item(photos: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in photos:
        out.setdefault(p["item_key"], []).append(p)
    return out


__all__ = ["IMAGES", "Added", "UploadRefused", "add_photo", "by_item", "photo_file"]
