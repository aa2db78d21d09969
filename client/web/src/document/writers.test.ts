import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { CanvasDoc, LayerNotFound, SchemaError, StrokeNotFound } from "./writers";

const SHA = "0123456789abcdef".repeat(4);

function fresh(): CanvasDoc {
  return new CanvasDoc(new Y.Doc());
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("CanvasDoc writers", () => {
  it("sets meta and reads it back", () => {
    const c = fresh();
    c.setMeta({ name: "Poster", width: 800, height: 600, background: "#AABBCC" });
    expect(c.readMeta()).toEqual({ name: "Poster", width: 800, height: 600, dpi: 72, colorProfile: "sRGB", background: "#aabbcc" });
    c.setMeta({ background: "transparent", dpi: 300, colorProfile: "P3" });
    expect(c.readMeta()).toMatchObject({ background: "transparent", dpi: 300, colorProfile: "P3" });
    expect(c.meta.get("color_profile")).toBe("P3");
  });

  it("refuses bad meta with a message naming the field and value", () => {
    const c = fresh();
    expect(thrown(() => c.setMeta({ width: 0 })).message).toBe("width must be an integer from 1 to 32768, got 0");
    expect(thrown(() => c.setMeta({ background: "red" })).message).toBe(
      "background must be a colour '#rrggbb' or '#rrggbbaa', or 'transparent', got 'red'",
    );
    const unknown = thrown(() => c.setMeta({ colour: 1 } as never));
    expect(unknown).toBeInstanceOf(SchemaError);
    expect(unknown.message).toContain("unknown meta field 'colour'");
    expect(c.meta.size).toBe(0);
  });

  it("adds raster and paint layers with the Python key structure", () => {
    const c = fresh();
    const raster = c.addLayer("Sky", { blob: SHA, opacity: 50, x: 3 });
    const paint = c.addLayer("Ink", { kind: "paint", blendMode: "multiply" });
    expect(raster).toMatch(/^[0-9a-f]{32}$/);
    const [r, p] = c.layers.toArray() as Y.Map<unknown>[];
    expect([...r.keys()].sort()).toEqual(["blend_mode", "blob", "id", "kind", "locked", "name", "opacity", "visible", "x", "y"]);
    expect([...p.keys()].sort()).toEqual(["blend_mode", "id", "kind", "locked", "name", "opacity", "strokes", "visible", "x", "y"]);
    expect(p.get("strokes")).toBeInstanceOf(Y.Array);
    expect(c.readLayers().map((l) => [l.id, l.name, l.kind, l.blendMode, l.opacity, l.blob])).toEqual([
      [raster, "Sky", "raster", "normal", 50, SHA],
      [paint, "Ink", "paint", "multiply", 100, null],
    ]);
  });

  it("inserts at an index and refuses bad options", () => {
    const c = fresh();
    const a = c.addLayer("a");
    const b = c.addLayer("b", { index: 0 });
    expect(c.layerIds()).toEqual([b, a]);
    expect(thrown(() => c.addLayer("x", { opacity: 140 })).message).toBe("opacity must be a number from 0 to 100, got 140");
    expect(thrown(() => c.addLayer("x", { index: 3 })).message).toBe("index must be an integer from 0 to 2, got 3");
    expect(thrown(() => c.addLayer("x", { kind: "paint", blob: SHA })).message).toContain("blob is only for raster layers");
    expect(thrown(() => c.addLayer("x", { layerId: a })).message).toContain("is already in use");
    expect(thrown(() => c.addLayer("x", { layerId: "anon-1" })).message).toContain("is reserved");
    expect(thrown(() => c.addLayer("x", { blendMode: "Multiply" as never })).message).toContain("(did you mean 'multiply'?)");
    expect(c.layerIds()).toEqual([b, a]);
  });

  it("updates layers and refuses id, kind and unknown props", () => {
    const c = fresh();
    const id = c.addLayer("a");
    c.updateLayer(id, { name: "b", visible: false, locked: true, x: 1.5, y: -2, blendMode: "screen", opacity: 0 });
    expect(c.getLayer(id)).toMatchObject({ name: "b", visible: false, locked: true, x: 1.5, y: -2, blendMode: "screen", opacity: 0 });
    c.updateLayer(id, { provenance: { job_id: "j" } });
    expect(c.getLayer(id)?.provenance).toEqual({ job_id: "j" });
    c.updateLayer(id, { provenance: null });
    expect(c.getLayer(id)?.provenance).toBeNull();
    expect(thrown(() => c.updateLayer(id, { kind: "paint" } as never)).message).toBe("kind cannot be changed, got 'paint'");
    expect(thrown(() => c.updateLayer(id, { visible: 1 } as never)).message).toBe("visible must be true or false, got 1");
    expect(thrown(() => c.updateLayer(id, { colour: 1 } as never)).message).toContain("unknown layer property 'colour'");
    expect(thrown(() => c.updateLayer("nope", { name: "x" }))).toBeInstanceOf(LayerNotFound);
    expect(c.getLayer("nope")).toBeNull();
  });

  it("removes a layer with every duplicate", () => {
    const c = fresh();
    const a = c.addLayer("a");
    c.addLayer("b");
    c.layers.push([new Y.Map<unknown>([["id", a]])]);
    c.removeLayer(a);
    expect(c.readLayers().map((l) => l.name)).toEqual(["b"]);
    expect(thrown(() => c.removeLayer(a))).toBeInstanceOf(LayerNotFound);
  });

  it("moves a layer as a deep copy, strokes included", () => {
    const c = fresh();
    const a = c.addLayer("a", { kind: "paint" });
    const b = c.addLayer("b");
    const d = c.addLayer("d");
    const s = c.beginStroke(a, { color: "#FF0000", size: 3, points: [1, 2] });
    c.appendPoints(a, s, [3, 4]);
    const before = c.getLayer(a);
    c.moveLayer(a, 2);
    expect(c.layerIds()).toEqual([b, d, a]);
    expect(c.getLayer(a)).toEqual(before);
    expect(c.layers.length).toBe(3);
    c.appendPoints(a, s, [5, 6]);
    expect(c.getLayer(a)?.strokes[0].points).toEqual([1, 2, 3, 4, 5, 6]);
    c.moveLayer(a, 0);
    expect(c.layerIds()).toEqual([a, b, d]);
    expect(thrown(() => c.moveLayer(a, 3)).message).toBe("new_index must be an integer from 0 to 2, got 3");
    expect(thrown(() => c.moveLayer("nope", 0))).toBeInstanceOf(LayerNotFound);
  });

  it("collapses duplicates when moving, keeping the last occurrence", () => {
    const c = fresh();
    const a = c.addLayer("a first");
    c.addLayer("b");
    c.layers.push([new Y.Map<unknown>([["id", a], ["name", "a last"]])]);
    c.moveLayer(a, 0);
    expect(c.layers.length).toBe(2);
    expect(c.readLayers().map((l) => l.name)).toEqual(["a last", "b"]);
  });

  it("concurrent moves of the same layer leave one layer after the merge", () => {
    const one = fresh();
    const a = one.addLayer("a");
    one.addLayer("b");
    one.addLayer("c");
    const two = new CanvasDoc(new Y.Doc());
    Y.applyUpdate(two.doc, Y.encodeStateAsUpdate(one.doc));
    one.moveLayer(a, 2);
    two.moveLayer(a, 1);
    Y.applyUpdate(one.doc, Y.encodeStateAsUpdate(two.doc));
    Y.applyUpdate(two.doc, Y.encodeStateAsUpdate(one.doc));
    expect(one.layerIds()).toEqual(two.layerIds());
    expect(one.layerIds().filter((id) => id === a)).toHaveLength(1);
  });

  it("draws strokes on paint layers only", () => {
    const c = fresh();
    const paint = c.addLayer("p", { kind: "paint" });
    const raster = c.addLayer("r");
    const s = c.beginStroke(paint, { tool: "eraser", color: "#AABBCC", size: 4, hardness: 0.5, opacity: 80 });
    const map = (c.layers.get(0) as Y.Map<unknown>).get("strokes") as Y.Array<Y.Map<unknown>>;
    expect([...map.get(0).keys()].sort()).toEqual(["color", "hardness", "id", "opacity", "points", "size", "tool"]);
    expect(map.get(0).get("points")).toBeInstanceOf(Y.Array);
    expect(c.getLayer(paint)?.strokes).toEqual([
      { id: s, tool: "eraser", color: "#aabbcc", size: 4, hardness: 0.5, opacity: 80, points: [] },
    ]);
    expect(thrown(() => c.beginStroke(raster, {})).message).toBe("strokes can only be drawn on paint layers, got a raster layer");
    expect(thrown(() => c.beginStroke(paint, { size: 0 })).message).toBe("size must be a number greater than 0, got 0");
    expect(thrown(() => c.beginStroke(paint, { hardness: 2 })).message).toBe("hardness must be a number from 0 to 1, got 2");
    expect(thrown(() => c.beginStroke(paint, { points: [1] })).message).toContain("points must be an even number");
    expect(thrown(() => c.beginStroke(paint, { strokeId: s })).message).toContain("already in use");
    expect(thrown(() => c.appendPoints(paint, "nope", [1, 2]))).toBeInstanceOf(StrokeNotFound);
    expect(thrown(() => c.appendPoints(paint, s, [1, Number.NaN])).message).toContain("points must be");
  });

  it("replaces a garbage strokes value on a paint layer", () => {
    const c = fresh();
    const paint = c.addLayer("p", { kind: "paint" });
    (c.layers.get(0) as Y.Map<unknown>).set("strokes", "garbage");
    const s = c.beginStroke(paint, { points: [1, 2] });
    expect(c.getLayer(paint)?.strokes.map((x) => x.id)).toEqual([s]);
  });

  it("joins an outer transaction: one update for several edits", () => {
    const c = fresh();
    let updates = 0;
    c.doc.on("update", () => {
      updates++;
    });
    c.doc.transact(() => {
      const id = c.addLayer("a", { kind: "paint" });
      c.beginStroke(id, { points: [0, 0] });
      c.setMeta({ name: "x" });
    });
    expect(updates).toBe(1);
  });

  it("edits carry the view's origin", () => {
    const origin = { me: true };
    const c = new CanvasDoc(new Y.Doc(), origin);
    const seen: unknown[] = [];
    c.doc.on("afterTransaction", (tr: Y.Transaction) => seen.push(tr.origin));
    c.addLayer("a");
    expect(seen).toEqual([origin]);
  });
});
