"""One ledger item's page (``cases/ledger_item.html``) and the forms it shows.

Rating items show the four steps; finding and 督办 items show their history (answers,
verifications, extensions), the evidence files, the centre's answer form and the
inspector's verification form — each only to whom may use it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.cases import ledger, ledger_evidence, ratings
from app.cases.queries import ledger_flow
from app.cases.queries import public as public_queries
from app.storage.filetypes import accept
from app.tenancy.scope import TenantScope
from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render


class StepForm(Form):
    note = TextAreaField(_l("Note"), filters=[strip])
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(k, v) for k, v in ledger.OUTCOMES.items()],
        validate_choice=False,
    )


class ExtendForm(Form):
    days = IntegerField(_l("Extend by (working days)"), [Optional()])
    reason = TextAreaField(_l("Reason for the extension"), filters=[strip])


class AnswerForm(Form):
    note = TextAreaField(_l("What was done"), filters=[strip])


class VerifyForm(Form):
    decision = RadioField(
        _l("Verification"),
        choices=[SelectChoice(k, v) for k, v in ledger_evidence.DECISIONS.items()],
        validate_choice=False,
    )
    note = TextAreaField(_l("Verification note"), filters=[strip])


NOTICES = {
    "answer": _l("Answer saved: the inspector will verify it."),
    "verify": _l("Verification saved."),
    "supervise": _l("The case is under supervision: the centre has been told."),
    "already": _l("This case is already under supervision: here is the open item."),
}


async def item_page(
    request: Request,
    scope: TenantScope,
    item: dict[str, Any],
    *,
    step_form: StepForm | None = None,
    extend_form: ExtendForm | None = None,
    answer_form: AnswerForm | None = None,
    verify_form: VerifyForm | None = None,
    files_error: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    rating = None
    if item["source"] == "rating" and item["source_id"]:
        rating = await public_queries.rating(scope, item["source_id"])
    steps = [
        {
            "name": name,
            "label": spec.label,
            "note": item[spec.note_column],
            "at": item[spec.at_column],
        }
        for name, spec in ledger.STEPS.items()
        if item[spec.at_column] is not None
    ]
    flow = ledger.inspection_flow(item)
    history = await ledger_flow.steps(scope, item["id"]) if flow else []
    files = await ledger_flow.evidence(scope, item["id"])
    for step in history:
        step["files"] = [f for f in files if f["step_id"] == step["id"]]
    loose = [f for f in files if f["step_id"] is None or not flow]
    done = request.query_params.get("done", "")
    notice: Any = ""
    if done in ledger.STEPS or done == "extend":
        notice = _("Saved.")
    elif done in NOTICES:
        notice = NOTICES[done]
    return await render(
        request,
        "cases/ledger_item.html",
        {
            "item": item,
            "rating": rating,
            "steps": [] if flow else steps,
            "flow": flow,
            "history": history,
            "loose_files": loose,
            "step_kinds": ledger_evidence.STEP_KINDS,
            "state_label": ledger_evidence.state_label(item),
            "next_step": ledger.next_step(item),
            "may_act": ledger.may_act(scope, item),
            "may_answer": ledger_evidence.may_answer(scope, item),
            "may_verify": ledger_evidence.may_verify(scope, item),
            "overdue": ledger.is_overdue(item),
            "step_form": step_form or StepForm(),
            "extend_form": extend_form or ExtendForm(),
            "answer_form": answer_form or AnswerForm(),
            "verify_form": verify_form or VerifyForm(),
            "files_error": files_error,
            "accept_types": accept(ledger_evidence.EVIDENCE_TYPES),
            "max_files": ledger_evidence.MAX_FILES,
            "error": error,
            "notice": notice,
            "states": ledger.STATES,
            "sources": ledger.SOURCES,
            "outcomes": ledger.OUTCOMES,
            "levels": ratings.LEVELS,
            "reasons": ratings.REASONS,
            "channels": ratings.CHANNELS,
            "max_days": ledger.MAX_EXTENSION_DAYS,
        },
        status_code=status_code,
    )
