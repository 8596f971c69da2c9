"""Demo monthly reports (``tenants/demo/reports.toml``) for a new embedded database only
(called by :func:`app.demo.load_demo` after the demo cases and their monthly figures).

Every step goes through the real services with ``now=`` in the past (``filing.submit``,
``review.decide``, ``review.grant_exception``), in the centres' and the division's service
sessions, never after "now".  Values are the pre-fill from the centre's case records; a
month the records do not cover is filed from the paper ledger, each changed figure noted.
"""

from __future__ import annotations

import random
import statistics
import time
import tomllib
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app import db
from app.accounts import queries as accounts
from app.calendar import services as calendars
from app.calendar.workdays import SHANGHAI, TenantCalendar
from app.cases.queries import stats as case_stats
from app.notify import queries as inbox
from app.reports import filing, periods, review
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.reports.values import check
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, system_scope, user_scope

STEPS = {  # what happens to a report, by its planned outcome
    "approved": ("submit", "approve"),
    "late": ("submit", "approve"),
    "submitted": ("submit",),
    "returned": ("wrong", "return"),
    "resubmitted": ("wrong", "return", "submit", "approve"),
}
LEDGER = (  # the counts a paper-ledger month fills in, in _ledger's order
    "carried_over registered immediate promised joint escalated urgent supplemented returned"
    " refused concluded on_time late rated good bad"
).split()


@dataclass
class Person:
    scope: TenantScope
    name: str


@dataclass
class Centre:
    slug: str
    tenant_id: int
    spec: dict[str, Any]
    manager: Person
    calendar: TenantCalendar
    registered: dict[int, int]  # case-desk registrations per month
    usual: float | None  # the median case-desk month, None without case records
    level: float = 0.0  # the paper ledger's registrations, walking month to month
    carried: int | None = None
    outcomes: Counter[str] = field(default_factory=Counter)


def window(now: datetime, months_back: int) -> list[int]:
    """The months before the current (local) one whose periods the demo opens, oldest first."""
    month, out = periods.month_of(periods.local_today(now)), []
    for _ in range(months_back):
        month = periods.previous_month(month)
        out.append(month)
    return out[::-1]


def anchor(rows: dict[int, dict[str, Any]], now: datetime) -> int:
    """The latest month whose period is locked today (``months_ago`` counts back from it)."""
    today = periods.local_today(now)
    return max((m for m, p in rows.items() if p["lock_on"] < today), default=min(rows))


def months_ago(month: int, since: int) -> int:
    return (since // 100 - month // 100) * 12 + since % 100 - month % 100


async def _person(tree: Tree, slug: str, username: str) -> Person:
    user = await accounts.user_by_username(username)
    if user is None:
        raise LookupError(f"no user {username!r}")
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, False)
    if scope is None:
        raise LookupError(f"{username!r} is not a member of {slug!r}")
    return Person(scope, user["display_name"])


def _rate(numerator: int, denominator: int) -> str:
    return f"{Decimal(100 * numerator) / Decimal(denominator):.1f}" if denominator else ""


