"""Saving the answers of one checklist section (a phone's autosave or a plain form post).

A save carries a ``save_id``: the ids of the last saves are remembered on the row
(``answers["_saves"]``), so a save resent after its answer was lost changes nothing and
answers with the current version.  A save based on another ``lock_version`` than the
row's (another phone saved meanwhile) raises :class:`~app.inspections.inspections.Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.inspections import definition as definitions
from app.inspections import scoring
from app.inspections.inspections import (
    OPEN_STATES,
    SAVES,
    SAVES_KEPT,
    Conflict,
    Loaded,
    load_for_conduct,
    utcnow,
)
from app.inspections.queries import inspections as queries
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _


@dataclass
class Saved:
    lock_version: int
    repeated: bool  # a resent save: nothing changed


def section_items(loaded: Loaded, section: int) -> list[definitions.ItemDef]:
    if not 0 <= section < len(loaded.definition.sections):
        raise NotFound()
    return loaded.definition.sections[section].items


def parse_section(
    loaded: Loaded, section: int, posted: dict[str, str]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The answers of one section from ``score_<key>`` / ``note_<key>`` fields, and the
    errors by item key.  A field not sent leaves the stored answer as it is."""
    answers: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for item in section_items(loaded, section):
        score_field, note_field = f"score_{item.key}", f"note_{item.key}"
        if score_field not in posted and note_field not in posted:
            continue
        old = loaded.answers.get(item.key) if isinstance(loaded.answers.get(item.key), dict) else {}
        entry = {
            "score": str((old or {}).get("score", "")),
            "note": str((old or {}).get("note", "")),
        }
        if score_field in posted:
            try:
                value = scoring.parse_score(posted[score_field], item.max_score)
            except scoring.ScoreError as exc:
                errors[item.key] = exc.message
                value = None
            entry["score"] = "" if value is None else format(value, "f")
        if note_field in posted:
            note = posted[note_field].strip()
            if len(note) > scoring.NOTE_MAX:
                errors[item.key] = _("At most %(n)d characters.", n=scoring.NOTE_MAX)
            entry["note"] = note
        answers[item.key] = entry
    return answers, errors


async def save_section(
    request: Request | None,
    scope: TenantScope,
    inspection_id: int,
    section: int,
    answers: dict[str, dict[str, str]],
    *,
    lock_version: int,
    save_id: str,
    now: datetime | None = None,
) -> Saved:
    """Store the answers of one section (already parsed and valid).

    A ``save_id`` already applied answers with the current version and changes nothing; a
    ``lock_version`` other than the row's raises :class:`Conflict`.
    """
    now = now or utcnow()
    async with db.write(scope):
        loaded = await load_for_conduct(scope, inspection_id)
        current = int(loaded.row["lock_version"])
        stored = dict(loaded.answers)
        saves = list(stored.get(SAVES) or [])
        if save_id and save_id in saves:
            return Saved(current, True)
        if loaded.state not in OPEN_STATES:
            raise Conflict(
                _("This inspection has been submitted; it can no longer be changed."), current
            )
        if lock_version != current:
            raise Conflict(
                _(
                    "Someone saved this inspection from another device in the meantime. "
                    "Reload the page to see the latest answers; what you entered is kept on "
                    "this phone."
                ),
                current,
            )
        keys = {i.key for i in section_items(loaded, section)}
        for key, entry in answers.items():
            if key in keys:
                stored[key] = entry
        if save_id:
            stored[SAVES] = [*saves, save_id][-SAVES_KEPT:]
        values: dict[str, Any] = {
            "answers": stored,
            "lock_version": current + 1,
            "updated_at": now,
        }
        if loaded.state == "planned":
            values["state"] = "in_progress"
            values["started_at"] = now
        done = await queries.update_inspection(
            scope, inspection_id, loaded.tenant_id, values, lock_version=current
        )
        if not done:
            raise Conflict(
                _("Someone saved this inspection at the same moment. Try again."), current
            )
        if loaded.state == "planned":
            await audit.record(
                request,
                "inspection.started",
                tenant_id=loaded.tenant_id,
                object_type="inspection",
                object_id=inspection_id,
            )
    return Saved(current + 1, False)
