"""Adoption of the division's items by a centre: adopt, settings and their rules, new versions.

Items are created through ``versions.create`` under the division supervisor's own scope.
Expected texts are computed with the app's gettext (whatever the catalogue says).
"""

from __future__ import annotations

import asyncio
import html
from datetime import date, timedelta
from itertools import count
from typing import Any

import pytest

from app.accounts import queries as accounts
from app.catalogue import adoption, tasks, versions
from app.catalogue.adoption_diff import changes
from app.catalogue.content import halves_text, validate
from app.catalogue.queries import adoption as queries
from app.catalogue.queries import templates
from app.jobs.sweeps import SWEEPS
from app.notify import queries as notify
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope
from app.web.i18n import gettext as _
from tests import reliability
from tests.conftest import login

TODAY = adoption.today()
_serial = count(1)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


def _content(name: str, dept: str = "mzj", promised: int = 10, legal: int = 20) -> dict[str, Any]:
    return {
        "name": name,
        "department": dept,
        "power_type": "行政给付",
        "kind": "promised",
        "legal_halves": legal,
        "promised_halves": promised,
        "conditions": "具有本团常住户口",
        "materials": [{"name": "居民身份证", "form": "original_and_copy", "copies": 1}],
        "implementing_body": "第四师民政局",
    }


def make_item(name: str, dept: str = "mzj", promised: int = 10) -> tuple[str, int]:
    """A new item (version 1, in force since yesterday); returns (code, template id)."""
    code = f"ADOPT-{next(_serial):03d}-{name.encode().hex()[:6].upper()}"

    async def go() -> int:
        scope = await _scope_of("d4-liuhong", "d4")
        content = validate(_content(name, dept, promised))
        return await versions.create(None, scope, code, content, TODAY - timedelta(days=1))

    return code, run(go())


def revise(template_id: int, effective: date, mandatory: bool = False, **changed: Any) -> int:
    async def go() -> int:
        scope = await _scope_of("d4-liuhong", "d4")
        latest = (await templates.latest_versions(scope, [template_id]))[template_id]
        content = validate({**latest["content"], **changed})
        version_id = await versions.revise(None, scope, template_id, content, effective, mandatory)
        assert version_id is not None
        return version_id

    return run(go())


async def _system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="test")


def adoption_row(slug: str, template_id: int) -> dict[str, Any] | None:
    async def go() -> dict[str, Any] | None:
        tree = await tenancy.tree()
        return await queries.adoption(await _system(), tree.by_slug[slug].id, template_id)

    return run(go())


def posts(slug: str) -> dict[int, dict[str, int]]:
    async def go() -> dict[int, dict[str, int]]:
        tree = await tenancy.tree()
        return await queries.post_holders(await _system(), tree.by_slug[slug].id)

    return run(go())


def user_id(username: str) -> int:
    row = run(accounts.user_by_username(username))
    assert row is not None
    return int(row["id"])


def window_id(slug: str, code: str) -> int:
    async def go() -> int:
        tree = await tenancy.tree()
        rows = await tenancy.windows(await _system(), tree.by_slug[slug].id)
        return next(int(w["id"]) for w in rows if w["code"] == code)

    return run(go())


def inbox(username: str) -> list[dict[str, Any]]:
    return run(notify.inbox(user_scope(user_id(username))))


def audit_actions(slug: str) -> list[tuple[str, str]]:
    async def go() -> list[tuple[str, str]]:
        tree = await tenancy.tree()
        rows = await accounts.audit_entries(await _system(), tree.by_slug[slug].id, limit=200)
        return [(r["action"], r["object_id"]) for r in rows]

    return run(go())


def esc(text: str) -> str:
    return html.escape(text, quote=True)


HX = {"HX-Request": "true"}


def settings(token: str, **values: str) -> dict[str, str]:
    """The settings form as the browser sends it (the posts shown are the window's)."""
    body = {"csrf_token": token, "window": "", "a_post": "", "b_post": "", **values}
    body.setdefault("posts_for", body["window"])
    return body


@pytest.fixture
def manager(client) -> str:  # type: ignore[no-untyped-def]
    return login(client, "xa-manager")


