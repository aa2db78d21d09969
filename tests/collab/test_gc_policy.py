"""The serving process's garbage-collection policy (collab/gc_policy.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collab.gc_policy import GcPolicy
from tests.support.waiting import eventually


async def test_full_collections_are_scheduled_not_automatic() -> None:
    before = gc.get_threshold()
    policy = GcPolicy(full_interval=0.05, freeze=False)
    async with policy:
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full > 10**6  # automatic full collections are out of reach
        await eventually(lambda: policy.scheduled_full >= 2)
        assert policy.pauses.count(2) >= 2
        gc.collect(0)
        assert policy.pauses.count(0) >= 1
        registry = CollectorRegistry()
        registry.register(policy.pauses)
        text = generate_latest(registry).decode()
        assert 'nexus_gc_pause_seconds_count{generation="2"}' in text
    assert gc.get_threshold() == before
    assert policy.pauses.callback not in gc.callbacks


async def test_zero_interval_keeps_cpythons_policy_and_freeze_is_undone() -> None:
    before = gc.get_threshold()
    policy = GcPolicy(full_interval=0)
    async with policy:
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    assert policy.scheduled_full == 0


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="full_interval must be >= 0 seconds, got -1"):
        GcPolicy(full_interval=-1)


async def test_a_growing_rss_runs_a_full_collection_early() -> None:
    rss = [100 * 2**20]  # what the policy reads as the process's RSS
    policy = GcPolicy(
        full_interval=3600,
        freeze=False,
        growth_trigger=8 * 2**20,
        check_every=0.01,
        rss=lambda: rss[0],
    )
    async with policy:
        rss[0] += 7 * 2**20  # below the trigger
        await asyncio.sleep(0.05)
        assert policy.early_full == 0
        rss[0] += 2 * 2**20  # 9 MiB since the last full collection
        await eventually(lambda: policy.early_full == 1)
        await asyncio.sleep(0.05)  # measured again after it: no second one for that growth
        assert policy.early_full == 1
        assert policy.scheduled_full == 0
        assert policy.pauses.count(2) >= 1


def test_rss_is_read_from_proc() -> None:
    from collab.gc_policy import rss_bytes

    assert 10 * 2**20 < rss_bytes() < 64 * 2**30
