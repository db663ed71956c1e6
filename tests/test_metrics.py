"""Prometheus metrics scraped from a real daphne in prometheus-client's multi-process
mode, with a worker process publishing beside it: the numbers say what happened; the
page refuses whoever is not Prometheus or staff, and says when the extra is missing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client as DjangoClient
from prometheus_client.parser import text_string_to_metric_families

from django_sse import metrics
from tests.conftest import ServerFactory
from tests.services import Backend, finish
from tests.sse_client import Client, broadcast

TOKEN = "scrape-" + "x" * 16
PATH = "/events/metrics/"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.e2e
async def test_the_numbers_say_what_happened_across_processes(
    sqlite_backend: Backend,
    start_server: ServerFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # servers and workers
    server = start_server(sqlite_backend, SSE_METRICS_TOKEN=TOKEN, SSE_HEARTBEAT_INTERVAL=0.3)
    tag = uuid.uuid4().hex[:8]
    async with (
        Client(server.url) as client,
        client.stream() as one,
        client.stream() as two,
        client.stream() as three,
    ):
        await client.wait_hub(subscriptions=3)
        await client.publish(*[broadcast({"n": n}) for n in range(5)])  # in the server
        assert len(finish(sqlite_backend.publisher("broadcast", "", 4, tag))) == 4  # a worker
        bulk = sqlite_backend.publisher("bulk", "metrics-bulk", 3, tag + "b")  # publish_many
        assert len(finish(bulk)) == 3
        for reader in (two, three):
            assert len(await reader.events(9)) == 9
        first, *_ = await one.events(9)
        async with client.stream(last_event_id=first.id) as four:  # it missed 8
            assert len(await four.events(8)) == 8
            scrape = await client.http.get(PATH, headers={"Authorization": f"Bearer {TOKEN}"})
    assert scrape.status_code == 200
    assert scrape.headers["Content-Type"].startswith("text/plain")
    found = samples(scrape.text)
    assert found[("sse_streams_open", ())] == 4
    assert found[("sse_connects_total", ())] == 4
    assert found[("sse_deliveries_total", ())] == 27
    assert found[("sse_replays_total", (("source", "memory"),))] == 1
    assert found[("sse_replayed_events_total", (("source", "memory"),))] == 8
    # Each event message the hub received through the layer had its age measured.
    latencies = found[("sse_delivery_latency_seconds_count", ())]
    assert 1 <= latencies <= 5
    assert found[("sse_delivery_latency_seconds_bucket", (("le", "+Inf"),))] == latencies
    # The server's events came rung through the layer; the worker's, on the in-memory
    # layer, were found in the log by the hub's watch of the SQLite file.
    assert found[("sse_rings_received_total", ())] + found[("sse_repaired_events_total", ())] == 9
    # Both processes' publishes, added up: the server's 5 and the worker's 4.
    assert found[("sse_events_published_total", (("bulk", "false"), ("persist", "true")))] == 9
    assert found[("sse_events_published_total", (("bulk", "true"), ("persist", "true")))] == 3


@pytest.mark.e2e
def test_the_page_refuses_who_is_not_prometheus_or_staff(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_METRICS_TOKEN=TOKEN)
    url = server.url + PATH
    assert httpx.get(url, timeout=10).status_code == 403
    wrong = httpx.get(url, headers={"Authorization": "Bearer " + "y" * 23}, timeout=10)
    assert wrong.status_code == 403
    right = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert right.status_code == 200 and "sse_streams_open" in right.text
    assert httpx.post(url, timeout=10).status_code == 405


@pytest.mark.django_db
def test_a_staff_user_may_read_the_page_and_others_may_not(admin_client: DjangoClient) -> None:
    assert admin_client.get(PATH).status_code == 200
    assert DjangoClient().get(PATH).status_code == 403


@pytest.mark.django_db
def test_without_the_extra_the_page_says_what_to_install(
    admin_client: DjangoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "prometheus_client", None)
    answer: Any = admin_client.get(PATH)
    assert answer.status_code == 404


def exposed_names() -> set[str]:
    """Every sample name the metrics can have, from the families prometheus-client exposes."""
    import prometheus_client

    metrics._get()
    suffixes = {"counter": [""], "gauge": [""], "histogram": ["", "_bucket", "_count", "_sum"]}
    names: set[str] = set()
    for line in prometheus_client.generate_latest().decode().splitlines():
        if line.startswith("# TYPE sse_"):  # a counter's family is named with its _total
            _, _, family, kind = line.split()
            names.update(family + suffix for suffix in suffixes[kind])
    return names


@pytest.mark.parametrize("page", ["grafana-dashboard.json", "reference/metrics.md"])
def test_every_metric_the_dashboard_and_the_docs_name_exists(page: str) -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / page).read_text()
    named = set(re.findall(r"\bsse_[a-z_]+", text))
    assert named, page
    assert named <= exposed_names(), sorted(named - exposed_names())
