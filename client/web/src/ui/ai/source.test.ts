import { describe, expect, it } from "vitest";
import type { Layer } from "../../document/types";
import { choosableLayers, compositeLayers, isMaskLayer, sourceField } from "./source";

function layer(id: string, extra: Partial<Layer> = {}): Layer {
  return {
    id,
    name: id,
    kind: "raster",
    blendMode: "normal",
    opacity: 100,
    visible: true,
    locked: false,
    x: 0,
    y: 0,
    blob: null,
    strokes: [],
    provenance: null,
    proposal: null,
    ...extra,
  };
}

describe("the AI source", () => {
  const photo = layer("photo");
  const mask = layer("mask", { provenance: { kind: "segment", output: "mask" } });
  const cutout = layer("cutout", { provenance: { kind: "segment", output: "cutout" } });
  const hidden = layer("hidden", { visible: false });
  const staged = layer("staged", { proposal: { job_id: "j" } });

  it("leaves masks, hidden layers and proposals out of the composite", () => {
    expect(isMaskLayer(mask)).toBe(true);
    expect(isMaskLayer(cutout)).toBe(false);
    expect(compositeLayers([photo, mask, cutout, hidden, staged]).map((l) => l.id)).toEqual(["photo", "cutout"]);
  });

  it("offers every layer with pixels, top first, and sends the chosen one", () => {
    expect(choosableLayers([photo, mask, hidden, staged]).map((l) => l.id)).toEqual(["hidden", "mask", "photo"]);
    expect(sourceField("")).toEqual({});
    expect(sourceField("photo")).toEqual({ layer_id: "photo" });
  });
});
