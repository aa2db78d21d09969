/**
 * CanvasDoc: the schema-aware view of a Y.Doc, the TypeScript twin of Python's `Canvas`
 * (canvasdoc/canvas.py). Writers validate like the Python writers (throwing {@link SchemaError},
 * whose message names the field and the value) and produce exactly the Yjs structure the Python
 * writers produce; each runs in one transaction (joining the caller's, if any).
 */
import * as Y from "yjs";
import { dedup, findLayer, readHistory, readLayer, readLayers, readMeta, scanAll } from "./readers";
import type { BlendMode, CanvasMeta, HistoryEntry, Layer, LayerKind, StrokeTool } from "./types";
import {
  orDefault,
  SchemaError,
  shortRepr,
  validateBackground,
  validateBlendMode,
  validateBlob,
  validateBool,
  validateColor,
  validateCoordinate,
  validateDimension,
  validateDpi,
  validateHardness,
  validateId,
  validateInt,
  validateKind,
  validateOpacity,
  validatePoints,
  validateProvenance,
  validateSize,
  validateStrokeOpacity,
  validateText,
  validateTool,
} from "./validate";

export { SchemaError } from "./validate";

/** No layer carries this id. */
export class LayerNotFound extends Error {
  readonly layerId: string;
  constructor(layerId: string) {
    super(`no layer with id '${layerId}'`);
    this.name = "LayerNotFound";
    this.layerId = layerId;
  }
}

/** The layer has no stroke with this id. */
export class StrokeNotFound extends Error {
  readonly layerId: string;
  readonly strokeId: string;
  constructor(layerId: string, strokeId: string) {
    super(`no stroke with id '${strokeId}' on layer '${layerId}'`);
    this.name = "StrokeNotFound";
    this.layerId = layerId;
    this.strokeId = strokeId;
  }
}

export interface MetaFields {
  name: string;
  width: number;
  height: number;
  dpi: number;
  colorProfile: string;
  background: string;
}

export interface LayerProps {
  name: string;
  blendMode: BlendMode;
  opacity: number;
  visible: boolean;
  locked: boolean;
  x: number;
  y: number;
  blob: string | null;
  provenance: Record<string, unknown> | null;
}

export interface AddLayerOptions extends Partial<Omit<LayerProps, "name">> {
  kind?: LayerKind;
  /** position in `readLayers()` (0 = bottom); default: top */
  index?: number;
  layerId?: string;
}

export interface StrokeStart {
  tool?: StrokeTool;
  color?: string;
  size?: number;
  hardness?: number;
  opacity?: number;
  points?: readonly number[];
  strokeId?: string;
}

type Check = (value: unknown) => unknown;

/** camelCase option -> [snake_case Yjs key, validator] */
const META_FIELDS: Record<string, [string, Check]> = {
  name: ["name", (v) => validateText(v, "name")],
  width: ["width", (v) => validateDimension(v, "width")],
  height: ["height", (v) => validateDimension(v, "height")],
  dpi: ["dpi", validateDpi],
  colorProfile: ["color_profile", (v) => validateText(v, "color_profile", 200)],
  background: ["background", validateBackground],
};

const LAYER_FIELDS: Record<string, [string, Check]> = {
  name: ["name", (v) => validateText(v, "name")],
  blendMode: ["blend_mode", validateBlendMode],
  opacity: ["opacity", validateOpacity],
  visible: ["visible", (v) => validateBool(v, "visible")],
  locked: ["locked", (v) => validateBool(v, "locked")],
  x: ["x", (v) => validateCoordinate(v, "x")],
  y: ["y", (v) => validateCoordinate(v, "y")],
  blob: ["blob", validateBlob],
  provenance: ["provenance", validateProvenance],
};

/** Validated [yjsKey, value] pairs of the given fields; unknown names are refused. */
function validated(what: string, given: object, fields: Record<string, [string, Check]>): [string, unknown][] {
  const entries = Object.entries(given).filter(([, v]) => v !== undefined);
  const unknown = entries.map(([k]) => k).filter((k) => !(k in fields)).sort();
  if (unknown.length > 0) {
    const plural = what.endsWith("y") ? `${what.slice(0, -1)}ies` : `${what}s`;
    const listed = unknown.map((n) => `'${n}'`).join(", ");
    const message = `unknown ${unknown.length === 1 ? what : plural} ${listed}; expected some of ${Object.keys(fields).join(", ")}`;
    throw new SchemaError(unknown.join(", "), Object.fromEntries(entries.filter(([k]) => unknown.includes(k))), "", message);
  }
  return entries.map(([key, value]) => [fields[key][0], fields[key][1](value)]);
}

