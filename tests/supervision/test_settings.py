"""The yellow margin N: the nearest setting up the tree, the settings page (303, 422, 403,
409, audit), and the recompute after a change that moves a stored light."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import db
from app.cases import deadlines, timeline
from app.cases import tasks as case_tasks
from app.cases.queries import core
from app.supervision import services
from app.supervision.tables import SupervisionSetting
from app.tenancy import queries as tenancy
from tests.cases.helpers import DIBAO, register, run, scope_of
from tests.supervision import helpers as h


async def _clear() -> None:
    scope = await h.system()
    async with db.write(scope):
        await SupervisionSetting.delete().where(SupervisionSetting.id > 0)


@pytest.fixture
def clean() -> Iterator[None]:
    """No setting before or after (other modules expect the default N)."""
    run(_clear())
    yield
    run(_clear())


async def _save(slug: str, n: int, username: str = "d4-liuhong") -> int | None:
    scope = await scope_of(username, slug)
    tree = await tenancy.tree()
    return await services.save_yellow_days(
        None, scope, tree, tree.by_slug[slug].id, n, "测试", None
    )


async def _n(slug: str) -> int:
    return await timeline.yellow_days(await h.system(), await h.tenant_id(slug))


def test_nearest_setting_up_the_tree(clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "send", lambda *a: None)
    assert run(_n("zc")) == deadlines.DEFAULT_YELLOW_DAYS
    assert run(_save("d4", 4)) is None
    assert (run(_n("d4")), run(_n("xa")), run(_n("zc"))) == (4, 4, 4)
    run(_save("zr", 1, "zr-supervisor"))  # the regiment's own setting wins below it
    assert (run(_n("d4")), run(_n("xa")), run(_n("zr")), run(_n("zc"))) == (4, 4, 1, 1)
    assert run(_save("d4", 3)) == 4  # returns the previous value
    assert (run(_n("xa")), run(_n("zc"))) == (3, 1)
    # A centre reading under its own scope sees its division's setting (shared rows).
    clerk = run(scope_of("xa-clerk", "xa"))
    assert run(timeline.yellow_days(clerk, run(h.tenant_id("xa")))) == 3


def test_only_the_own_tenant_is_changed(clean: None) -> None:
    from app.web.errors import Forbidden, NotFound

    async def other() -> None:
        scope = await scope_of("d4-liuhong", "d4")
        tree = await tenancy.tree()
        await services.save_yellow_days(None, scope, tree, tree.by_slug["xa"].id, 1, "", None)

    with pytest.raises(NotFound):
        run(other())

    async def manager() -> None:
        scope = await scope_of("xa-manager", "xa")
        tree = await tenancy.tree()
        await services.save_yellow_days(None, scope, tree, tree.by_slug["xa"].id, 1, "", None)

    with pytest.raises(Forbidden):
        run(manager())


async def _start_between(now: datetime) -> datetime:
    """An acceptance moment that leaves a 低保 case green with N = 2 and yellow with N = 6."""
    cal, _margin = await timeline.clock(await h.system(), await h.tenant_id("xa"))
    for hours in range(24 * 10, 24 * 45, 2):
        start = now - timedelta(hours=hours)
        events = [{"id": 1, "action": "accepted", "at": start, "data": {}}]
        if (
            deadlines.compute(40, 60, events, cal, now, 2).light == "green"
            and deadlines.compute(40, 60, events, cal, now, 6).light == "yellow"
        ):
            return start
    raise AssertionError("no moment found")


def test_a_change_recomputes_the_subtree(clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(services, "send", lambda job, *args: sent.append((job, *args)))
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("xa-clerk", "xa", DIBAO, now=run(_start_between(now)), name="改N"))
    assert case["light"] == "green"
    run(_save("d4", 6))
    job, ids, iso = sent[-1]
    tree = run(tenancy.tree())
    assert job is case_tasks.recompute
    assert sorted(ids) == sorted(tree.subtree(tree.by_slug["d4"].id))
    run(case_tasks.recompute_deadlines(ids, iso))
    moved = run(core.case(run(h.system()), case["id"]))
    assert moved is not None and moved["light"] == "yellow"
    # Saving the same N again sends nothing; back to 2 the light returns to green.
    count = len(sent)
    run(_save("d4", 6))
    assert len(sent) == count
    run(_save("d4", 2))
    run(case_tasks.recompute_deadlines(*sent[-1][1:]))
    back = run(core.case(run(h.system()), case["id"]))
    assert back is not None and back["light"] == "green"
