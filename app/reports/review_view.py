"""What a reviewer sees of one centre's report of one period: its values with the
case-record figures and the centre's correction notes, the rule results with the centre's
comments, the history (with the fields changed at each resubmission), the timeliness, who
reviews it now, and the lock exceptions.  (The grid page: :mod:`app.reports.grid_view`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from app.reports import definition as definitions
from app.reports import periods, review
from app.reports.definition import Definition, FieldDef
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.reports.values import RuleResult, check
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

STATUS_LABELS = {
    "none": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted, waiting for review"),
    "endorsed": _l("Approved by the regiment, waiting for the division"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
}
ACTION_LABELS = {
    "submitted": _l("Submitted"),
    "endorsed": _l("Approved by the regiment"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}


def now() -> datetime:
    """The moment the pages work with (tests move it past a lock day)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class FieldRow:
    field: FieldDef
    value: str  # as shown ("" = not filled)
    source: str | None = None  # the case-record figure the form pre-filled
    source_at: str = ""
    changed: bool = False  # the centre changed the pre-filled figure
    note: str = ""  # the centre's correction note


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    event: dict[str, Any]
    label: str
    changes: list[Change]  # a resubmission: the fields changed since the previous one
    resubmission: bool = False


@dataclass(frozen=True)
class Timeliness:
    due_on: date
    first_at: datetime | None
    on_time: bool | None
    days_late: int = 0


@dataclass
class ReviewView:
    period: dict[str, Any]
    form: dict[str, Any]
    definition: Definition
    centre: TenantNode
    submission: dict[str, Any] | None
    status: str
    access: periods.Access
    exceptions: list[dict[str, Any]]
    sections: list[tuple[Any, list[FieldRow]]] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    timeliness: Timeliness | None = None
    stage: review.Stage | None = None
    may_approve: bool = False
    may_return: bool = False
    waiting_for: str = ""  # the name of the reviewer that acts first (not this scope)
    passes_on: bool = False  # approving hands the report on to the division
    snapshot: bool = False  # returned: the values shown are the last submitted ones
    may_grant: bool = False

    @property
    def shows_values(self) -> bool:
        return self.status not in ("none", "draft")

    @property
    def changed(self) -> int:
        """How many pre-filled figures the centre changed."""
        return sum(1 for _, rows in self.sections for row in rows if row.changed)

    @property
    def failed(self) -> int:
        """How many rules do not hold (warnings the centre explained included)."""
        return sum(1 for r in self.rules if r.ok is False)

    @property
    def lock_version(self) -> int:
        return int(self.submission["lock_version"]) if self.submission else 0


def shown(f: FieldDef, stored: str) -> str:
    if f.type == "yesno" and stored:
        return _("Yes") if stored == "yes" else _("No")
    return stored


