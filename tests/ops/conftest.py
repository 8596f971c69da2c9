"""Operations tests: scraping ``/metrics`` from an allowed address, capturing JSON log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from app.ops.logs import ContextFilter, JsonFormatter
from tests.logscan import SKIP_LOGGERS
from tests.storage.conftest import moto_endpoint  # noqa: F401 - S3 for the storage check

LOOPBACK = ("127.0.0.1", 40000)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def scraper(app: Any) -> Iterator[TestClient]:
    """A client calling from 127.0.0.1 (the default METRICS_ALLOW)."""
    with TestClient(app, client=LOOPBACK, follow_redirects=False) as client:
        yield client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class JsonLog:
    """Log lines formatted exactly as the app formats them (JSON, with the request context)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(ContextFilter())
        # The test client's own lines hold the URL a test asked for: not app output.
        self.handler.addFilter(lambda r: r.name.split(".", 1)[0] not in SKIP_LOGGERS)
        self.handler.setLevel(logging.INFO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def access(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["logger"] == "bianmin.access"]


@pytest.fixture
def json_log() -> Iterator[JsonLog]:
    capture = JsonLog()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture.handler)
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture.handler)
        root.setLevel(level)