# --- adopting -------------------------------------------------------------------------


def test_adopt_one_item_by_toggle(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("高龄津贴申领")
    page = client.get("/t/xa/items")
    assert page.status_code == 200
    assert "高龄津贴申领" in page.text and f'id="item-{code}"' in page.text
    row = client.post(
        f"/t/xa/items/{code}/adopt", data={"csrf_token": manager, "back": "list"}, headers=HX
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<tr id="item-{code}"')
    assert esc(_("Adopted v%(number)d", number=1)) in row.text
    found = adoption_row("xa", tid)
    assert found is not None and found["active"] and found["version_number"] == 1
    assert found["window_id"] == window_id("xa", "W01")  # the window serving 民政
    assert ("catalogue.adopted", code) in audit_actions("xa")
    # Without htmx the plain form goes back to the list.
    again = client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager, "back": "list"})
    assert again.status_code == 303 and again.headers["location"].endswith(f"#item-{code}")


def test_adopt_whole_department(client, manager) -> None:  # type: ignore[no-untyped-def]
    made = [make_item(name, dept="cl") for name in ("残疾人证核发", "残疾人证换领", "残疾人证迁移")]
    retired_code, retired_id = make_item("残疾人证补领（停用）", dept="cl")
    run(_retire(retired_id))
    page = client.post("/t/xa/items", data={"csrf_token": manager, "department": "cl"})
    assert page.status_code == 200
    for _code, tid in made:
        row = adoption_row("xa", tid)
        assert row is not None and row["active"] and row["version_number"] == 1
    assert adoption_row("xa", retired_id) is None  # retired items are skipped
    assert f'id="item-{retired_code}"' in page.text
    assert f'action="/t/xa/items/{retired_code}/adopt"' not in page.text
    unknown = client.post("/t/xa/items", data={"csrf_token": manager, "department": "nope"})
    assert unknown.status_code == 404


async def _retire(template_id: int) -> None:
    scope = await _scope_of("d4-liuhong", "d4")
    await versions.retire(None, scope, template_id, "合并办理")


def test_retired_item_cannot_be_adopted(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("临时救助（旧）")
    run(_retire(tid))
    response = client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    assert response.status_code == 422
    assert esc(_("A retired item cannot be adopted.")) in response.text
    assert adoption_row("xa", tid) is None
    page = client.get("/t/xa/items")
    assert f'action="/t/xa/items/{code}/adopt"' not in page.text


def test_existing_adoption_survives_retirement_and_deactivation(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("临时救助")
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    run(_retire(tid))
    row = adoption_row("xa", tid)
    assert row is not None and row["active"]  # existing adoptions stay
    client.post(f"/t/xa/items/{code}", data=settings(manager, local_note="每周三下午受理"))
    assert (
        client.post(f"/t/xa/items/{code}/deactivate", data={"csrf_token": manager}).status_code
        == 200
    )
    row = adoption_row("xa", tid)
    assert row is not None and not row["active"] and row["local_note"] == "每周三下午受理"
    assert ("catalogue.adoption_deactivated", code) in audit_actions("xa")
    # Re-adopting a retired item is a new adoption: refused.
    assert client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager}).status_code == 422


def test_clerk_cannot_adopt(client) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("医疗救助")
    token = login(client, "xa-clerk")
    assert client.get("/t/xa/items").status_code == 200  # read-only list
    assert client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": token}).status_code == 403
    assert (
        client.post("/t/xa/items", data={"csrf_token": token, "department": "mzj"}).status_code
        == 403
    )
    assert client.post(f"/t/xa/items/{code}", data=settings(token)).status_code == 403
    assert adoption_row("xa", tid) is None