/** A preliminary deep copy of a shared value, ready to be inserted elsewhere (Python `_clone`). */
export function cloneShared(value: unknown): unknown {
  if (value instanceof Y.Map) {
    const copy = new Y.Map<unknown>();
    for (const [key, item] of value.entries()) copy.set(key, cloneShared(item));
    return copy;
  }
  if (value instanceof Y.Array) {
    const copy = new Y.Array<unknown>();
    copy.push(value.toArray().map(cloneShared));
    return copy;
  }
  if (value instanceof Y.Text) return new Y.Text(value.toString());
  if (value instanceof Y.XmlFragment || value instanceof Y.XmlElement || value instanceof Y.XmlText) {
    return value.toString();
  }
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(cloneShared);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneShared(v)]));
  }
  return value;
}

function newId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}

function kindOf(map: Y.Map<unknown>): LayerKind {
  return orDefault(validateKind, map.get("kind"), "raster");
}

/** Schema-aware view of a canvas Y.Doc (root types `meta`, `layers`, `history`). */
export class CanvasDoc {
  readonly doc: Y.Doc;
  readonly meta: Y.Map<unknown>;
  readonly layers: Y.Array<unknown>;
  readonly historyArray: Y.Array<unknown>;
  /** the transaction origin of this view's own edits (a session passes its local origin) */
  readonly origin: unknown;

  constructor(doc: Y.Doc, origin: unknown = null) {
    this.doc = doc;
    this.meta = doc.getMap("meta");
    this.layers = doc.getArray("layers");
    this.historyArray = doc.getArray("history");
    this.origin = origin;
  }

  // -- readers ------------------------------------------------------------------------------

  readMeta(): CanvasMeta {
    return readMeta(this.meta);
  }

  readLayers(): Layer[] {
    return readLayers(this.layers);
  }

  getLayer(id: string): Layer | null {
    const entry = findLayer(this.layers, id);
    return entry ? readLayer(entry) : null;
  }

  layerIds(): string[] {
    return dedup(scanAll(this.layers)).map((entry) => entry.id);
  }

  history(): HistoryEntry[] {
    return readHistory(this.historyArray);
  }

  // -- writers ------------------------------------------------------------------------------

  private transact<T>(fn: () => T): T {
    let result: T | undefined;
    this.doc.transact(() => {
      result = fn();
    }, this.origin);
    return result as T;
  }

  setMeta(fields: Partial<MetaFields>): void {
    const values = validated("meta field", fields, META_FIELDS);
    this.transact(() => {
      for (const [key, value] of values) this.meta.set(key, value);
    });
  }

  /** Insert a layer at `index` (default: top) and return its id (uuid4 hex by default). */
  addLayer(name: string, opts: AddLayerOptions = {}): string {
    const kind = validateKind(opts.kind ?? "raster");
    const props = {
      name: validateText(name, "name"),
      blend_mode: validateBlendMode(opts.blendMode ?? "normal"),
      opacity: validateOpacity(opts.opacity ?? 100),
      visible: validateBool(opts.visible ?? true, "visible"),
      locked: validateBool(opts.locked ?? false, "locked"),
      x: validateCoordinate(opts.x ?? 0, "x"),
      y: validateCoordinate(opts.y ?? 0, "y"),
    };
    const blob = validateBlob(opts.blob ?? null);
    const provenance = validateProvenance(opts.provenance ?? null);
    if (blob !== null && kind !== "raster") {
      throw new SchemaError("blob", opts.blob, "", `blob is only for raster layers, got kind '${kind}'`);
    }
    const id = opts.layerId === undefined ? newId() : validateId(opts.layerId, "layer_id");
    const map = new Y.Map<unknown>();
    map.set("id", id);
    map.set("kind", kind);
    for (const [key, value] of Object.entries(props)) map.set(key, value);
    if (kind === "raster") map.set("blob", blob);
    if (kind === "paint") map.set("strokes", new Y.Array());
    if (provenance !== null) map.set("provenance", new Y.Map(Object.entries(provenance)));
    this.transact(() => {
      const entries = dedup(scanAll(this.layers));
      if (entries.some((entry) => entry.id === id)) {
        throw new SchemaError("layer_id", opts.layerId, "", `layer_id '${id}' is already in use`);
      }
      const index = opts.index === undefined ? entries.length : validateInt(opts.index, "index", 0, entries.length);
      const pos = index < entries.length ? entries[index].pos : this.layers.length;
      this.layers.insert(pos, [map]);
    });
    return id;
  }

  /** Delete the layer, every duplicate of its id included. */
  removeLayer(id: string): void {
    this.transact(() => {
      const found = scanAll(this.layers).filter((entry) => entry.id === id);
      if (found.length === 0) throw new LayerNotFound(id);
      for (const entry of found.reverse()) this.layers.delete(entry.pos, 1);
    });
  }

