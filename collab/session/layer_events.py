"""One cheap deep observer on a canvas's ``layers`` array, shared by the undo grouping and the
history labeller.

pycrdt's ``observe_deep`` wraps every nested event in Python objects and converts all of their
attributes (target, path, delta, keys) eagerly: about 15 µs per observer for a one-struct
point append, and the room had two such observers, about a tenth of the server's CPU under
painting load. Here the Rust events are read directly and only the attributes a consumer asks
for are converted (``path`` always; ``delta`` and ``keys`` on first use, inside the
observer's transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Subscription
from pycrdt import _pycrdt as _raw
from pycrdt._base import process_event

log = logging.getLogger(__name__)


class LayerEvent:
    """One change under ``layers``: valid only while its observer runs."""

    __slots__ = ("_delta", "_doc", "_keys", "_raw", "is_array", "is_map", "path")

    def __init__(self, raw: Any, doc: Doc[Any]) -> None:
        self._raw = raw
        self._doc = doc
        self._delta: list[dict[str, Any]] | None = None
        self._keys: dict[str, Any] | None = None
        self.path: list[Any] = raw.path
        self.is_array = isinstance(raw, _raw.ArrayEvent)
        self.is_map = isinstance(raw, _raw.MapEvent)

    @property
    def delta(self) -> list[dict[str, Any]]:
        """An array event's delta, inserted shared types as pycrdt objects ([] otherwise)."""
        if self._delta is None:
            self._delta = process_event(self._raw.delta, self._doc) if self.is_array else []
        return self._delta

    @property
    def keys(self) -> dict[str, Any]:
        """A map event's changed keys ({} otherwise)."""
        if self._keys is None:
            self._keys = process_event(self._raw.keys, self._doc) if self.is_map else {}
        return self._keys


LayersCallback = Callable[[list[LayerEvent]], None]


def observe_layers(doc: Doc[Any], layers: Array[Any], callback: LayersCallback) -> Subscription:
    """Call ``callback`` with each transaction's events under ``layers``; the document can be
    read inside it. Returns the subscription for :func:`unobserve_layers`."""

    def on_events(events: list[Any]) -> None:
        try:
            with doc._read_transaction(events[0].transaction):
                callback([LayerEvent(event, doc) for event in events])
        except Exception:  # an observer must never break applying an update
            log.exception("layers observer failed")

    subscription: Subscription = layers.integrated.observe_deep(on_events)
    return subscription


def unobserve_layers(subscription: Subscription) -> None:
    subscription.drop()
