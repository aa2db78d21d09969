import { describe, expect, it } from "vitest";
import { formatDuration, isFallback, provenanceView } from "./provenanceView";

/** As collab/ai/host.py writes it for a generative fill the Telea fallback made. */
const TELEA = {
  job_id: "j1",
  kind: "generative_fill",
  user: "alice",
  prompt: "a red barn",
  seed: 1234,
  steps: 20,
  guidance: 7.5,
  strength: 0.9,
  mask: "ab".repeat(32),
  model: "opencv-telea",
  backend: "fallback:opencv-telea",
  fallback: true,
  fallback_reason: "no inpainting model configured (NEXUS_INPAINT_MODEL)",
  device: "cpu",
  seconds: 0.0421,
};

describe("provenanceView", () => {
  it("says in plain words that a CPU fallback made the layer, and why", () => {
    const view = provenanceView(TELEA);
    expect(view.title).toBe("Generative fill");
    expect(view.fallback).toBe(
      "Made by OpenCV Telea inpainting on the CPU, not by an AI model: no inpainting model configured (NEXUS_INPAINT_MODEL). The prompt was not used.",
    );
    const rows = Object.fromEntries(view.rows.map((r) => [r.label, r.value]));
    expect(rows).toMatchObject({
      "Made by": "OpenCV Telea inpainting (CPU fallback)",
      Prompt: "a red barn",
      Seed: "1234",
      Steps: "20",
      "Time taken": "42 ms",
    });
    expect(rows.Model).toBeUndefined();
  });

  it("names the model and where it ran for a real model", () => {
    const view = provenanceView({
      kind: "generative_fill",
      model: "/models/sd2-inpaint",
      backend: "diffusers",
      fallback: false,
      fallback_reason: null,
      device: "cuda",
      seconds: 3.25,
      seed: 7,
    });
    expect(view.fallback).toBeNull();
    const rows = Object.fromEntries(view.rows.map((r) => [r.label, r.value]));
    expect(rows).toMatchObject({ Model: "/models/sd2-inpaint", "Runs on": "diffusers · cuda", "Time taken": "3.3 s" });
  });

  it("knows the GrabCut fallback by backend or model, and leaves out foreign values", () => {
    const view = provenanceView({ kind: "remove_background", backend: "fallback:grabcut", seed: "x", steps: {}, prompt: 5 });
    expect(isFallback({ model: "opencv-grabcut", fallback: true })).toBe(true);
    expect(view.title).toBe("Background removal");
    expect(view.fallback).toBe("Made by OpenCV GrabCut segmentation on the CPU, not by an AI model.");
    expect(view.rows.map((r) => r.label)).toEqual(["Made by"]);
    expect(provenanceView({}).title).toBe("AI result");
    expect(provenanceView({ kind: "upscale_x" }).title).toBe("upscale x");
  });

  it("formats durations", () => {
    expect(formatDuration(0.0004)).toBe("0 ms");
    expect(formatDuration(12.4)).toBe("12 s");
    expect(formatDuration(65)).toBe("1 min 5 s");
    expect(formatDuration(120)).toBe("2 min");
  });
});
