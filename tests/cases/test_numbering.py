"""Case and notice numbers stay unique and gap-free under concurrent intake, on SQLite and on
PostgreSQL, also when some registrations fail after their counter was bumped.

On PostgreSQL the pool is disabled in tests (a connection per query), so ``asyncio.gather``
gives truly concurrent transactions; on SQLite the IMMEDIATE write transactions serialise
them, and threads with their own event loops add real parallelism.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from app import db
from app.cases import intake
from app.cases.intake import Intake, MaterialCheck, local_year
from app.cases.queries import core
from app.cases.tables import Case, CaseCounter, CaseDocument, CaseEvent, CaseMaterial
from app.cases.timeline import utcnow
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests import reliability
from tests.cases.helpers import (
    DIBAO,
    RESIDENT_ID,
    actor_of,
    ensure_adopted,
    every_material,
    run,
    scope_of,
)

CLERKS = ["r63-guzailinuer", "r63-wanglin", "r63-bahetibieke", "r63-zhangmin", "r63-shawulie"]
NUMBER = re.compile(r"^R63-(\d{4})-(\d{6})$")
NOTICE_NUMBER = re.compile(r"^R63-GZ-(\d{4})-(\d{6})$")

# Set inside one registration's task: the flaky query wrappers raise for that task only.
FAIL = contextvars.ContextVar("fail", default=False)


@pytest.fixture(autouse=True)
def adopted() -> None:
    """The item is adopted once, before any concurrent registration."""
    run(ensure_adopted("r63", DIBAO))


class Simulated(RuntimeError):
    """A failure injected after the counter was bumped."""


async def _system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="tests: numbering")


async def _r63() -> int:
    return (await tenancy.tree()).by_slug["r63"].id


async def snapshot(year: int) -> dict[str, Any]:
    """Everything of r63 the test compares before and after."""
    scope, tenant_id = await _system(), await _r63()
    async with db.read(scope):
        cases = await Case.select(Case.id, Case.number, Case.seq, Case.year).where(
            Case.tenant == tenant_id
        )
        counters = await CaseCounter.select(
            CaseCounter.series, CaseCounter.year, CaseCounter.value
        ).where(CaseCounter.tenant == tenant_id)
        notices = await CaseDocument.select(CaseDocument.number).where(
            (CaseDocument.tenant == tenant_id) & (CaseDocument.kind == "notice")
        )
        materials = await CaseMaterial.count().where(CaseMaterial.tenant == tenant_id)
        events = await CaseEvent.count().where(CaseEvent.tenant == tenant_id)
    return {
        "cases": cases,
        "counters": {(c["series"], c["year"]): c["value"] for c in counters},
        "notices": [n["number"] for n in notices],
        "materials": materials,
        "events": events,
        "year": year,
    }


def assert_gap_free(snap: dict[str, Any]) -> None:
    """Per year: case seqs are exactly 1..counter, numbers formatted and matching their seq;
    notice numbers of the year likewise 1..counter."""
    by_year: dict[int, list[int]] = {}
    for case in snap["cases"]:
        found = NUMBER.match(case["number"])
        assert found, case["number"]
        assert int(found.group(1)) == case["year"]
        assert int(found.group(2)) == case["seq"]
        by_year.setdefault(case["year"], []).append(case["seq"])
    assert len({c["number"] for c in snap["cases"]}) == len(snap["cases"])
    for year, seqs in by_year.items():
        top = snap["counters"][("case", year)]
        assert sorted(seqs) == list(range(1, top + 1)), f"case numbers of {year} have gaps"
    notices_by_year: dict[int, list[int]] = {}
    for number in snap["notices"]:
        found = NOTICE_NUMBER.match(number)
        assert found, number
        notices_by_year.setdefault(int(found.group(1)), []).append(int(found.group(2)))
    for year, seqs in notices_by_year.items():
        top = snap["counters"][("notice", year)]
        assert sorted(seqs) == list(range(1, top + 1)), f"notice numbers of {year} have gaps"


def _intake(index: int, missing: tuple[int, ...], item: dict[str, Any]) -> Intake:
    checks = every_material(item)
    for position in missing:
        checks[position] = MaterialCheck("missing")
    return Intake(
        item_code=DIBAO,
        applicant_kind="person",
        applicant_name=f"并发测试{index:02d}",
        id_number=RESIDENT_ID,
        phone="13912345678",
        channel="window",
        materials=checks,
    )


async def register_many(
    count: int, *, offset: int = 0, fail: Callable[[int], bool] = lambda i: False
) -> list[tuple[int, int | None, BaseException | None]]:
    """``count`` concurrent registrations by rotating clerks; every third one is incomplete
    (a one-time notice is numbered too).  Returns (index, case id, error)."""
    item = await ensure_adopted("r63", DIBAO)
    scopes = {u: await scope_of(u, "r63") for u in CLERKS}
    actors = {u: await actor_of(u) for u in CLERKS}

    async def one(i: int) -> tuple[int, int | None, BaseException | None]:
        FAIL.set(fail(i))
        clerk = CLERKS[i % len(CLERKS)]
        missing = (1, 3) if i % 3 == 0 else ()
        try:
            case_id = await intake.register(scopes[clerk], actors[clerk], _intake(i, missing, item))
        except Simulated as exc:
            return i, None, exc
        return i, case_id, None

    return list(await asyncio.gather(*(one(offset + i) for i in range(count))))


def flaky(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if FAIL.get():
            raise Simulated("injected after the counter bump")
        return await original(*args, **kwargs)

    return wrapper


def test_concurrent_registrations_get_unique_gap_free_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = core.next_number
    inside = {"now": 0, "max": 0}

    async def counting(*args: Any, **kwargs: Any) -> int:
        inside["now"] += 1
        inside["max"] = max(inside["max"], inside["now"])
        try:
            return await original(*args, **kwargs)
        finally:
            inside["now"] -= 1

    monkeypatch.setattr(core, "next_number", counting)
    year = local_year(utcnow())
    before = run(snapshot(year))
    results = run(register_many(30))
    monkeypatch.undo()
    after = run(snapshot(year))
    if db.is_postgres():
        # Real concurrency: several transactions were taking a number at the same time.
        assert inside["max"] > 1
    assert all(error is None for _, _, error in results)
    ids = [case_id for _, case_id, _ in results]
    new = [c for c in after["cases"] if c["id"] in ids]
    assert len(new) == 30
    top = before["counters"].get(("case", year), 0)
    assert sorted(c["seq"] for c in new) == list(range(top + 1, top + 31))
    assert after["counters"][("case", year)] == top + 30
    notices = before["counters"].get(("notice", year), 0)
    assert after["counters"][("notice", year)] == notices + 10  # every third was incomplete
    assert_gap_free(after)


def test_parallel_event_loops_in_threads() -> None:
    """Several threads, each with its own event loop, register at the same time."""
    year = local_year(utcnow())
    before = run(snapshot(year))
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            start.wait()
            results = asyncio.run(register_many(6, offset=100 + n * 6))
            with lock:
                ids.extend(case_id for _, case_id, _ in results if case_id is not None)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(ids) == 24
    after = run(snapshot(year))
    top = before["counters"].get(("case", year), 0)
    assert sorted(c["seq"] for c in after["cases"] if c["id"] in ids) == list(
        range(top + 1, top + 25)
    )
    assert_gap_free(after)


@pytest.mark.parametrize("where", ["files", "notice"])
def test_failed_registrations_leave_no_gap_and_nothing_half_written(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A registration that fails after its number was taken rolls everything back: no
    case, no materials, no events, no notice, and no hole in either series."""
    if where == "files":
        # After the case, its materials and the ``registered`` event were written.
        monkeypatch.setattr(intake, "attach_files", flaky(intake.attach_files))
        failing = lambda i: i % 4 == 1  # noqa: E731
    else:
        # After the notice counter was bumped too (incomplete cases only).
        monkeypatch.setattr(core, "insert_document", flaky(core.insert_document))
        failing = lambda i: i % 3 == 0 and i % 2 == 0  # noqa: E731
    year = local_year(utcnow())
    before = run(snapshot(year))
    results = run(register_many(30, offset=200, fail=failing))
    monkeypatch.undo()
    after = run(snapshot(year))

    failed = [i for i, _, error in results if error is not None]
    done = [case_id for _, case_id, error in results if error is None]
    reliability.record("faults", len(failed))
    new_ids = {c["id"] for c in after["cases"]} - {b["id"] for b in before["cases"]}
    reliability.record("records_lost", len(new_ids ^ set(done)))  # missing, or half-written
    assert failed == [i for i, _, _ in results if failing(i)] and failed
    assert len(done) == 30 - len(failed)

    top = before["counters"].get(("case", year), 0)
    new = [c for c in after["cases"] if c["id"] not in {b["id"] for b in before["cases"]}]
    assert sorted(c["id"] for c in new) == sorted(done)  # no row of a failed registration
    assert sorted(c["seq"] for c in new) == list(range(top + 1, top + len(done) + 1))
    assert after["counters"][("case", year)] == top + len(done)

    item = run(ensure_adopted("r63", DIBAO))
    lines = len(item["content"]["materials"])
    assert after["materials"] - before["materials"] == lines * len(done)
    incomplete_done = sum(1 for i, _, e in results if e is None and i % 3 == 0)
    # Complete: registered + accepted; incomplete: registered + notice.
    assert after["events"] - before["events"] == 2 * len(done)
    notices = before["counters"].get(("notice", year), 0)
    assert after["counters"].get(("notice", year), 0) == notices + incomplete_done
    assert len(after["notices"]) - len(before["notices"]) == incomplete_done
    assert_gap_free(after)


def test_numbers_continue_in_a_past_year_independently() -> None:
    """The counter is per centre *and* year: a case registered on a past date is numbered in
    that year's series, without touching this year's."""
    from app.calendar.workdays import SHANGHAI

    year = local_year(utcnow())
    before = run(snapshot(year))
    past = datetime(2025, 6, 10, 11, 0, tzinfo=SHANGHAI)

    async def go() -> dict[str, Any]:
        item = await ensure_adopted("r63", DIBAO)
        scope = await scope_of("r63-wanglin", "r63")
        case_id = await intake.register(
            scope, await actor_of("r63-wanglin"), _intake(300, (), item), now=past
        )
        case = await core.case(scope, case_id)
        assert case is not None
        return case

    case = run(go())
    after = run(snapshot(year))
    assert case["year"] == 2025 and case["number"].startswith("R63-2025-")
    assert case["seq"] == before["counters"].get(("case", 2025), 0) + 1
    assert after["counters"].get(("case", year)) == before["counters"].get(("case", year))
    assert_gap_free(after)
