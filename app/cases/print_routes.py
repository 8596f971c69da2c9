"""Printed papers of a case: the acceptance receipt (受理回执 / 三联单) and the numbered
documents (一次性告知书, 不予受理通知书, 准予/不予行政许可决定书).

Every paper is an HTML page with print CSS (DESIGN.md, Printing): the receipt on A5 or on an
80 mm thermal roll, the documents on A4 or A5.  The receipt's QR code is an SVG made on the
server (segno) of the public lookup address, built from ``PUBLIC_BASE_URL``.  Staff only
(``case.view``); a supervisor reads the cases of the subtree under the supervisor's own slug.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.cases import identity, workflow
from app.cases.queries import core
from app.catalogue.queries import templates
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web import qr
from app.web.auth import int_param, tenant_scope
from app.web.errors import NotFound
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

DOCUMENT_KINDS = {
    "notice": _l("One-time notice"),
    "refusal": _l("Notice of non-acceptance"),
    "approval": _l("Decision to grant"),
    "denial": _l("Decision not to grant"),
}
RECEIPT_PAPERS = ("a5", "80mm")
DOCUMENT_PAPERS = ("a4", "a5")
DOCUMENT_TEMPLATES = {
    "notice": "cases/print_notice.html",
    "refusal": "cases/print_refusal.html",
    "approval": "cases/print_decision.html",
    "denial": "cases/print_decision.html",
}
# States in which the case was never accepted: no receipt exists for them.
NOT_ACCEPTED = frozenset({"registered", "supplement", "refused"})


def track_url(slug: str, number: str, code: str) -> str:
    """The public lookup address printed on the receipt (and in its QR code)."""
    query = urlencode({"number": number, "code": code})
    return f"{settings.public_base_url}/t/{slug}/track?{query}"


def qr_svg(url: str) -> Markup:
    """A QR code of ``url`` with a viewBox only (sized by the print CSS)."""
    return qr.qr_svg(url, scale=1, sized=False, svgclass="qr-code")


def paper(request: Request, choices: tuple[str, ...]) -> str:
    """The ``?paper=`` asked for, or the first choice."""
    asked = request.query_params.get("paper", "")
    return asked if asked in choices else choices[0]


def accepted(case: dict[str, Any]) -> bool:
    """Whether the case was accepted (a receipt exists from then on)."""
    return case["accepted_at"] is not None and case["state"] not in NOT_ACCEPTED


def masked_applicant(case: dict[str, Any]) -> str:
    """A person's name masked; an organisation keeps its name (not personal data)."""
    if case["applicant_kind"] == "person":
        return identity.mask_name(case["applicant_name"])
    return str(case["applicant_name"])


async def _case(request: Request, scope: TenantScope) -> dict[str, Any]:
    case = await core.case(scope, int_param(request, "case_id"))
    if case is None:
        raise NotFound()
    return case


async def receipt(request: Request) -> Response:
    """GET ``?paper=a5|80mm``: the acceptance receipt of an accepted (or later) case."""
    scope = tenant_scope(request, "case.view")
    case = await _case(request, scope)
    if not accepted(case):
        raise NotFound()
    centre = await tenancy.tenant(scope, case["tenant_id"])
    version = await templates.version(scope, case["version_id"])
    content = version["content"] if version else {}
    url = track_url(case["tenant_slug"], case["number"], case["lookup_code"])
    return await render(
        request,
        "cases/print_receipt.html",
        {
            "case": case,
            "paper": paper(request, RECEIPT_PAPERS),
            "papers": RECEIPT_PAPERS,
            "applicant": masked_applicant(case),
            "id_masked": identity.mask_id(case["id_number"]),
            "centre": centre or {},
            "supervising_phone": content.get("supervising_phone", ""),
            "track_url": url,
            "qr": qr_svg(url),
            "states": workflow.STATES,
            "printed_at": datetime.now(UTC),
        },
        block=None,  # a paper is a whole page, also when htmx asks (it has no blocks)
    )


async def document(request: Request) -> Response:
    """GET ``?paper=a4|a5``: a numbered document of the case, as printed."""
    scope = tenant_scope(request, "case.view")
    case = await _case(request, scope)
    doc = await core.document(scope, int_param(request, "document_id"))
    if doc is None or doc["case_id"] != case["id"] or doc["tenant_id"] != case["tenant_id"]:
        raise NotFound()
    name = DOCUMENT_TEMPLATES.get(doc["kind"])
    if name is None:
        raise NotFound()
    centre = await tenancy.tenant(scope, case["tenant_id"])
    return await render(
        request,
        name,
        {
            "case": case,
            "doc": doc,
            "body": doc["body"],
            "granted": doc["kind"] == "approval",
            "paper": paper(request, DOCUMENT_PAPERS),
            "papers": DOCUMENT_PAPERS,
            "centre": centre or {},
        },
        block=None,
    )


routes = [
    Route("/t/{slug}/cases/{case_id:int}/receipt", receipt, methods=["GET"]),
    Route("/t/{slug}/cases/{case_id:int}/documents/{document_id:int}", document, methods=["GET"]),
]