  /**
   * Move a layer to `newIndex` in the z-order (its index in `readLayers()`): deletes the Map
   * (every duplicate of its id) and inserts one deep copy, strokes included, with the same id.
   */
  moveLayer(id: string, newIndex: number): void {
    this.transact(() => {
      const entries = dedup(scanAll(this.layers));
      const ids = entries.map((entry) => entry.id);
      const at = ids.indexOf(id);
      if (at < 0) throw new LayerNotFound(id);
      const index = validateInt(newIndex, "new_index", 0, entries.length - 1);
      const found = scanAll(this.layers).filter((entry) => entry.id === id);
      if (found.length === 1 && at === index) return;
      const copy = cloneShared(entries[at].map) as Y.Map<unknown>;
      for (const entry of found.reverse()) this.layers.delete(entry.pos, 1);
      const rest = dedup(scanAll(this.layers));
      const pos = index < rest.length ? rest[index].pos : this.layers.length;
      this.layers.insert(pos, [copy]);
    });
  }

  /** Change some of name, blendMode, opacity, visible, locked, x, y, blob, provenance. */
  updateLayer(id: string, props: Partial<LayerProps>): void {
    for (const fixed of ["id", "kind"]) {
      if (fixed in props) {
        const value = (props as Record<string, unknown>)[fixed];
        throw new SchemaError(fixed, value, "", `${fixed} cannot be changed, got ${shortRepr(value)}`);
      }
    }
    const values = validated("layer property", props, LAYER_FIELDS);
    this.transact(() => {
      const entry = findLayer(this.layers, id);
      if (entry === null) throw new LayerNotFound(id);
      const kind = kindOf(entry.map);
      if (values.some(([key]) => key === "blob") && kind !== "raster") {
        throw new SchemaError("blob", props.blob, "", `blob is only for raster layers, got a ${kind} layer '${id}'`);
      }
      for (const [key, value] of values) {
        if (key === "provenance") {
          if (value === null) entry.map.delete("provenance");
          else entry.map.set(key, new Y.Map(Object.entries(value as Record<string, unknown>)));
        } else {
          entry.map.set(key, value);
        }
      }
    });
  }

  /** Start a stroke on a paint layer and return its id; grow it with `appendPoints`. */
  beginStroke(layerId: string, s: StrokeStart = {}): string {
    const map = new Y.Map<unknown>();
    map.set("tool", validateTool(s.tool ?? "brush"));
    map.set("color", validateColor(s.color ?? "#000000"));
    map.set("size", validateSize(s.size ?? 8));
    map.set("hardness", validateHardness(s.hardness ?? 1));
    map.set("opacity", validateStrokeOpacity(s.opacity ?? 100));
    map.set("points", Y.Array.from(validatePoints(s.points ?? [])));
    const id = s.strokeId === undefined ? newId() : validateId(s.strokeId, "stroke_id");
    map.set("id", id);
    this.transact(() => {
      const layer = findLayer(this.layers, layerId);
      if (layer === null) throw new LayerNotFound(layerId);
      const kind = kindOf(layer.map);
      if (kind !== "paint") {
        throw new SchemaError("kind", kind, "", `strokes can only be drawn on paint layers, got a ${kind} layer`);
      }
      const strokes = layer.map.get("strokes");
      if (!(strokes instanceof Y.Array)) {
        layer.map.set("strokes", Y.Array.from([map])); // missing or garbage from a foreign client
        return;
      }
      if (scanAll(strokes).some((entry) => entry.id === id)) {
        const message = `stroke_id '${id}' is already in use on layer '${layerId}'`;
        throw new SchemaError("stroke_id", s.strokeId, "", message);
      }
      strokes.push([map]);
    });
    return id;
  }

  /** Append flat x, y pairs to a stroke's points Array (live drawing). */
  appendPoints(layerId: string, strokeId: string, points: readonly number[]): void {
    const values = validatePoints(points);
    this.transact(() => {
      const layer = findLayer(this.layers, layerId);
      if (layer === null) throw new LayerNotFound(layerId);
      const strokes = layer.map.get("strokes");
      const found = strokes instanceof Y.Array ? dedup(scanAll(strokes)) : [];
      const stroke = found.find((entry) => entry.id === strokeId);
      if (stroke === undefined) throw new StrokeNotFound(layerId, strokeId);
      const target = stroke.map.get("points");
      if (!(target instanceof Y.Array)) {
        throw new SchemaError("points", target, "", `stroke '${strokeId}' has no points Array to append to`);
      }
      if (values.length > 0) target.push(values);
    });
  }
}
