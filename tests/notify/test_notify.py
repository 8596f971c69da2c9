"""Notifications: the inbox, and group-robot delivery against a local HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dramatiq
import pytest
from starlette.testclient import TestClient

from app import db
from app.notify import queries, services, tasks
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope, user_scope
from app.web.i18n import gettext
from tests import reliability
from tests.conftest import login

# Thursday 2026-11-26 11:00 in Beijing (winter morning session 10:00–14:00) and a Saturday night.
IN_HOURS = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


class Receiver:
    """A group-robot stand-in: records each POST and answers with the next planned status."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.plan: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status = receiver.plan.pop(0) if receiver.plan else 200
                body = json.dumps({"errcode": 0 if status == 200 else 500, "errmsg": "ok"})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


async def _setup_channel(slug: str, url: str, enabled: bool = True) -> tuple:  # type: ignore[type-arg]
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    tenant_id = tree.by_slug[slug].id
    async with db.write(scope):
        await queries.save_channel(scope, tenant_id, "wecom", url, enabled)
    return scope, tenant_id


async def _post(scope, tenant_id: int, text: str, urgent: bool = False) -> int:  # type: ignore[no-untyped-def]
    async with db.write(scope):
        outbound_id = await services.post(scope, tenant_id, text, urgent=urgent)
    assert outbound_id is not None
    return outbound_id


def _run(broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    broker.join("notify", fail_fast=False)
    worker.join()


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(tasks, "now", lambda: moment)


def test_delivered_once(broker, worker, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _at(monkeypatch, IN_HOURS)
    scope, tenant_id = asyncio.run(_setup_channel("xa", receiver.url))
    outbound_id = asyncio.run(_post(scope, tenant_id, "六十三团：本月报表请于5日前提交"))
    _run(broker, worker)
    tasks.deliver.send(outbound_id)  # a redelivered message
    _run(broker, worker)
    assert receiver.bodies == [
        {"msgtype": "text", "text": {"content": "六十三团：本月报表请于5日前提交"}}
    ]
    row = asyncio.run(queries.outbound(scope, outbound_id))
    assert row is not None and row["status"] == "sent" and row["attempts"] == 1


def test_retried_on_500(broker, worker, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _at(monkeypatch, IN_HOURS)
    receiver.plan = [500, 500]
    scope, tenant_id = asyncio.run(_setup_channel("xa", receiver.url))
    outbound_id = asyncio.run(_post(scope, tenant_id, "重试"))
    _run(broker, worker)
    assert len(receiver.bodies) == 3
    row = asyncio.run(queries.outbound(scope, outbound_id))
    assert row is not None and row["status"] == "sent" and row["attempts"] == 3
    channel = asyncio.run(queries.channel(scope, tenant_id))
    assert channel is not None and channel["failures"] == 0 and channel["last_error"] == "HTTP 500"


def test_held_outside_service_hours_unless_urgent(broker, worker, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _at(monkeypatch, SATURDAY_NIGHT)
    scope, tenant_id = asyncio.run(_setup_channel("xa", receiver.url))
    held = asyncio.run(_post(scope, tenant_id, "周末不打扰"))
    urgent = asyncio.run(_post(scope, tenant_id, "紧急：系统维护", urgent=True))
    _run(broker, worker)
    assert [b["text"]["content"] for b in receiver.bodies] == ["紧急：系统维护"]
    row = asyncio.run(queries.outbound(scope, held))
    assert row is not None and row["status"] == "held"
    # Monday 2026-11-30, 10:00 Beijing time: the winter morning session.
    assert row["next_attempt_at"].astimezone(UTC) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert asyncio.run(queries.outbound(scope, urgent))["status"] == "sent"  # type: ignore[index]
    # When the session begins, the minute sweep releases it.
    _at(monkeypatch, datetime(2026, 11, 30, 2, 1, tzinfo=UTC))
    monkeypatch.setattr(tasks, "now", lambda: datetime(2026, 11, 30, 2, 1, tzinfo=UTC))
    asyncio.run(tasks.release.run("test"))
    _run(broker, worker)
    # Other modules' held messages of xa (light notices) are released too: look at ours.
    ours = {"紧急：系统维护", "周末不打扰"}
    sent = [b["text"]["content"] for b in receiver.bodies]
    assert [text for text in sent if text in ours] == ["紧急：系统维护", "周末不打扰"]


def test_a_dead_webhook_never_blocks_the_user_and_shows_on_the_admin_page(
    app, broker, worker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _at(monkeypatch, IN_HOURS)
    dead = "http://127.0.0.1:9/cgi-bin/webhook/send"  # nothing listens on the discard port
    scope, tenant_id = asyncio.run(_setup_channel("xa", dead))
    known = {r["id"] for r in asyncio.run(queries.recent_outbound(scope, tenant_id))}
    with TestClient(app, follow_redirects=False) as manager:
        token = login(manager, "xa-manager")
        response = manager.post("/t/xa/channel?test=1", data={"csrf_token": token})
        assert response.status_code == 200  # the user's action succeeded at once
    _run(broker, worker)
    reliability.record("faults")
    rows = asyncio.run(queries.recent_outbound(scope, tenant_id))
    new = [r for r in rows if r["id"] not in known]
    reliability.record("records_lost", abs(len(new) - 1))  # the message forgotten or doubled
    row = rows[0]
    assert row["status"] == "failed" and row["attempts"] == tasks.MAX_ATTEMPTS
    assert "URLError" in row["last_error"] or "Connection" in row["last_error"]
    with TestClient(app, follow_redirects=False) as admin:
        login(admin, "admin")
        page = admin.get("/admin/channels").text
        assert "甲团便民服务中心" in page and "URLError" in page
    with TestClient(app, follow_redirects=False) as manager:
        login(manager, "xa-manager")
        inbox = manager.get("/inbox").text
        assert gettext("The group-robot channel could not deliver a message.") in inbox


def test_inbox_unread_count_and_mark_read(app) -> None:  # type: ignore[no-untyped-def]
    async def put() -> int:
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="test")
        from app.accounts import queries as accounts

        user = await accounts.user_by_username("xa-clerk")
        assert user is not None
        async with db.write(scope):
            await services.notify(
                scope, tree.by_slug["xa"].id, [user["id"]], "请补正材料", link="/t/xa/"
            )
        return user["id"]

    user_id = asyncio.run(put())
    # Other modules of this worker may have left notices for xa-clerk (e.g. light notices of
    # the cases it owns): count relative to them.
    unread = asyncio.run(queries.unread_count(user_scope(user_id)))
    with TestClient(app, follow_redirects=False) as clerk:
        token = login(clerk, "xa-clerk")
        page = clerk.get("/t/xa/").text
        assert '<span class="badge">' in page
        items = asyncio.run(queries.inbox(user_scope(user_id)))
        mine = max((i for i in items if i["title"] == "请补正材料"), key=lambda i: i["id"])
        opened = clerk.post(f"/inbox/{mine['id']}", data={"csrf_token": token})
        assert opened.status_code == 303 and opened.headers["location"] == "/t/xa/"
        assert asyncio.run(queries.unread_count(user_scope(user_id))) == unread - 1
        other = clerk.post(f"/inbox/{mine['id'] + 100000}", data={"csrf_token": token})
        assert other.status_code == 404


def test_bad_webhook_address_is_refused_and_kept(client: TestClient) -> None:
    token = login(client, "xa-manager")
    response = client.post(
        "/t/xa/channel", data={"csrf_token": token, "kind": "wecom", "url": "javascript:alert(1)"}
    )
    assert response.status_code == 422
    assert "javascript:alert(1)" in response.text
