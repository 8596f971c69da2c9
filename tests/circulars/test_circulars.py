"""Circulars (通报): read receipts, who may see one, attachments, linked results."""

from __future__ import annotations

import re
import secrets

from starlette.testclient import TestClient

from app.circulars import queries, services
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests import reliability
from tests.cases.helpers import run
from tests.circulars.helpers import PDF, ids, inspection, issue, issued_id
from tests.conftest import login


def _title() -> str:
    return f"关于督查结果的通报 {secrets.token_hex(3)}"


def _issue_to_xa_xb(client: TestClient, token: str, title: str, **extra: object) -> int:
    xa, xb = ids("xa", "xb")
    return issued_id(
        issue(
            client,
            token,
            "d4",
            title=title,
            body="第一段。\n\n第二段 <b>不是HTML</b>",
            recipients="chosen",
            centre=[str(xa), str(xb)],
            **extra,
        )
    )


def test_read_receipts_two_of_three(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    title = _title()
    circular_id = _issue_to_xa_xb(client, token, title)
    page = client.get(f"/t/d4/circulars/{circular_id}")
    assert page.status_code == 200
    assert "&lt;b&gt;不是HTML&lt;/b&gt;" in page.text and "<b>不是HTML" not in page.text
    listing = client.get("/t/d4/circulars")
    assert title in listing.text

    # a non-recipient centre of the same division: 404, and not in its list
    client.cookies.clear()
    login(client, "r63-zhoujianguo")
    assert client.get(f"/t/r63/circulars/{circular_id}").status_code == 404
    assert title not in client.get("/t/r63/circulars").text

    # the recipient manager acknowledges once
    client.cookies.clear()
    token = login(client, "xa-manager")
    listing = client.get("/t/xa/circulars")
    assert title in listing.text
    page = client.get(f"/t/xa/circulars/{circular_id}")
    assert "/acknowledge" in page.text
    done = client.post(
        f"/t/xa/circulars/{circular_id}/acknowledge",
        data={"csrf_token": token, "note": "已组织学习"},
    )
    assert done.status_code == 303
    first = client.get(f"/t/xa/circulars/{circular_id}")
    assert "/acknowledge" not in first.text
    again = client.post(
        f"/t/xa/circulars/{circular_id}/acknowledge", data={"csrf_token": token, "note": "再次"}
    )
    assert again.status_code == 303

    async def receipt_rows() -> list[dict]:
        tree = await tenancy.tree()
        return await queries.receipts(system_scope(tree, reason="tests"), circular_id)

    rows = {r["tenant_slug"]: r for r in run(receipt_rows())}
    assert set(rows) == {"xa", "xb"}
    assert rows["xa"]["acknowledged_at"] is not None and rows["xa"]["note"] == "已组织学习"
    assert rows["xb"]["acknowledged_at"] is None

    # the division sees who has and has not read it
    client.cookies.clear()
    login(client, "d4-liuhong")
    page = client.get(f"/t/d4/circulars/{circular_id}").text
    assert re.search(r"receipt-list unread.*?CANARYB", page, re.S)  # xb not read
    assert re.search(r"receipt-list read.*?CANARYA", page, re.S)  # xa read
    assert "已组织学习" in page
    listing = client.get("/t/d4/circulars").text
    assert title in listing


def test_clerk_cannot_acknowledge_nor_issue(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    circular_id = _issue_to_xa_xb(client, token, _title())
    client.cookies.clear()
    token = login(client, "xa-clerk")
    assert client.get(f"/t/xa/circulars/{circular_id}").status_code == 200
    refused = client.post(f"/t/xa/circulars/{circular_id}/acknowledge", data={"csrf_token": token})
    assert refused.status_code == 403
    assert client.get("/t/xa/circulars/new").status_code == 403


def test_attachments_only_to_recipients_and_issuer(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    circular_id = _issue_to_xa_xb(
        client, token, _title(), files=[("files", ("通报.pdf", PDF, "application/pdf"))]
    )
    page = client.get(f"/t/d4/circulars/{circular_id}").text
    found = re.search(rf"/circulars/{circular_id}/files/(\d+)", page)
    assert found, page
    attachment_id = int(found.group(1))
    url = f"/circulars/{circular_id}/files/{attachment_id}"
    got = client.get(f"/t/d4{url}")
    assert got.status_code == 200 and got.content == PDF
    client.cookies.clear()
    login(client, "xb-manager")
    got = client.get(f"/t/xb{url}")
    assert got.status_code == 200 and got.content == PDF
    # not xb-manager's tenant
    assert reliability.cross_tenant(client.get(f"/t/xa{url}")).status_code == 404
    client.cookies.clear()
    login(client, "r63-zhoujianguo")
    assert reliability.cross_tenant(client.get(f"/t/r63{url}")).status_code == 404
    # a wrong attachment id under a circular the centre did receive: 404 as well
    client.cookies.clear()
    login(client, "xa-manager")
    assert (
        client.get(f"/t/xa/circulars/{circular_id}/files/{attachment_id + 100000}").status_code
        == 404
    )


def test_other_issuer_circular_is_404(client: TestClient) -> None:
    """A regiment's circular to its community is invisible to the division's own pages and to
    a sibling centre (a circular is reached only as its issuer or through a receipt)."""
    token = login(client, "zr-supervisor")
    (zc,) = ids("zc")
    title = _title()
    circular_id = issued_id(
        issue(client, token, "zr", title=title, body="正文", recipients="chosen", centre=[str(zc)])
    )
    assert client.get(f"/t/zr/circulars/{circular_id}").status_code == 200
    client.cookies.clear()
    login(client, "d4-liuhong")
    assert client.get(f"/t/d4/circulars/{circular_id}").status_code == 404
    assert client.get(f"/t/d4/circulars/{circular_id}/files/1").status_code == 404
    client.cookies.clear()
    token = login(client, "xa-manager")
    assert client.get(f"/t/xa/circulars/{circular_id}").status_code == 404
    no = client.post(f"/t/xa/circulars/{circular_id}/acknowledge", data={"csrf_token": token})
    assert no.status_code == 404
    client.cookies.clear()
    login(client, "zc-manager")
    assert title in client.get(f"/t/zc/circulars/{circular_id}").text


def test_issue_to_everyone_below_and_recipients_checked(client: TestClient) -> None:
    token = login(client, "zr-supervisor")
    (xa,) = ids("xa")
    bad = issue(
        client, token, "zr", title="越级", body="正文", recipients="chosen", centre=[str(xa)]
    )
    assert bad.status_code == 422
    assert "越级" in bad.text  # input kept
    circular_id = issued_id(
        issue(client, token, "zr", title=_title(), body="正文", recipients="all")
    )

    async def targets() -> list[str]:
        tree = await tenancy.tree()
        rows = await queries.receipts(system_scope(tree, reason="tests"), circular_id)
        return sorted(r["tenant_slug"] for r in rows)

    async def expected() -> list[str]:
        tree = await tenancy.tree()
        return sorted(n.slug for n in services.recipients_of(tree, tree.by_slug["zr"].id))

    assert run(targets()) == run(expected())
    assert "zc" in run(targets())


def test_422_keeps_input(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    response = issue(client, token, "d4", title="", body="保留的正文内容", recipients="chosen")
    assert response.status_code == 422
    assert "保留的正文内容" in response.text
    response = issue(
        client,
        token,
        "d4",
        title="附件不对",
        body="正文",
        recipients="all",
        files=[("files", ("a.pdf", b"not a pdf at all", "application/pdf"))],
    )
    assert response.status_code == 422 and "附件不对" in response.text
    response = issue(
        client, token, "d4", title="链接不对", body="正文", link="inspection:999999999"
    )
    assert response.status_code == 422 and "链接不对" in response.text


def test_link_to_inspection_renders_results(client: TestClient) -> None:
    inspection_id = inspection("xa", findings=3)
    token = login(client, "d4-liuhong")
    form = client.get(f"/t/d4/circulars/new?link=inspection:{inspection_id}")
    assert form.status_code == 200
    assert "87.50" in form.text and "CANARYA" in form.text
    circular_id = _issue_to_xa_xb(client, token, _title(), link=f"inspection:{inspection_id}")
    client.cookies.clear()
    login(client, "xb-manager")  # another recipient sees the circulated results too
    page = client.get(f"/t/xb/circulars/{circular_id}").text
    assert "87.50" in page and "2026-04-15" in page
    assert re.search(r"<dd>3</dd>", page)


def test_link_refused_for_unsubmitted_or_outside_inspection(client: TestClient) -> None:
    planned = inspection("xa", findings=0, state="in_progress")
    token = login(client, "d4-liuhong")
    response = issue(client, token, "d4", title="草稿", body="正文", link=f"inspection:{planned}")
    assert response.status_code == 422
    outside = inspection("r63", findings=1)
    client.cookies.clear()
    token = login(client, "zr-supervisor")  # r63 is not under zr
    response = issue(client, token, "zr", title="越界", body="正文", link=f"inspection:{outside}")
    assert response.status_code == 422


def test_link_to_league(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    form = client.get("/t/d4/circulars/new?link=league:2026-04")
    assert form.status_code == 200
    assert "2026-04" in form.text
    circular_id = _issue_to_xa_xb(client, token, _title(), link="league:2026-04")
    page = client.get(f"/t/d4/circulars/{circular_id}").text
    assert "2026-04" in page
    table = page[page.index('class="list league"') :]
    assert "CANARYA" in table and "<td" in table  # the ranked centres, snapshot at issue
    client.cookies.clear()
    login(client, "xa-manager")  # a recipient sees the same table
    assert "CANARYA" in client.get(f"/t/xa/circulars/{circular_id}").text
    client.cookies.clear()
    token = login(client, "d4-liuhong")
    bad = issue(client, token, "d4", title="月份不对", body="正文", link="league:2026-13")
    assert bad.status_code == 422


def test_centre_list_unread_first_and_fragment(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    older, newer = _title(), _title()
    _issue_to_xa_xb(client, token, older)
    newer_id = _issue_to_xa_xb(client, token, newer)
    listing = client.get("/t/d4/circulars").text
    assert re.search(re.escape(newer) + r".*?0/2", listing, re.S)
    client.cookies.clear()
    token = login(client, "xb-manager")
    client.post(f"/t/xb/circulars/{newer_id}/acknowledge", data={"csrf_token": token})
    page = client.get("/t/xb/circulars").text
    assert page.index(older) < page.index(newer)  # unread first, though older
    assert 'class="badge"' in page
    part = client.get("/t/xb/circulars", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and 'id="circulars"' in part.text
    client.cookies.clear()
    login(client, "d4-liuhong")
    listing = client.get("/t/d4/circulars").text
    assert re.search(re.escape(newer) + r".*?1/2", listing, re.S)
