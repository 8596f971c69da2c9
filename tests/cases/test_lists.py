"""GET /t/{slug}/cases: tabs, filters, search (number, name, ID through its hash), masking,
paging, the htmx fragment, and other tenants' cases never showing."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.cases import actions, identity, intake, lights
from app.cases.lists import PAGE_SIZE
from app.cases.queries import core
from app.catalogue.queries import adoption as adoption_queries
from app.catalogue.queries import public as items
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext as _
from tests import reliability
from tests.cases.helpers import (
    DIBAO,
    MARRIAGE,
    actor_of,
    ensure_adopted,
    register,
    run,
    scope_of,
)
from tests.conftest import login

CLERK, MANAGER, SUPERVISOR = "xa-clerk", "xa-manager", "d4-liuhong"
WINDOW_ITEM = "051805000000"  # 优待金发放: adopted by xa at window W01 (xa-clerk: A post)
ESCALATED = "011501000000"  # goes to d4's queue
XB_ONLY = "071902000000"  # 残疾人就业年审: adopted by xb only in these tests
TOKEN = secrets.token_hex(3).upper()
PHONE = "13912345678"


def resident_id(serial: int) -> str:
    first = f"65400119850203{serial % 1000:03d}"
    return first + identity.resident_check_char(first)


ID_A = resident_id(secrets.randbelow(1000))


async def _adopt_at_window(slug: str, code: str, window_code: str) -> None:
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    scope = system_scope(tree, reason="tests: adoption at a window")
    window = next(w for w in await tenancy.windows(scope, tenant_id) if w["code"] == window_code)
    found = await items.adopted_item(scope, tenant_id, code)
    if found is None:
        template = await templates.template_by_code(scope, code)
        assert template is not None
        latest = (await templates.latest_versions(scope, [template["id"]]))[template["id"]]
        await items.insert_adoption(scope, tenant_id, template["id"], latest["id"], window["id"])
    elif found["window_id"] != window["id"]:
        from app import db

        async with db.write(scope):
            await adoption_queries.update_adoption(scope, found["id"], window=window["id"])


async def _world() -> dict[str, Any]:
    """xa: cases in every list and state; xb: one case of an item xa never adopted."""
    await _adopt_at_window("xa", WINDOW_ITEM, "W01")
    past = datetime.now(UTC) - timedelta(days=40)
    w: dict[str, Any] = {}
    w["urgent"] = await register(
        CLERK, "xa", DIBAO, name=f"Ayigul{TOKEN}", id_number=ID_A, urgent=True
    )
    w["supplement"] = await register(CLERK, "xa", DIBAO, missing=(0,), name=f"王{TOKEN}")
    w["immediate"] = await register(CLERK, "xa", MARRIAGE, name=f"李{TOKEN}")
    w["overdue"] = await register(CLERK, "xa", DIBAO, now=past, name=f"赵{TOKEN}")
    w["manager"] = await register(MANAGER, "xa", DIBAO, name=f"钱{TOKEN}")
    w["window"] = await register(MANAGER, "xa", WINDOW_ITEM, name=f"孙{TOKEN}")
    w["paused"] = await register(CLERK, "xa", DIBAO, name=f"周{TOKEN}")
    clerk, actor = await scope_of(CLERK, "xa"), await actor_of(CLERK)
    await actions.pause(clerk, w["paused"]["id"], actor, "hearing", "听证")
    w["repeat"] = await register(CLERK, "xa", DIBAO, missing=(2,), name=f"吴{TOKEN}")
    await intake.issue_notice(clerk, w["repeat"]["id"], actor, reason="新情况")
    await ensure_adopted("xa", ESCALATED)
    w["escalated"] = await register(CLERK, "xa", ESCALATED, name=f"郑{TOKEN}")
    w["xb"] = await register("xb-clerk", "xb", XB_ONLY, name=f"CANARYB{TOKEN}")
    await lights.move_lights(datetime.now(UTC))  # the overdue case turns red
    for key, case in w.items():
        fresh = await core.case(system_scope(await tenancy.tree(), reason="tests"), case["id"])
        assert fresh is not None
        w[key] = fresh
    return w


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    return run(_world())


COUNT = re.compile(r'href="[^"]*[?&]tab=(\w+)[^"]*"[^>]*>[^<]*<span class="count">(\d+)</span>')


def numbers(html: str) -> list[str]:
    return re.findall(r'class="code" href="/t/\w+/cases/\d+">([^<]+)</a>', html)


def listing(client: Any, path: str, **params: Any) -> str:
    response = client.get(path, params=params) if params else client.get(path)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_tabs_and_their_counts(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    html = listing(client, "/t/xa/cases", q=TOKEN)
    counts = dict(COUNT.findall(html))
    # Mine: the clerk's cases still to do (the immediate one awaits delivery).
    assert set(counts) == {"mine", "window", "centre"}
    mine = numbers(html)
    for key in ("urgent", "supplement", "immediate", "overdue", "paused", "repeat", "escalated"):
        assert world[key]["number"] in mine, key
    assert world["manager"]["number"] not in mine
    assert int(counts["mine"]) == len(mine) == 7
    assert int(counts["centre"]) == 9
    window = numbers(listing(client, "/t/xa/cases", tab="window", q=TOKEN))
    assert window == [world["window"]["number"]]
    assert int(counts["window"]) == 1
    centre = numbers(listing(client, "/t/xa/cases", tab="centre", q=TOKEN))
    assert len(centre) == 9 and world["xb"]["number"] not in centre


def test_order_urgent_first_then_red(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    rows = numbers(listing(client, "/t/xa/cases", tab="centre", q=TOKEN))
    assert rows[0] == world["urgent"]["number"]
    assert world["overdue"]["light"] == "red"
    assert rows[1] == world["overdue"]["number"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "supplement"}, ["supplement", "repeat"]),
        ({"kind": "immediate"}, ["immediate"]),
        ({"light": "red"}, ["overdue"]),
        ({"due": "overdue"}, ["overdue"]),
        ({"due": "soon"}, []),
        ({"urgent": "1"}, ["urgent"]),
        ({"paused": "1"}, ["paused"]),
        ({"item": WINDOW_ITEM}, ["window"]),
        ({"item": "051801000000", "state": "accepted", "paused": "1"}, ["paused"]),
    ],
)
def test_filters(
    client: Any, world: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    login(client, CLERK)
    html = listing(client, "/t/xa/cases", tab="centre", q=TOKEN, **params)
    assert sorted(numbers(html)) == sorted(world[k]["number"] for k in expected)
    if not expected:
        assert _("No case matches these filters.") in html


def test_bad_filter_values_are_ignored(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    html = listing(
        client,
        "/t/xa/cases",
        tab="nonsense",
        state="nope",
        light="purple",
        page="x",
        kind="<script>",
        q=TOKEN,
    )
    assert len(numbers(html)) == 7  # the default tab, unfiltered
    assert "<script>" not in html


def test_search_by_number_exact_and_suffix(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    number = world["paused"]["number"]
    assert numbers(listing(client, "/t/xa/cases", tab="centre", q=number)) == [number]
    assert numbers(listing(client, "/t/xa/cases", tab="centre", q=number.lower())) == [number]
    suffix = number.split("-")[-1]
    assert number in numbers(listing(client, "/t/xa/cases", tab="centre", q=suffix))


def test_search_by_name_is_case_insensitive(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    want = [world["urgent"]["number"]]
    for q in (f"ayigul{TOKEN}".lower(), f"AYIGUL{TOKEN}", f"gul{TOKEN}", "Ayigul" + TOKEN[:2]):
        assert numbers(listing(client, "/t/xa/cases", tab="centre", q=q)) == want, q
    assert numbers(listing(client, "/t/xa/cases", tab="centre", q=f"王{TOKEN}")) == [
        world["supplement"]["number"]
    ]


def test_search_by_id_goes_through_the_hash(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    response = client.get("/t/xa/cases", params={"tab": "centre", "q": ID_A.lower()})
    assert response.status_code == 303
    target = response.headers["location"]
    assert ID_A not in target and ID_A.lower() not in target
    assert f"idh={identity.id_hash(ID_A)}" in target
    html = listing(client, target)
    assert numbers(html) == [world["urgent"]["number"]]
    assert ID_A not in html and identity.mask_id(ID_A) in html
    # htmx: the rows, and the address pushed carries the hash, not the ID.
    response = client.get(
        "/t/xa/cases",
        params={"tab": "centre", "q": ID_A},
        headers={"HX-Request": "true", "HX-Target": "case-rows"},
    )
    assert response.status_code == 200
    assert numbers(response.text) == [world["urgent"]["number"]]
    assert ID_A not in response.headers["HX-Push-Url"]
    # Part of an ID finds nothing: IDs are never searched as text.
    for part in (ID_A[:14], ID_A[-8:], ID_A[6:14]):
        assert numbers(listing(client, "/t/xa/cases", tab="centre", q=part)) == [], part


def test_personal_data_is_masked(client: Any, world: dict[str, Any]) -> None:
    login(client, MANAGER)
    html = listing(client, "/t/xa/cases", tab="centre", q=TOKEN)
    assert ID_A not in html and PHONE not in html
    assert f"Ayigul{TOKEN}" not in html and f"王{TOKEN}" not in html
    assert identity.mask_id(ID_A) in html and identity.mask_phone(PHONE) in html
    assert identity.mask_name(f"王{TOKEN}") in html


def test_light_badges_carry_text(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    html = listing(client, "/t/xa/cases", tab="centre", q=TOKEN, light="red")
    assert re.search(r'class="light light-red">[^<]+<', html)
    assert _("Red") in html


def test_pages_keep_the_filters(client: Any) -> None:
    token = secrets.token_hex(3).upper()
    for _i in range(PAGE_SIZE + 2):
        run(register(MANAGER, "xa", DIBAO, name=f"Page{token}"))
    login(client, MANAGER)
    first = listing(client, "/t/xa/cases", tab="centre", q=f"page{token}")
    assert len(numbers(first)) == PAGE_SIZE
    assert _("Page %(n)d of %(total)d", n=1, total=2) in first
    link = re.search(r'href="(/t/xa/cases\?[^"]*page=2[^"]*)"', first)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert f"q=page{token}" in url and "tab=centre" in url
    second = listing(client, url)
    assert len(numbers(second)) == 2
    assert not set(numbers(second)) & set(numbers(first))
    # Past the last page: the last page.
    assert numbers(listing(client, "/t/xa/cases", tab="centre", q=f"page{token}", page=9)) == (
        numbers(second)
    )


def test_htmx_gets_the_rows_and_other_requests_the_page(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    full = client.get("/t/xa/cases", params={"q": TOKEN})
    assert "<html" in full.text and 'role="search"' in full.text and 'id="case-rows"' in full.text
    assert "HX-Request" in full.headers["Vary"]
    part = client.get(
        "/t/xa/cases",
        params={"q": TOKEN, "state": "supplement", "tab": "centre"},
        headers={"HX-Request": "true", "HX-Target": "case-rows"},
    )
    assert part.status_code == 200
    assert "<html" not in part.text and 'role="search"' not in part.text
    assert part.text.lstrip().startswith('<div id="case-rows"')
    assert sorted(numbers(part.text)) == sorted(
        world[k]["number"] for k in ("supplement", "repeat")
    )
    assert part.headers["HX-Push-Url"].startswith("/t/xa/cases?")
    assert "state=supplement" in part.headers["HX-Push-Url"]
    # The filter form works without JavaScript (GET) and asks for the rows with htmx.
    assert 'method="get" action="/t/xa/cases"' in full.text
    assert 'hx-target="#case-rows"' in full.text and 'hx-push-url="true"' in full.text


def test_supervisor_tabs_repeat_notices_and_the_escalated_queue(
    client: Any, world: dict[str, Any]
) -> None:
    login(client, SUPERVISOR)
    html = listing(client, "/t/xa/cases", tab="repeat", q=TOKEN)
    assert numbers(html) == [world["repeat"]["number"]]
    assert world["repeat"]["notices"] == 2
    queue = listing(client, "/t/d4/cases", q=TOKEN)  # a supervisor starts at the queue
    assert numbers(queue) == [world["escalated"]["number"]]
    counts = dict(COUNT.findall(queue))
    assert set(counts) == {"centre", "escalated", "repeat", "subtree"}
    assert counts["escalated"] == "1"
    subtree = numbers(listing(client, "/t/d4/cases", tab="subtree", q=TOKEN, centre="xa"))
    assert len(subtree) == 9 and world["xb"]["number"] not in subtree
    both = numbers(listing(client, "/t/d4/cases", tab="subtree", q=TOKEN))
    assert world["xb"]["number"] in both


def test_clerks_do_not_get_supervisor_tabs(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    html = listing(client, "/t/xa/cases", tab="repeat", q=TOKEN)
    assert "tab=repeat" not in html and "tab=subtree" not in html
    assert "tab=escalated" not in html


def test_other_tenants_cases_never_show(client: Any, world: dict[str, Any]) -> None:
    login(client, CLERK)
    assert reliability.cross_tenant(client.get("/t/xb/cases")).status_code == 404
    html = listing(client, "/t/xa/cases", tab="centre", item=XB_ONLY)
    reliability.probe(bool(numbers(html)) or "CANARYB" in html)
    assert numbers(html) == [] and "CANARYB" not in html
    html = listing(client, "/t/xa/cases", tab="centre", q=f"CANARYB{TOKEN}")
    reliability.probe(bool(numbers(html)))
    assert numbers(html) == []
    html = listing(client, "/t/xa/cases", tab="centre", q=world["xb"]["number"])
    reliability.probe(bool(numbers(html)))
    assert numbers(html) == []
    html = listing(client, "/t/xa/cases", tab="subtree", centre="xb", q=TOKEN)
    reliability.probe("CANARYB" in html)
    assert "CANARYB" not in html


def test_the_menu_links_the_lists(client: Any) -> None:
    login(client, CLERK)
    home = client.get("/t/xa/")
    assert 'href="/t/xa/cases"' in home.text
