import { describe, expect, it } from "vitest";
import type { Layer } from "../document/types";
import { MAX_BRUSH_SIZE, moveRefusal, nextBrushSize, paintRefusal, targetLayer } from "./layerRules";

function layer(props: Partial<Layer> = {}): Layer {
  return {
    id: "a",
    name: "Sky",
    kind: "paint",
    blendMode: "normal",
    opacity: 100,
    visible: true,
    locked: false,
    x: 0,
    y: 0,
    blob: null,
    strokes: [],
    provenance: null,
    ...props,
  };
}

describe("layer rules", () => {
  it("lets a visible, unlocked paint layer take paint", () => {
    expect(paintRefusal(layer(), "brush")).toBeNull();
    expect(paintRefusal(layer(), "eraser")).toBeNull();
  });

  it("refuses locked, hidden and non-paint layers with a hint naming the layer", () => {
    expect(paintRefusal(layer({ locked: true }), "brush")).toBe("‘Sky’ is locked — unlock it in the Layers panel");
    expect(paintRefusal(layer({ visible: false }), "brush")).toContain("‘Sky’ is hidden");
    expect(paintRefusal(layer({ kind: "raster" }), "brush")).toContain("image layer");
    expect(paintRefusal(layer({ kind: "raster" }), "eraser")).toContain("erase");
    expect(paintRefusal(layer({ kind: "group" }), "brush")).toContain("group");
  });

  it("moves any visible, unlocked layer", () => {
    expect(moveRefusal(layer({ kind: "raster" }))).toBeNull();
    expect(moveRefusal(layer({ locked: true }))).toContain("locked");
    expect(moveRefusal(layer({ visible: false }))).toContain("hidden");
  });

  it("targets the active layer, else the top one", () => {
    const layers = [layer({ id: "bottom" }), layer({ id: "top" })];
    expect(targetLayer(layers, "bottom")?.id).toBe("bottom");
    expect(targetLayer(layers, null)?.id).toBe("top");
    expect(targetLayer(layers, "gone")?.id).toBe("top");
    expect(targetLayer([], null)).toBeNull();
  });

  it("steps the brush size", () => {
    expect(nextBrushSize(5, 1)).toBe(6);
    expect(nextBrushSize(1, -1)).toBe(1);
    expect(nextBrushSize(10, 1)).toBe(15);
    expect(nextBrushSize(12, 1)).toBe(15);
    expect(nextBrushSize(12, -1)).toBe(10);
    expect(nextBrushSize(10, -1)).toBe(9);
    expect(nextBrushSize(100, 1)).toBe(125);
    expect(nextBrushSize(MAX_BRUSH_SIZE, 1)).toBe(MAX_BRUSH_SIZE);
    expect(nextBrushSize(2.5, 1)).toBe(3);
  });
});
