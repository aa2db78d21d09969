"""LightEvent behaves as asyncio.Event for what the server uses."""

from __future__ import annotations

import asyncio

from foundation.aio import LightEvent


async def test_waiters_wake_on_set_and_a_set_event_does_not_block() -> None:
    event = LightEvent()
    assert not event.is_set()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert await event.wait()  # already set
    event.clear()
    assert not event.is_set()


async def test_a_cancelled_waiter_is_forgotten() -> None:
    event = LightEvent()
    waiter = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert event._waiters == []
    other = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    event.set()
    assert await other


def test_callbacks_run_once_on_set_or_at_once_when_already_set() -> None:
    event = LightEvent()
    calls: list[str] = []
    event.call_when_set(lambda: calls.append("a"))
    event.call_when_set(lambda: calls.append("b"))
    assert calls == []
    event.set()
    event.set()
    assert calls == ["a", "b"]
    event.call_when_set(lambda: calls.append("c"))
    assert calls == ["a", "b", "c"]
