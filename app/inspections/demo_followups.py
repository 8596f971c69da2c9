"""What follows the demo inspections (``tenants/demo/inspections.toml``), through the real
services, after :func:`app.inspections.demo.load` has loaded the inspections:

- ``[draws]``: one 双随机 draw of centres and inspectors for next month at the division, and
  one draw of concluded cases of a centre for a file review of the last full month, both
  with the fixed seeds of the file (a draw with that seed already there is not drawn again);
- ``[[answers]]``: the centre's manager answers a finding's ledger item with a note and an
  evidence photo; ``verify`` has the inspector accept it (an item already answered or
  closed is left alone, so loading again changes nothing);
- ``[supervision]``: a division supervisor puts a red-light case of a centre under
  supervision (督办) — once: an item with the file's note already there is kept.

Each part returns one summary line.  The draws keep their creation time (the draw service
takes no ``now``); answers, verifications and the 督办 are dated in the past.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.datastructures import Headers, UploadFile

from app.calendar import services as calendar
from app.calendar.workdays import Days
from app.cases import ledger, ledger_evidence, ledger_supervise
from app.cases.queries import core as case_queries
from app.cases.queries import ledger as ledger_queries
from app.cases.queries import lists as case_lists
from app.inspections import demo as base
from app.inspections import draws
from app.inspections.queries import draws as draw_queries
from app.inspections.queries import inspections as inspection_queries
from app.tenancy.scope import TenantScope, Tree

SHANGHAI = base.SHANGHAI


def _workdays_after(days: Days, day: date, n: int) -> date:
    """``n`` working days after ``day`` on the centre's calendar."""
    while n > 0:
        day += timedelta(days=1)
        if days.is_working_day(day):
            n -= 1
    return day


def _past(moment: datetime, now: datetime) -> datetime:
    """``moment``, but never later than an hour before ``now``."""
    return min(moment, now - timedelta(hours=1))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _month_after(today: date) -> str:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return f"{first.year:04d}-{first.month:02d}"


def _last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


async def _existing_draw(
    scope: TenantScope, tenant_id: int, kind: str, seed: str
) -> dict[str, Any] | None:
    rows = await draw_queries.draws(scope, [tenant_id], limit=200)
    return next((r for r in rows if r["kind"] == kind and r["seed"] == seed), None)


async def load_draws(tree: Tree, spec: dict[str, Any]) -> str:
    """The month's centres-and-inspectors draw and a centre's file-review draw."""
    d4 = tree.by_slug["d4"]
    scope = await base._scope(tree, spec["by"], d4.slug)
    if scope is None:
        return f"Demo draws: no user {spec['by']}, skipped"
    today = (datetime.now(UTC) + SHANGHAI).date()
    parts = []
    seed = spec["centres_seed"]
    row = await _existing_draw(scope, d4.id, "centres", seed)
    if row is None:
        draw_id = await draws.draw_centres(
            scope,
            tree,
            d4.id,
            draws.CentresAsk(
                month=_month_after(today),
                centres=str(spec["centres"]),
                inspectors=str(spec["inspectors"]),
                seed=seed,
            ),
        )
        row = await draw_queries.draw(scope, draw_id)
        if row is None:
            return "Demo draws at d4: the centres draw was not stored"
    drawn = ", ".join(
        f"{tree.nodes[c['centre']].slug} ({len(c['inspectors'])} inspector(s))"
        for c in row["result"]["centres"]
    )
    month = f"{row['month'] // 100}-{row['month'] % 100:02d}"
    parts.append(f"centres draw seed {seed} for {month}: {drawn}")
    centre = tree.by_slug.get(spec["cases_centre"])
    seed = spec["cases_seed"]
    if centre is None:
        parts.append(f"no centre {spec['cases_centre']}, file review skipped")
    else:
        row = await _existing_draw(scope, centre.id, "cases", seed)
        if row is None:
            start, end = _last_month(today)
            try:
                draw_id = await draws.draw_cases(
                    scope,
                    tree,
                    d4.id,
                    draws.CasesAsk(
                        centre=centre.slug,
                        date_from=start.isoformat(),
                        date_to=end.isoformat(),
                        cases=str(spec["cases"]),
                        seed=seed,
                    ),
                )
            except draws.DrawError as exc:
                parts.append(f"{centre.slug} file review skipped ({exc})")
            else:
                row = await draw_queries.draw(scope, draw_id)
        if row is not None:
            params = row["params"]
            parts.append(
                f"{centre.slug} file review of {len(row['result']['cases'])} cases "
                f"concluded {params['from']} to {params['to']} (seed {seed})"
            )
    return "Demo draws at d4: " + "; ".join(parts)


def _photo(name: str) -> UploadFile:
    return UploadFile(
        io.BytesIO(base._png(200, 150, (110, 170, 120))),
        filename=name,
        headers=Headers({"content-type": "image/png"}),
    )


