"""Conducting inspections through the services: scoring arithmetic, resending (start, save,
photo, submit) never duplicates, the photo-required refusal, the stale save, findings open
ledger items, the manager acknowledges once."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from starlette.datastructures import Headers, UploadFile

from app.cases.queries import ledger as ledger_queries
from app.inspections import answers as answers_service
from app.inspections import definition as definitions
from app.inspections import findings as submission
from app.inspections import inspections as service
from app.inspections import photos, scoring
from app.inspections.queries import inspections as queries
from app.tenancy import queries as tenancy
from app.web.errors import Forbidden, NotFound
from tests.inspections.helpers import (
    DEFINITION,
    PNG,
    fill_all,
    inspector,
    manager,
    run,
    scope_of,
    start,
)


def upload(data: bytes = PNG, name: str = "p.png") -> UploadFile:
    return UploadFile(
        io.BytesIO(data), filename=name, headers=Headers({"content-type": "image/png"})
    )


async def add_photo(inspection_id: int, item: str = "h1", key: str | None = None) -> photos.Added:
    return await photos.add_photo(
        None, await inspector(), inspection_id, item, key or uuid.uuid4().hex, upload()
    )


async def do_submit(
    inspection_id: int, findings: list[submission.FindingInput]
) -> submission.Submitted:
    return await submission.submit(
        None, await inspector(), await tenancy.tree(), inspection_id, findings, summary="总体良好"
    )


# --- arithmetic --------------------------------------------------------------------------


def test_parse_score_limits_and_decimals() -> None:
    ten = Decimal("10")
    assert scoring.parse_score("8.5", ten) == Decimal("8.5")
    assert scoring.parse_score(" 8,5 ", ten) == Decimal("8.5")
    assert scoring.parse_score("10", ten) == ten
    assert scoring.parse_score("0", ten) == 0
    assert scoring.parse_score("", ten) is None
    for bad in ("10.5", "-1", "8.25", "abc", "NaN", "Infinity"):
        with pytest.raises(scoring.ScoreError):
            scoring.parse_score(bad, ten)
    # a maximum with two decimals can still be given in full
    assert scoring.parse_score("2.25", Decimal("2.25")) == Decimal("2.25")
    assert scoring.quick_scores(Decimal("5")) == ["0", "2.5", "5"]
    assert scoring.quick_scores(Decimal("2.25")) == ["0", "1.1", "2.25"]


def test_totals_in_decimal_with_unanswered_as_zero() -> None:
    defn = definitions.validate(DEFINITION)
    answers = {"h1": {"score": "2.5"}, "h2": {"score": "2.5"}, "d1": {"score": "3.5", "note": "x"}}
    totals = scoring.totals(defn, answers)
    assert totals.score == Decimal("8.5")
    assert totals.max_score == Decimal("10")
    assert totals.percent == Decimal("85.00")
    assert [s.score for s in totals.sections] == [Decimal("5.0"), Decimal("3.5")]
    assert [i.key for i in totals.unanswered] == ["d2"]
    assert scoring.percent(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert scoring.percent(Decimal("2"), Decimal("3")) == Decimal("66.67")


# --- resending -------------------------------------------------------------------------------


def test_same_start_key_twice_gives_one_inspection() -> None:
    key = uuid.uuid4().hex
    first = run(start("xa", key=key))
    second = run(start("xa", key=key))
    assert first == second
    other = run(start("xa"))
    assert other != first


def test_same_save_twice_is_applied_once_and_stale_save_conflicts() -> None:
    inspection_id = run(start("xa"))
    scope = run(inspector())
    loaded = run(service.load(scope, inspection_id))
    answers, errors = answers_service.parse_section(
        loaded, 0, {"score_h1": "2", "note_h1": "标牌褪色"}
    )
    assert not errors
    lock = int(loaded.row["lock_version"])
    save_id = uuid.uuid4().hex
    first = run(
        answers_service.save_section(
            None, scope, inspection_id, 0, answers, lock_version=lock, save_id=save_id
        )
    )
    again = run(
        answers_service.save_section(
            None, scope, inspection_id, 0, answers, lock_version=lock, save_id=save_id
        )
    )
    assert first.lock_version == lock + 1 and not first.repeated
    assert again.lock_version == lock + 1 and again.repeated
    stored = run(service.load(scope, inspection_id))
    assert stored.answers["h1"] == {"score": "2", "note": "标牌褪色"}
    assert stored.row["lock_version"] == lock + 1
    # another phone still holding the old version: refused, nothing changed
    other, _errors = answers_service.parse_section(loaded, 0, {"score_h1": "3"})
    with pytest.raises(service.Conflict):
        run(
            answers_service.save_section(
                None, scope, inspection_id, 0, other, lock_version=lock, save_id=uuid.uuid4().hex
            )
        )
    assert run(service.load(scope, inspection_id)).answers["h1"]["score"] == "2"


def test_score_validation_names_the_item() -> None:
    inspection_id = run(start("xa"))
    loaded = run(service.load(run(inspector()), inspection_id))
    _answers, errors = answers_service.parse_section(
        loaded, 0, {"score_h1": "3.5", "score_h2": "2.55"}
    )
    assert set(errors) == {"h1", "h2"}


def test_same_photo_key_twice_gives_one_photo() -> None:
    inspection_id = run(start("xa"))
    key = uuid.uuid4().hex
    first = run(add_photo(inspection_id, "h1", key))
    second = run(add_photo(inspection_id, "h1", key))
    assert first.id == second.id and first.created and not second.created
    rows = run(queries.photos(run(inspector()), inspection_id))
    assert [r["id"] for r in rows] == [first.id]


def test_photo_must_be_an_image() -> None:
    inspection_id = run(start("xa"))
    with pytest.raises(photos.UploadRefused):
        run(
            photos.add_photo(
                None,
                run(inspector()),
                inspection_id,
                "h1",
                uuid.uuid4().hex,
                upload(b"%PDF-1.4 x" * 4, "a.pdf"),
            )
        )


# --- submission --------------------------------------------------------------------------------


def test_photo_required_items_block_submission() -> None:
    inspection_id = run(start("xa"))
    run(fill_all(inspection_id, {"h1": "3", "h2": "2", "d1": "4", "d2": "0.5"}))
    with pytest.raises(submission.SubmitRefused) as refused:
        run(do_submit(inspection_id, []))
    assert "h1" in refused.value.message
    loaded = run(service.load(run(inspector()), inspection_id))
    assert loaded.state == "in_progress" and loaded.row["score"] is None


def test_submit_stores_score_and_opens_ledger_items_once() -> None:
    inspection_id = run(start("xa"))
    run(fill_all(inspection_id, {"h1": "2.5", "h2": "2.5", "d1": "3.5"}))
    run(add_photo(inspection_id, "h1"))
    findings = [
        submission.FindingInput("等候区无饮水设施", "h2", 5),
        submission.FindingInput("首问负责制登记不全", "d1", 3),
    ]
    done = run(do_submit(inspection_id, findings))
    assert done.created and done.findings == 2
    again = run(do_submit(inspection_id, findings))
    assert not again.created
    scope = run(inspector())
    loaded = run(service.load(scope, inspection_id))
    assert loaded.state == "submitted"
    assert loaded.row["score"] == Decimal("8.5")
    assert loaded.row["max_score"] == Decimal("10")
    assert loaded.row["percent"] == Decimal("85")
    rows = run(queries.findings(scope, inspection_id))
    assert [r["text"] for r in rows] == [f.text for f in findings]
    for row in rows:
        item = run(ledger_queries.rectification(scope, row["rectification_id"]))
        assert item is not None
        assert item["source"] == "finding" and item["source_id"] == row["id"]
        assert item["tenant_id"] == loaded.tenant_id and item["state"] == "open"
        assert item["owner_name"]  # the centre's first manager
        assert item["due_at"] > loaded.row["submitted_at"]
    # saving after submission is refused
    with pytest.raises(service.Conflict):
        run(
            answers_service.save_section(
                None,
                scope,
                inspection_id,
                0,
                {},
                lock_version=int(loaded.row["lock_version"]),
                save_id=uuid.uuid4().hex,
            )
        )


def test_finding_due_days_are_checked() -> None:
    inspection_id = run(start("xa"))
    run(add_photo(inspection_id, "h1"))
    with pytest.raises(service.InspectionError):
        run(do_submit(inspection_id, [submission.FindingInput("x", "h1", 0)]))
    with pytest.raises(service.InspectionError):
        run(do_submit(inspection_id, [submission.FindingInput("x", "zz", 5)]))


# --- who sees what ------------------------------------------------------------------------------


def test_centre_sees_only_its_own_submitted_inspections() -> None:
    inspection_id = run(start("xa"))
    xa, xb = run(manager("xa")), run(manager("xb"))
    with pytest.raises(NotFound):  # not yet submitted: unannounced
        run(service.load(xa, inspection_id))
    run(add_photo(inspection_id, "h1"))
    run(do_submit(inspection_id, []))
    assert run(service.load(xa, inspection_id)).id == inspection_id
    with pytest.raises(NotFound):
        run(service.load(xb, inspection_id))
    with pytest.raises(NotFound):
        run(photos.photo_file(xb, inspection_id, 1))


def test_manager_acknowledges_once() -> None:
    inspection_id = run(start("xa"))
    run(add_photo(inspection_id, "h1"))
    xa = run(manager("xa"))
    with pytest.raises(NotFound):
        run(service.acknowledge(None, xa, inspection_id, ""))
    run(do_submit(inspection_id, []))
    with pytest.raises(NotFound):
        run(service.acknowledge(None, run(manager("xb")), inspection_id, ""))
    with pytest.raises(Forbidden):  # the division reads it but does not acknowledge
        run(service.acknowledge(None, run(inspector()), inspection_id, ""))
    run(service.acknowledge(None, xa, inspection_id, "已组织整改"))
    loaded = run(service.load(xa, inspection_id))
    assert loaded.state == "acknowledged" and loaded.row["acknowledge_note"] == "已组织整改"
    with pytest.raises(service.InspectionError):
        run(service.acknowledge(None, xa, inspection_id, "again"))


def test_inspector_cannot_start_outside_its_subtree() -> None:
    zr = run(scope_of("zr-supervisor", "zr"))
    with pytest.raises(service.InspectionError):
        run(start("xa", scope=zr))
