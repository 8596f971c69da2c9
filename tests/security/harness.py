"""Shared plumbing for the security tests: walking the routes, filling in path parameters.

The walk recurses into every ``Mount`` except ``/static`` and fails loudly on any other kind
of route, so a new routing construct has to be taught to the harness before tests pass.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from tests.conftest import login

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
PROBED = ("GET", *UNSAFE)
PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z_]+)?\}")
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Endpoint:
    path: str  # the full template, e.g. "/t/{slug}/staff/{member_id}"
    methods: tuple[str, ...]  # GET/POST/PUT/PATCH/DELETE only (HEAD is GET's shadow)

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def tenant_bound(self) -> bool:
        return self.path.startswith("/t/") or self.path.startswith("/admin")

    def url(self, values: dict[str, str]) -> str:
        return PARAM.sub(lambda m: values[m.group(1)], self.path)


def endpoints(routes: list[BaseRoute], prefix: str = "") -> list[Endpoint]:
    """Every HTTP route of the app with its full path (Mounts flattened, /static skipped)."""
    out: list[Endpoint] = []
    for route in routes:
        if isinstance(route, Mount):
            path = prefix + route.path
            if path == "/static":
                continue
            out.extend(endpoints(list(route.routes), path))
        elif isinstance(route, Route):
            methods = tuple(m for m in PROBED if m in (route.methods or {"GET"}))
            out.append(Endpoint(prefix + route.path, methods))
        else:
            raise AssertionError(
                f"the security harness does not know route type {type(route).__name__} "
                f"({route!r}); teach tests/security/harness.py about it"
            )
    return out


def app_endpoints() -> list[Endpoint]:
    from app.main import create_app

    return endpoints(create_app().routes)


def missing_params(eps: list[Endpoint], registry: dict[str, Any]) -> list[str]:
    return [
        f"route {ep.path!r}: path parameter {name!r} has no factory — add it to REGISTRY"
        for ep in eps
        for name in ep.params
        if name not in registry
    ]


# --- ids of the seeded tenants, read through the app's own query functions --------------


@dataclass(frozen=True)
class World:
    tenant_ids: dict[str, int]  # slug → id
    member_ids: dict[str, int]  # "<slug>/<username>" → membership id
    file_ids: dict[str, int] = field(default_factory=dict)  # slug → a stored file's id
    inbox_ids: dict[str, int] = field(default_factory=dict)  # username → an inbox item's id
    item_codes: dict[str, str] = field(default_factory=dict)  # division slug → an item's code
    # centre slug → the code of an item only that centre adopted (public guide pages)
    guide_codes: dict[str, str] = field(default_factory=dict)
    # The case desk: slug → one object of that centre (xb's texts carry the canary).
    case_ids: dict[str, int] = field(default_factory=dict)
    document_ids: dict[str, int] = field(default_factory=dict)
    case_file_ids: dict[str, int] = field(default_factory=dict)
    rectification_ids: dict[str, int] = field(default_factory=dict)
    seal_ids: dict[str, int] = field(default_factory=dict)
    case_numbers: dict[str, str] = field(default_factory=dict)
    # Monthly reports: "d4" → a period of d4's seed form in which only xb (not xa) has a
    # submitted report (its texts carry the canary); "x2" → a form and a period of the second
    # division (x2 files it itself).  Export jobs: slug → a finished job of its manager.
    report_period_ids: dict[str, int] = field(default_factory=dict)
    report_form_ids: dict[str, int] = field(default_factory=dict)
    export_job_ids: dict[str, int] = field(default_factory=dict)
    # Issue 7 (tests/security/oversight_world.py): kind → slug → id, e.g.
    # oversight["inspection"]["xb"]; definitions of a division under "d4"/"x2".
    oversight: dict[str, dict[str, int]] = field(default_factory=dict)


async def _load_world() -> World:
    from app.accounts import queries as accounts
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    members: dict[str, int] = {}
    for slug in ("xa", "xb", "d4"):
        for row in await accounts.members(scope, tree.by_slug[slug].id):
            members[f"{slug}/{row['username']}"] = row["id"]
    files = {slug: await _test_file(scope, tree.by_slug[slug].id) for slug in ("xa", "xb")}
    inbox = {
        username: await _inbox_item(scope, tree.by_slug[username[:2]].id, username)
        for username in ("xa-manager", "xb-manager")
    }
    items = await _catalogue_world()
    tree = await tenancy.tree()
    guides = await _public_world()
    world = World(
        {n.slug: n.id for n in tree.nodes.values()},
        members,
        files,
        inbox,
        items,
        guide_codes=guides,
    )
    for slug in ("xa", "xb"):
        await _cases_world(world, slug)
    from tests.security.reports_world import reports_world

    await reports_world(world)
    from tests.security.oversight_world import oversight_world

    await oversight_world(world)
    return world


async def _cases_world(world: World, slug: str) -> None:
    """A concluded and rated case of ``slug`` with a notice, a decision, a seal usage, a
    material file and a rectification (xb's applicant, seal and ledger texts carry the canary)."""
    from datetime import UTC, datetime

    from app import db
    from app.cases import actions, intake
    from app.cases.queries import core
    from app.cases.tables import CaseFile, Rating, Rectification
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope
    from tests.cases import helpers

    mark = "CANARYB" if slug == "xb" else slug
    clerk, manager = f"{slug}-clerk", f"{slug}-manager"
    case = await helpers.register(clerk, slug, helpers.DIBAO, missing=(0,), name=f"{mark}申请人")
    scope = await helpers.scope_of(clerk, slug)
    actor = await helpers.actor_of(clerk)
    boss, boss_actor = await helpers.scope_of(manager, slug), await helpers.actor_of(manager)
    await intake.update_materials(scope, case["id"], actor, {0: intake.MaterialCheck("received")})
    await intake.accept(scope, case["id"], actor)
    await actions.start_review(scope, case["id"], actor)
    await actions.submit(scope, case["id"], actor)
    seal = await helpers.ensure_seal(slug, f"{mark} 行政审批专用章")
    await actions.decide(boss, case["id"], boss_actor, "denied", seal, reason=f"{mark} 不符合条件")
    docs = await core.documents(scope, case["id"])
    tree = await tenancy.tree()
    system = system_scope(tree, reason="test")
    tenant_id = tree.by_slug[slug].id
    now = datetime.now(UTC)
    from app.storage import services as storage

    data = f"%PDF-1.4\n% {mark} case material\ntrailer << >>\n%%EOF\n".encode()
    stored = await storage.store_bytes(
        system, data, domain="cases", filename=f"{mark}-申请书.pdf", tenant_id=tenant_id
    )
    async with db.write(system):
        await CaseFile.insert(
            CaseFile(
                tenant=tenant_id,
                case=case["id"],
                file=stored.id,
                uploaded_by=actor.id,
                uploaded_at=now,
            )
        )
        file_rows = await CaseFile.select(CaseFile.id).where(CaseFile.case == case["id"])
        rating = await Rating.insert(
            Rating(tenant=tenant_id, case=case["id"], level=1, reasons=["attitude"], comment=mark)
        ).returning(Rating.id)
        rect = await Rectification.insert(
            Rectification(
                tenant=tenant_id,
                source="rating",
                source_id=rating[0]["id"],
                case=case["id"],
                title=f"{mark} 差评整改",
                detail=mark,
                owner=boss_actor.id,
                due_at=now,
            )
        ).returning(Rectification.id)
    world.case_ids[slug] = case["id"]
    world.case_numbers[slug] = case["number"]
    world.document_ids[slug] = docs[0]["id"]
    world.case_file_ids[slug] = stored.id  # the stored file attached to the case
    assert file_rows
    world.rectification_ids[slug] = rect[0]["id"]
    world.seal_ids[slug] = seal
    assert boss.tenant_id == tenant_id


async def _public_world() -> dict[str, str]:
    """For the public pages: a d4 item that ONLY xb adopted (its local note carries the
    canary; the item itself, shared with xa, does not), and edition 1 of d4's power list."""
    import dataclasses
    from datetime import date

    from app.catalogue import power_list, versions
    from app.catalogue.content import validate
    from app.catalogue.queries import power_list as editions
    from app.catalogue.queries import public
    from app.catalogue.queries import templates as catalogue
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    d4, xb = tree.by_slug["d4"], tree.by_slug["xb"]
    owner = dataclasses.replace(scope, tenant_id=d4.id)
    code = "SEC-PUB-XB01"
    if await catalogue.template_by_code(scope, code) is None:
        content = validate(
            {
                "name": "公开页测试事项",
                "department": "mzj",
                "power_type": "公共服务",
                "kind": "promised",
                "legal_halves": 20,
                "promised_halves": 10,
            }
        )
        await versions.create(None, owner, code, content, date(2020, 1, 1), "test")
    if await public.adopted_item(scope, xb.id, code) is None:
        template = await catalogue.template_by_code(scope, code)
        assert template is not None
        version = (await catalogue.latest_versions(scope, [template["id"]]))[template["id"]]
        await public.insert_adoption(
            scope, xb.id, template["id"], version["id"], local_note="CANARYB-GUIDE-NOTE"
        )
    if await editions.latest(scope, d4.id) is None:
        await power_list.publish(None, owner, d4, date.today())
    return {"xb": code}


X2_SUPERVISOR = "x2-supervisor"


async def _catalogue_world() -> dict[str, str]:
    """An item of d4 (shared by xa and xb) and one of a SECOND division, x2, whose every
    text carries the canary: another division's catalogue is what xa/xb must never reach.
    x2 gets a supervisor (password tests.conftest.PASSWORD) for the positive controls."""
    import dataclasses
    from datetime import date

    from app import db
    from app.accounts import passwords
    from app.accounts import queries as accounts
    from app.catalogue import versions
    from app.catalogue.content import validate
    from app.catalogue.queries import templates as catalogue
    from app.storage.services import store_bytes
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope
    from app.tenancy.services import DEFAULT_HOURS
    from tests.conftest import PASSWORD

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    if "x2" not in tree.by_slug:
        async with db.write(scope):
            x2 = await tenancy.create_tenant(
                scope,
                slug="x2",
                name="第二测试师 CANARYB-DIVISION",
                kind="division",
                status="pilot",
                hours=DEFAULT_HOURS,
            )
            scope = scope.with_tenant(x2)
            await db.set_scope(scope)
            await tenancy.upsert_department(
                scope, x2, "x2mz", name="CANARYB-民政局", short_name="CANARYB-民政", sort=1
            )
            user_id = await accounts.create_user(X2_SUPERVISOR, "CANARYB-乙师督查")
            await accounts.update_user(user_id, password_hash=passwords.hash_password(PASSWORD))
            await accounts.add_membership(scope, x2, user_id, {"supervisor"})
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="test")
    codes = {"d4": "SEC-D4-0001", "x2": "SEC-X2-0001"}
    contents = {
        "d4": {"name": "安全测试事项", "department": "mzj"},
        "x2": {"name": "CANARYB-乙师事项", "department": "x2mz"},
    }
    for slug, code in codes.items():
        if await catalogue.template_by_code(scope, code) is not None:
            continue
        owner = dataclasses.replace(scope, tenant_id=tree.by_slug[slug].id)
        materials: list[dict[str, Any]] = []
        if slug == "x2":  # a material with a sample (served by x2's public guide only)
            sample = await store_bytes(
                scope,
                b"%PDF-1.4\n% CANARYB-SAMPLE\ntrailer << >>\n%%EOF\n",
                domain="catalogue",
                filename="CANARYB-sample.pdf",
                tenant_id=owner.tenant_id,
            )
            materials.append({"name": "CANARYB-样表材料", "sample_file_id": sample.id})
        content = validate(
            {
                **contents[slug],
                "materials": materials,
                "power_type": "行政给付",
                "kind": "promised",
                "legal_halves": 20,
                "promised_halves": 10,
                "implementing_body": contents[slug]["name"],
            }
        )
        await versions.create(None, owner, code, content, date(2026, 1, 1), "test")
    return codes


