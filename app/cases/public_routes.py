"""The applicant's pages (no login): look a case up by number + lookup code, and rate it.

``GET /t/{slug}/track`` shows the form; with ``?number=…&code=…`` (the receipt's QR code) it
looks the case up at once.  ``POST /t/{slug}/track`` looks up from the form, ``POST
/t/{slug}/track/rate`` rates (the number and code travel again as hidden fields and are
checked again).  The tenant middleware gives these paths the centre's public scope for
GET, HEAD and POST; every page creates an anonymous session so the forms carry a CSRF token.

Answers: the case (200); no such number / wrong code (422, one identical page); too many
failed attempts (429); a rating refused because the case is rated or not finished (409).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from app.cases import ratings, tracking
from app.cases.queries import core
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LookupForm(Form):
    number = StringField(_l("Case number"), [Length(max=60)], filters=[strip])
    code = StringField(_l("Lookup code"), [Length(max=20)], filters=[strip])


class RatingForm(Form):
    number = HiddenField()
    code = HiddenField()
    channel = HiddenField(default="lookup")
    level = RadioField(
        _l("How satisfied are you with this service?"),
        choices=[SelectChoice(str(k), v) for k, v in ratings.LEVELS.items()],
        validate_choice=False,
    )
    reasons = CheckboxesField(
        _l("What was wrong? (required for 不满意 or 非常不满意)"),
        choices=[SelectChoice(k, v) for k, v in ratings.REASONS.items()],
        validate_choice=False,
    )
    comment = TextAreaField(
        _l("Comment (optional)"), [Length(max=ratings.COMMENT_MAX)], filters=[strip]
    )


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _page(
    request: Request,
    *,
    form: LookupForm | None = None,
    view: tracking.PublicView | None = None,
    rating_form: RatingForm | None = None,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    node = tenant_node(request)
    response = await render(
        request,
        "cases/track.html",
        {
            "form": form or LookupForm(),
            "view": view,
            "rating_form": rating_form,
            "error": error,
            "notice": notice,
            "levels": ratings.LEVELS,
            "centre_name": node.name,
        },
        status_code=status_code,
    )
    # The answer depends on the code typed: never cached, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def _lookup(
    request: Request, number: str, code: str, form: LookupForm
) -> dict[str, Any] | Response:
    """The verified case, or the page to answer with (not found 422 / too many 429)."""
    node = tenant_node(request)
    try:
        case = await tracking.verify(tenant_tree(request), node.id, number, code, _ip(request))
    except tracking.TooMany as exc:
        return await _page(request, form=form, error=exc.message, status_code=429)
    if case is None:
        return await _page(request, form=form, error=tracking.not_found_message(), status_code=422)
    return case


async def _reload(request: Request, case: dict[str, Any]) -> dict[str, Any]:
    fresh = await core.case(tenant_scope(request, "public.view"), case["id"])
    return fresh if fresh is not None else case


def _rating_form(number: str, code: str, channel: str) -> RatingForm:
    form = RatingForm()
    form.number.data, form.code.data, form.channel.data = number, code, channel
    return form


async def _result(
    request: Request,
    case: dict[str, Any],
    number: str,
    code: str,
    channel: str,
    *,
    rating_form: RatingForm | None = None,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    scope = tenant_scope(request, "public.view")
    view = await tracking.public_view(scope, case)
    if view.may_rate and rating_form is None:
        rating_form = _rating_form(number, code, channel)
    form = LookupForm()
    form.number.data = number
    return await _page(
        request,
        form=form,
        view=view,
        rating_form=rating_form if view.may_rate else None,
        error=error,
        notice=notice,
        status_code=status_code,
    )


async def track(request: Request) -> Response:
    """The lookup form; a lookup from the form (POST) or from the receipt's QR code (GET)."""
    tenant_scope(request, "public.view")
    if request.method == "POST":
        form = await LookupForm.from_request(request)
        channel = "lookup"
    else:
        params = request.query_params
        if "number" not in params and "code" not in params:
            return await _page(request)
        form = LookupForm(data={"number": params.get("number", ""), "code": params.get("code", "")})
        channel = "receipt"
    if not form.validate() or not form.number.data or not form.code.data:
        if not form.number.data:
            form.add_error("number", _("Enter the case number from your receipt."))
        if not form.code.data:
            form.add_error("code", _("Enter the lookup code from your receipt."))
        return await _page(request, form=form, status_code=422)
    number = tracking.normalise_number(form.number.data)
    code = tracking.normalise_code(form.code.data)
    found = await _lookup(request, number, code, form)
    if isinstance(found, Response):
        return found
    return await _result(request, found, number, code, channel)


async def rate(request: Request) -> Response:
    """POST: the rating, checked against the number and code again (and rate-limited).

    GET (e.g. after switching the language on a rating answer) shows the lookup form.
    """
    tenant_scope(request, "public.view")
    if request.method != "POST":
        return await _page(request)
    rating_form = await RatingForm.from_request(request)
    number = tracking.normalise_number(rating_form.number.data or "")
    code = tracking.normalise_code(rating_form.code.data or "")
    lookup_form = LookupForm(data={"number": number, "code": ""})
    if not number or not code:
        return await _page(
            request, form=lookup_form, error=tracking.not_found_message(), status_code=422
        )
    found = await _lookup(request, number, code, lookup_form)
    if isinstance(found, Response):
        return found
    channel = rating_form.channel.data or "lookup"
    try:
        if not rating_form.validate():
            raise ratings.RatingError(_("Check the form."), "")
        data = ratings.clean(
            rating_form.level.data or "",
            list(rating_form.reasons.data or []),
            rating_form.comment.data or "",
            channel,
        )
        await ratings.rate(request, tenant_tree(request), found, data)
    except ratings.RatingError as exc:
        if exc.conflict:
            return await _result(
                request,
                await _reload(request, found),
                number,
                code,
                channel,
                error=exc.message,
                status_code=409,
            )
        if exc.field:
            rating_form.add_error(exc.field, exc.message)
        return await _result(
            request,
            found,
            number,
            code,
            channel,
            rating_form=rating_form,
            error="" if exc.field else exc.message,
            status_code=422,
        )
    return await _result(
        request,
        await _reload(request, found),
        number,
        code,
        channel,
        notice=_("Thank you for your rating. It goes to the centre's manager."),
    )


routes = [
    Route("/t/{slug}/track", track, methods=["GET", "POST"]),
    Route("/t/{slug}/track/rate", rate, methods=["GET", "POST"]),
]
