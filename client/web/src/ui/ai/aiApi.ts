/**
 * The AI routes (collab/api/ai_jobs.py): submit a generative fill, a segmentation or a
 * background removal (202 with the job), and read a job. Errors are rest.ts's ApiError: the
 * server's message as is, with Retry-After for 429 / 503 jobs_busy.
 */
import { ApiError, blobUrl, requestJson } from "../../api/rest";

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface JobView {
  id: string;
  kind: string;
  state: JobState;
  progress: number;
  error: string | null;
  /** the layer the job added, once done */
  layer_id: string | null;
  result: { blob?: string; fallback?: boolean; model?: string } | null;
  params: Record<string, unknown>;
}

export function isFinal(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

const enc = encodeURIComponent;

export interface FillRequest {
  prompt: string;
  negative_prompt?: string;
  steps: number;
  guidance: number;
  strength: number;
  seed?: number;
  mask_png: string;
  region?: { x: number; y: number; width: number; height: number };
  layer_id?: string;
  stage: boolean;
}

export interface SegmentRequest {
  points: [number, number][];
  point_labels: (0 | 1)[];
  output: "mask" | "cutout";
  /** a layer to read instead of the composite */
  layer_id?: string;
  stage: boolean;
}

export function submitFill(docId: string, body: FillRequest): Promise<JobView> {
  return requestJson<JobView>("POST", `/api/docs/${enc(docId)}/ai/generative-fill`, { json: body });
}

export function submitSegment(docId: string, body: SegmentRequest): Promise<JobView> {
  return requestJson<JobView>("POST", `/api/docs/${enc(docId)}/ai/segment`, { json: body });
}

export function submitRemoveBackground(docId: string, body: { layer_id?: string; stage: boolean }): Promise<JobView> {
  return requestJson<JobView>("POST", `/api/docs/${enc(docId)}/ai/remove-background`, { json: body });
}

export function getJob(jobId: string): Promise<JobView> {
  return requestJson<JobView>("GET", `/api/jobs/${enc(jobId)}`);
}

/** A blob as base64 (the `mask_png` field). */
export async function base64Of(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * A result image as mask values of `width` x `height` (drawn at its origin): its alpha where it
 * has transparency (a white mask layer or a cut-out), else its gray level (a mode-L mask).
 */
export async function maskFromBlob(sha256: string, width: number, height: number): Promise<Uint8Array> {
  const response = await fetch(blobUrl(sha256));
  if (!response.ok) throw new ApiError(response.status, "blob_missing", `the result image ${sha256.slice(0, 12)}… cannot be read`);
  const bitmap = await createImageBitmap(await response.blob());
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2D canvas to decode the result");
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4) {
    if (rgba[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = opaque ? rgba[i * 4] : rgba[i * 4 + 3];
  return out;
}

/** The text shown for a failed request: the server's message, and when to retry. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    // the server's message may name the wait already ("…; retry in 5 s"): say it once
    if ((error.status === 503 || error.status === 429) && error.retryAfter !== null && !/\bretry in\b/i.test(error.message)) {
      return `${error.message} — retry in ${error.retryAfter} s`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
