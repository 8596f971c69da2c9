"""Fixtures for job tests (the brokers themselves: tests/brokers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.jobs.harness import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local group-robot receiver (point a channel's URL at ``receiver.url``)."""
    r = Receiver()
    yield r
    r.close()
