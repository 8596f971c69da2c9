"""Downloads: scope first, bytes verified, then streamed as an attachment (DESIGN.md rule 10).

Domains serve their files with ``file_response`` after their own, finer checks, e.g.::

    scope = tenant_scope(request, "case.view")
    case = await queries.case(scope, int_param(request, "case_id"))  # 404 if not theirs
    return await file_response(request, scope, case["receipt_file_id"], domain="cases")
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from app.storage.services import FileUnavailable, file_info, open_verified
from app.tenancy.scope import TenantScope
from app.web.auth import int_param, tenant_scope
from app.web.i18n import gettext as _
from app.web.templating import render

UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\[\]+-]")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return UNSAFE_ASCII.sub("_", plain).strip(" ._")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987 UTF-8 name (Chinese names)."""
    stem, _, ext = filename.rpartition(".") if "." in filename else (filename, "", "")
    fallback = (_ascii(stem) or "file") + ("." + _ascii(ext) if _ascii(ext) else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_url(slug: str, file_id: int) -> str:
    return f"/t/{slug}/files/{file_id}"


async def file_response(
    request: Request, scope: TenantScope, file_id: int, *, domain: str | None = None
) -> Response:
    """The file as a download: 404 unless it is the scope tenant's (and of ``domain``)."""
    info = await file_info(scope, file_id, domain=domain)
    try:
        verified = await open_verified(info)
    except FileUnavailable:
        return await render(
            request,
            "web/error.html",
            {
                "status": 410,
                "title": _("File damaged"),
                "text": _(
                    "This file no longer matches what was uploaded and will not be served. "
                    "The error has been logged."
                ),
            },
            status_code=410,  # gone: the stored bytes no longer match
        )
    headers = {
        "Content-Type": info.content_type,
        "Content-Length": str(info.size),
        "Content-Disposition": content_disposition(info.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(
        verified.chunks(), headers=headers, background=BackgroundTask(verified.close)
    )


async def download(request: Request) -> Response:
    """Any staff who can view the tenant; domains add finer checks on their own routes."""
    scope = tenant_scope(request, "tenant.view")
    return await file_response(request, scope, int_param(request, "file_id"))


routes = [Route("/t/{slug}/files/{file_id}", download, name="file_download")]
