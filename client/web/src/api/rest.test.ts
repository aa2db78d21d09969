import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  blobUrl,
  configureApi,
  createDoc,
  deleteDoc,
  exportUrl,
  importImageLayer,
  listDocs,
  renameDoc,
  thumbnailUrl,
  undo,
  undoState,
} from "./rest";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

let calls: Call[] = [];
let answers: Response[] = [];

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = body === null ? null : JSON.stringify(body);
  return new Response(text, { status, headers: { "Content-Type": "application/json", ...headers } });
}

beforeEach(() => {
  calls = [];
  answers = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method ?? "GET", headers: init.headers as Record<string, string>, body: init.body });
    const next = answers.shift();
    if (!next) throw new TypeError("Failed to fetch");
    return next;
  });
  configureApi({ id: "u-ann", name: "Ann", color: "#14b8a6" });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const raw = (id: string, t: number) => ({
  id,
  name: id.toUpperCase(),
  owner: "u-ann",
  width: 10,
  height: 20,
  dpi: 72,
  color_profile: "sRGB",
  created_at: t,
  updated_at: t + 1.5,
});

describe("REST client", () => {
  it("lists every page of documents and names the caller", async () => {
    answers.push(answer(200, { documents: [raw("a", 1)], limit: 100, offset: 0, next_offset: 1, next_cursor: "0x1.0p0~a" }));
    answers.push(answer(200, { documents: [raw("b", 2)], limit: 100, offset: 0, next_offset: null, next_cursor: null }));
    const docs = await listDocs();
    expect(docs.map((d) => d.id)).toEqual(["a", "b"]);
    expect(docs[0]).toEqual({
      id: "a", name: "A", owner: "u-ann", width: 10, height: 20, dpi: 72, colorProfile: "sRGB", createdAt: 1000, updatedAt: 2500,
    });
    expect(calls.map((c) => c.url)).toEqual(["/api/docs?limit=100", "/api/docs?limit=100&cursor=0x1.0p0~a"]);
    expect(calls[0].headers).toMatchObject({ "X-User": "u-ann", "X-User-Name": "Ann" });
  });

  it("creates, renames and deletes", async () => {
    answers.push(answer(201, { ...raw("new", 5), background: "#ffffff", layers: [] }));
    answers.push(answer(200, raw("new", 5)));
    answers.push(new Response(null, { status: 204 }));
    const doc = await createDoc({ name: "New", width: 10, height: 20, background: "#ffffff" });
    expect(doc.id).toBe("new");
    await renameDoc("new", "Renamed");
    await deleteDoc("new");
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ["POST", "/api/docs"],
      ["PATCH", "/api/docs/new"],
      ["DELETE", "/api/docs/new"],
    ]);
    expect(JSON.parse(calls[1].body as string)).toEqual({ name: "Renamed" });
    expect(calls[0].headers["Content-Type"]).toBe("application/json");
  });

  it("turns JSON errors into ApiError with the server's message", async () => {
    answers.push(answer(409, { error: "document_in_use", message: "document 'a' has 2 connected clients" }));
    const error = await deleteDoc("a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "document_in_use", message: "document 'a' has 2 connected clients", retryAfter: null });
  });

  it("reads Retry-After on 503 and 429", async () => {
    answers.push(answer(503, { error: "render_busy", message: "busy" }, { "Retry-After": "7" }));
    answers.push(answer(429, { error: "rate", message: "slow down", retry_after: 3 }));
    await expect(listDocs()).rejects.toMatchObject({ status: 503, retryAfter: 7, message: "busy" });
    await expect(listDocs()).rejects.toMatchObject({ status: 429, retryAfter: 3 });
  });

  it("reports a network failure and a non-JSON error", async () => {
    await expect(listDocs()).rejects.toMatchObject({ status: 0, code: "network_error" });
    answers.push(new Response("<html>oops</html>", { status: 502, statusText: "Bad Gateway" }));
    await expect(listDocs()).rejects.toMatchObject({ status: 502, code: "http_502", message: "502 Bad Gateway" });
  });

  it("undo answers nothing-to-undo with the current state", async () => {
    answers.push(answer(200, { done: true, can_undo: true, can_redo: true, user: "u-ann" }));
    answers.push(answer(409, { error: "nothing_to_undo", message: "nothing to undo" }));
    answers.push(answer(200, { can_undo: false, can_redo: true, user: "u-ann" }));
    answers.push(answer(200, { can_undo: false, can_redo: false, user: "u-ann" }));
    expect(await undo("d")).toEqual({ done: true, canUndo: true, canRedo: true });
    expect(await undo("d")).toEqual({ done: false, canUndo: false, canRedo: true });
    expect(await undoState("d")).toEqual({ canUndo: false, canRedo: false });
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ["POST", "/api/docs/d/undo"],
      ["POST", "/api/docs/d/undo"],
      ["GET", "/api/docs/d/undo-state"],
      ["GET", "/api/docs/d/undo-state"],
    ]);
  });

  it("uploads an image layer as multipart", async () => {
    answers.push(answer(201, { id: "L1", blob: "x", width: 1, height: 1, layer: {} }));
    const result = await importImageLayer("d", new Blob([new Uint8Array([1, 2])], { type: "image/png" }), "Photo");
    expect(result).toEqual({ id: "L1" });
    const form = calls[0].body as FormData;
    expect(form.get("name")).toBe("Photo");
    expect(form.get("image")).toBeInstanceOf(Blob);
  });

  it("builds URLs", () => {
    expect(thumbnailUrl("a b", 5)).toBe("/api/docs/a%20b/thumbnail?size=256&v=5");
    expect(exportUrl("a", "png")).toBe("/api/docs/a/export?format=png&user=u-ann&name=Ann");
    expect(blobUrl("abc")).toBe("/api/blobs/abc");
  });
});
