/**
 * Typed, tolerant readers of the shared Y.Doc, mirroring the readers of canvasdoc/canvas.py exactly
 * (checked by the shared vectors in tests/vectors/document_readers.json).
 *
 * Readers never throw on data written by a foreign client: a value a writer would refuse reads
 * as the field's default (schema.json), a non-Map item of `layers` / `strokes` is skipped, a Map
 * without a usable id gets the fallback id `anon-<k>` (the k-th id-less Map of that array), a
 * stored `anon-<n>` id counts as no id, and of several Maps with the same id (after concurrent
 * moves) the LAST occurrence in array order is read.
 */
import * as Y from "yjs";
import schema from "./schema.json";
import type { BlendMode, CanvasMeta, HistoryEntry, Layer, LayerKind, Stroke, StrokeTool } from "./types";
import {
  isFiniteNumber,
  isPlainObject,
  orDefault,
  SchemaError,
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
  validateKind,
  validateOpacity,
  validateProvenance,
  validateSize,
  validateStrokeOpacity,
  validateText,
  validateTool,
} from "./validate";

const META = schema.defaults.meta;
const LAYER = schema.defaults.layer;
const STROKE = schema.defaults.stroke;

/** One Map of a layers (or strokes) array: its raw index, its id (maybe `anon-<k>`), the Map. */
export interface Entry {
  readonly pos: number;
  readonly id: string;
  readonly map: Y.Map<unknown>;
}

/** Every Map of the array with its id; non-Map items are skipped (Python `_scan_all`). */
export function scanAll(array: Y.Array<unknown>): Entry[] {
  const entries: Entry[] = [];
  let anonymous = 0;
  array.forEach((item, pos) => {
    if (!(item instanceof Y.Map)) return;
    let id = orDefault<string | null>(validateId, item.get("id"), null);
    if (id === null) id = `anon-${anonymous++}`;
    entries.push({ pos, id, map: item as Y.Map<unknown> });
  });
  return entries;
}

/** One entry per id: the last occurrence, in array order (Python `_dedup`). */
export function dedup(entries: readonly Entry[]): Entry[] {
  const last = new Map<string, number>();
  for (const entry of entries) last.set(entry.id, entry.pos);
  return entries.filter((entry) => last.get(entry.id) === entry.pos);
}

/**
 * `proposal`: null (an ordinary layer), or an object of JSON values: the layer is a staged
 * proposal awaiting review, left out of exports until accepted; `job_id`, when present, a
 * non-empty string (Python `validate_proposal`). Returned as a deep copy.
 */
export function validateProposal(value: unknown): Record<string, unknown> | null {
  if (value === null) return null;
  const expected = "a dict of JSON values with string keys (job_id a non-empty string), or None";
  let copied: Record<string, unknown> | null;
  try {
    copied = validateProvenance(value);
  } catch (error) {
    if (error instanceof SchemaError) throw new SchemaError("proposal", value, expected);
    throw error;
  }
  const jobId = copied?.job_id;
  if (copied === null || (jobId !== undefined && jobId !== null && (typeof jobId !== "string" || jobId === ""))) {
    throw new SchemaError("proposal", value, expected);
  }
  return copied;
}

/** A Map value reads as the plain object it holds (Python `_shared`). */
function shared(value: unknown): unknown {
  return value instanceof Y.Map ? value.toJSON() : value;
}

export function readMeta(meta: Y.Map<unknown>): CanvasMeta {
  return {
    name: orDefault((v) => validateText(v, "name", schema.lengths.name), meta.get("name"), META.name),
    width: orDefault((v) => validateDimension(v, "width"), meta.get("width"), META.width),
    height: orDefault((v) => validateDimension(v, "height"), meta.get("height"), META.height),
    dpi: orDefault(validateDpi, meta.get("dpi"), META.dpi),
    colorProfile: orDefault(
      (v) => validateText(v, "color_profile", schema.lengths.color_profile),
      meta.get("color_profile"),
      META.color_profile,
    ),
    background: orDefault(validateBackground, meta.get("background"), META.background),
  };
}

/** Flat x, y pairs; a bad value drops its whole pair so x and y stay aligned. */
export function readPoints(value: unknown): number[] {
  let raw: readonly unknown[];
  if (value instanceof Y.Array) raw = value.toArray();
  else if (Array.isArray(value)) raw = value;
  else return [];
  const points: number[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const x = raw[i];
    const y = raw[i + 1];
    if (isFiniteNumber(x) && isFiniteNumber(y)) points.push(Number(x), Number(y));
  }
  return points;
}

export function readStroke(entry: Entry): Stroke {
  const get = (name: string) => shared(entry.map.get(name));
  return {
    id: entry.id,
    tool: orDefault(validateTool, get("tool"), STROKE.tool as StrokeTool),
    color: orDefault(validateColor, get("color"), STROKE.color),
    size: orDefault(validateSize, get("size"), STROKE.size),
    hardness: orDefault(validateHardness, get("hardness"), STROKE.hardness),
    opacity: orDefault(validateStrokeOpacity, get("opacity"), STROKE.opacity),
    points: readPoints(entry.map.get("points")),
  };
}

export function readLayer(entry: Entry): Layer {
  const get = (name: string) => shared(entry.map.get(name));
  const strokes = entry.map.get("strokes");
  return {
    id: entry.id,
    name: orDefault((v) => validateText(v, "name", schema.lengths.layer_name), get("name"), LAYER.name),
    kind: orDefault(validateKind, entry.map.get("kind"), LAYER.kind as LayerKind),
    blendMode: orDefault(validateBlendMode, get("blend_mode"), LAYER.blend_mode as BlendMode),
    opacity: orDefault(validateOpacity, get("opacity"), LAYER.opacity),
    visible: orDefault((v) => validateBool(v, "visible"), get("visible"), LAYER.visible),
    locked: orDefault((v) => validateBool(v, "locked"), get("locked"), LAYER.locked),
    x: orDefault((v) => validateCoordinate(v, "x"), get("x"), LAYER.x),
    y: orDefault((v) => validateCoordinate(v, "y"), get("y"), LAYER.y),
    blob: orDefault(validateBlob, get("blob"), LAYER.blob),
    strokes: strokes instanceof Y.Array ? dedup(scanAll(strokes)).map(readStroke) : [],
    provenance: orDefault(validateProvenance, get("provenance"), null),
    proposal: orDefault(validateProposal, get("proposal"), null),
  };
}

/** Layers bottom first; one per id (the last occurrence); invalid values defaulted. */
export function readLayers(layers: Y.Array<unknown>): Layer[] {
  return dedup(scanAll(layers)).map(readLayer);
}

/** The layer with this id (as `readLayers` reads it), or null. */
export function findLayer(layers: Y.Array<unknown>, id: string): Entry | null {
  return dedup(scanAll(layers)).find((entry) => entry.id === id) ?? null;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * History entries (written by the server); items that are not maps are skipped (Python
 * `Canvas.history`). Fields of the wrong type read as "" (strings) or 0 (`at`).
 */
export function readHistory(history: Y.Array<unknown>): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const item of history.toArray()) {
    const entry = shared(item);
    if (!isPlainObject(entry)) continue;
    entries.push({
      id: text(entry.id),
      user: text(entry.user),
      name: text(entry.name),
      action: text(entry.action),
      label: text(entry.label),
      at: typeof entry.at === "number" && Number.isFinite(entry.at) ? entry.at : 0,
    });
  }
  return entries;
}
