/**
 * The REST client of the Nexus server (docs/protocol.md, "HTTP"), same origin. Every request
 * names the local user (X-User / X-User-Name); errors become {@link ApiError} carrying the
 * server's message (which names the bad value) and, for 429/503, the Retry-After delay.
 */
import type { BlendMode, CanvasMeta, Layer, LayerKind, LocalUser } from "../document/types";
import { orDefault, validateBlendMode, validateKind, validateProvenance } from "../document/validate";

/** A failed request: `message` is the server's `message`, `code` its `error` code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** seconds to wait before retrying (Retry-After), or null */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** A stored document as the home page lists it (times in ms since the epoch). */
export interface DocSummary {
  id: string;
  name: string;
  width: number;
  height: number;
  dpi: number;
  colorProfile: string;
  owner: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface UndoState {
  canUndo: boolean;
  canRedo: boolean;
  /** for undo/redo: whether a step was undone/redone */
  done?: boolean;
}

let currentUser: LocalUser | null = null;
let base = "";
let tokenOf: () => string | null = () => null;

/** Token mode (docs/security.md): send this token with every request (`Authorization`, and
 * `?token=` on the URLs the browser loads itself); a getter, so a refreshed token is used at once. */
export function setApiToken(getter: () => string | null): void {
  tokenOf = getter;
}

/** `&token=...` for URLs loaded by the browser (`<img src>`, downloads), or "". */
function tokenParam(): string {
  const token = tokenOf();
  return token ? `&token=${encodeURIComponent(token)}` : "";
}

/** Name the caller of every following request. */
export function configureApi(user: LocalUser, baseUrl = ""): void {
  currentUser = user;
  base = baseUrl.replace(/\/+$/, "");
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json", ...extra };
  const token = tokenOf();
  if (token) h.Authorization = `Bearer ${token}`;
  if (currentUser) {
    h["X-User"] = currentUser.id;
    // header values must be ISO-8859-1: encode anything else
    h["X-User-Name"] = /^[\x20-\x7e]*$/.test(currentUser.name) ? currentUser.name : encodeURIComponent(currentUser.name);
  }
  return h;
}

function retryAfterOf(response: Response, body: Record<string, unknown> | null): number | null {
  const header = response.headers.get("Retry-After");
  if (header !== null) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.round((at - Date.now()) / 1000));
  }
  const field = body?.retry_after;
  return typeof field === "number" && Number.isFinite(field) ? field : null;
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    body = null;
  }
  const code = typeof body?.error === "string" ? body.error : `http_${response.status}`;
  const message =
    typeof body?.message === "string" ? body.message : `${response.status} ${response.statusText || "request failed"}`.trim();
  return new ApiError(response.status, code, message, retryAfterOf(response, body));
}

