"""Demo inspections (``tenants/demo/inspections.toml``) for a new embedded database only
(called by :func:`app.demo.load_demo` after the cases and reports).

Every step goes through the real services with ``now=`` in the past: the division's
inspector starts the inspection, saves it section by section, takes the photos the
checklist requires, submits it with its findings (each opens a rectification-ledger item),
and the centre's manager acknowledges where the file says so.  One inspection is only
planned, for next week.  Then :mod:`app.inspections.demo_followups` adds the month's
双随机 draws, the centres' answers to findings (one accepted by the inspector) and a 督办 of
a red-light case.  Checklists are looked up by code (seeded by
``tenants/checklist-*.toml``); an entry whose checklist is missing is skipped with a line.
"""

from __future__ import annotations

import io
import struct
import tomllib
import zlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from starlette.datastructures import Headers, UploadFile

from app.accounts import queries as accounts
from app.cases import ledger
from app.inspections import answers as answers_service
from app.inspections import findings as submission
from app.inspections import inspections as service
from app.inspections import photos
from app.inspections.definition import score_text
from app.inspections.queries import checklists as checklist_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, system_scope, user_scope

SHANGHAI = timedelta(hours=8)


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small solid picture with a darker band (a stand-in for a phone photo)."""
    rows = []
    for y in range(height):
        shade = 0.6 if height // 3 <= y < height // 2 else 1.0
        pixel = bytes(int(c * shade) for c in colour)
        rows.append(b"\x00" + pixel * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time on ``day`` as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - SHANGHAI


async def _scope(tree: Tree, username: str, slug: str) -> TenantScope | None:
    user = await accounts.user_by_username(username)
    if user is None or slug not in tree.by_slug:
        return None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    return for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))


def _score(maximum: Decimal, ratio: float) -> str:
    value = (maximum * Decimal(str(ratio)) * 2).to_integral_value(rounding=ROUND_FLOOR) / 2
    return score_text(min(value, maximum))


async def load(path: Path) -> list[str]:
    data = tomllib.loads((path / "inspections.toml").read_text(encoding="utf-8"))
    tree = await tenancy.tree()
    system = system_scope(tree, reason="demo: inspections")
    d4 = tree.by_slug.get("d4")
    if d4 is None:
        return ["inspections: no division d4, skipped"]
    lines: list[str] = []
    done = 0
    today = datetime.now(UTC).date()
    for n, entry in enumerate(data.get("inspections", []), start=1):
        checklist = await checklist_queries.checklist_by_code(system, d4.id, entry["checklist"])
        if checklist is None:
            line = f"inspections: checklist {entry['checklist']} not seeded, entry {n} skipped"
            print(line)
            lines.append(line)
            continue
        scope = await _scope(tree, entry["inspector"], "d4")
        centre = tree.by_slug.get(entry["centre"])
        if scope is None or centre is None:
            lines.append(f"inspections: entry {n} names an unknown user or centre, skipped")
            continue
        names = entry.get("inspectors", [])
        users = [await accounts.user_by_username(u) for u in names]
        planned_in = entry.get("planned_in_days")
        day = (
            today + timedelta(days=int(planned_in))
            if planned_in is not None
            else _weekday(today - timedelta(days=int(entry["days_ago"])))
        )
        start_at = _at(day, 10)
        spot = entry.get("origin") == "spot"
        if planned_in is not None:
            created_at = datetime.now(UTC) - timedelta(hours=1)
        else:
            created_at = start_at if spot else _at(day - timedelta(days=7), 9)
        inspection_id, created = await service.start(
            None,
            scope,
            tree,
            service.Plan(
                centre_id=centre.id,
                checklist_id=checklist["id"],
                planned_on=day,
                inspectors=[u["id"] for u in users if u],
                origin=entry.get("origin", "planned"),
                client_key=f"demo-inspection-{n:03d}-{centre.slug}",
            ),
            now=created_at,
        )
        if not created or planned_in is not None:
            done += created
            continue
        loaded = await service.load(scope, inspection_id)
        ratio = float(entry.get("ratio", 0.9))
        scores = {str(k): str(v) for k, v in entry.get("scores", {}).items()}
        notes = {str(k): str(v) for k, v in entry.get("notes", {}).items()}
        lock = int(loaded.row["lock_version"])
        moment = start_at
        for index, section in enumerate(loaded.definition.sections):
            posted: dict[str, str] = {}
            for item in section.items:
                posted[f"score_{item.key}"] = scores.get(item.key) or _score(item.max_score, ratio)
                posted[f"note_{item.key}"] = notes.get(item.key, "")
            answers, errors = answers_service.parse_section(loaded, index, posted)
            if errors:
                raise ValueError(f"demo inspection {n}: {errors}")
            moment += timedelta(minutes=12)
            for item in section.items:
                if item.photo_required:
                    upload = UploadFile(
                        io.BytesIO(_png(160, 120, (90 + 20 * index, 120, 160))),
                        filename=f"{item.key}.png",
                        headers=Headers({"content-type": "image/png"}),
                    )
                    await photos.add_photo(
                        None,
                        scope,
                        inspection_id,
                        item.key,
                        f"demo-photo-{inspection_id}-{item.key}",
                        upload,
                        now=moment,
                    )
            saved = await answers_service.save_section(
                None,
                scope,
                inspection_id,
                index,
                answers,
                lock_version=lock,
                save_id=f"demo-save-{inspection_id}-{index}",
                now=moment,
            )
            lock = saved.lock_version
            loaded = await service.load(scope, inspection_id)
        findings = [
            submission.FindingInput(f["text"], f.get("item", ""), int(f.get("days", 5)))
            for f in entry.get("findings", [])
        ]
        submitted_at = moment + timedelta(minutes=25)
        await submission.submit(
            None,
            scope,
            tree,
            inspection_id,
            findings,
            summary=entry.get("summary", ""),
            now=submitted_at,
        )
        if entry.get("acknowledge"):
            managers = await ledger.managers(system, centre.id)
            if managers:
                manager = await _scope(tree, managers[0]["username"], centre.slug)
                if manager is not None:
                    await service.acknowledge(
                        None,
                        manager,
                        inspection_id,
                        entry["acknowledge"],
                        now=min(
                            _at(_weekday(day + timedelta(days=3)), 9, 30),
                            datetime.now(UTC) - timedelta(hours=2),
                        ),
                    )
        done += 1
    lines.append(f"inspections: {done} demo inspections loaded")
    # The draws, the centres' answers and the inspector's verification, one 督办.
    from app.inspections import demo_followups

    lines += await demo_followups.load(tree, system, data)
    return lines


__all__ = ["load"]
