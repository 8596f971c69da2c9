"""What the centre's report pages show and read: the posted form (``f_<key>``, ``note_<key>``,
``comment_<rule>``, ``lock_version``, ``action``), one row per field with its shown text,
problem and case-record source, the rule results, the status and timeliness labels.

Pure presentation helpers: no database access (the views load through
:mod:`app.reports.filing` and the query modules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.reports import periods
from app.reports.definition import FieldDef, SectionDef
from app.reports.filing import Filing
from app.reports.values import Check, RuleResult
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import local_time

ACTIONS = ("save", "submit", "copy", "zero", "autosave")
MAX_INPUT = 4000  # longer than any field may hold; the rest of a pasted novel is dropped
NUMBER_TYPES = frozenset({"integer", "decimal", "percent"})
RADIO_CHOICES = 4  # a choice field with at most this many options gets radios, else a select

# Status of a centre's report for a period (also the keys of the ``rstatus-*`` CSS classes).
STATUS_LABELS = {
    "none": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "endorsed": _l("Approved by the regiment"),
    "approved": _l("Approved"),
}
EVENT_LABELS = {
    "submitted": _l("Submitted"),
    "endorsed": _l("Approved by the regiment"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}
SAVED_NOTICES = {
    "1": _l("Draft saved."),
    "submitted": _l("Report submitted: it now waits for review."),
    "copy": _l("Last month's figures were copied in and saved as a draft."),
    "zero": _l("Empty number fields were set to 0 and saved as a draft."),
}


@dataclass
class Posted:
    """What the form sent, as typed (only the keys the form version knows)."""

    action: str
    values: dict[str, str]
    notes: dict[str, str]
    comments: dict[str, str]
    lock_version: int


def _text(formdata: Any, name: str) -> str:
    value = formdata.get(name)
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "")[:MAX_INPUT]


def read_post(formdata: Any, filing: Filing) -> Posted:
    """The typed values of every field, note and comment of ``filing``'s form version.
    A missing or unreadable ``lock_version`` counts as stale (-1): never a blind overwrite."""
    fields = filing.definition.fields()
    raw_lock = _text(formdata, "lock_version").strip()
    try:
        lock_version = int(raw_lock) if raw_lock else -1
    except ValueError:
        lock_version = -1
    action = _text(formdata, "action").strip()
    return Posted(
        action=action if action in ACTIONS else "save",
        values={f.key: _text(formdata, f"f_{f.key}") for f in fields},
        notes={f.key: _text(formdata, f"note_{f.key}") for f in fields if f.source},
        comments={r.key: _text(formdata, f"comment_{r.key}") for r in filing.definition.rules},
        lock_version=lock_version if 0 <= lock_version < 2**31 else -1,
    )


def _same_number(a: str, b: Any) -> bool:
    try:
        return Decimal(str(a).replace(",", "").strip()) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return False


def _counted_at(at: Any, now: datetime) -> str:
    """When a case-record figure was counted: the time today, the date and time before."""
    if not at:
        return ""
    try:
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    same_day = local_time(moment, "%Y-%m-%d") == local_time(now, "%Y-%m-%d")
    return local_time(moment, "%H:%M" if same_day else "%Y-%m-%d %H:%M")


@dataclass
class FieldRow:
    """One field as the page shows it."""

    f: FieldDef
    value: str  # the text in the input (as typed, or as stored)
    error: str = ""
    source: str | None = None  # the case-record figure, when the field has one
    counted_at: str = ""
    note: str = ""  # the correction note
    differs: bool = False  # the value is not the case-record figure

    @property
    def name(self) -> str:
        return f"f_{self.f.key}"

    @property
    def widget(self) -> str:
        if self.f.type in NUMBER_TYPES:
            return "number"
        if self.f.type == "choice":
            return "radios" if len(self.f.choices) <= RADIO_CHOICES else "select"
        return self.f.type  # text | yesno


@dataclass
class SectionRows:
    section: SectionDef
    rows: list[FieldRow] = field(default_factory=list)


def sections(
    filing: Filing,
    result: Check,
    *,
    shown: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
    now: datetime | None = None,
) -> list[SectionRows]:
    """Every section with its rows: ``shown`` (what was typed) or the stored values, the
    problems of ``result``, the live case-record figures of ``filing.sources``."""
    now = now or datetime.now(UTC)
    values = shown if shown is not None else filing.values
    stored_notes = (filing.submission or {}).get("corrections") or {}
    notes = notes if notes is not None else stored_notes
    out: list[SectionRows] = []
    for section in filing.definition.sections:
        group = SectionRows(section)
        for f in section.fields:
            value = values.get(f.key, "") or ""
            row = FieldRow(f, value, error=result.field_errors.get(f.key, ""))
            live = filing.sources.get(f.key) if f.source else None
            if live is not None and live.get("value") is not None:
                row.source = str(live["value"])
                row.counted_at = _counted_at(live.get("at"), now)
                row.differs = bool(value.strip()) and not _same_number(value, row.source)
            if f.source:
                row.note = notes.get(f.key, "") or ""
            group.rows.append(row)
        out.append(group)
    return out


@dataclass
class RuleRows:
    blocking: list[RuleResult]
    warnings: list[RuleResult]  # failed warnings: each needs a comment to submit
    unchecked: list[RuleResult]
    kept: list[RuleResult]  # passing rules that still carry a comment (kept, not lost)


def rule_rows(result: Check, comments: dict[str, str] | None = None) -> RuleRows:
    """The rule results, with the typed (or stored) comment of each rule."""
    for rule in result.rules:
        if comments is not None and rule.key in comments:
            rule.comment = comments[rule.key]
    warned = {r.key for r in result.warnings}
    return RuleRows(
        blocking=result.blocking,
        warnings=result.warnings,
        unchecked=[r for r in result.unchecked if r.key not in warned],
        kept=[r for r in result.rules if r.comment and r.ok is True and r.level == "warn"],
    )


def status_key(submission: dict[str, Any] | None) -> str:
    return str(submission["status"]) if submission else "none"


def timeliness(period: dict[str, Any], submission: dict[str, Any] | None, now: datetime) -> str:
    """Whether the report is (so far) on time, as one sentence."""
    due: date = period["due_on"]
    if submission and submission.get("first_submitted_at") is not None:
        if submission.get("on_time"):
            return _("Submitted on time.")
        return _("Submitted after the due day.")
    if periods.local_today(now) <= due:
        return _("On time so far: submit by the end of %(day)s.", day=due.isoformat())
    return _("Overdue: it was due by %(day)s.", day=due.isoformat())


def overdue(period: dict[str, Any], submission: dict[str, Any] | None, now: datetime) -> bool:
    """Not yet submitted and the due day has passed."""
    first = (submission or {}).get("first_submitted_at")
    return first is None and periods.local_today(now) > period["due_on"]