async def _inbox_item(scope: Any, tenant_id: int, username: str) -> int:
    """A message in ``username``'s inbox (xb's carries the canary)."""
    from app import db
    from app.accounts import queries as accounts
    from app.notify import queries as notify
    from app.notify import services
    from app.tenancy.scope import user_scope

    user = await accounts.user_by_username(username)
    assert user is not None
    async with db.write(scope):
        await services.notify(
            scope,
            tenant_id,
            [user["id"]],
            f"{username} CANARYB-inbox" if "xb" in username else "甲通知",
        )
    return (await notify.inbox(user_scope(user["id"])))[0]["id"]


async def _test_file(scope: Any, tenant_id: int) -> int:
    """A small valid PDF of the tenant (xb's bytes and name carry the canary)."""
    from app.storage import services as storage
    from app.tenancy import queries as tenancy

    row = await tenancy.tenant(scope, tenant_id)
    assert row is not None
    mark = "CANARYB" if row["slug"] == "xb" else row["slug"]
    data = f"%PDF-1.4\n% {mark} test material\ntrailer << >>\n%%EOF\n".encode()
    info = await storage.store_bytes(
        scope, data, domain="test", filename=f"{mark}-材料.pdf", tenant_id=tenant_id
    )
    return info.id


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def body_text(response: Any) -> str:
    """What a reader of the response sees: a spreadsheet's cell values (its bytes are zipped,
    so a canary inside would not show in ``response.text``), else the text."""
    if not response.headers.get("content-type", "").startswith(XLSX_MIME):
        return response.text
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    try:
        return "\n".join(
            str(cell.value)
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for cell in row
            if cell.value is not None
        )
    finally:
        wb.close()


