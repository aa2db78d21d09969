import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { CanvasMeta, Layer, Stroke } from "./types";
import { CanvasDoc } from "./writers";

/**
 * The shared reader vectors (tests/vectors/document_readers.json), whose `expected` readings
 * come from the Python readers. Raw values become a Y.Doc exactly as in
 * tests/canvasdoc/test_reader_vectors.py (see its docstring for the `$plain` / `$map` / `$array` /
 * `$text` / `$num` markers).
 */
interface Case {
  name: string;
  meta: Record<string, unknown> | null;
  layers: unknown[];
  history?: unknown[];
  expected: { meta: Record<string, unknown>; layers: Record<string, unknown>[]; history?: unknown[] };
}

const cases: Case[] = JSON.parse(
  readFileSync(new URL("../../../../tests/vectors/document_readers.json", import.meta.url), "utf8"),
);

const MARKERS = new Set(["$plain", "$map", "$array", "$text", "$num"]);
const NUMBERS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function marker(value: unknown): [string, unknown] | null {
  if (!isObject(value)) return null;
  const keys = Object.keys(value);
  return keys.length === 1 && MARKERS.has(keys[0]) ? [keys[0], value[keys[0]]] : null;
}

function yMap(entries: Record<string, unknown>): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
  return map;
}

function yArray(items: unknown[]): Y.Array<unknown> {
  const array = new Y.Array<unknown>();
  array.push(items);
  return array;
}

function decode(value: unknown): unknown {
  const found = marker(value);
  if (found !== null) {
    const [key, inner] = found;
    if (key === "$plain") return plain(inner);
    if (key === "$map") return yMap(Object.fromEntries(Object.entries(inner as object).map(([k, v]) => [k, decode(v)])));
    if (key === "$array") return yArray((inner as unknown[]).map(decode));
    if (key === "$text") return new Y.Text(inner as string);
    return NUMBERS[inner as string];
  }
  return plain(value);
}

function plain(value: unknown): unknown {
  if (marker(value) !== null) return decode(value);
  if (Array.isArray(value)) return value.map(plain);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function item(value: unknown, build: (raw: Record<string, unknown>) => Y.Map<unknown>): unknown {
  return isObject(value) && marker(value) === null ? build(value) : decode(value);
}

function decodeAll(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decode(v)]));
}

function strokeMap(raw: Record<string, unknown>): Y.Map<unknown> {
  const content = decodeAll(raw);
  if (Array.isArray(raw.points)) content.points = yArray(raw.points.map(decode));
  return yMap(content);
}

function layerMap(raw: Record<string, unknown>): Y.Map<unknown> {
  const content = decodeAll(raw);
  if (Array.isArray(raw.strokes)) content.strokes = yArray(raw.strokes.map((s) => item(s, strokeMap)));
  if (isObject(raw.provenance) && marker(raw.provenance) === null) content.provenance = yMap(decodeAll(raw.provenance));
  return yMap(content);
}

function buildDoc(c: Pick<Case, "meta" | "layers" | "history">): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => {
    const meta = doc.getMap("meta");
    for (const [key, value] of Object.entries(c.meta ?? {})) meta.set(key, decode(value));
    doc.getArray("layers").push((c.layers ?? []).map((raw) => item(raw, layerMap)));
    doc.getArray("history").push((c.history ?? []).map((raw) => item(raw, (r) => yMap(decodeAll(r)))));
  });
  return doc;
}

function snakeMeta(meta: CanvasMeta): Record<string, unknown> {
  const { colorProfile, ...rest } = meta;
  return { ...rest, color_profile: colorProfile };
}

function snakeStroke(stroke: Stroke): Record<string, unknown> {
  return { ...stroke, points: [...stroke.points] };
}

function snakeLayer(layer: Layer): Record<string, unknown> {
  const { blendMode, strokes, ...rest } = layer;
  return { ...rest, blend_mode: blendMode, strokes: strokes.map(snakeStroke) };
}

describe("readers match the Python readers on the shared vectors", () => {
  it("has the vectors", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of cases) {
    it(c.name, () => {
      const canvas = new CanvasDoc(buildDoc(c));
      expect(snakeMeta(canvas.readMeta())).toEqual(c.expected.meta);
      expect(canvas.readLayers().map(snakeLayer)).toEqual(c.expected.layers);
      if (c.expected.history !== undefined) expect(canvas.history()).toEqual(c.expected.history);
    });
  }
});

describe("readers after a sync", () => {
  it("read the same from a replica that received the document as an update", () => {
    for (const c of cases) {
      const source = buildDoc(c);
      const replica = new Y.Doc();
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(source));
      const canvas = new CanvasDoc(replica);
      expect(canvas.readLayers().map(snakeLayer), c.name).toEqual(c.expected.layers);
      expect(snakeMeta(canvas.readMeta()), c.name).toEqual(c.expected.meta);
    }
  });
});
