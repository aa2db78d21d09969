/**
 * The AI forms' checks, the same rules the server applies (inference/jobs/model.py,
 * `parse_request`, and collab/api/ai_jobs.py), with the server's wording, so that a bad field
 * is named before anything is sent. Two limits are the server's settings
 * (NEXUS_JOBS_MAX_STEPS, NEXUS_JOBS_MAX_PROMPT_CHARS): the client checks the widest value a
 * server may be configured with and leaves the configured one to the server, whose message is
 * then shown as it is.
 */
import type { MaskArea } from "../../masks/maskEngine";
import type { SegmentPoint } from "../../store/maskStore";

export const LIMITS = {
  /** settings: jobs_max_steps is 1..500 (default 100) */
  maxSteps: 500,
  defaultMaxSteps: 100,
  /** settings: jobs_max_prompt_chars is 1..100000 (default 1000) */
  maxPromptChars: 100_000,
  maxNameChars: 200,
  maxPoints: 64,
  maxSeed: 2 ** 32 - 1,
  minRegion: 8,
} as const;

export interface FillForm {
  prompt: string;
  negativePrompt: string;
  steps: string;
  guidance: string;
  strength: string;
  seedMode: "random" | "fixed";
  seed: string;
}

export const FILL_DEFAULTS: FillForm = {
  prompt: "",
  negativePrompt: "",
  steps: "30",
  guidance: "7.5",
  strength: "0.99",
  seedMode: "random",
  seed: "0",
};

export type FillField = keyof FillForm;

/** The checked fill parameters (the JSON fields the server takes, less mask and region). */
export interface FillParams {
  prompt: string;
  negative_prompt?: string;
  steps: number;
  guidance: number;
  strength: number;
  seed?: number;
}

export type Checked<T, F extends string> = { ok: true; value: T } | { ok: false; errors: Partial<Record<F, string>> };

function integer(raw: string, name: string, low: number, high: number): number | string {
  const text = raw.trim();
  const value = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value) || value < low || value > high) {
    return `${name} must be an integer from ${low} to ${high}, got ${text === "" ? "nothing" : text}`;
  }
  return value;
}

function number(raw: string, name: string, low: number, high: number): number | string {
  const text = raw.trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || value < low || value > high) {
    return `${name} must be a number from ${low} to ${high}, got ${text === "" ? "nothing" : text}`;
  }
  return value;
}

function text(raw: string, name: string, limit: number): string | null {
  return raw.length > limit ? `${name} must be at most ${limit} characters, got ${raw.length}` : null;
}

/** Check a generative fill's fields. */
export function checkFill(form: FillForm): Checked<FillParams, FillField> {
  const errors: Partial<Record<FillField, string>> = {};
  const promptError = text(form.prompt, "prompt", LIMITS.maxPromptChars);
  if (promptError) errors.prompt = promptError;
  const negativeError = text(form.negativePrompt, "negative_prompt", LIMITS.maxPromptChars);
  if (negativeError) errors.negativePrompt = negativeError;
  const steps = integer(form.steps, "steps", 1, LIMITS.maxSteps);
  if (typeof steps === "string") errors.steps = steps;
  const guidance = number(form.guidance, "guidance", 0, 30);
  if (typeof guidance === "string") errors.guidance = guidance;
  const strength = number(form.strength, "strength", 0.01, 1);
  if (typeof strength === "string") errors.strength = strength;
  let seed: number | undefined;
  if (form.seedMode === "fixed") {
    const checked = integer(form.seed, "seed", 0, LIMITS.maxSeed);
    if (typeof checked === "string") errors.seed = checked;
    else seed = checked;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      prompt: form.prompt,
      ...(form.negativePrompt ? { negative_prompt: form.negativePrompt } : {}),
      steps: steps as number,
      guidance: guidance as number,
      strength: strength as number,
      ...(seed !== undefined ? { seed } : {}),
    },
  };
}

/**
 * The region a fill works on: the selection's bounds grown by `pad` pixels, inside the canvas,
 * at least 8x8 (the server's minimum); null when the canvas itself is smaller than that (the
 * whole canvas is sent then, without a region).
 */
export function fillRegion(bounds: MaskArea, width: number, height: number, pad = 16): MaskArea | null {
  if (width < LIMITS.minRegion || height < LIMITS.minRegion) return null;
  const grow = (start: number, length: number, total: number): [number, number] => {
    let from = Math.max(0, start - pad);
    let to = Math.min(total, start + length + pad);
    while (to - from < LIMITS.minRegion) {
      if (from > 0) from--;
      if (to - from < LIMITS.minRegion && to < total) to++;
    }
    return [from, to];
  };
  const [x0, x1] = grow(bounds.x, bounds.width, width);
  const [y0, y1] = grow(bounds.y, bounds.height, height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Check segment-by-click points the way the server does; a message, or null when fine. */
export function checkSegmentPoints(points: readonly SegmentPoint[], width: number, height: number): string | null {
  if (points.length === 0) return "segmentation needs points, a box or both; got neither: click the object on the canvas";
  if (points.length > LIMITS.maxPoints) return `points must be a list of at most ${LIMITS.maxPoints} [x, y] pairs`;
  if (!points.some((p) => p.positive)) return "points need at least one object point (label 1) when no box is given";
  const outside = points.find((p) => !(p.x >= 0 && p.y >= 0 && p.x < width && p.y < height));
  if (outside) return `point (${outside.x}, ${outside.y}) must lie inside the ${width}x${height} canvas`;
  return null;
}

/** A layer name for the request, or a message when it is too long. */
export function checkName(name: string): string | null {
  return text(name, "name", LIMITS.maxNameChars);
}
