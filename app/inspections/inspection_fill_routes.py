"""Filling an inspection in on a phone: one checklist section per screen.

``GET  /t/{slug}/inspections/{inspection_id}/fill/{section}`` — the section's items (score,
note, photo from the camera), its progress, previous / next.
``POST /t/{slug}/inspections/{inspection_id}/save`` — the section's answers (``section``,
``lock_version``, ``save_id``, ``score_<item>``, ``note_<item>``, optional ``photo_<item>``
files): a plain form gets 303 to the next section (``go`` = prev / next / summary / stay),
static/js/inspection.js's autosave (``Accept: application/json``) gets JSON.  Bad scores:
422 with the input kept; a stale ``lock_version``: 409; a resent ``save_id``: answered
like the first time.
``POST /t/{slug}/inspections/{inspection_id}/photos`` — one photo (``item_key``,
``client_key``, ``file``); ``GET …/photos/{photo_id}`` streams it after the scope check.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from app.inspections import answers as answers_service
from app.inspections import inspections as service
from app.inspections import photos as photo_service
from app.inspections import scoring
from app.inspections.queries import inspections as queries
from app.storage.services import FileUnavailable, UploadRefused, open_verified
from app.web.auth import int_param, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.templating import render


def base_url(request: Request, inspection_id: int) -> str:
    return f"/t/{tenant_node(request).slug}/inspections/{inspection_id}"


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _section_param(value: Any, loaded: service.Loaded) -> int:
    try:
        section = int(str(value))
    except ValueError:
        raise NotFound() from None
    if not 0 <= section < len(loaded.definition.sections):
        raise NotFound()
    return section


async def fill_page(
    request: Request,
    loaded: service.Loaded,
    section: int,
    *,
    posted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    spec = loaded.definition.sections[section]
    photos = photo_service.by_item(await queries.photos(scope, loaded.id))
    totals = scoring.totals(loaded.definition, loaded.answers)
    posted = posted or {}
    items = []
    for item in spec.items:
        entry = loaded.answers.get(item.key)
        entry = entry if isinstance(entry, dict) else {}
        items.append(
            {
                "def": item,
                "score": posted.get(f"score_{item.key}", str(entry.get("score", "") or "")),
                "note": posted.get(f"note_{item.key}", str(entry.get("note", "") or "")),
                "quick": scoring.quick_scores(item.max_score),
                "photos": photos.get(item.key, []),
                "error": (errors or {}).get(item.key, ""),
            }
        )
    return await render(
        request,
        "inspections/inspection_fill.html",
        {
            "inspection": loaded.row,
            "definition": loaded.definition,
            "section": section,
            "spec": spec,
            "items": items,
            "totals": totals,
            "count": len(loaded.definition.sections),
            "base": base_url(request, loaded.id),
            "save_id": service.new_key(),
            "message": message,
            "saved": request.query_params.get("saved") == "1",
            "states": service.STATES,
        },
        status_code=status_code,
    )


async def fill(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    loaded = await service.load_for_conduct(scope, int_param(request, "inspection_id"))
    section = _section_param(request.path_params.get("section", ""), loaded)
    if loaded.state not in service.OPEN_STATES:
        return RedirectResponse(base_url(request, loaded.id), status_code=303)
    return await fill_page(request, loaded, section)


def _photo_key(save_id: str, item_key: str) -> str:
    """A photo sent with a plain form save: resending the same save gives the same key."""
    return hashlib.sha256(f"{save_id}:{item_key}".encode()).hexdigest()[:48]


async def save(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    inspection_id = int_param(request, "inspection_id")
    loaded = await service.load_for_conduct(scope, inspection_id)
    form = await request.form()
    section = _section_param(form.get("section", ""), loaded)
    posted = {k: v.replace("\x00", "") for k, v in form.items() if isinstance(v, str)}
    try:
        lock_version = int(posted.get("lock_version", ""))
    except ValueError:
        lock_version = -1
    save_id = posted.get("save_id", "")
    if save_id and not service.valid_key(save_id):
        save_id = ""
    answers, errors = answers_service.parse_section(loaded, section, posted)
    # Photos of a plain (no-JavaScript) form post come along with the save.
    for item in loaded.definition.sections[section].items:
        upload = form.get(f"photo_{item.key}")
        if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
            continue
        try:
            key = _photo_key(save_id or service.new_key(), item.key)
            await photo_service.add_photo(request, scope, inspection_id, item.key, key, upload)
        except (UploadRefused, service.InspectionError) as exc:
            errors[item.key] = exc.message
    if errors:
        if wants_json(request):
            return JSONResponse({"errors": errors}, status_code=422)
        return await fill_page(
            request, loaded, section, posted=posted, errors=errors, status_code=422
        )
    try:
        saved = await answers_service.save_section(
            request,
            scope,
            inspection_id,
            section,
            answers,
            lock_version=lock_version,
            save_id=save_id,
        )
    except service.Conflict as exc:
        if wants_json(request):
            return JSONResponse(
                {"error": exc.message, "lock_version": exc.lock_version}, status_code=409
            )
        loaded = await service.load_for_conduct(scope, inspection_id)
        return await fill_page(
            request, loaded, section, posted=posted, message=exc.message, status_code=409
        )
    if wants_json(request):
        return JSONResponse({"lock_version": saved.lock_version, "repeated": saved.repeated})
    base = base_url(request, inspection_id)
    go = posted.get("go", "next")
    last = len(loaded.definition.sections) - 1
    if go == "prev" and section > 0:
        return RedirectResponse(f"{base}/fill/{section - 1}", status_code=303)
    if go == "next" and section < last:
        return RedirectResponse(f"{base}/fill/{section + 1}", status_code=303)
    if go == "stay":
        return RedirectResponse(f"{base}/fill/{section}?saved=1", status_code=303)
    return RedirectResponse(base, status_code=303)


async def upload_photo(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    inspection_id = int_param(request, "inspection_id")
    loaded = await service.load_for_conduct(scope, inspection_id)
    form = await request.form()
    item_key = str(form.get("item_key", ""))
    client_key = str(form.get("client_key", "")) or service.new_key()
    try:
        added = await photo_service.add_photo(
            request, scope, inspection_id, item_key, client_key, form.get("file")
        )
    except (UploadRefused, service.InspectionError) as exc:
        if wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=422)
        section = next(
            (
                i
                for i, s in enumerate(loaded.definition.sections)
                if any(it.key == item_key for it in s.items)
            ),
            0,
        )
        return await fill_page(
            request, loaded, section, errors={item_key: exc.message}, status_code=422
        )
    base = base_url(request, inspection_id)
    url = f"{base}/photos/{added.id}"
    if wants_json(request):
        return JSONResponse(
            {"id": added.id, "item_key": added.item_key, "url": url, "created": added.created},
            status_code=201 if added.created else 200,
        )
    section = next(
        (
            i
            for i, s in enumerate(loaded.definition.sections)
            if any(it.key == added.item_key for it in s.items)
        ),
        0,
    )
    return RedirectResponse(f"{base}/fill/{section}", status_code=303)


async def photo(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.view")
    info = await photo_service.photo_file(
        scope, int_param(request, "inspection_id"), int_param(request, "photo_id")
    )
    try:
        verified = await open_verified(info)
    except FileUnavailable:
        raise NotFound() from None
    headers = {
        "Content-Type": info.content_type,
        "Content-Length": str(info.size),
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    }
    return StreamingResponse(
        verified.chunks(), headers=headers, background=BackgroundTask(verified.close)
    )


__all__ = ["fill", "photo", "save", "upload_photo", "wants_json"]
