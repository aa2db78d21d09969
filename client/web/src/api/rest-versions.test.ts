import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, configureApi, getVersion, listVersions, nameVersion, restoreVersion, versionPreviewUrl, versionThumbnailUrl } from "./rest";

interface Call {
  url: string;
  method: string;
  body: unknown;
}

let calls: Call[] = [];
let answers: Response[] = [];

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  calls = [];
  answers = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method ?? "GET", body: init.body });
    const next = answers.shift();
    if (!next) throw new TypeError("Failed to fetch");
    return next;
  });
  configureApi({ id: "u-ann", name: "Ann Ö", color: "#14b8a6" });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const rawVersion = { id: 7, label: "first draft", kind: "named", created_at: 12.5, seq: 40, size: 900, url: "/x", thumbnail_url: "/x/thumbnail" };

describe("versions REST client", () => {
  it("lists, names and restores versions", async () => {
    answers.push(answer(200, { versions: [rawVersion, { id: 3, label: null, kind: "auto", created_at: 1, seq: 2, size: 3 }] }));
    const versions = await listVersions("my doc");
    expect(calls[0]?.url).toBe("/api/docs/my%20doc/versions");
    expect(versions).toEqual([
      { id: 7, label: "first draft", kind: "named", createdAt: 12500, seq: 40, size: 900 },
      { id: 3, label: null, kind: "auto", createdAt: 1000, seq: 2, size: 3 },
    ]);

    answers.push(answer(201, rawVersion));
    expect((await nameVersion("d", "first draft")).id).toBe(7);
    expect(calls[1]).toMatchObject({ url: "/api/docs/d/versions", method: "POST", body: '{"label":"first draft"}' });

    answers.push(answer(200, { restored: 7, can_undo: true, can_redo: false, user: "u-ann" }));
    expect(await restoreVersion("d", 7)).toEqual({ restored: 7, canUndo: true, canRedo: false });
    expect(calls[2]).toMatchObject({ url: "/api/docs/d/versions/7/restore", method: "POST" });
  });

  it("reads a version's canvas tolerantly", async () => {
    answers.push(
      answer(200, {
        id: "d",
        version: rawVersion,
        name: "Poster",
        width: 120,
        height: 80,
        dpi: 300,
        color_profile: "sRGB",
        background: "transparent",
        layers: [
          { id: "a", name: "Photo", kind: "raster", blend_mode: "multiply", opacity: 50, visible: false, locked: true, x: 3, y: -4, blob: "ab", strokes: 0, provenance: { model: "m" } },
          { id: "b", kind: "hologram", blend_mode: "sparkle", strokes: 5 },
        ],
      }),
    );
    const canvas = await getVersion("d", 7);
    expect(calls[0]?.url).toBe("/api/docs/d/versions/7");
    expect(canvas.docId).toBe("d");
    expect(canvas.version.label).toBe("first draft");
    expect(canvas.meta).toEqual({ name: "Poster", width: 120, height: 80, dpi: 300, colorProfile: "sRGB", background: "transparent" });
    expect(canvas.layers[0]).toEqual({
      id: "a",
      name: "Photo",
      kind: "raster",
      blendMode: "multiply",
      opacity: 50,
      visible: false,
      locked: true,
      x: 3,
      y: -4,
      blob: "ab",
      strokeCount: 0,
      provenance: { model: "m" },
    });
    expect(canvas.layers[1]).toMatchObject({ kind: "raster", blendMode: "normal", strokeCount: 5, visible: true, provenance: null });
  });

  it("passes the server's 400/404 message through", async () => {
    answers.push(answer(404, { error: "not_found", message: "document 'd' has no version 99" }));
    const error = await getVersion("d", 99).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).message).toBe("document 'd' has no version 99");
  });

  it("builds image URLs that name the caller", () => {
    expect(versionThumbnailUrl("d:1", 7, 128)).toBe("/api/docs/d%3A1/versions/7/thumbnail?size=128&user=u-ann&name=Ann%20%C3%96");
    expect(versionPreviewUrl("d", 7, 0.5)).toBe("/api/docs/d/versions/7/preview?scale=0.5&format=png&user=u-ann&name=Ann%20%C3%96");
  });
});
