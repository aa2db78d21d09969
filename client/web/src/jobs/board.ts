/**
 * The document's job board: the root Map `jobs` (job id -> Map), written by the server only
 * (collab/ai/host.py, origin `nexus:jobs`; docs/protocol.md). Read here as plain values;
 * foreign or missing fields fall back to defaults instead of throwing, so a board written by
 * an older or newer server still lists every job it can.
 */
import * as Y from "yjs";

export const JOBS_ROOT = "jobs";

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

const STATES: readonly JobState[] = ["queued", "running", "done", "failed", "cancelled"];

export interface JobRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A layer a job read (its id and its name when the job was submitted). */
export interface JobInput {
  readonly id: string;
  readonly name: string;
}

export interface JobEntry {
  readonly id: string;
  /** generative_fill, segment, remove_background (or a kind this app does not know) */
  readonly kind: string;
  readonly state: JobState;
  /** 0..100 */
  readonly progress: number;
  /** the submitter's user id and display name */
  readonly user: string;
  readonly name: string;
  /**
   * "generative fill: a red sofa" while queued or running; once done, the result layer's
   * name, which says what ran ("Fill (OpenCV inpainting, prompt not used)")
   */
  readonly label: string;
  /** once done: what ran, in plain words ("GrabCut fallback: model file missing", "SAM2") */
  readonly method: string | null;
  /** once done: a CPU fallback ran instead of the real model */
  readonly fallback: boolean;
  /** what the job read: "composite" (visible layers, masks left out), "layer" or "layers" */
  readonly source: string | null;
  /** the layers it read, bottom first */
  readonly inputs: readonly JobInput[];
  /** the result layer, once done */
  readonly layerId: string | null;
  readonly error: string | null;
  /** the result lands as a proposal */
  readonly stage: boolean;
  /** the canvas area the job covers, when it was asked for one */
  readonly region: JobRegion | null;
  /** ms since the epoch; 0 when the server did not say */
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly updatedAt: number;
}

export function isActive(state: JobState): boolean {
  return state === "queued" || state === "running";
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function num(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function readRegion(value: unknown): JobRegion | null {
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  const [x, y, width, height] = [r.x, r.y, r.width, r.height].map((v) => num(v, Number.NaN));
  if ([x, y, width, height].some((v) => Number.isNaN(v)) || width <= 0 || height <= 0) return null;
  return { x, y, width, height };
}

function readInputs(value: unknown): JobInput[] {
  if (!Array.isArray(value)) return [];
  const inputs: JobInput[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r.id === "string") inputs.push({ id: r.id, name: str(r.name, "") });
  }
  return inputs;
}

/** One board entry as plain data (a Y.Map's `toJSON()` or the REST job view). */
export function readJobEntry(id: string, raw: Record<string, unknown>): JobEntry {
  const state = STATES.find((s) => s === raw.state) ?? "queued";
  const kind = str(raw.kind, "job");
  const started = num(raw.started_at, Number.NaN);
  return {
    id: str(raw.id, id) || id,
    kind,
    state,
    progress: Math.max(0, Math.min(100, num(raw.progress, 0))),
    user: str(raw.user, ""),
    name: str(raw.name, ""),
    label: str(raw.label, kind.replace(/_/g, " ")),
    method: typeof raw.method === "string" ? raw.method : null,
    fallback: raw.fallback === true,
    source: typeof raw.source === "string" ? raw.source : null,
    inputs: readInputs(raw.inputs),
    layerId: typeof raw.layer_id === "string" ? raw.layer_id : null,
    error: typeof raw.error === "string" ? raw.error : null,
    stage: raw.stage === true,
    region: readRegion(raw.region),
    createdAt: num(raw.created_at, 0),
    startedAt: Number.isNaN(started) ? null : started,
    updatedAt: num(raw.updated_at, 0),
  };
}

/** Every job on the board, newest first (entries that are not Maps are skipped). */
export function readJobs(doc: Y.Doc): JobEntry[] {
  const jobs = doc.getMap(JOBS_ROOT);
  const entries: JobEntry[] = [];
  jobs.forEach((value, key) => {
    if (value instanceof Y.Map) entries.push(readJobEntry(key, value.toJSON() as Record<string, unknown>));
  });
  return entries.sort((a, b) => (b.createdAt || b.updatedAt) - (a.createdAt || a.updatedAt) || a.id.localeCompare(b.id));
}

/** Call `listener` after every transaction that touched the board. */
export function observeJobs(doc: Y.Doc, listener: () => void): () => void {
  const jobs = doc.getMap(JOBS_ROOT);
  const onChange = () => listener();
  jobs.observeDeep(onChange);
  return () => jobs.unobserveDeep(onChange);
}

/** How long the job has run (or waited, while queued), in ms; null when the board lacks the times. */
export function elapsedMs(job: JobEntry, now: number): number | null {
  const from = job.startedAt ?? (job.createdAt || null);
  if (from === null) return null;
  const to = isActive(job.state) ? now : job.updatedAt || now;
  return Math.max(0, to - from);
}

/** "0:07", "2:05", "1:02:03". */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const KIND_NAMES: Record<string, string> = {
  generative_fill: "Generative fill",
  segment: "Segmentation",
  remove_background: "Remove background",
};

/** The kind in words. */
export function kindName(kind: string): string {
  return KIND_NAMES[kind] ?? kind.replace(/_/g, " ");
}

/** The part of the label after the kind ("a red sofa"), or "" (a done job's label is a name). */
export function labelDetail(job: JobEntry): string {
  if (job.method !== null) return "";
  const colon = job.label.indexOf(": ");
  return colon >= 0 ? job.label.slice(colon + 2) : "";
}

/** "Composite: photo, notes", "Layer: photo", "Layers: a, b" ("" when the board does not say). */
export function inputsText(job: JobEntry): string {
  if (job.source === null) return "";
  const names = job.inputs.map((input) => input.name || input.id).join(", ");
  const what = job.source === "composite" ? "Composite" : job.source === "layer" ? "Layer" : "Layers";
  return names ? `${what}: ${names}` : `${what} (empty)`;
}