def test_other_centres_adoption_page_is_404(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("优抚对象补助")
    for url in (f"/t/xb/items/{code}", f"/t/xb/items/{code}/changes", "/t/xb/items"):
        assert reliability.cross_tenant(client.get(url)).status_code == 404, url
    adopt = client.post(f"/t/xb/items/{code}/adopt", data={"csrf_token": manager})
    assert reliability.cross_tenant(adopt).status_code == 404
    assert client.get("/t/xa/items/NO-SUCH-CODE").status_code == 404
    assert adoption_row("xb", tid) is None


# --- settings -------------------------------------------------------------------------


def test_promised_limit_may_only_be_tightened(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("最低生活保障申请", promised=10)  # 5 working days
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    w01 = str(window_id("xa", "W01"))
    ok = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=w01, promised_days="3.5", local_note="周一集中审核"),
    )
    assert ok.status_code == 200, ok.text[:500]
    row = adoption_row("xa", tid)
    assert row is not None and row["promised_halves"] == 7 and row["local_note"] == "周一集中审核"
    assert ("catalogue.adoption_updated", code) in audit_actions("xa")

    looser = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=w01, promised_days="6", local_note="改"),
    )
    assert looser.status_code == 422
    message = _(
        "The promised limit may only be tightened: at most %(limit)s.", limit=halves_text(10)
    )
    assert esc(message) in looser.text
    assert 'value="6"' in looser.text and "改" in looser.text  # input kept
    for bad in ("2.25", "abc", "-1"):
        response = client.post(f"/t/xa/items/{code}", data=settings(manager, promised_days=bad))
        assert response.status_code == 422, bad
    row = adoption_row("xa", tid)
    assert row is not None and row["promised_halves"] == 7 and row["local_note"] == "周一集中审核"
    # Empty = the item's own limit.
    client.post(f"/t/xa/items/{code}", data=settings(manager, window=w01))
    row = adoption_row("xa", tid)
    assert row is not None and row["promised_halves"] is None


def test_window_posts(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("困难残疾人生活补贴", dept="cl")
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    w01 = window_id("xa", "W01")
    clerk, boss, other = user_id("xa-clerk"), user_id("xa-manager"), user_id("xb-clerk")
    before = posts("xa")[w01]
    first = adoption_row("xa", tid)
    assert first is not None and first["window_id"] is None  # no xa window serves 残联

    same = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=str(w01), a_post=str(clerk), b_post=str(clerk)),
    )
    assert same.status_code == 422
    assert esc(_("The A post and the B post must be different people.")) in same.text
    foreign = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=str(w01), a_post=str(other), b_post=str(boss)),
    )
    assert foreign.status_code == 422
    assert esc(_("Choose an active staff member of this centre.")) in foreign.text
    assert "CANARYB" not in foreign.text
    row = adoption_row("xa", tid)
    assert row is not None and row["window_id"] is None  # nothing half-written
    assert posts("xa")[w01] == before

    swapped = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=str(w01), a_post=str(boss), b_post=str(clerk)),
    )
    assert swapped.status_code == 200
    assert posts("xa")[w01] == {"A": boss, "B": clerk}
    # The window select asks for that window's current holders (htmx).
    fragment = client.get(f"/t/xa/items/{code}?window={w01}", headers=HX)
    assert f'<option selected value="{boss}">' in fragment.text or (
        f'value="{boss}" selected' in fragment.text
    )
    # Without JavaScript the window changed but the selects still show another window's
    # posts: nothing is written, the new window's posts are shown to confirm.
    unseen = client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=str(w01), posts_for="", a_post=str(clerk), b_post=str(boss)),
    )
    assert unseen.status_code == 422
    assert esc(_("The window changed: check its A and B posts, then save.")) in unseen.text
    assert f'name="posts_for" type="hidden" value="{w01}"' in unseen.text
    assert posts("xa")[w01] == {"A": boss, "B": clerk}
    # Back to the seeded posts.
    client.post(
        f"/t/xa/items/{code}",
        data=settings(manager, window=str(w01), a_post=str(clerk), b_post=str(boss)),
    )
    assert posts("xa")[w01] == {"A": clerk, "B": boss}


# --- new versions -----------------------------------------------------------------------