class Loader:
    def __init__(self, spec: dict[str, Any], now: datetime, tree: Tree, form: dict[str, Any]):
        self.spec, self.now, self.tree, self.form = spec, now, tree, form
        self.rng = random.Random(spec["seed"])
        self.texts: dict[str, Any] = spec["texts"]
        self.events = {(e["centre"], int(e["months_ago"])): e for e in spec.get("events", [])}
        self.warned: dict[tuple[str, int], dict[str, Any]] = {}  # planned warnings
        self.rows: dict[int, dict[str, Any]] = {}
        self.since = 0

    def _day(self, cal: TenantCalendar, opening: date, span: list[int]) -> date:
        days = [opening.replace(day=d) for d in range(span[0], span[1] + 1)]
        return self.rng.choice([d for d in days if cal.days.is_working_day(d)] or days)

    def _later(self, cal: TenantCalendar, day: date, span: list[int]) -> date:
        """The n-th working day after ``day`` (n drawn from ``span``)."""
        left = self.rng.randint(span[0], span[1])
        for _ in range(60):
            day += timedelta(days=1)
            left -= cal.days.is_working_day(day)
            if left <= 0:
                break
        return day

    def _moment(self, cal: TenantCalendar, day: date) -> datetime:
        sessions = cal.sessions(day)
        if sessions:
            start, end = self.rng.choice(sessions)
        else:  # a day off: whoever is on duty, in the morning
            start = datetime.combine(day, datetime.min.time(), SHANGHAI).astimezone(UTC)
            start, end = start + timedelta(hours=10), start + timedelta(hours=12)
        return (start + (end - start) * self.rng.uniform(0.1, 0.9)).replace(microsecond=0)

    def _started(self, cal: TenantCalendar, opening: date) -> datetime | None:
        """A moment in the latest session since ``opening`` that began before now."""
        today = periods.local_today(self.now)
        days = [opening + timedelta(days=d) for d in range((today - opening).days + 1)]
        begun = [(s, e) for d in days for s, e in cal.sessions(d) if s < self.now]
        if not begun:
            return None
        start, end = begun[-1][0], min(begun[-1][1], self.now)
        return (start + (end - start) * self.rng.uniform(0.2, 0.8)).replace(microsecond=0)

    def _ledger(self, c: Centre, month: int, previous: int) -> dict[str, int]:
        """Plausible figures of a month the case records do not cover (a planned swing:
        ``factor`` times the last filed month's registrations)."""
        r = self.rng
        low, high = c.spec["registered"]
        base = c.usual if c.usual else (low + high) / 2
        c.level = min(max(c.level * r.uniform(0.9, 1.12), 0.75 * base), 1.3 * base)
        reg = max(1, round(c.level))
        if (c.slug, month) in self.warned and previous:
            reg = int(previous * float(self.warned[(c.slug, month)]["factor"])) + 1
        kinds = [round(reg * r.uniform(*share)) for share in ((0.25, 0.35), (0.03, 0.08))]
        escalated = int(reg >= 5 and r.random() < 0.3)
        immediate = max(0, reg - sum(kinds) - escalated - round(reg * r.uniform(0, 0.1)))
        carried = c.carried if c.carried is not None else round(reg * r.uniform(0.1, 0.3))
        urgent, supplemented = r.randint(0, max(1, reg // 12)), round(reg * r.uniform(0.08, 0.18))
        returned, refused = int(r.random() < 0.25), int(r.random() < 0.3)
        still_open = round(reg * r.uniform(0.1, 0.3))
        concluded = max(0, carried + reg - returned - refused - still_open)
        c.carried = still_open
        late = int(concluded > 0 and r.random() < 0.2)
        rated = round(concluded * r.uniform(0.45, 0.7))
        bad = int(rated > 0 and r.random() < 0.12)
        figures = (carried, reg, immediate, *kinds, escalated, urgent, supplemented, returned)
        figures += (refused, concluded, concluded - late, late, rated, rated - bad, bad)
        return dict(zip(LEDGER, figures, strict=True))

    def _figures(self, c: Centre, month: int, report: filing.Filing) -> dict[str, str]:
        live = {k: v["value"] for k, v in report.sources.items() if v.get("value") is not None}
        registered = c.registered.get(month, 0)
        if c.usual and registered >= float(self.spec["system_share"]) * c.usual:
            out = dict(live)
            out["bad"] = str(max(0, int(live.get("rated", 0)) - int(live.get("good", 0))))
            return out
        counts = self._ledger(c, month, int((report.previous or {}).get("registered") or 0))
        done, rated = counts["concluded"], counts["rated"]
        out = {k: str(v) for k, v in counts.items()}
        out["on_time_rate"] = _rate(counts["on_time"], done)
        out["good_rate"] = _rate(counts["good"], rated)
        out["unrated_rate"] = _rate(max(0, done - rated), done)
        return {k: v for k, v in out.items() if v}

    def _settings(self, c: Centre, ago: int) -> tuple[dict[str, Any], str]:
        """Staffing of the month (planned changes apply from their month on) and the
        problems text of the month a change happened."""
        now = {k: c.spec[k] for k in ("staff", "windows", "ab_posts")}
        text = ""
        for change in sorted(c.spec.get("changes", []), key=lambda x: -int(x["months_ago"])):
            if ago <= int(change["months_ago"]):
                now.update({k: v for k, v in change.items() if k in now})
                text = change.get("problems", "") if ago == int(change["months_ago"]) else text
        return now, text

    def _manual(self, c: Centre, month: int, report: filing.Filing, late: bool) -> dict[str, str]:
        r, texts = self.rng, self.texts
        settings, problems = self._settings(c, months_ago(month, self.since))
        year, mon = divmod(month, 100)
        days = range(1, monthrange(year, mon)[1] + 1)
        open_days = sum(c.calendar.days.is_working_day(date(year, mon, d)) for d in days)
        out = {k: str(v) for k, v in settings.items()}
        out |= {"agency": str(r.randint(*c.spec["agency"])), "open_days": str(open_days)}
        for key, gap in texts["disclosure_gaps"].items():
            missing = r.random() < float(self.spec["disclosure_gap_rate"])
            out[key] = "no" if missing else "yes"
            problems = problems or (gap if missing else "")
        kind = self.tree.nodes[c.tenant_id].kind
        if not problems and r.random() < float(self.spec["problems_rate"]):
            problems = r.choice(texts["problems"]["any"] + texts["problems"].get(kind, []))
        if late:
            problems += texts["late_note"]
        if problems:
            out["problems"] = problems
        if r.random() < float(self.spec["plans_rate"]):
            out["plans"] = r.choice(texts["plans"]["any"])
        return out

    def _compose(
        self, c: Centre, month: int, report: filing.Filing, late: bool
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """(values, correction notes, warning comments) of the centre's report."""
        values = self._figures(c, month, report) | self._manual(c, month, report, late)
        for f in report.definition.fields():  # fields the plan does not know: a safe value
            if f.required and f.key not in values:
                values[f.key] = {"yesno": "yes", "choice": (f.choices or [""])[0]}.get(f.type, "0")
        corrections = {}
        for key, live in report.sources.items():
            value = live.get("value")
            if value is not None and key in values and Decimal(value) != Decimal(values[key]):
                corrections[key] = self.texts["ledger_note"]
        result = check(
            report.definition, values, previous=report.previous, sources=report.sources,
            corrections=corrections, for_submit=True,
        )  # fmt: skip
        planned = self.warned.get((c.slug, month), {}).get("comment", "")
        comments = {}
        for rule in result.warnings:
            mine = planned if rule.key == "registered_change" else ""
            comments[rule.key] = mine or self.texts["comments"].get(rule.key, "情况属实")
        return values, corrections, comments

    def plan_warnings(self, months: list[int]) -> None:
        """Each planned warning in the latest month of its calendar month (or the nearest
        one) that the centre files, not the window's first (it has no previous month)."""
        for w in self.spec.get("warnings", []):
            wanted = int(w["calendar_month"])
            for month in sorted(
                (m for m in months[1:] if m <= self.since),
                key=lambda m: (min((m % 100 - wanted) % 12, (wanted - m % 100) % 12), -m),
            ):
                event = self.events.get((w["centre"], months_ago(month, self.since)), {})
                if event.get("outcome") not in ("draft", "exception"):
                    self.warned[(w["centre"], month)] = w
                    break

    async def month(self, c: Centre, month: int, reviewer: Person, d4: TenantCalendar) -> str:
        """File (and review) ``c``'s report of ``month``; returns what became of it."""
        event = self.events.get((c.slug, months_ago(month, self.since)), {})
        outcome = event.get("outcome", "approved") if month <= self.since else "approved"
        period = self.rows[month]
        if outcome == "exception":
            await self._exception(c, period, event, reviewer)
            return "exception"
        span = self.spec["late_days"] if outcome == "late" else self.spec["on_time_days"]
        day = self._day(c.calendar, periods.opening_day(month), span)
        at = self._moment(c.calendar, day)
        scope, name = c.manager.scope, c.manager.name
        if at > self.now:  # still to come: the centre has started a draft, if it could
            started = self._started(c.calendar, periods.opening_day(month))
            if started is None:
                return "none"
            outcome, at = "draft", started
        report = await filing.load(scope, period["id"], now=at)
        values, notes, comments = self._compose(c, month, report, outcome == "late")
        if outcome == "draft":
            await filing.save(
                scope, report, values, corrections=notes, comments=comments, lock_version=0, now=at
            )
            return "draft"
        done: list[str] = []
        for step in STEPS[outcome]:
            if done:  # each later step one or two working days after the one before
                by_d4 = step in ("approve", "return")
                cal = d4 if by_d4 else c.calendar
                day = self._later(cal, day, self.spec["review_days" if by_d4 else "fix_days"])
                at = self._moment(cal, day)
                if at > self.now:
                    break
            if step in ("approve", "return"):
                row = await submission_queries.submission_for(scope, c.tenant_id, period["id"])
                assert row is not None
                await review.decide(
                    None, self.tree, reviewer.scope, row["id"], step, event.get("reason", ""),
                    actor_name=reviewer.name, now=at,
                )  # fmt: skip
            else:
                if done:
                    report = await filing.load(scope, period["id"], now=at)
                sent, sent_notes = values, notes
                if step == "wrong":  # the first try: one figure off (with its note)
                    key = event["field"]
                    sent = values | {key: str(int(values.get(key) or 0) + 2)}
                    sent_notes = notes | {key: event["note"]}
                await filing.submit(
                    scope, report, sent, corrections=sent_notes, comments=comments,
                    lock_version=report.lock_version, actor_name=name, now=at,
                )  # fmt: skip
            done.append(step)
        if len(done) == len(STEPS[outcome]):
            return str(outcome)
        return "returned" if done[-1] == "return" else "submitted"

    async def _exception(self, c: Centre, period: dict, event: dict, reviewer: Person) -> None:
        """Not filed by the lock day; the division lets the centre file until a few days
        from today (granted yesterday, or after the lock day if that was later)."""
        locked = periods.end_of(period["lock_on"])
        at = self.now - min(timedelta(days=1), (self.now - locked) / 2)
        until = periods.local_today(self.now) + timedelta(days=int(event["until_days"]))
        await review.grant_exception(
            None, self.tree, reviewer.scope, period["id"], c.tenant_id, event["reason"], until,
            now=at.replace(microsecond=0),
        )  # fmt: skip

    async def quiet_inbox(self, centres: list[Centre]) -> None:
        """The managers have read the notices about older months (approved, returned and
        fixed); those about the latest ones stay unread."""
        keep = {str(p["id"]) for m, p in self.rows.items() if m >= self.since}
        for c in centres:
            scope = c.manager.scope
            async with db.write(scope):
                for item in await inbox.inbox(scope, limit=500):
                    if item["kind"] == "report" and item["link"].rsplit("/", 1)[-1] not in keep:
                        await inbox.mark_read(scope, self.now, item["id"])


async def _centre(tree: Tree, slug: str, spec: dict[str, Any], months: list[int]) -> Centre:
    manager = await _person(tree, slug, spec["manager"])
    tenant_id = tree.by_slug[slug].id
    rows = await case_stats.month_stats(manager.scope, [tenant_id], months[0], months[-1])
    registered = {int(r["month"]): int(r["registered"] or 0) for r in rows}
    busy = [n for n in registered.values() if n > 0]
    usual = float(statistics.median(busy)) if busy else None
    cal = await calendars.load(manager.scope, tenant_id, tree)
    level = usual or sum(spec["registered"]) / 2
    return Centre(slug, tenant_id, spec, manager, cal, registered, usual, level)


async def load_reports(path: Path, now: datetime | None = None) -> list[str]:
    """Load the demo reports of ``path/reports.toml``; returns lines to print."""
    started = time.monotonic()
    spec = tomllib.loads((path / "reports.toml").read_text(encoding="utf-8"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tree = await tenancy.tree()
    system = system_scope(tree, reason="demo data")
    division = tree.by_slug.get(spec["division"])
    form = division and await form_queries.form_by_code(system, division.id, spec["form"])
    if not form:
        return [f"Demo reports: no form {spec['form']!r}; skipped."]
    months = window(now, int(spec["months_back"]))
    loader = Loader(spec, now, tree, form)
    try:
        reviewer = await _person(tree, spec["division"], spec["reviewer"])
        slugs = [s for s in spec["centres"] if s in tree.by_slug]
        centres = [await _centre(tree, s, spec["centres"][s], months) for s in slugs]
    except LookupError as exc:
        return [f"Demo reports skipped: {exc}."]
    for c in centres:
        filed = await submission_queries.submissions_of(c.manager.scope, c.tenant_id, form["id"])
        if any(s["month"] in months for s in filed):
            return [f"Demo reports are already loaded ({c.slug} has reports); skipped."]
    async with db.write(system):
        for month in months:
            await periods.open_period(system, form, month)
            if row := await period_queries.period_for(system, form["id"], month):
                loader.rows[month] = row
    if not loader.rows:
        return ["Demo reports: no version of the form is in force; skipped."]
    months = sorted(loader.rows)
    loader.since = anchor(loader.rows, now)
    loader.plan_warnings(months)
    d4 = await calendars.load(reviewer.scope, reviewer.scope.own(), tree)
    for c in centres:  # one transaction per centre (the services' writes nest inside it)
        async with db.write(system):
            for month in months:
                c.outcomes[await loader.month(c, month, reviewer, d4)] += 1
    await loader.quiet_inbox(centres)
    first, last = periods.month_label(months[0]), periods.month_label(months[-1])
    lines = [f"Demo reports of {first} to {last}:"]
    for c in centres:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(c.outcomes.items()))
        lines.append(f"  {c.slug}: {listed}.")
    lines[-1] += f" Loaded in {time.monotonic() - started:.1f} s."
    return lines