async def _finding_items(
    tree: Tree, system: TenantScope, entries: list[dict[str, Any]]
) -> dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any]]]:
    """(entry number, finding position) → (inspection row, ledger item) of the demo."""
    out = {}
    for n, entry in enumerate(entries, start=1):
        centre = tree.by_slug.get(entry["centre"])
        if centre is None or not entry.get("findings"):
            continue
        key = f"demo-inspection-{n:03d}-{centre.slug}"
        found = await inspection_queries.inspection_by_key(system, centre.id, key)
        if found is None:
            continue
        inspection = await inspection_queries.inspection(system, found["id"])
        if inspection is None or inspection["submitted_at"] is None:
            continue
        for f in await inspection_queries.findings(system, found["id"]):
            item = await ledger_queries.rectification(system, f["rectification_id"])
            if item is not None:
                out[(n, int(f["position"]))] = (inspection, item)
    return out


async def load_answers(
    tree: Tree, system: TenantScope, entries: list[dict[str, Any]], answers: list[dict[str, Any]]
) -> str:
    """Managers' answers with evidence; the inspector's acceptance where the file says so."""
    items = await _finding_items(tree, system, entries)
    now = datetime.now(UTC)
    for a in answers:
        pair = items.get((int(a["inspection"]), int(a["finding"])))
        if pair is None:
            continue
        inspection, item = pair
        day = (_utc(inspection["submitted_at"]) + SHANGHAI).date()
        days = await calendar.load_days(system, item["tenant_id"], tree)
        if item["state"] == "open":
            managers = await ledger.managers(system, item["tenant_id"])
            manager = (
                await base._scope(tree, managers[0]["username"], item["tenant_slug"])
                if managers
                else None
            )
            if manager is None:
                continue
            uploads = [_photo(f"rectification-{item['id']}.png")] if a.get("photo") else []
            at = _past(base._at(_workdays_after(days, day, int(a.get("days_after", 2))), 16), now)
            item = await ledger_evidence.answer(
                None, manager, item["id"], a["note"], uploads, now=at
            )
        if a.get("verify") and item["state"] == "fixed":
            inspector = await base._scope(tree, a.get("verifier", "d4-liuhong"), "d4")
            if inspector is None:
                continue
            at = _past(
                base._at(_workdays_after(days, day, int(a.get("verify_days_after", 5))), 11), now
            )
            await ledger_evidence.verify(
                None, inspector, item["id"], a["verify"], a.get("verify_note", ""), now=at
            )
    states = []
    for _, item in (await _finding_items(tree, system, entries)).values():
        if item["state"] == "closed":
            states.append("accepted")
        elif item["state"] == "fixed":
            states.append("awaiting")
        elif ledger.is_overdue(item, now):
            states.append("overdue")
        else:
            states.append("open")
    return (
        f"Demo rectification answers: of {len(states)} finding items "
        f"{states.count('accepted')} accepted by the inspector, "
        f"{states.count('awaiting')} answered with evidence awaiting verification, "
        f"{states.count('open')} open, {states.count('overdue')} overdue."
    )


async def load_supervision(tree: Tree, spec: dict[str, Any]) -> str:
    """督办 of the first red-light case of the centre (in the case lists' order)."""
    centre = tree.by_slug.get(spec["centre"])
    scope = await base._scope(tree, spec["by"], "d4")
    if centre is None or scope is None:
        return "Demo 督办: unknown centre or user, skipped"
    now = datetime.now(UTC)
    note = spec["note"]
    existing = await ledger_queries.rectifications(
        scope, [centre.id], state="", source="supervision", now=now, limit=500
    )
    mine = next((r for r in existing if r["detail"] == note), None)
    if mine is not None:
        return f"Demo 督办 at {centre.slug}: case {mine['case_number']} already supervised"
    red = await case_lists.cases(
        scope, case_lists.CaseFilter(tenant_ids=frozenset({centre.id}), light="red"), 0, 20
    )
    for row in red:
        case = await case_queries.case(scope, row["id"])
        if case is None or not ledger_supervise.is_red(case):
            continue
        at = now - timedelta(hours=2)
        due = case["promised_due_at"]
        if due is not None and _utc(due) >= at:
            at = now - timedelta(minutes=5)
        try:
            opened = await ledger_supervise.supervise(
                None, scope, case, int(spec.get("days", 3)), note, now=at
            )
        except ledger_supervise.AlreadySupervised:
            continue
        await ledger_supervise.tell(tree, opened, centre.slug, note)
        return (
            f"Demo 督办 at {centre.slug}: red-light case {case['number']} supervised "
            f"by {spec['by']}, ledger item {opened.item_id}"
        )
    return f"Demo 督办 at {centre.slug}: no red-light case to supervise, skipped"


async def load(tree: Tree, system: TenantScope, data: dict[str, Any]) -> list[str]:
    lines = []
    if "draws" in data:
        lines.append(await load_draws(tree, data["draws"]))
    if data.get("answers"):
        lines.append(await load_answers(tree, system, data["inspections"], data["answers"]))
    if "supervision" in data:
        lines.append(await load_supervision(tree, data["supervision"]))
    return lines


__all__ = ["load"]