def test_new_version_shows_diff_and_is_accepted(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("孤儿基本生活费发放", promised=10)
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    client.post(f"/t/xa/items/{code}", data=settings(manager, promised_days="4"))
    unread = len(inbox("xa-manager"))
    revise(tid, TODAY, name="孤儿基本生活费申领", promised_halves=6, fees="不收费")

    messages = inbox("xa-manager")
    assert len(messages) == unread + 1
    assert (
        messages[0]["link"] == f"/t/xa/items/{code}"
        and "孤儿基本生活费申领" in messages[0]["title"]
    )

    page = client.get("/t/xa/items")
    assert esc(_("New version available")) in page.text
    assert f'hx-get="/t/xa/items/{code}/changes"' in page.text
    inline = client.get(f"/t/xa/items/{code}/changes", headers=HX)
    assert inline.status_code == 200 and "<html" not in inline.text
    assert "孤儿基本生活费发放" in inline.text and "孤儿基本生活费申领" in inline.text
    assert esc(halves_text(10)) in inline.text and esc(halves_text(6)) in inline.text
    assert f'action="/t/xa/items/{code}/accept"' in inline.text
    assert "<html" in client.get(f"/t/xa/items/{code}/changes").text  # plain-link fallback

    async def diff() -> list[str]:
        scope = await _system()
        old = (await templates.versions(scope, tid))[-1]["content"]
        new = (await templates.versions(scope, tid))[0]["content"]
        return [c["field"] for c in changes(old, new, {})]

    assert run(diff()) == ["name", "promised_halves"]  # fees did not change

    accepted = client.post(f"/t/xa/items/{code}/accept", data={"csrf_token": manager})
    assert accepted.status_code == 200
    row = adoption_row("xa", tid)
    assert row is not None and row["version_number"] == 2 and row["promised_halves"] == 6
    told = _(
        "Your promised limit was shortened from %(old)s to %(new)s to fit the new version.",
        old=halves_text(8),
        new=halves_text(6),
    )
    assert esc(told) in accepted.text
    assert ("catalogue.version_accepted", code) in audit_actions("xa")
    assert esc(_("New version available")) not in client.get(f"/t/xa/items/{code}").text


def test_future_version_is_not_available_yet(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("计划生育家庭特别扶助")
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    revise(tid, TODAY + timedelta(days=30), name="计划生育家庭特别扶助金申领")
    client.post(f"/t/xa/items/{code}/accept", data={"csrf_token": manager})
    row = adoption_row("xa", tid)
    assert row is not None and row["version_number"] == 1


def test_mandatory_version_applies_on_its_date(client, manager) -> None:  # type: ignore[no-untyped-def]
    sweep = SWEEPS["catalogue.apply_mandatory"]
    assert sweep.every == "day" and sweep is tasks.apply_mandatory
    code, tid = make_item("城乡居民基本医疗保险参保登记", promised=10)
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    client.post(f"/t/xa/items/{code}", data=settings(manager, promised_days="4.5"))
    due = TODAY + timedelta(days=10)
    revise(tid, due, mandatory=True, promised_halves=6, legal_halves=12)
    unread = len(inbox("xa-manager"))

    run(sweep.run((due - timedelta(days=1)).isoformat()))
    row = adoption_row("xa", tid)
    assert row is not None and row["version_number"] == 1 and row["promised_halves"] == 9

    run(sweep.run(due.isoformat()))
    row = adoption_row("xa", tid)
    assert row is not None and row["version_number"] == 2 and row["promised_halves"] == 6
    messages = inbox("xa-manager")
    assert len(messages) == unread + 1
    clamped = _(
        "Your promised limit was shortened from %(old)s to %(new)s to fit the new version.",
        old=halves_text(9),
        new=halves_text(6),
    )
    assert clamped in messages[0]["body"] and messages[0]["link"] == f"/t/xa/items/{code}"
    assert ("catalogue.version_applied", code) in audit_actions("xa")

    run(sweep.run(due.isoformat()))  # idempotent: nothing moves, nobody is told
    assert len(inbox("xa-manager")) == unread + 1


def test_mandatory_version_in_force_applies_at_once(client, manager) -> None:  # type: ignore[no-untyped-def]
    code, tid = make_item("高龄津贴停发登记", promised=10)
    client.post(f"/t/xa/items/{code}/adopt", data={"csrf_token": manager})
    revise(tid, TODAY, mandatory=True, conditions="年满80周岁的本团常住居民")
    row = adoption_row("xa", tid)
    assert row is not None and row["version_number"] == 2 and row["promised_halves"] is None
    assert inbox("xa-manager")[0]["kind"] == "catalogue.applied"
