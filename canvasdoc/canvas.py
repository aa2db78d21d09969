"""The canvas document schema: typed, validated access to a Yjs-compatible pycrdt ``Doc``.

Root types (plain Yjs types, so any Yjs client can read and write them):

- ``meta`` (Map): name, width, height, dpi, color_profile, background.
- ``layers`` (Array of Maps), index = z-order, bottom first. A layer Map holds id, name, kind,
  blend_mode, opacity, visible, locked, x, y; raster layers ``blob`` (sha256 hex or None), paint
  layers ``strokes`` (Array of stroke Maps whose ``points`` Array grows while the stroke is
  drawn); AI layers an optional ``provenance`` Map. A layer holding a ``proposal`` Map is a
  staged proposal (an AI result awaiting review: ``job_id``, ``user`` who asked, ``at``): it is
  shown with a badge and left out of exports until an editor accepts it (the key is removed) or
  discards it (the layer is removed). No ``proposal`` key (or a null) means an ordinary layer.
- ``history`` (Array): entries written by the server.

Writers validate and raise :class:`SchemaError`; each runs in one transaction (callers that need
an origin wrap the call in ``doc.transaction(origin=...)``, which the writer then joins).

Readers never raise on bad data written by a foreign client: a value a writer would refuse
reads as that field's default, a non-Map item in ``layers`` (or ``strokes``) is skipped, and a
Map without a usable id gets the fallback id ``anon-<k>`` (the k-th id-less Map of that array,
counting from 0): the same on every converged replica, unaffected by edits to layers that do
have an id, but it shifts when id-less Maps are added, removed or reordered. Stored ids of that
form are refused by writers and read as no id, so a fallback id never shadows a real layer.
(The Yjs item id would be stabler, but pycrdt only exposes it through sticky indexes, which
need a write transaction and so fail inside observer callbacks, where readers must work.)
Writers accept fallback ids; ``move_layer`` moves such a layer without giving it an id.

Duplicate ids: Yjs arrays cannot move items, so a move is delete + reinsert of a copy. When two
users move the same layer concurrently, both copies survive the merge. Readers keep the **last
occurrence** in array order (identical on every converged replica) and ignore the others;
writers act on that same occurrence, ``remove_layer`` deletes every occurrence and
``move_layer`` collapses them into one. An edit made concurrently with a move of the same layer
lands on the deleted copy and is lost: that is the price of delete + reinsert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from canvasdoc._validate import (
    BLEND_MODES,
    LAYER_KINDS,
    STROKE_TOOLS,
    SchemaError,
    is_finite_number,
    or_default,
    validate_background,
    validate_blend_mode,
    validate_blob,
    validate_bool,
    validate_color,
    validate_coordinate,
    validate_dimension,
    validate_dpi,
    validate_hardness,
    validate_id,
    validate_int,
    validate_kind,
    validate_number,
    validate_opacity,
    validate_points,
    validate_proposal,
    validate_provenance,
    validate_size,
    validate_text,
    validate_tool,
)

__all__ = [
    "BLEND_MODES",
    "LAYER_KINDS",
    "STROKE_TOOLS",
    "Canvas",
    "CanvasMeta",
    "Layer",
    "LayerNotFound",
    "NotAProposal",
    "SchemaError",
    "Stroke",
    "StrokeNotFound",
    "validate_background",
    "validate_blend_mode",
    "validate_blob",
    "validate_bool",
    "validate_color",
    "validate_coordinate",
    "validate_dimension",
    "validate_dpi",
    "validate_hardness",
    "validate_id",
    "validate_kind",
    "validate_number",
    "validate_opacity",
    "validate_points",
    "validate_proposal",
    "validate_provenance",
    "validate_size",
    "validate_text",
    "validate_tool",
]


class LayerNotFound(KeyError):
    """No layer carries this id."""

    def __init__(self, layer_id: str) -> None:
        self.layer_id = layer_id
        super().__init__(layer_id)

    def __str__(self) -> str:
        return f"no layer with id {self.layer_id!r}"


class NotAProposal(ValueError):
    """The layer exists but is not a staged proposal (it was accepted, or never was one)."""

    def __init__(self, layer_id: str, name: str = "") -> None:
        self.layer_id = layer_id
        self.name = name
        shown = f"{layer_id!r} ({name!r})" if name else repr(layer_id)
        super().__init__(
            f"layer {shown} is not a proposal (accepted already, or never staged); only "
            "proposals can be accepted or discarded"
        )


class StrokeNotFound(KeyError):
    """The layer has no stroke with this id."""

    def __init__(self, layer_id: str, stroke_id: str) -> None:
        self.layer_id = layer_id
        self.stroke_id = stroke_id
        super().__init__(stroke_id)

    def __str__(self) -> str:
        return f"no stroke with id {self.stroke_id!r} on layer {self.layer_id!r}"


@dataclass(frozen=True)
class CanvasMeta:
    name: str = "Untitled"
    width: int = 1024
    height: int = 1024
    dpi: int = 72
    color_profile: str = "sRGB"
    background: str = "#ffffff"


@dataclass(frozen=True)
class Stroke:
    id: str
    tool: str = "brush"
    color: str = "#000000"
    size: float = 8.0
    hardness: float = 1.0
    opacity: float = 100.0
    points: tuple[float, ...] = ()


@dataclass(frozen=True)
class Layer:
    id: str
    name: str = ""
    kind: str = "raster"
    blend_mode: str = "normal"
    opacity: float = 100.0
    visible: bool = True
    locked: bool = False
    x: float = 0.0
    y: float = 0.0
    blob: str | None = None
    strokes: tuple[Stroke, ...] = ()
    provenance: dict[str, Any] | None = field(default=None, hash=False)
    proposal: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def is_proposal(self) -> bool:
        """A staged result awaiting review: drawn with a badge, left out of exports."""
        return self.proposal is not None


_Validator = Callable[[Any], Any]

_META_FIELDS: dict[str, _Validator] = {
    "name": lambda v: validate_text(v, "name"),
    "width": lambda v: validate_dimension(v, "width"),
    "height": lambda v: validate_dimension(v, "height"),
    "dpi": validate_dpi,
    "color_profile": lambda v: validate_text(v, "color_profile", max_length=200),
    "background": validate_background,
}
# The layer properties update_layer may change (id and kind are fixed at creation).
_LAYER_FIELDS: dict[str, _Validator] = {
    "name": lambda v: validate_text(v, "name"),
    "blend_mode": validate_blend_mode,
    "opacity": validate_opacity,
    "visible": lambda v: validate_bool(v, "visible"),
    "locked": lambda v: validate_bool(v, "locked"),
    "x": lambda v: validate_coordinate(v, "x"),
    "y": lambda v: validate_coordinate(v, "y"),
    "blob": validate_blob,
    "provenance": validate_provenance,
    "proposal": validate_proposal,
}
_STROKE_FIELDS: dict[str, _Validator] = {
    "tool": validate_tool,
    "color": validate_color,
    "size": validate_size,
    "hardness": validate_hardness,
    "opacity": validate_opacity,
}
_DEFAULT_META = CanvasMeta()
_DEFAULT_LAYER = Layer(id="")
_DEFAULT_STROKE = Stroke(id="")
_MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER


@dataclass(frozen=True)
class _Entry:
    pos: int  # raw index in the Yjs array, counting skipped items
    id: str
    map: Map[Any]


def _scan_all(array: Array[Any]) -> list[_Entry]:
    entries = []
    anonymous = 0
    for pos, item in enumerate(array):
        if isinstance(item, Map):
            item_id = or_default(validate_id, item.get("id"), None)
            if item_id is None:
                item_id = f"anon-{anonymous}"
                anonymous += 1
            entries.append(_Entry(pos, item_id, item))
    return entries


def _dedup(entries: list[_Entry]) -> list[_Entry]:
    last = {entry.id: entry.pos for entry in entries}
    return [entry for entry in entries if last[entry.id] == entry.pos]


def _reject_unknown(what: str, given: dict[str, Any], known: Sequence[str]) -> None:
    names = sorted(set(given) - set(known))
    if names:
        plural = f"{what[:-1]}ies" if what.endswith("y") else f"{what}s"
        listed = ", ".join(repr(n) for n in names)
        message = (
            f"unknown {what if len(names) == 1 else plural} {listed}; "
            f"expected some of {', '.join(known)}"
        )
        raise SchemaError(", ".join(names), {n: given[n] for n in names}, "", message=message)


def _shared(value: Any) -> Any:
    """Plain values from the reader's point of view: a Map reads as the dict it holds."""
    return value.to_py() if isinstance(value, Map) else value


