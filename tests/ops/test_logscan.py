"""The suite's log scan (tests/logscan.py) finds what it must and masks what it prints."""

from __future__ import annotations

from tests import logscan
from tests.cases.helpers import RESIDENT_ID
from tests.conftest import PASSWORD


def test_the_seeded_values_are_collected_from_fixtures_tenants_and_tests() -> None:
    values = logscan.seeded_values()
    assert {RESIDENT_ID, RESIDENT_ID.lower(), "13912345678", PASSWORD} <= values
    assert all(len(v) >= 6 for v in values)


def test_hits_are_counted_and_masked() -> None:
    values = {RESIDENT_ID, "13912345678", PASSWORD}
    other_id = "110105198001010016"  # not seeded, but its check character is right
    assert logscan.is_resident_id(other_id) and not logscan.is_resident_id("110105198001010017")
    lines = [
        '{"message": "GET /t/{slug}/cases 200 3.1ms", "request_id": "13912345678aa"}',
        f'{{"message": "applicant {RESIDENT_ID} registered"}}',
        '{"message": "call 13912345678 back"}',
        f'{{"message": "login with {PASSWORD}"}}',
        f'{{"message": "lookup {other_id}"}}',
        '{"message": "cookie bm_session=AbCdEfGhIjKlMnOpQrStUv"}',
        '{"message": "item 051801000000, case 2026000123, took 13912345678901 ns"}',
    ]
    result = logscan.scan_lines(lines, values)
    assert (result.lines, result.hits) == (7, 5)
    printed = "\n".join(result.examples)
    for secret in (RESIDENT_ID, "13912345678 ", PASSWORD, other_id, "AbCdEfGhIjKlMnOpQrStUv"):
        assert secret not in printed
    assert "65**************6X" in printed and "13*******78" in printed
