"""The shared history panel: who did what, when — written by the server into ``history``.

``ChangeDescriber`` watches ``meta`` and ``layers`` (deep) and turns every transaction's events
into short labels ("add layer 'Sky'", "set blend mode of 'Sky' to multiply", "stroke on
'Sky'"). It keeps a cache of the layers' ids and names, updated from the same events, so a
removed layer can still be named. ``HistoryLog`` appends entries, coalesces a user's burst (same
label within ``coalesce_s`` of that user's previous change) into one entry, and caps the array
at about ``max_entries``.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Final

from pycrdt import Array, Doc, Map, MapEvent

from collab.session.layer_events import LayerEvent, observe_layers, unobserve_layers

log = logging.getLogger(__name__)

HISTORY_ORIGIN: Final = "nexus:history"
_PROP_LABELS: Final = {
    "blend_mode": "set blend mode of {layer} to {value}",
    "opacity": "set opacity of {layer} to {value}",
    "x": "move {layer}",
    "y": "move {layer}",
    "blob": "replace image of {layer}",
    "provenance": "set provenance of {layer}",
}


def _quoted(name: object) -> str:
    text = str(name) if name is not None else "untitled"
    return f"'{text[:60]}'"


def _is_map_event(event: Any) -> bool:
    return isinstance(event, MapEvent)


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:60]


class ChangeDescriber:
    """Labels for the changes in each transaction on a canvas document.

    With ``observe=False`` the owner feeds it the layers' events (``on_layers``) from
    an observer it shares with others (the room does, with its undo)."""

    def __init__(self, doc: Doc[Any], *, observe: bool = True) -> None:
        self._layers: Array[Any] = doc.get("layers", type=Array)
        self._meta: Map[Any] = doc.get("meta", type=Map)
        self._cache: list[tuple[str | None, str | None]] = [
            self._ident(item) for item in self._layers
        ]
        self._labels: list[str] = []
        self._layers_sub = observe_layers(doc, self._layers, self.on_layers) if observe else None
        self._meta_sub = self._meta.observe_deep(self._on_meta)

    def take(self) -> str | None:
        """The label of everything since the last call (None when nothing labelled)."""
        labels, self._labels = self._labels, []
        unique = list(dict.fromkeys(labels))
        if not unique:
            return None
        if len(unique) > 2:
            return f"{unique[0]}; {unique[1]} and {len(unique) - 2} more"
        return "; ".join(unique)

    def close(self) -> None:
        if self._layers_sub is not None:
            unobserve_layers(self._layers_sub)
            self._layers_sub = None
        self._meta.unobserve(self._meta_sub)

    @staticmethod
    def _ident(item: Any) -> tuple[str | None, str | None]:
        if not isinstance(item, Map):
            return (None, None)
        layer_id, name = item.get("id"), item.get("name")
        return (
            layer_id if isinstance(layer_id, str) else None,
            name if isinstance(name, str) else None,
        )

    def _name_at(self, index: Any) -> str:
        if isinstance(index, int) and 0 <= index < len(self._cache):
            return _quoted(self._cache[index][1])
        return "a layer"

    def on_layers(self, events: list[LayerEvent]) -> None:
        # Labels are a convenience: a failure here must never break applying an update.
        try:
            self._describe_layers(events)
        except Exception:
            log.exception("could not describe a layers change")
            self._cache = [self._ident(item) for item in self._layers]

    def _on_meta(self, events: list[Any]) -> None:
        try:
            self._describe_meta(events)
        except Exception:
            log.exception("could not describe a canvas change")

    def _describe_layers(self, events: list[LayerEvent]) -> None:
        root = [e for e in events if e.is_array and not e.path]
        for event in root:  # first: they change the indexes nested events' paths refer to
            self._apply_root_delta(event.delta)
        for event in events:
            path = event.path
            if not path:
                continue
            layer = self._name_at(path[0])
            if len(path) == 1 and event.is_map:
                self._describe_props(path[0], layer, event.keys)
            elif len(path) >= 2 and path[1] == "strokes":
                deleted = (
                    event.is_array and len(path) == 2 and any("delete" in d for d in event.delta)
                )
                self._labels.append(f"{'erase stroke' if deleted else 'stroke'} on {layer}")
            else:
                self._labels.append(f"edit {layer}")

    def _apply_root_delta(self, delta: list[dict[str, Any]]) -> None:
        pos = 0
        added: list[tuple[str | None, str | None]] = []
        removed: list[tuple[str | None, str | None]] = []
        for op in delta:
            if "retain" in op:
                pos += op["retain"]
            elif "delete" in op:
                count = op["delete"]
                removed += self._cache[pos : pos + count]
                del self._cache[pos : pos + count]
            elif "insert" in op:
                items = [self._ident(item) for item in op["insert"]]
                self._cache[pos:pos] = items
                added += items
                pos += len(items)
        moved_ids = {i for i, _ in added if i is not None} & {i for i, _ in removed}
        for layer_id, name in added:
            verb = "move layer" if layer_id in moved_ids else "add layer"
            self._labels.append(f"{verb} {_quoted(name)}")
        for layer_id, name in removed:
            if layer_id not in moved_ids:
                self._labels.append(f"remove layer {_quoted(name)}")

    def _describe_props(self, index: int, layer: str, keys: dict[str, Any]) -> None:
        if keys.keys() & {"id", "name"} and 0 <= index < len(self._cache):
            # Read back, not taken from the event: a foreign client may write any type.
            self._cache[index] = self._ident(self._layers[index])
        for key, change in keys.items():
            value = change.get("newValue")
            if key == "name":
                self._labels.append(f"rename {layer} to {_quoted(value)}")
            elif key in ("visible", "locked"):
                verbs = ("show", "hide") if key == "visible" else ("lock", "unlock")
                self._labels.append(f"{verbs[0] if value else verbs[1]} {layer}")
            elif key == "proposal":  # removing it is how a staged AI result is accepted
                verb = "accept proposal" if change.get("action") == "delete" else "propose"
                self._labels.append(f"{verb} {layer}")
            elif key in _PROP_LABELS:
                self._labels.append(_PROP_LABELS[key].format(layer=layer, value=_fmt(value)))
            else:
                self._labels.append(f"change {key} of {layer}")

    def _describe_meta(self, events: list[Any]) -> None:
        for event in events:
            if not _is_map_event(event) or event.path:
                continue
            keys = set(event.keys)
            if keys & {"width", "height"}:
                w, h = self._meta.get("width"), self._meta.get("height")
                self._labels.append(f"resize canvas to {_fmt(w)}×{_fmt(h)}")
            if "name" in keys:
                self._labels.append(f"rename canvas to {_quoted(self._meta.get('name'))}")
            rest = sorted(keys - {"width", "height", "name"})
            if rest:
                self._labels.append(f"change canvas {', '.join(rest)}")


class HistoryLog:
    """Appends entries to the document's ``history`` array (server-written, capped).

    Coalescing is per user: a user's burst of the same label (a brush stroke is dozens of
    updates) is one entry however other users' entries interleave with it. The cap is enforced
    in batches (up to ``max_entries // 10`` extra entries before the oldest are deleted in one
    go): deleting at the front after every append made each history write dearer as the
    array's tombstones grew.
    """

    def __init__(self, doc: Doc[Any], *, max_entries: int, coalesce_s: float) -> None:
        self._doc = doc
        self._history: Array[Any] = doc.get("history", type=Array)
        self._max = max_entries
        self._slack = max_entries // 10
        self._coalesce = coalesce_s
        self._last: dict[str, tuple[str, str, float]] = {}  # user -> action, label, when

    def record(self, user_id: str, user_name: str, action: str, label: str) -> bool:
        """Add an entry; returns False when it was coalesced into the user's previous one."""
        now = time.monotonic()
        last = self._last.get(user_id)
        if (
            action == "edit"
            and last is not None
            and last[:2] == (action, label)
            and now - last[2] < self._coalesce
        ):
            self._last[user_id] = (action, label, now)
            return False
        self._forget_idle(now)
        self._last[user_id] = (action, label, now)
        entry = Map(
            {
                "id": uuid.uuid4().hex,
                "user": user_id,
                "name": user_name,
                "action": action,
                "label": label,
                "at": int(time.time() * 1000),
            }
        )
        with self._doc.transaction(origin=HISTORY_ORIGIN):
            self._history.append(entry)
            length = len(self._history)
            if length > self._max + self._slack:
                del self._history[0 : length - self._max]
        return True

    def _forget_idle(self, now: float) -> None:
        """Drop users whose burst is over, so the map stays as small as the active users."""
        if len(self._last) > 64:
            self._last = {
                user: last for user, last in self._last.items() if now - last[2] < self._coalesce
            }
