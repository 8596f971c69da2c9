"""The helpers that feed the suite's reliability summary count what they are meant to."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from tests import reliability


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of this test only (the suite's own stay as they were)."""
    counts: Counter[str] = Counter()
    monkeypatch.setattr(reliability, "_counts", counts)
    return counts


def answer(status: int, text: str = "", method: str = "GET") -> Any:
    return SimpleNamespace(status_code=status, text=text, request=SimpleNamespace(method=method))


def test_cross_tenant_counts_probes_and_leaks(fresh: Counter[str]) -> None:
    reliability.cross_tenant(answer(404))
    reliability.cross_tenant(answer(303, method="GET"))  # the way to the login page
    reliability.cross_tenant(answer(200, "own rows only"), shows="CANARYB", listing=True)
    assert fresh == Counter(probes=3)
    reliability.cross_tenant(answer(200))  # the other tenant's object served
    reliability.cross_tenant(answer(303, method="POST"))  # changed, then redirected
    reliability.cross_tenant(answer(404, "… CANARYB …"), shows="CANARYB")
    reliability.cross_tenant(answer(200, "CANARYB row"), shows="CANARYB", listing=True)
    assert fresh == Counter(probes=7, leaks=4)


def test_hostile_counts_inputs_files_and_server_errors(fresh: Counter[str]) -> None:
    def send(status: int, **kwargs: Any) -> Any:
        if status == 500:
            raise RuntimeError("what the test client re-raises")
        return answer(status)

    reliability.hostile(send, 422)
    reliability.hostile(send, 422, files={"file": ("a.pdf", b"MZ", "application/pdf")})
    reliability.hostile(send, 422, files=[("files", ("a", b"")), ("files", ("b", b""))])
    reliability.hostile(send, 502, uploads=1)
    with pytest.raises(RuntimeError):
        reliability.hostile(send, 500)
    assert fresh == Counter(hostile_inputs=2, hostile_files=4, server_errors=2)


def test_an_unknown_counter_fails_loudly(fresh: Counter[str]) -> None:
    with pytest.raises(ValueError, match="unknown reliability counter"):
        reliability.record("probe")
    assert reliability.summary_lines({"probes": 2, "leaks": 1})[0] == (
        "cross-tenant: 2 probes run, 1 leaks found"
    )
