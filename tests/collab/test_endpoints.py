"""/health and /metrics of a running server, with and without connected clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pycrdt import Text

from client import CanvasClient
from collab import __version__
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually

_EXPECTED_METRICS = (
    "nexus_connections",
    "nexus_rooms",
    "nexus_updates_applied_total",
    "nexus_bytes_in_total",
    "nexus_bytes_out_total",
    "nexus_fanout_latency_seconds_bucket",
)


async def _health(running: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def _metrics(running: RunningServer) -> tuple[str, dict[str, float]]:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    samples = {
        sample.name + _labels(sample.labels): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def _sample(running: RunningServer, name: str) -> float:
    value = running.server.metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


async def test_health_of_an_idle_server(running: RunningServer) -> None:
    body = await _health(running)
    ai = body.pop("ai")  # its contents: tests/collab/api/test_remove_bg_model.py
    assert ai["worker"] == "embedded" and set(ai["pipelines"]) == {
        "inpaint",
        "segment",
        "remove_bg",
    }
    assert body == {
        "status": "ok",
        "problems": [],
        "instance": running.server.instance_id,
        "auth": "open",
        "broker": "memory",
        "version": __version__,
        "rooms": 0,
        "connections": 0,
        "store": "sqlite",
        "pending_updates": 0,
    }


async def test_health_counts_a_connected_client(running: RunningServer) -> None:
    async with CanvasClient(running.url, "doc", user="u") as c:
        await c.wait_synced()
        body = await _health(running)
        assert (body["status"], body["rooms"], body["connections"]) == ("ok", 1, 1)
        assert body["store"] == "sqlite"
        assert isinstance(body["pending_updates"], int)
        async with CanvasClient(running.url, "other", user="v") as d:
            await d.wait_synced()
            body = await _health(running)
            assert (body["rooms"], body["connections"]) == (2, 2)
    # The rooms stay loaded for room_idle_seconds, the connections are gone.
    await eventually(lambda: not any(r.connections for r in running.server.rooms.rooms.values()))
    body = await _health(running)
    assert body["connections"] == 0


async def test_health_shows_updates_waiting_for_the_group_commit(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, flush_window=10.0)) as running:
        async with CanvasClient(running.url, "slow-commit", user="u") as c:
            await c.wait_synced()
            # A new document's first edit is committed at once (it creates the document).
            c.doc["title"] = Text("first")
            await eventually(lambda: "slow-commit" in running.server.rooms.rooms)
            await eventually(lambda: running.server.rooms.rooms["slow-commit"].unsaved_updates > 0)
            await running.server.writer.flush("slow-commit")
            c.doc["notes"] = Text("pending")
            await eventually(lambda: running.server.writer.pending == 1)
            assert (await _health(running))["pending_updates"] == 1
            _, samples = await _metrics(running)
            assert samples["nexus_store_pending_updates"] == 1


async def test_metrics_is_prometheus_text_with_the_server_metrics(running: RunningServer) -> None:
    text, samples = await _metrics(running)
    for name in _EXPECTED_METRICS:
        assert name in text
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert types["nexus_connections"] == "gauge"
    assert types["nexus_rooms"] == "gauge"
    assert types["nexus_updates_applied"] == "counter"
    assert types["nexus_bytes_out"] == "counter"
    assert types["nexus_fanout_latency_seconds"] == "histogram"
    assert samples["nexus_connections"] == 0
    assert samples["nexus_rooms"] == 0
    assert samples['nexus_fanout_latency_seconds_bucket{le="+Inf"}'] == 0


async def test_metric_values_follow_connections_and_edits(running: RunningServer) -> None:
    async with (
        CanvasClient(running.url, "doc", user="a") as a,
        CanvasClient(running.url, "doc", user="b") as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        _, before = await _metrics(running)
        assert before["nexus_connections"] == 2
        assert before["nexus_rooms"] == 1
        assert before["nexus_updates_applied_total"] == 0

        a.doc["notes"] = Text("hello from a")
        await b.wait_for(lambda: str(b.doc.get("notes", type=Text)) == "hello from a")
        # b has the update, so the server handed it to b's socket; it counts it right after.
        count_before = before["nexus_fanout_latency_seconds_count"]
        await eventually(
            lambda: _sample(running, "nexus_fanout_latency_seconds_count") > count_before
        )
        _, after = await _metrics(running)

    assert after["nexus_updates_applied_total"] == 1
    assert after["nexus_bytes_in_total"] > before["nexus_bytes_in_total"]
    assert after["nexus_bytes_out_total"] > before["nexus_bytes_out_total"]
    assert (
        after["nexus_fanout_latency_seconds_count"] > before["nexus_fanout_latency_seconds_count"]
    )
    assert (
        after['nexus_fanout_latency_seconds_bucket{le="+Inf"}']
        == (after["nexus_fanout_latency_seconds_count"])
    )
    await eventually(lambda: _sample(running, "nexus_connections") == 0)
    _, closed = await _metrics(running)
    assert closed["nexus_connections"] == 0
    assert sum(v for k, v in closed.items() if k.startswith("nexus_connections_closed_total")) == 2