def _differs(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return Decimal(str(a)) != Decimal(str(b))
    except InvalidOperation:
        return str(a) != str(b)


def _rows(definition: Definition, data: dict[str, Any], sources: dict[str, Any]) -> list[Any]:
    values = data.get("values") or {}
    notes = data.get("corrections") or {}
    out = []
    for section in definition.sections:
        rows = []
        for f in section.fields:
            stored = str(values.get(f.key, "") or "")
            live = sources.get(f.key) if isinstance(sources.get(f.key), dict) else None
            source = None if live is None or live.get("value") is None else str(live["value"])
            note = str(notes.get(f.key, "") or "")
            rows.append(
                FieldRow(
                    f,
                    shown(f, stored),
                    source,
                    str(live.get("at", "")) if live else "",
                    bool(stored) and _differs(stored, source),
                    note,
                )
            )
        out.append((section, rows))
    return out


def history(definition: Definition, events: list[dict[str, Any]]) -> list[HistoryEntry]:
    """Newest first; each resubmission lists the fields changed since the one before."""
    labels = {f.key: f for f in definition.fields()}
    submitted = sorted(
        (e for e in events if e["action"] == "submitted"), key=lambda e: (e["revision"], e["id"])
    )
    before = {current["id"]: previous for previous, current in pairwise(submitted)}
    out = []
    for event in events:
        changes: list[Change] = []
        prior = before.get(event["id"])
        if prior is not None:
            old = (prior.get("data") or {}).get("values") or {}
            new = (event.get("data") or {}).get("values") or {}
            for key in [*labels, *sorted((set(old) | set(new)) - set(labels))]:
                a, b = str(old.get(key, "") or ""), str(new.get(key, "") or "")
                if a != b:
                    f = labels.get(key)
                    changes.append(
                        Change(
                            f.label if f else key,
                            shown(f, a) if f else a,
                            shown(f, b) if f else b,
                        )
                    )
        label = ACTION_LABELS.get(event["action"], event["action"])
        out.append(HistoryEntry(event, str(label), changes, prior is not None))
    return out


def _timeliness(period: dict[str, Any], submission: dict[str, Any] | None) -> Timeliness | None:
    if submission is None or submission.get("first_submitted_at") is None:
        return None
    first = submission["first_submitted_at"]
    if isinstance(first, str):
        first = datetime.fromisoformat(first)
    on_time = submission.get("on_time")
    late = (periods.local_today(first) - period["due_on"]).days
    return Timeliness(period["due_on"], first, None if on_time is None else bool(on_time), late)


async def review_view(
    scope: TenantScope,
    tree: Tree,
    period_id: int,
    centre_slug: str,
    at: datetime | None = None,
) -> ReviewView:
    """One centre's report for a reviewer (404 unless the scope supervises the centre and
    the centre files the period's form)."""
    at = at or now()
    centre = tree.by_slug.get(centre_slug)
    if centre is None or centre.id not in scope.supervise_ids or centre.id not in scope.read_ids:
        raise NotFound()
    period = await period_queries.period(scope, period_id)
    if period is None:
        raise NotFound()
    form = await form_queries.form(scope, period["form_id"])
    version = await form_queries.version(scope, period["version_id"])
    if form is None or version is None:
        raise NotFound()
    definition = definitions.load(version["definition"])
    kinds: list[str] = list(definition.filers)
    if centre.id not in {n.id for n in periods.filers(tree, form["tenant_id"], kinds)}:
        raise NotFound()
    submission = await submission_queries.submission_for(scope, centre.id, period_id)
    exceptions = await period_queries.exceptions(scope, period_id, centre.id)
    view = ReviewView(
        period=period,
        form=form,
        definition=definition,
        centre=centre,
        submission=submission,
        status=submission["status"] if submission else "none",
        access=periods.access(period, submission, exceptions, at),
        exceptions=exceptions,
    )
    view.may_grant = (
        scope.can("report.review")
        and scope.tenant_id == period["tenant_id"]
        and centre.id in scope.supervise_ids
    )
    if submission is None:
        return view
    view.timeliness = _timeliness(period, submission)
    events = await submission_queries.events(scope, submission["id"])
    view.history = history(definition, events)
    if view.shows_values:
        await _values(scope, view, events)
    owner_id = form["tenant_id"]
    view.stage = review.stage(tree, scope, submission, owner_id)
    view.may_approve = view.stage.mine
    view.may_return = review.can_return(tree, scope, submission, owner_id)
    view.passes_on = view.stage.mine and view.stage.level < view.stage.of - 1
    if view.stage.tenant_id is not None and not view.stage.mine:
        if view.stage.tenant_id != scope.tenant_id:
            view.waiting_for = tree.nodes[view.stage.tenant_id].name
    return view


async def _values(scope: TenantScope, view: ReviewView, events: list[dict[str, Any]]) -> None:
    """The values with their sources and notes, and the rules over them.  A returned report
    shows what was last submitted (the centre may be changing it)."""
    submission = view.submission or {}
    data: dict[str, Any] = submission
    if view.status == "returned":
        last = next((e for e in events if e["action"] == "submitted"), None)
        if last is not None:
            data = last.get("data") or {}
            view.snapshot = True
    sources = submission.get("sources") or {}
    view.sections = _rows(view.definition, data, sources)
    previous = await submission_queries.previous_values(
        scope, view.centre.id, view.form["id"], view.period["month"]
    )
    result = check(
        view.definition,
        data.get("values") or {},
        previous=previous,
        sources=sources,
        corrections=data.get("corrections") or {},
        comments=data.get("comments") or {},
    )
    view.rules = result.rules
