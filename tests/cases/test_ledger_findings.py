"""The inspection flow of the ledger (finding items): the centre answers with evidence, the
inspector verifies (accept closes, reject reopens), one extension, files scoped to the centre."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import escape
from starlette.testclient import TestClient

from app import db
from app.cases import ledger
from app.cases.queries import ledger_flow
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext
from tests import reliability
from tests.cases.helpers import run, scope_of

INSPECTOR = "d4-liuhong"  # supervisor of d4 (xa, xb, r63 are in its subtree)
MANAGERS = {"xa": "xa-manager", "xb": "xb-manager", "r63": "r63-zhoujianguo"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


async def _open_finding(slug: str, *, due_at: datetime | None = None) -> int:
    """A finding item of ``slug`` opened by the inspector at the division (as H2's submit
    does): a supervisor writes the centre's ledger under its supervise ids."""
    scope = await scope_of(INSPECTOR, "d4")
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    owners = await ledger.managers(scope, tenant_id)
    now = datetime.now(UTC)
    due = due_at or await ledger.due_in(scope, tenant_id, now, ledger.DUE_HALVES)
    title = f"{'CANARYB ' if slug == 'xb' else ''}检查发现 {secrets.token_hex(3)}"
    async with db.write(scope):
        return await ledger.open_item(
            scope, tenant_id, "finding", None, None, title, "台账不全", owners[0]["user_id"], due
        )


def open_finding(slug: str = "xa", **kwargs: Any) -> int:
    return int(run(_open_finding(slug, **kwargs)))


def _system() -> Any:
    return system_scope(run(tenancy.tree()), reason="tests")


def item(item_id: int) -> dict[str, Any]:
    return dict(run(ledger.load(_system(), item_id)))


def history(item_id: int) -> list[str]:
    return [s["kind"] for s in run(ledger_flow.steps(_system(), item_id))]


def evidence(item_id: int) -> list[dict[str, Any]]:
    return list(run(ledger_flow.evidence(_system(), item_id)))


def html(msgid: str, **kwargs: Any) -> str:
    return str(escape(gettext(msgid, **kwargs)))