def _clone(value: Any) -> Any:
    """A preliminary deep copy of a shared value, ready to be inserted elsewhere."""
    if isinstance(value, Map):
        return Map({key: _clone(item) for key, item in value.items()})
    if isinstance(value, Array):
        return Array([_clone(item) for item in value])
    if isinstance(value, Text):
        return Text(str(value))
    if isinstance(value, XmlFragment | XmlElement | XmlText):
        return str(value)  # not part of the schema; keep its content as text
    if isinstance(value, bytearray):
        return bytes(value)  # pycrdt reads binary as bytearray but only writes bytes
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _read_points(value: Any) -> tuple[float, ...]:
    if isinstance(value, Array):
        try:  # one to_json call is ~15x faster than reading a long Array item by item
            raw = json.loads(str(value))
        except ValueError:
            raw = value.to_py() or []
    elif isinstance(value, list):
        raw = value
    else:
        return ()
    points: list[float] = []
    for i in range(0, len(raw) - 1, 2):  # a bad value drops its whole pair to keep x/y aligned
        if is_finite_number(raw[i]) and is_finite_number(raw[i + 1]):
            points += (float(raw[i]), float(raw[i + 1]))
    return tuple(points)


def _read_stroke(entry: _Entry) -> Stroke:
    values = {
        name: or_default(check, _shared(entry.map.get(name)), getattr(_DEFAULT_STROKE, name))
        for name, check in _STROKE_FIELDS.items()
    }
    return Stroke(id=entry.id, points=_read_points(entry.map.get("points")), **values)


