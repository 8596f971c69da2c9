"""Monthly reports as .xlsx: the export jobs (request, progress, download) and the direct
download of one submission.

``POST /t/{slug}/reports/exports`` (``report.export``) asks for a roll-up (``kind=rollup``
with ``form``, ``from``, ``to``, ``under``) or one report (``kind=submission`` with
``period_id`` and ``centre``) and answers 303 to the job's page, which shows the progress
(htmx polls the status block every 2 s until the job has finished; without JavaScript a
meta refresh does) and the download link when done.  A job is its requester's own: any
other tenant or user gets 404.  One submission is small, so it is also built at once:
``…/reports/{period_id}/export.xlsx`` (the centre's own, ``report.view``) and
``…/reports/{period_id}/c/{centre}/export.xlsx`` (a reviewer, ``report.review``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from wtforms import IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.reports import exports, xlsx
from app.reports.posted import texts
from app.storage.routes import content_disposition, file_response
from app.web.auth import current_user, int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render


class ExportForm(Form):
    kind = RadioField(
        _l("Export"),
        choices=[SelectChoice(k, v) for k, v in exports.KINDS.items()],
        validate_choice=False,
    )
    form = IntegerField(_l("Report form"), [Optional()])
    first = StringField(_l("From (YYYY-MM)"), filters=[strip], name="from")
    last = StringField(_l("To (YYYY-MM)"), filters=[strip], name="to")
    under = StringField(_l("Centres under"), filters=[strip])
    period_id = IntegerField(_l("Period"), [Optional()])
    centre = StringField(_l("Centre"), filters=[strip])


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=xlsx.XLSX.mime,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _job_url(slug: str, job_id: int) -> str:
    return f"/t/{slug}/reports/exports/{job_id}"


async def request_export(request: Request) -> Response:
    scope = tenant_scope(request, "report.export")
    node, tree = tenant_node(request), tenant_tree(request)
    form = ExportForm(formdata=texts(await request.form()))
    form.validate()
    kind = form.kind.data or ""
    try:
        if kind == "rollup":
            params = await exports.rollup_params(
                scope, tree, form.form.data, form.first.data, form.last.data, form.under.data
            )
        elif kind == "submission":
            params = await exports.submission_params(
                scope, tree, form.period_id.data, form.centre.data
            )
        else:
            raise exports.ExportRefused({"kind": str(_l("Choose what to export."))})
        job_id = await exports.request_export(scope, kind, params, current_user(request), request)
    except exports.ExportRefused as refused:
        for name, message in refused.errors.items():
            form.add_error(name, message)
        return await render(
            request, "reports/export.html", {"form": form, "job": None}, status_code=422
        )
    return RedirectResponse(_job_url(node.slug, job_id), status_code=303)


async def job_page(request: Request) -> Response:
    """The job's progress; an htmx request (the poll) gets the status block only."""
    scope = tenant_scope(request, "report.export")
    node = tenant_node(request)
    job = await exports.job(scope, int_param(request, "job_id"))
    return await render(
        request,
        "reports/export.html",
        {
            "job": job,
            "form": None,
            "kinds": exports.KINDS,
            "percent": exports.percent(job),
            "finished": job["status"] in exports.FINISHED,
            "url": _job_url(node.slug, job["id"]),
        },
        block="status",
    )


async def job_file(request: Request) -> Response:
    scope = tenant_scope(request, "report.export")
    job = await exports.job(scope, int_param(request, "job_id"))
    if job["status"] != "done" or not job["file_id"]:
        raise NotFound()
    return await file_response(request, scope, int(job["file_id"]), domain=exports.DOMAIN)


async def own_submission(request: Request) -> Response:
    """The centre's own report for a period."""
    scope = tenant_scope(request, "report.view")
    data, filename = await exports.submission_export(
        scope, tenant_tree(request), int_param(request, "period_id"), scope.own()
    )
    return xlsx_response(data, filename)


async def centre_submission(request: Request) -> Response:
    """A reviewer's copy of one centre's report (a centre it supervises; 404 otherwise)."""
    scope = tenant_scope(request, "report.review")
    tree = tenant_tree(request)
    centre = tree.by_slug.get(request.path_params.get("centre", ""))
    if centre is None or centre.id not in scope.supervise_ids:
        raise NotFound()
    data, filename = await exports.submission_export(
        scope, tree, int_param(request, "period_id"), centre.id
    )
    return xlsx_response(data, filename)


routes = [
    Route("/t/{slug}/reports/exports", request_export, methods=["POST"]),
    Route("/t/{slug}/reports/exports/{job_id}", job_page),
    Route("/t/{slug}/reports/exports/{job_id}/file", job_file),
    Route("/t/{slug}/reports/{period_id}/export.xlsx", own_submission),
    Route("/t/{slug}/reports/{period_id}/c/{centre}/export.xlsx", centre_submission),
]