def answer(
    client: TestClient, token: str, url: str, note: str, files: list[tuple[str, bytes]]
) -> Any:
    return client.post(
        f"{url}/evidence",
        data={"csrf_token": token, "note": note},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def hostile_answer(
    client: TestClient, token: str, url: str, note: str, files: list[tuple[str, bytes]]
) -> Any:
    """:func:`answer` with a hostile body, counted in the suite's reliability figures."""
    return reliability.hostile(answer, client, token, url, note, files, uploads=len(files))


def test_finding_lifecycle_answer_reject_answer_accept(client, as_user) -> None:
    item_id = open_finding()
    assert history(item_id) == ["opened"]
    token = as_user("xa-manager")
    url = f"/t/xa/rectifications/{item_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert f'action="{url}/evidence"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="step" value="verify"' not in page.text  # not the rating steps
    # The four rating steps are refused for a finding.
    refused = client.post(url, data={"csrf_token": token, "step": "verify", "note": "x"})
    assert refused.status_code == 422
    assert item(item_id)["state"] == "open"
    # An answer needs its note; what was typed stays.
    no_note = answer(client, token, url, "  ", [("a.png", PNG)])
    assert no_note.status_code == 422
    assert html("Write what was done to rectify it.") in no_note.text
    assert evidence(item_id) == []
    ok = answer(client, token, url, "已补齐台账并张贴公示", [("现场.png", PNG), ("制度.pdf", PDF)])
    assert ok.status_code == 303, ok.text[:500]
    assert ok.headers["location"] == f"{url}?done=answer"
    row = item(item_id)
    assert row["state"] == "fixed" and row["fix_note"] == "已补齐台账并张贴公示"
    files = evidence(item_id)
    assert sorted(f["filename"] for f in files) == ["制度.pdf", "现场.png"]
    page = client.get(url)
    assert "现场.png" in page.text and "制度.pdf" in page.text
    assert f'action="{url}/evidence"' not in page.text  # waits for the inspector
    # A second answer while waiting is refused.
    again = answer(client, token, url, "再次提交", [])
    assert again.status_code == 422
    assert len(evidence(item_id)) == 2
    # The centre's manager cannot verify.
    assert (
        client.post(f"{url}/verify", data={"csrf_token": token, "decision": "accept"}).status_code
        == 403
    )
    assert item(item_id)["state"] == "fixed"

    # The inspector rejects (a reason is required), from the division's address.
    token = as_user(INSPECTOR)
    d4_url = f"/t/d4/rectifications/{item_id}"
    page = client.get(d4_url)
    assert f'action="{d4_url}/verify"' in page.text
    assert f'action="{d4_url}/evidence"' not in page.text
    no_reason = client.post(f"{d4_url}/verify", data={"csrf_token": token, "decision": "reject"})
    assert no_reason.status_code == 422
    assert html("A rejection states what is still wrong.") in no_reason.text
    bad = client.post(f"{d4_url}/verify", data={"csrf_token": token, "decision": "maybe"})
    assert bad.status_code == 422
    rejected = client.post(
        f"{d4_url}/verify", data={"csrf_token": token, "decision": "reject", "note": "公示不全"}
    )
    assert rejected.status_code == 303
    assert item(item_id)["state"] == "open"

    # The centre answers again; the first round stays in the history.
    token = as_user("xa-manager")
    second = answer(client, token, url, "已补充公示栏", [("公示.png", PNG)])
    assert second.status_code == 303
    assert len(evidence(item_id)) == 3

    # The inspector accepts, this time from the centre's address.
    token = as_user(INSPECTOR)
    accepted = client.post(
        f"{url}/verify", data={"csrf_token": token, "decision": "accept", "note": "复查合格"}
    )
    assert accepted.status_code == 303, accepted.text[:500]
    row = item(item_id)
    assert row["state"] == "closed" and row["outcome"] == "resolved"
    assert row["closed_at"] is not None
    assert history(item_id) == ["opened", "answer", "reject", "answer", "accept"]
    page = client.get(url)
    assert "公示不全" in page.text and "复查合格" in page.text
    # Closed: no further verification.
    late = client.post(
        f"{url}/verify", data={"csrf_token": token, "decision": "reject", "note": "x"}
    )
    assert late.status_code == 422


def test_one_extension_for_a_finding(client, as_user) -> None:
    item_id = open_finding()
    before = item(item_id)["due_at"]
    token = as_user("xa-manager")
    url = f"/t/xa/rectifications/{item_id}"
    first = client.post(
        url, data={"csrf_token": token, "step": "extend", "days": "3", "reason": "需采购设备"}
    )
    assert first.status_code == 303
    row = item(item_id)
    assert row["extended"] and row["due_at"] > before
    second = client.post(
        url, data={"csrf_token": token, "step": "extend", "days": "2", "reason": "再次延期"}
    )
    assert second.status_code == 422
    assert html("The due date has already been extended once.") in second.text
    assert item(item_id)["due_at"] == row["due_at"]
    assert history(item_id) == ["opened", "extend"]
    # The inspector does not extend: the centre asks.
    token = as_user(INSPECTOR)
    other = open_finding()
    refused = client.post(
        f"/t/d4/rectifications/{other}",
        data={"csrf_token": token, "step": "extend", "days": "2", "reason": "x"},
    )
    assert refused.status_code == 403
    assert item(other)["extended"] is False


def test_evidence_download_is_scoped(client, as_user) -> None:
    item_id = open_finding("xa")
    token = as_user("xa-manager")
    url = f"/t/xa/rectifications/{item_id}"
    assert answer(client, token, url, "整改完成", [("证据.pdf", PDF)]).status_code == 303
    evidence_id = evidence(item_id)[0]["id"]
    got = client.get(f"{url}/evidence/{evidence_id}")
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert "attachment" in got.headers["content-disposition"]
    # The division's inspector reads it at the division's and at the centre's address.
    as_user(INSPECTOR)
    for slug in ("d4", "xa"):
        response = client.get(f"/t/{slug}/rectifications/{item_id}/evidence/{evidence_id}")
        assert response.status_code == 200, slug
        assert response.content == PDF
    # Another centre: 404 whichever address and whichever item it pairs the file with.
    as_user("xb-manager")
    theirs = open_finding("xb")
    for path in (
        f"/t/xb/rectifications/{item_id}/evidence/{evidence_id}",
        f"/t/xa/rectifications/{item_id}/evidence/{evidence_id}",
        f"/t/xb/rectifications/{theirs}/evidence/{evidence_id}",
    ):
        assert reliability.cross_tenant(client.get(path)).status_code == 404, path
    # The file of one item is not served under another item of the same centre.
    as_user("xa-manager")
    sibling = open_finding("xa")
    assert client.get(f"/t/xa/rectifications/{sibling}/evidence/{evidence_id}").status_code == 404
    assert client.get(f"{url}/evidence/{2**31 - 2}").status_code == 404


def test_another_centre_cannot_answer_or_verify(client, as_user) -> None:
    theirs = open_finding("xb")
    token = as_user("xa-manager")
    for slug in ("xa", "xb"):
        response = answer(client, token, f"/t/{slug}/rectifications/{theirs}", "x", [])
        reliability.cross_tenant(response, shows="CANARYB")
        assert response.status_code == 404, slug
        assert "CANARYB" not in response.text
    assert item(theirs)["state"] == "open"
    # A supervisor of another division (x2) does not see d4's items.
    # The inspector of d4 cannot answer for the centre (403: a reader).
    token = as_user(INSPECTOR)
    response = answer(client, token, f"/t/d4/rectifications/{theirs}", "代答", [("a.png", PNG)])
    assert response.status_code == 403
    assert evidence(theirs) == []


def test_hostile_uploads_and_input(client, as_user) -> None:
    item_id = open_finding()
    token = as_user("xa-manager")
    url = f"/t/xa/rectifications/{item_id}"
    # Not an image or a PDF (by content, whatever the name says): 422, the note kept.
    text = hostile_answer(
        client, token, url, "整改说明保留", [("photo.png", b"just some plain text here!")]
    )
    assert text.status_code == 422
    assert "整改说明保留" in text.text
    assert "photo.png" in text.text
    # One bad file among good ones: nothing is stored.
    mixed = hostile_answer(
        client, token, url, "混合", [("a.png", PNG), ("b.exe", b"MZ" + b"\x90" * 40)]
    )
    assert mixed.status_code == 422
    assert evidence(item_id) == [] and item(item_id)["state"] == "open"
    empty = hostile_answer(client, token, url, "空文件", [("empty.png", b"")])
    assert empty.status_code == 422
    # A huge note: refused with a message, no 5xx.
    huge = hostile_answer(client, token, url, "长" * 5000, [("a.png", PNG)])
    assert huge.status_code == 422
    assert html("At most %(n)d characters.", n=ledger.NOTE_MAX) in huge.text
    nul = hostile_answer(client, token, url, "a\x00b", [("n.png", b"not a picture at all, text")])
    assert nul.status_code == 422
    # Too many files.
    many = hostile_answer(client, token, url, "很多", [(f"{i}.png", PNG) for i in range(12)])
    assert many.status_code == 422
    assert evidence(item_id) == []
    # Unknown ids and nonsense decisions.
    for path in (
        f"/t/xa/rectifications/{2**31 - 2}/evidence",
        f"/t/xa/rectifications/{2**31 - 2}/verify",
    ):
        response = reliability.hostile(client.post, path, data={"csrf_token": token, "note": "x"})
        assert response.status_code in (403, 404), path
    huge_id = f"/t/xa/rectifications/{2**40}/evidence/1"
    assert reliability.hostile(client.get, huge_id).status_code == 404
    token = as_user(INSPECTOR)
    response = reliability.hostile(
        client.post,
        f"/t/d4/rectifications/{2**31 - 2}/verify",
        data={"csrf_token": token, "decision": "accept"},
    )
    assert response.status_code == 404
    # Verifying an item nobody answered yet: refused with a message.
    not_yet = client.post(
        f"/t/d4/rectifications/{item_id}/verify", data={"csrf_token": token, "decision": "accept"}
    )
    assert not_yet.status_code == 422
    assert html("The centre has not answered yet.") in not_yet.text
    assert item(item_id)["state"] == "open"


def test_overdue_finding_is_red_in_list_and_detail(client, as_user) -> None:
    late = open_finding(due_at=datetime.now(UTC) - timedelta(days=1))
    as_user("xa-manager")
    listing = client.get("/t/xa/rectifications?source=finding")
    assert re.search(
        rf'<tr class="overdue">\s*<td[^>]*><div class="cell"><a href="[^"]*/{late}"', listing.text
    )
    page = client.get(f"/t/xa/rectifications/{late}")
    assert '<span class="tag overdue">' in page.text
    assert ledger.is_overdue(item(late))


def test_a_rating_item_takes_evidence_without_changing_its_steps(client, as_user) -> None:
    async def go() -> int:
        scope = await scope_of("xa-manager", "xa")
        tenant_id = scope.own()
        owner = (await ledger.managers(scope, tenant_id))[0]["user_id"]
        due = await ledger.due_in(scope, tenant_id, datetime.now(UTC), ledger.DUE_HALVES)
        async with db.write(scope):
            return await ledger.open_item(
                scope, tenant_id, "rating", None, None, "差评整改", "", owner, due
            )

    item_id = int(run(go()))
    token = as_user("xa-manager")
    url = f"/t/xa/rectifications/{item_id}"
    assert 'name="step" value="verify"' in client.get(url).text
    nothing = answer(client, token, url, "只有说明", [])
    assert nothing.status_code == 422
    assert html("Choose a file to upload.") in nothing.text
    ok = answer(client, token, url, "回访录音截图", [("回访.png", PNG)])
    assert ok.status_code == 303
    assert item(item_id)["state"] == "open"  # the four steps go on as before
    assert [f["filename"] for f in evidence(item_id)] == ["回访.png"]
    assert "回访.png" in client.get(url).text
    # The inspector does not verify a rating item.
    token = as_user(INSPECTOR)
    response = client.post(
        f"/t/d4/rectifications/{item_id}/verify", data={"csrf_token": token, "decision": "accept"}
    )
    assert response.status_code == 403