async function request(method: string, path: string, init: { json?: unknown; body?: BodyInit } = {}): Promise<Response> {
  const extra: Record<string, string> = init.json !== undefined ? { "Content-Type": "application/json" } : {};
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: headers(extra),
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  } catch (error) {
    throw new ApiError(0, "network_error", `Cannot reach the server (${(error as Error).message || "network error"}).`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function json<T>(method: string, path: string, init?: { json?: unknown; body?: BodyInit }): Promise<T> {
  return (await (await request(method, path, init)).json()) as T;
}

/** `json` for feature modules with routes of their own (ui/ai/aiApi.ts). */
export { json as requestJson, request as requestRaw };

const enc = encodeURIComponent;

interface RawDoc {
  id: string;
  name: string;
  owner?: string | null;
  width: number;
  height: number;
  dpi?: number;
  color_profile?: string;
  created_at?: number;
  updated_at?: number;
}

/** Server times are seconds (float); the app uses ms. */
function toSummary(raw: RawDoc): DocSummary {
  return {
    id: raw.id,
    name: raw.name,
    owner: raw.owner ?? null,
    width: raw.width,
    height: raw.height,
    dpi: raw.dpi ?? 72,
    colorProfile: raw.color_profile ?? "sRGB",
    createdAt: Math.round((raw.created_at ?? 0) * 1000),
    updatedAt: Math.round((raw.updated_at ?? 0) * 1000),
  };
}

/**
 * Every document the caller may see, oldest first: follows `next_cursor` through all pages
 * (a cursor page never repeats or skips a document when others are created meanwhile).
 */
export async function listDocs(): Promise<DocSummary[]> {
  const docs: DocSummary[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const body: { documents: RawDoc[]; next_cursor?: string | null } = await json("GET", `/api/docs?limit=100${query}`);
    docs.push(...body.documents.map(toSummary));
    const next = body.next_cursor;
    if (typeof next !== "string" || next === cursor) break;
    cursor = next;
  }
  return docs;
}

export async function createDoc(body: { name: string; width: number; height: number; background: string; id?: string }): Promise<DocSummary> {
  return toSummary(await json<RawDoc>("POST", "/api/docs", { json: body }));
}

/** PATCH /api/docs/{id} {"name"} */
export async function renameDoc(id: string, name: string): Promise<void> {
  await request("PATCH", `/api/docs/${enc(id)}`, { json: { name } });
}

export async function deleteDoc(id: string): Promise<void> {
  await request("DELETE", `/api/docs/${enc(id)}`);
}

export function thumbnailUrl(id: string, updatedAt: number): string {
  return `${base}/api/docs/${enc(id)}/thumbnail?size=256&v=${enc(String(updatedAt))}${tokenParam()}`;
}

export function exportUrl(id: string, format: "png" | "jpeg" | "webp"): string {
  const user = currentUser ? `&user=${enc(currentUser.id)}&name=${enc(currentUser.name)}` : "";
  return `${base}/api/docs/${enc(id)}/export?format=${format}${user}${tokenParam()}`;
}

export function blobUrl(sha256: string): string {
  const token = tokenParam();
  return `${base}/api/blobs/${enc(sha256)}${token ? `?${token.slice(1)}` : ""}`;
}

/** Upload an image and add it as a raster layer on top (one undoable change of the caller's). */
export async function importImageLayer(docId: string, file: Blob, name: string): Promise<{ id: string }> {
  const form = new FormData();
  form.append("image", file, file instanceof File ? file.name : "image");
  form.append("name", name);
  const body = await json<{ id: string }>("POST", `/api/docs/${enc(docId)}/layers`, { body: form });
  return { id: body.id };
}

interface RawUndo {
  can_undo: boolean;
  can_redo: boolean;
  done?: boolean;
}

function toUndo(raw: RawUndo): UndoState {
  return { canUndo: Boolean(raw.can_undo), canRedo: Boolean(raw.can_redo), ...(raw.done !== undefined ? { done: Boolean(raw.done) } : {}) };
}

export async function undoState(docId: string): Promise<UndoState> {
  return toUndo(await json<RawUndo>("GET", `/api/docs/${enc(docId)}/undo-state`));
}

async function step(docId: string, op: "undo" | "redo"): Promise<UndoState> {
  try {
    return toUndo(await json<RawUndo>("POST", `/api/docs/${enc(docId)}/${op}`));
  } catch (error) {
    // 409 nothing_to_undo / nothing_to_redo: not an error for the person, just nothing to do
    if (error instanceof ApiError && error.status === 409) return { ...(await undoState(docId)), done: false };
    throw error;
  }
}

export async function undo(docId: string): Promise<UndoState> {
  return step(docId, "undo");
}

export async function redo(docId: string): Promise<UndoState> {
  return step(docId, "redo");
}

/** `?user=&name=` for URLs the browser loads itself (`<img src>` cannot send X-User). */
function identityQuery(): string {
  const who = currentUser ? `user=${enc(currentUser.id)}&name=${enc(currentUser.name)}` : "";
  return `${who}${tokenParam()}`.replace(/^&/, "");
}

function withQuery(path: string, params: Record<string, string>): string {
  const query = [...Object.entries(params).map(([k, v]) => `${k}=${enc(v)}`), identityQuery()].filter(Boolean).join("&");
  return `${base}${path}${query ? `?${query}` : ""}`;
}

/** A version as the versions panel lists it (times in ms since the epoch). */
export interface VersionSummary {
  id: number;
  /** the name given to a named version; null for an automatic one */
  label: string | null;
  kind: "named" | "auto";
  createdAt: number;
  /** the last update of the document's log the version contains */
  seq: number;
  /** bytes of the stored snapshot */
  size: number;
}

interface RawVersion {
  id: number;
  label?: string | null;
  kind?: string;
  created_at?: number;
  seq?: number;
  size?: number;
}

function toVersion(raw: RawVersion): VersionSummary {
  const label = typeof raw.label === "string" && raw.label ? raw.label : null;
  return {
    id: raw.id,
    label,
    kind: raw.kind === "named" || (raw.kind === undefined && label !== null) ? "named" : "auto",
    createdAt: Math.round((raw.created_at ?? 0) * 1000),
    seq: raw.seq ?? 0,
    size: raw.size ?? 0,
  };
}

/** A layer of a version, as `GET /api/docs/{id}/versions/{version}` lists it. */
export interface VersionLayer extends Omit<Layer, "strokes"> {
  /** how many strokes a paint layer holds (the strokes themselves are not listed) */
  readonly strokeCount: number;
}

/** A version's canvas, read-only: its meta and layers (bottom first). */
export interface VersionCanvas {
  docId: string;
  version: VersionSummary;
  meta: CanvasMeta;
  layers: VersionLayer[];
}

interface RawVersionLayer {
  id: string;
  name?: string;
  kind?: string;
  blend_mode?: string;
  opacity?: number;
  visible?: boolean;
  locked?: boolean;
  x?: number;
  y?: number;
  blob?: string | null;
  strokes?: number;
  provenance?: Record<string, unknown> | null;
}

interface RawVersionCanvas {
  id: string;
  version: RawVersion;
  name?: string;
  width: number;
  height: number;
  dpi?: number;
  color_profile?: string;
  background?: string;
  layers?: RawVersionLayer[];
}

function toVersionLayer(raw: RawVersionLayer): VersionLayer {
  return {
    id: raw.id,
    name: raw.name ?? "",
    kind: orDefault<LayerKind>(validateKind, raw.kind, "raster"),
    blendMode: orDefault<BlendMode>(validateBlendMode, raw.blend_mode, "normal"),
    opacity: raw.opacity ?? 100,
    visible: raw.visible ?? true,
    locked: raw.locked ?? false,
    x: raw.x ?? 0,
    y: raw.y ?? 0,
    blob: raw.blob ?? null,
    strokeCount: raw.strokes ?? 0,
    provenance: orDefault(validateProvenance, raw.provenance ?? null, null),
  };
}

/** The document's versions, named and automatic, newest first. */
export async function listVersions(docId: string): Promise<VersionSummary[]> {
  const body = await json<{ versions: RawVersion[] }>("GET", `/api/docs/${enc(docId)}/versions`);
  return body.versions.map(toVersion);
}

/** Name the current state as a version (editors). */
export async function nameVersion(docId: string, label: string): Promise<VersionSummary> {
  return toVersion(await json<RawVersion>("POST", `/api/docs/${enc(docId)}/versions`, { json: { label } }));
}

/** Restore a version: one change of the caller's, which their undo reverts. */
export async function restoreVersion(docId: string, versionId: number): Promise<UndoState & { restored: number }> {
  const body = await json<RawUndo & { restored: number }>("POST", `/api/docs/${enc(docId)}/versions/${versionId}/restore`);
  return { ...toUndo(body), restored: body.restored };
}

/** A version's canvas (meta and layers), read from the stored snapshot; nothing live changes. */
export async function getVersion(docId: string, versionId: number): Promise<VersionCanvas> {
  const raw = await json<RawVersionCanvas>("GET", `/api/docs/${enc(docId)}/versions/${versionId}`);
  return {
    docId: raw.id,
    version: toVersion(raw.version),
    meta: {
      name: raw.name ?? "",
      width: raw.width,
      height: raw.height,
      dpi: raw.dpi ?? 72,
      colorProfile: raw.color_profile ?? "sRGB",
      background: raw.background ?? "#ffffff",
    },
    layers: (raw.layers ?? []).map(toVersionLayer),
  };
}

/** A version's thumbnail (fits a `size` square box, never enlarged), for `<img src>`. */
export function versionThumbnailUrl(docId: string, versionId: number, size = 256): string {
  return withQuery(`/api/docs/${enc(docId)}/versions/${versionId}/thumbnail`, { size: String(size) });
}

/** A version rendered at `scale` (1 = full size), for `<img src>`. */
export function versionPreviewUrl(docId: string, versionId: number, scale = 1, format: "png" | "jpeg" | "webp" = "png"): string {
  return withQuery(`/api/docs/${enc(docId)}/versions/${versionId}/preview`, { scale: String(scale), format });
}

// -- AI jobs and staged proposals ---------------------------------------------------------------

/** Cancel a job (its submitter or the document's owner; 403 otherwise): a queued job is dropped
 * at once, a running one is asked to stop (`cancelRequested`) and ends as "cancelled". */
export async function cancelJob(jobId: string): Promise<{ state: string; cancelRequested: boolean }> {
  const body = await json<{ state: string; cancel_requested?: boolean }>("DELETE", `/api/jobs/${enc(jobId)}`);
  return { state: body.state, cancelRequested: Boolean(body.cancel_requested) };
}

/** Accept a proposal layer (any editor): one undo step of the caller's. */
export async function acceptProposal(docId: string, layerId: string): Promise<UndoState> {
  return toUndo(await json<RawUndo>("POST", `/api/docs/${enc(docId)}/layers/${enc(layerId)}/accept`));
}

/** Discard a proposal layer (any editor): removed, one undo step of the caller's. */
export async function discardProposal(docId: string, layerId: string): Promise<UndoState> {
  return toUndo(await json<RawUndo>("POST", `/api/docs/${enc(docId)}/layers/${enc(layerId)}/discard`));
}

/** Re-run the job that made an AI layer with a new seed; the result lands as a new proposal. */
export async function rerunLayer(docId: string, layerId: string): Promise<{ jobId: string }> {
  const body = await json<{ id: string }>("POST", `/api/docs/${enc(docId)}/layers/${enc(layerId)}/rerun`, { json: {} });
  return { jobId: body.id };
}
