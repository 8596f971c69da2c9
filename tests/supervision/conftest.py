"""Every supervision test leaves no light notice in anyone's inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cases.helpers import run
from tests.supervision import helpers as h


@pytest.fixture(autouse=True)
def _no_light_notices_left() -> Iterator[None]:
    yield
    run(h.clear_light_inbox())