def load_world() -> World:
    return asyncio.run(_load_world())


async def _issue_link(username: str) -> str:
    """A real, unused set-password token of ``username`` (what a manager's reset would give)."""
    from app import db
    from app.accounts import queries as accounts
    from app.accounts import services
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    row = await accounts.user_by_username(username)
    assert row is not None, username
    async with db.write(system_scope(await tenancy.tree(), reason="test")):
        url = await services.issue_link(row["id"], None)
    return url.rsplit("/", 1)[1]


def issue_link(username: str) -> str:
    return asyncio.run(_issue_link(username))


def random_token() -> str:
    return secrets.token_urlsafe(24)


Factory = Callable[[World], str]


# --- clients -------------------------------------------------------------------------


def signed_in(username: str | None):  # type: ignore[no-untyped-def]
    """A started TestClient (signed in as ``username`` unless None) and its CSRF token."""
    from starlette.testclient import TestClient

    from app.main import create_app
    from tests.conftest import csrf_of

    client = TestClient(create_app(), follow_redirects=False, raise_server_exceptions=False)
    client.__enter__()
    token = login(client, username) if username else csrf_of(client)
    return client, token


def plausible_form(token: str | None, **extra: str) -> dict[str, Any]:
    """One body that fills every field of every form in the app with valid-looking values."""
    body: dict[str, Any] = {
        "username": "probe-user",
        "display_name": "探针用户",
        "title": "探针",
        "roles": ["clerk"],
        "current": "test-pass-123",
        "new": "Probe-pass-12345!",
        "confirm": "Probe-pass-12345!",
        "password": "test-pass-123",
        "locale": "zh_Hans",
        "next": "/",
        "status": "pilot",
        "kind": "regiment",
        "name": "探针中心",
        "slug": "probe-centre",
        "manager_username": "probe-manager",
        "manager_name": "探针主任",
        **extra,
    }
    if token is not None:
        body["csrf_token"] = token
    return body
