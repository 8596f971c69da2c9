"""The inspection pages over HTTP: start (twice with one key), fill one section per screen,
plain and JSON saves (resent, stale, invalid), photos (resent, served after the scope
check), submit (photo required, twice), list, the manager's acknowledgement."""

from __future__ import annotations

import re
import uuid

from app.inspections.queries import inspections as queries
from app.tenancy import queries as tenancy
from tests.inspections.helpers import PNG, checklist, inspector, run, start

JSON = {"Accept": "application/json"}


def new_form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = client.get("/t/d4/inspections/new?centre=xa&on=2026-11-23")
    assert page.status_code == 200, page.text[:300]
    assert '<option selected value="xa">' in page.text
    assert 'value="2026-11-23"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    key = re.search(r'name="client_key" type="hidden" value="([^"]+)"', page.text)
    assert token and key
    return {"csrf_token": token.group(1), "client_key": key.group(1)}


def test_start_twice_with_one_key_gives_one_inspection(client, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user("d4-liuhong")
    form = new_form(client)
    data = {
        **form,
        "centre": "xa",
        "checklist": str(run(checklist())["id"]),
        "planned_on": "2026-11-23",
        "inspectors": [str(run(inspector()).user_id)],
        "origin": "planned",
        "action": "start",
    }
    first = client.post("/t/d4/inspections/new", data=data)
    second = client.post("/t/d4/inspections/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].endswith("/fill/0")
    inspection_id = int(first.headers["location"].split("/")[4])
    row = run(queries.inspection(run(inspector()), inspection_id))
    assert row["origin"] == "spot" and row["state"] == "in_progress"
    # a centre that is not in the subtree / no centre: 422 with the form kept
    bad = client.post(
        "/t/d4/inspections/new", data={**data, "centre": "d4", "client_key": uuid.uuid4().hex}
    )
    assert bad.status_code == 422


def test_manager_cannot_start(client, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user("xa-manager")
    assert client.get("/t/xa/inspections/new").status_code == 403


def test_fill_save_photo_submit_acknowledge(client, as_user) -> None:  # type: ignore[no-untyped-def]
    inspection_id = run(start("xa"))
    base = f"/t/d4/inspections/{inspection_id}"
    token = as_user("d4-liuhong")
    page = client.get(f"{base}/fill/0")
    assert page.status_code == 200
    assert 'inputmode="decimal"' in page.text and 'capture="environment"' in page.text
    assert client.get(f"{base}/fill/2").status_code == 404
    lock = int(re.search(r'name="lock_version" value="(\d+)"', page.text).group(1))

    # invalid score: 422, the input kept, nothing saved
    bad = client.post(
        f"{base}/save",
        data={
            "csrf_token": token,
            "section": "0",
            "lock_version": str(lock),
            "score_h1": "7",
            "go": "next",
        },
    )
    assert bad.status_code == 422 and 'value="7"' in bad.text

    # a plain form save goes on to the next section
    saved = client.post(
        f"{base}/save",
        data={
            "csrf_token": token,
            "section": "0",
            "lock_version": str(lock),
            "save_id": uuid.uuid4().hex,
            "score_h1": "2.5",
            "note_h1": "标牌有褪色",
            "score_h2": "2",
            "go": "next",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{base}/fill/1"
    lock += 1

    # JSON autosave, resent with the same save id: one version bump
    save_id = uuid.uuid4().hex
    body = {
        "csrf_token": token,
        "section": "1",
        "lock_version": str(lock),
        "save_id": save_id,
        "score_d1": "3.5",
    }
    first = client.post(f"{base}/save", data=body, headers=JSON)
    again = client.post(f"{base}/save", data=body, headers=JSON)
    assert first.status_code == again.status_code == 200
    assert first.json()["lock_version"] == again.json()["lock_version"] == lock + 1
    assert again.json()["repeated"] is True
    # the same lock version from another phone (another save id): 409
    stale = client.post(f"{base}/save", data={**body, "save_id": uuid.uuid4().hex}, headers=JSON)
    assert stale.status_code == 409 and stale.json()["error"]
    lock += 1

    # submitting without the required photo names the item
    refused = client.post(f"{base}/submit", data={"csrf_token": token, "lock_version": str(lock)})
    assert refused.status_code == 422 and "h1" in refused.text

    # a photo, resent with the same client key: one photo
    key = uuid.uuid4().hex
    files = {"file": ("p.png", PNG, "image/png")}
    one = client.post(
        f"{base}/photos",
        data={"csrf_token": token, "item_key": "h1", "client_key": key},
        files=files,
        headers=JSON,
    )
    two = client.post(
        f"{base}/photos",
        data={"csrf_token": token, "item_key": "h1", "client_key": key},
        files=files,
        headers=JSON,
    )
    assert one.status_code == 201 and two.status_code == 200
    assert one.json()["id"] == two.json()["id"]
    not_image = client.post(
        f"{base}/photos",
        data={"csrf_token": token, "item_key": "h1", "client_key": uuid.uuid4().hex},
        files={"file": ("a.txt", b"hello world, not a picture", "image/png")},
        headers=JSON,
    )
    assert not_image.status_code == 422
    shown = client.get(one.json()["url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.content == PNG

    # the summary page warns about the unanswered item, then submit with a finding, twice
    summary = client.get(base)
    assert summary.status_code == 200 and "d2" in summary.text
    post = {
        "csrf_token": token,
        "lock_version": str(lock),
        "summary": "整体规范",
        "finding_text_0": "等候区缺少饮水设施",
        "finding_item_0": "h2",
        "finding_days_0": "5",
        "finding_text_1": "",
    }
    done = client.post(f"{base}/submit", data=post)
    assert done.status_code == 303
    redo = client.post(f"{base}/submit", data=post)
    assert redo.status_code == 303
    scope = run(inspector())
    assert len(run(queries.findings(scope, inspection_id))) == 1
    result = client.get(base)
    assert "<strong>8</strong> / 10" in result.text and "80.00%" in result.text
    assert "/circulars/new?link=inspection:" in result.text
    assert re.search(r"/t/xa/rectifications/\d+", result.text)

    # the centre's manager sees it and its photo, acknowledges once; another centre: 404
    other = client.get("/t/d4/inspections?state=submitted")
    assert f"/inspections/{inspection_id}" in other.text
    token = as_user("xb-manager")
    assert client.get(f"/t/xb/inspections/{inspection_id}").status_code == 404
    assert (
        client.get(f"/t/xb/inspections/{inspection_id}/photos/{one.json()['id']}").status_code
        == 404
    )
    assert f"/inspections/{inspection_id}" not in client.get("/t/xb/inspections").text
    token = as_user("xa-manager")
    mine = f"/t/xa/inspections/{inspection_id}"
    assert client.get(mine).status_code == 200
    assert f"/inspections/{inspection_id}" in client.get("/t/xa/inspections").text
    assert client.get(f"{mine}/photos/{one.json()['id']}").status_code == 200
    assert (
        client.post(f"{mine}/save", data={"csrf_token": token, "section": "0"}).status_code == 403
    )
    ack = client.post(f"{mine}/acknowledge", data={"csrf_token": token, "note": "已安排整改"})
    assert ack.status_code == 303
    twice = client.post(f"{mine}/acknowledge", data={"csrf_token": token})
    assert twice.status_code == 409


def test_unsubmitted_inspection_is_hidden_from_the_centre(client, as_user) -> None:  # type: ignore[no-untyped-def]
    inspection_id = run(start("xa", spot=False))
    as_user("xa-manager")
    assert client.get(f"/t/xa/inspections/{inspection_id}").status_code == 404
    as_user("d4-yeerlan")
    tree = run(tenancy.tree())
    assert tree.by_slug["xa"]
    page = client.get(f"/t/d4/inspections/{inspection_id}")
    assert page.status_code == 200 and "/fill/0" in page.text


def test_plain_form_save_carries_the_photo_once(client, as_user) -> None:  # type: ignore[no-untyped-def]
    """Without JavaScript the photo comes with the section's save; resending that save (the
    same save id) stores it once."""
    inspection_id = run(start("xa"))
    base = f"/t/d4/inspections/{inspection_id}"
    token = as_user("d4-yeerlan")
    page = client.get(f"{base}/fill/0")
    lock = re.search(r'name="lock_version" value="(\d+)"', page.text).group(1)
    data = {
        "csrf_token": token,
        "section": "0",
        "lock_version": lock,
        "save_id": uuid.uuid4().hex,
        "score_h1": "3",
        "go": "stay",
    }
    files = {"photo_h1": ("h1.png", PNG, "image/png")}
    first = client.post(f"{base}/save", data=data, files=files)
    again = client.post(f"{base}/save", data=data, files=files)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"{base}/fill/0?saved=1"
    photos = run(queries.photos(run(inspector()), inspection_id))
    assert [p["item_key"] for p in photos] == ["h1"]
    shown = client.get(f"{base}/fill/0")
    assert f"{base}/photos/{photos[0]['id']}" in shown.text and 'value="3"' in shown.text
