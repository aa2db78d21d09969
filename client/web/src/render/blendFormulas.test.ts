import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { BlendMode } from "../document/types";
import { compositePixel, type Rgba } from "./blendFormulas";
import { dissolveNoise, dissolveSeed, roundHalfEven } from "./dissolve";

/** tests/vectors/blend_modes.json, written by tests/vectors/make_blend_vectors.py. */
interface Vectors {
  opacities: number[];
  backdrop: Rgba[];
  source: Rgba[];
  expected: Record<string, Record<string, Rgba[]>>;
  dissolve: {
    seeds: Record<string, number>;
    noise: { layer_id: string; x: number; y: number; noise: number }[];
  };
}

const vectors: Vectors = JSON.parse(
  readFileSync(new URL("../../../../tests/vectors/blend_modes.json", import.meta.url), "utf8"),
);

describe("compositePixel", () => {
  const modes = Object.keys(vectors.expected) as BlendMode[];

  it("covers the 26 modes that blend by formula", () => {
    expect(modes).toHaveLength(26);
  });

  for (const mode of modes) {
    for (const opacity of vectors.opacities) {
      it(`${mode} at opacity ${opacity} is within 1/255 of the reference`, () => {
        const want = vectors.expected[mode][String(opacity)];
        let worst = 0;
        let where = -1;
        vectors.backdrop.forEach((backdrop, i) => {
          const got = compositePixel(mode, backdrop, vectors.source[i], opacity);
          for (let c = 0; c < 4; c++) {
            const error = Math.abs(got[c] - want[i][c]);
            if (error > worst) {
              worst = error;
              where = i;
            }
          }
        });
        expect(worst, `pair ${where}: ${vectors.backdrop[where]} / ${vectors.source[where]}`).toBeLessThanOrEqual(
          1 + 1e-3,
        );
      });
    }
  }
});

describe("dissolve", () => {
  it("derives the server's seeds", () => {
    for (const [layerId, seed] of Object.entries(vectors.dissolve.seeds)) {
      expect(dissolveSeed(layerId)).toBe(seed);
    }
  });

  it("derives the server's noise bit for bit", () => {
    for (const item of vectors.dissolve.noise) {
      expect(dissolveNoise(vectors.dissolve.seeds[item.layer_id], item.x, item.y)).toBe(item.noise);
    }
  });

  it("shows the source opaquely where the noise is below its alpha", () => {
    expect(compositePixel("dissolve", [10, 20, 30, 128], [200, 100, 0, 128], 0.5, 0.2)).toEqual([200, 100, 0, 255]);
    expect(compositePixel("dissolve", [10, 20, 30, 128], [200, 100, 0, 128], 0.5, 0.3)).toEqual([10, 20, 30, 128]);
  });

  it("rounds layer origins as Python does", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map((v) => roundHalfEven(v))).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
});
