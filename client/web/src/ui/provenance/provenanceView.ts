/**
 * What an AI layer's `provenance` says, in words. The keys are the ones the server writes
 * (collab/ai/host.py `_provenance`: the job's kind and parameters, plus the result's `model`,
 * `backend`, `fallback`, `fallback_reason`, `device`, `seconds` from inference/results.py).
 * Provenance is a free-form map any client may write, so every value is checked and a value of
 * the wrong type is left out, never shown as "[object Object]".
 */

export interface ProvenanceRow {
  readonly label: string;
  readonly value: string;
}

export interface ProvenanceView {
  /** "Generative fill", "Cut-out", "Background removal", or the kind as written */
  readonly title: string;
  /** a sentence when a CPU fallback made the layer instead of a model, else null */
  readonly fallback: string | null;
  readonly rows: readonly ProvenanceRow[];
}

const KINDS: Record<string, string> = {
  generative_fill: "Generative fill",
  segment: "Cut-out (segment)",
  remove_background: "Background removal",
};

/** The fallbacks of inference/pipelines in plain words, by backend (after "fallback:") or by
 * model id (inpaint: "opencv-telea"; segment and remove_bg: backend "grabcut", model
 * "opencv-grabcut"). */
const FALLBACKS: Record<string, string> = {
  "opencv-telea": "OpenCV Telea inpainting",
  grabcut: "OpenCV GrabCut segmentation",
  "opencv-grabcut": "OpenCV GrabCut segmentation",
};

const FALLBACK_PREFIX = "fallback:";

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** "420 ms", "2.4 s", "1 min 5 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  const rest = whole % 60;
  return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${whole / 60} min`;
}

/** Whether a CPU fallback (not a model) made the layer. */
export function isFallback(provenance: Readonly<Record<string, unknown>>): boolean {
  return provenance.fallback === true || (text(provenance.backend)?.startsWith(FALLBACK_PREFIX) ?? false);
}

/** The fallback's technique in plain words ("OpenCV Telea inpainting"). */
export function fallbackName(provenance: Readonly<Record<string, unknown>>): string {
  const backend = text(provenance.backend);
  const key = backend?.startsWith(FALLBACK_PREFIX) ? backend.slice(FALLBACK_PREFIX.length) : null;
  const model = text(provenance.model);
  return (key ? FALLBACKS[key] : undefined) ?? (model ? FALLBACKS[model] : undefined) ?? key ?? model ?? "a simple CPU method";
}

function fallbackSentence(provenance: Readonly<Record<string, unknown>>, kind: string | null): string {
  const reason = text(provenance.fallback_reason);
  let sentence = `Made by ${fallbackName(provenance)} on the CPU, not by an AI model`;
  sentence += reason ? `: ${reason}.` : ".";
  if (kind === "generative_fill" && text(provenance.prompt)) sentence += " The prompt was not used.";
  return sentence;
}

/** The provenance of a layer as a title, a fallback sentence and label/value rows. */
export function provenanceView(provenance: Readonly<Record<string, unknown>>): ProvenanceView {
  const kind = text(provenance.kind);
  const fallback = isFallback(provenance);
  const rows: ProvenanceRow[] = [];
  const add = (label: string, value: string | null) => {
    if (value !== null) rows.push({ label, value });
  };

  const model = text(provenance.model);
  const backend = text(provenance.backend);
  const device = text(provenance.device);
  if (fallback) add("Made by", `${fallbackName(provenance)} (CPU fallback)`);
  else add("Model", model);
  if (!fallback) add("Runs on", [backend, device].filter(Boolean).join(" · ") || null);
  add("Prompt", text(provenance.prompt));
  add("Negative prompt", text(provenance.negative_prompt));
  const seed = num(provenance.seed);
  add("Seed", seed === null ? null : String(Math.trunc(seed)));
  const steps = num(provenance.steps);
  add("Steps", steps === null ? null : String(Math.trunc(steps)));
  const guidance = num(provenance.guidance);
  add("Guidance", guidance === null ? null : String(guidance));
  const strength = num(provenance.strength);
  add("Strength", strength === null ? null : String(strength));
  const seconds = num(provenance.seconds);
  add("Time taken", seconds === null ? null : formatDuration(seconds));
  if (text(provenance.rerun_of)) add("Re-run of", "an earlier result (new seed)");

  return {
    title: kind ? (KINDS[kind] ?? kind.replace(/_/g, " ")) : "AI result",
    fallback: fallback ? fallbackSentence(provenance, kind) : null,
    rows,
  };
}
