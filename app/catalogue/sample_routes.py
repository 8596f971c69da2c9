"""Sample files (样表/填写示例) of an item's materials, set by the division's supervisors.

Uploading or removing a sample makes a new version (effective today, not mandatory) whose
content is the newest one with that material's ``sample_file_id`` changed.  The file is stored
before any transaction; a refused file shows its message on the item page and stores nothing.
The public serves the samples from the owner division's guide (``public_routes``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.catalogue import content as rules
from app.catalogue import versions
from app.catalogue.editor_forms import RetireForm, today
from app.catalogue.editor_routes import (
    _base,
    _editor,
    _item_context,
    _template,
    material_index,
    sample_links,
)
from app.catalogue.flowchart import flowchart_html
from app.catalogue.queries import templates as queries
from app.storage.filetypes import JPEG, PDF, PNG
from app.storage.services import UploadRefused, accept_upload
from app.tenancy.scope import TenantNode, TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.templating import render

SAMPLE_TYPES = (PDF, JPEG, PNG)
DOMAIN = "catalogue"


async def _target(
    request: Request,
) -> tuple[TenantScope, TenantNode, dict[str, Any], dict[str, Any], int]:
    """(scope, node, template row, newest version, material index) or 404."""
    scope, node = _editor(request)
    row = await _template(request, scope)
    if row["tenant_id"] != node.id:
        raise NotFound()
    index = material_index(request)
    newest = (await queries.latest_versions(scope, [row["id"]])).get(row["id"])
    if newest is None or not 0 <= index < len(newest["content"].get("materials", [])):
        raise NotFound()
    return scope, node, row, newest, index


async def _set_sample(
    request: Request,
    scope: TenantScope,
    row: dict[str, Any],
    newest: dict[str, Any],
    index: int,
    file_id: int | None,
) -> bool:
    """A new version with material ``index``'s sample set to ``file_id``; False if unchanged."""
    data = dict(newest["content"])
    materials = [dict(m) for m in data.get("materials", [])]
    materials[index]["sample_file_id"] = file_id
    data["materials"] = materials
    content = rules.validate(data)
    note = _("Sample: %(name)s", name=materials[index]["name"])
    made = await versions.revise(request, scope, row["id"], content, today(), False, note)
    return made is not None


async def _item_with_error(
    request: Request,
    scope: TenantScope,
    node: TenantNode,
    row: dict[str, Any],
    index: int,
    message: str,
) -> Response:
    ctx = await _item_context(scope, node, row)
    ctx["flowchart"] = flowchart_html(ctx["newest"]["content"], ctx["dept_names"])
    ctx["done"] = None
    ctx["retire_form"] = RetireForm()
    ctx["sample_links"] = sample_links(request, row, ctx["newest"]["content"])
    ctx["sample_error"] = {"index": index, "message": message}
    return await render(request, "catalogue/item_show.html", ctx, status_code=422)


async def sample_upload(request: Request) -> Response:
    scope, node, row, newest, index = await _target(request)
    upload = (await request.form()).get("file")
    try:
        stored = await accept_upload(scope, upload, domain=DOMAIN, allowed=SAMPLE_TYPES)
    except UploadRefused as exc:
        return await _item_with_error(request, scope, node, row, index, exc.message)
    made = await _set_sample(request, scope, row, newest, index, stored.id)
    done = "sample" if made else "unchanged"
    return RedirectResponse(f"{_base(node)}/{row['code']}?done={done}#samples", status_code=303)


async def sample_remove(request: Request) -> Response:
    scope, node, row, newest, index = await _target(request)
    made = await _set_sample(request, scope, row, newest, index, None)
    done = "sample_removed" if made else "unchanged"
    return RedirectResponse(f"{_base(node)}/{row['code']}?done={done}#samples", status_code=303)


routes = [
    Route("/t/{slug}/catalogue/{code}/materials/{index}/sample", sample_upload, methods=["POST"]),
    Route(
        "/t/{slug}/catalogue/{code}/materials/{index}/sample/remove",
        sample_remove,
        methods=["POST"],
    ),
]