def _read_layer(entry: _Entry) -> Layer:
    values = {
        name: or_default(check, _shared(entry.map.get(name)), getattr(_DEFAULT_LAYER, name))
        for name, check in _LAYER_FIELDS.items()
    }
    strokes = entry.map.get("strokes")
    return Layer(
        id=entry.id,
        kind=or_default(validate_kind, entry.map.get("kind"), _DEFAULT_LAYER.kind),
        strokes=(
            tuple(_read_stroke(s) for s in _dedup(_scan_all(strokes)))
            if isinstance(strokes, Array)
            else ()
        ),
        **values,
    )


def _plain(value: Any) -> Any:
    """JSON-able and deterministic: sorted keys (Yjs map order differs between replicas)."""
    if isinstance(value, dict):
        return {str(k): _plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not is_finite_number(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INTEGER:
        # pycrdt reads such an integer back as int on the replica that wrote it but as float
        # on the others (JavaScript peers see a double anyway): one reading for all.
        return float(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)  # e.g. bytes from a foreign client


class Canvas:
    """Schema-aware view of a canvas ``Doc``; holds no state besides the doc's root types."""

    def __init__(self, doc: Doc[Any]) -> None:
        self._doc = doc
        self._meta: Map[Any] = doc.get("meta", type=Map)
        self._layers: Array[Any] = doc.get("layers", type=Array)
        self._history: Array[Any] = doc.get("history", type=Array)

    @property
    def doc(self) -> Doc[Any]:
        return self._doc

    @property
    def meta_map(self) -> Map[Any]:
        return self._meta

    @property
    def layers_array(self) -> Array[Any]:
        return self._layers

    @property
    def history_array(self) -> Array[Any]:
        return self._history

    # -- writers ---------------------------------------------------------------------------

    def init(
        self,
        *,
        name: str = "Untitled",
        width: int = 1024,
        height: int = 1024,
        dpi: int = 72,
        color_profile: str = "sRGB",
        background: str = "#ffffff",
    ) -> None:
        """Set every meta field (layers and history are left as they are)."""
        self.set_meta(
            name=name,
            width=width,
            height=height,
            dpi=dpi,
            color_profile=color_profile,
            background=background,
        )

    def set_meta(self, **fields: Any) -> None:
        _reject_unknown("meta field", fields, list(_META_FIELDS))
        values = {name: _META_FIELDS[name](value) for name, value in fields.items()}
        with self._doc.transaction():
            for name, value in values.items():
                self._meta[name] = value

    def add_layer(
        self,
        name: str,
        *,
        kind: str = "raster",
        index: int | None = None,
        blend_mode: str = "normal",
        opacity: float = 100,
        visible: bool = True,
        locked: bool = False,
        x: float = 0,
        y: float = 0,
        blob: str | None = None,
        provenance: dict[str, Any] | None = None,
        layer_id: str | None = None,
        proposal: dict[str, Any] | None = None,
    ) -> str:
        """Insert a layer at ``index`` (None = top) and return its id (uuid4 hex by default).
        A ``proposal`` dict makes it a staged proposal (see :meth:`accept_proposal`)."""
        kind = validate_kind(kind)
        given = {
            "name": name,
            "blend_mode": blend_mode,
            "opacity": opacity,
            "visible": visible,
            "locked": locked,
            "x": x,
            "y": y,
            "blob": blob,
            "provenance": provenance,
            "proposal": proposal,
        }
        props = {key: _LAYER_FIELDS[key](value) for key, value in given.items()}
        if props["blob"] is not None and kind != "raster":
            raise SchemaError(
                "blob", blob, "", message=f"blob is only for raster layers, got kind {kind!r}"
            )
        new_id = uuid.uuid4().hex if layer_id is None else validate_id(layer_id, "layer_id")
        content: dict[str, Any] = {"id": new_id, "kind": kind}
        content |= {k: v for k, v in props.items() if k not in ("blob", "provenance", "proposal")}
        if kind == "raster":
            content["blob"] = props["blob"]
        if kind == "paint":
            content["strokes"] = Array()
        for key in ("provenance", "proposal"):
            if props[key] is not None:
                content[key] = Map(props[key])
        with self._doc.transaction():
            entries = _dedup(_scan_all(self._layers))
            if any(entry.id == new_id for entry in entries):
                raise SchemaError(
                    "layer_id", layer_id, "", message=f"layer_id {new_id!r} is already in use"
                )
            index = len(entries) if index is None else self._check_index(index, len(entries))
            pos = entries[index].pos if index < len(entries) else len(self._layers)
            self._layers.insert(pos, Map(content))
        return new_id

    def remove_layer(self, layer_id: str) -> None:
        """Delete the layer, every duplicate of its id included."""
        with self._doc.transaction():
            found = [e for e in _scan_all(self._layers) if e.id == layer_id]
            if not found:
                raise LayerNotFound(layer_id)
            for entry in reversed(found):
                del self._layers[entry.pos]

    def move_layer(self, layer_id: str, new_index: int) -> None:
        """Move a layer to ``new_index`` in the z-order (its index in ``read_layers()``).

        Deletes the Map (every duplicate of its id) and inserts one deep copy, strokes
        included, with the same id (an ``anon-<k>`` fallback id may then renumber).
        """
        with self._doc.transaction():
            entries = _dedup(_scan_all(self._layers))
            ids = [entry.id for entry in entries]
            if layer_id not in ids:
                raise LayerNotFound(layer_id)
            new_index = self._check_index(new_index, len(entries) - 1, "new_index")
            found = [e for e in _scan_all(self._layers) if e.id == layer_id]
            if len(found) == 1 and ids.index(layer_id) == new_index:
                return
            kept = entries[ids.index(layer_id)].map
            content = {key: _clone(value) for key, value in kept.items()}
            for entry in reversed(found):
                del self._layers[entry.pos]
            rest = _dedup(_scan_all(self._layers))
            pos = rest[new_index].pos if new_index < len(rest) else len(self._layers)
            self._layers.insert(pos, Map(content))

    def update_layer(self, layer_id: str, **props: Any) -> None:
        """Change some of name, blend_mode, opacity, visible, locked, x, y, blob, provenance,
        proposal (None removes provenance or proposal)."""
        for fixed in ("id", "kind"):
            if fixed in props:
                message = f"{fixed} cannot be changed, got {props[fixed]!r}"
                raise SchemaError(fixed, props[fixed], "", message=message)
        _reject_unknown("layer property", props, list(_LAYER_FIELDS))
        values = {name: _LAYER_FIELDS[name](value) for name, value in props.items()}
        with self._doc.transaction():
            entry = self._find(layer_id)
            kind = or_default(validate_kind, entry.map.get("kind"), _DEFAULT_LAYER.kind)
            if "blob" in values and kind != "raster":
                message = f"blob is only for raster layers, got a {kind} layer {layer_id!r}"
                raise SchemaError("blob", props["blob"], "", message=message)
            for name, value in values.items():
                if name in ("provenance", "proposal"):
                    if value is None:
                        entry.map.pop(name, None)
                        continue
                    value = Map(value)
                entry.map[name] = value

    def accept_proposal(self, layer_id: str) -> None:
        """Make a staged proposal an ordinary layer (removes its ``proposal``). Raises
        LayerNotFound, or NotAProposal when the layer is not one (e.g. accepted already)."""
        with self._doc.transaction():
            entry = self._proposal(layer_id)
            entry.map.pop("proposal", None)

    def discard_proposal(self, layer_id: str) -> None:
        """Remove a staged proposal (every duplicate of its id). Raises LayerNotFound, or
        NotAProposal when the layer is not one: an ordinary layer is removed with
        :meth:`remove_layer`, never by a discard."""
        with self._doc.transaction():
            self._proposal(layer_id)
            self.remove_layer(layer_id)

    def begin_stroke(
        self,
        layer_id: str,
        *,
        tool: str = "brush",
        color: str = "#000000",
        size: float = 8,
        hardness: float = 1.0,
        opacity: float = 100,
        points: Sequence[float] = (),
        stroke_id: str | None = None,
    ) -> str:
        """Start a stroke on a paint layer and return its id; grow it with append_points."""
        given = {
            "tool": tool,
            "color": color,
            "size": size,
            "hardness": hardness,
            "opacity": opacity,
        }
        content = {key: _STROKE_FIELDS[key](value) for key, value in given.items()}
        content["points"] = Array(validate_points(points))
        new_id = uuid.uuid4().hex if stroke_id is None else validate_id(stroke_id, "stroke_id")
        content["id"] = new_id
        with self._doc.transaction():
            layer = self._find(layer_id)
            kind = or_default(validate_kind, layer.map.get("kind"), _DEFAULT_LAYER.kind)
            if kind != "paint":
                message = f"strokes can only be drawn on paint layers, got a {kind} layer"
                raise SchemaError("kind", kind, "", message=message)
            strokes = layer.map.get("strokes")
            if not isinstance(strokes, Array):  # missing or garbage from a foreign client
                layer.map["strokes"] = Array([Map(content)])
                return new_id
            if any(entry.id == new_id for entry in _scan_all(strokes)):
                message = f"stroke_id {new_id!r} is already in use on layer {layer_id!r}"
                raise SchemaError("stroke_id", stroke_id, "", message=message)
            strokes.append(Map(content))
        return new_id

    def append_points(self, layer_id: str, stroke_id: str, points: Sequence[float]) -> None:
        """Append flat x, y pairs to a stroke's points Array (live drawing)."""
        values = validate_points(points)
        with self._doc.transaction():
            layer = self._find(layer_id)
            strokes = layer.map.get("strokes")
            found = _dedup(_scan_all(strokes)) if isinstance(strokes, Array) else []
            stroke = next((entry for entry in found if entry.id == stroke_id), None)
            if stroke is None:
                raise StrokeNotFound(layer_id, stroke_id)
            target = stroke.map.get("points")
            if not isinstance(target, Array):
                message = f"stroke {stroke_id!r} has no points Array to append to"
                raise SchemaError("points", target, "", message=message)
            if values:
                target.extend(values)

    # -- readers ---------------------------------------------------------------------------

    def read_meta(self) -> CanvasMeta:
        with self._doc.transaction():
            values = {
                name: or_default(check, self._meta.get(name), getattr(_DEFAULT_META, name))
                for name, check in _META_FIELDS.items()
            }
        return CanvasMeta(**values)

    def read_layers(self) -> list[Layer]:
        """Layers bottom first; one per id (the last occurrence), invalid values defaulted."""
        with self._doc.transaction():
            return [_read_layer(entry) for entry in _dedup(_scan_all(self._layers))]

    def get_layer(self, layer_id: str) -> Layer:
        with self._doc.transaction():
            return _read_layer(self._find(layer_id))

    def layer_ids(self) -> list[str]:
        with self._doc.transaction():
            return [entry.id for entry in _dedup(_scan_all(self._layers))]

    def history(self) -> list[dict[str, Any]]:
        """History entries as dicts; items that are not maps are skipped."""
        entries: list[dict[str, Any]] = []
        with self._doc.transaction():
            for item in self._history:
                entry = _shared(item)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able, deterministic view: equal on replicas that have converged."""
        with self._doc.transaction():
            view = {
                "meta": asdict(self.read_meta()),
                "layers": [asdict(layer) for layer in self.read_layers()],
                "history": self.history(),
            }
        result: dict[str, Any] = _plain(view)
        return result

    def content(self) -> dict[str, Any]:
        """``meta`` and ``layers`` as plain data (what a version restore brings back)."""
        with self._doc.transaction():
            result: dict[str, Any] = _plain(
                {"meta": self._meta.to_py() or {}, "layers": self._layers.to_py() or []}
            )
        return result

    def replace_content(self, source: Canvas) -> None:
        """Make ``meta`` and ``layers`` equal to ``source``'s, in one transaction (history is
        left alone). Layers are replaced by deep copies: Yjs cannot assign an array wholesale.
        """
        with self._doc.transaction():
            src_meta = dict(source.meta_map.items())
            for key in list(self._meta.keys()):
                if key not in src_meta:
                    del self._meta[key]
            for key, value in src_meta.items():
                self._meta[key] = _clone(value)
            if len(self._layers):
                del self._layers[0 : len(self._layers)]
            self._layers.extend([_clone(item) for item in source.layers_array])

    # -- internals -------------------------------------------------------------------------

    def _proposal(self, layer_id: str) -> _Entry:
        entry = self._find(layer_id)
        layer = _read_layer(entry)
        if not layer.is_proposal:
            raise NotAProposal(layer_id, layer.name)
        return entry

    def _find(self, layer_id: str) -> _Entry:
        for entry in _dedup(_scan_all(self._layers)):
            if entry.id == layer_id:
                return entry
        raise LayerNotFound(layer_id)

    @staticmethod
    def _check_index(index: object, high: int, field: str = "index") -> int:
        return validate_int(index, field, low=0, high=high)
