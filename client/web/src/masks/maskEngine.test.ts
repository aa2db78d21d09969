import { describe, expect, it } from "vitest";
import { MaskEngine } from "./maskEngine";

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A PNG's chunks by type (IDAT chunks joined). */
function chunks(png: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const found = new Map<string, Uint8Array>();
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    const old = found.get(type);
    found.set(type, old ? new Uint8Array([...old, ...data]) : data);
    at += 12 + length;
  }
  return found;
}

describe("MaskEngine", () => {
  it("fills a rectangle between two corners in any order", () => {
    const mask = new MaskEngine(16, 12);
    mask.fillRect([10, 8], [2, 3]);
    expect(mask.bounds()).toEqual({ x: 2, y: 3, width: 8, height: 5 });
    expect(mask.selectedCount()).toBe(40);
    expect(mask.at(2, 3)).toBe(255);
    expect(mask.at(10, 8)).toBe(0);
  });

  it("adds, subtracts and replaces", () => {
    const mask = new MaskEngine(10, 10);
    mask.fillRect([0, 0], [4, 4]);
    mask.fillRect([6, 6], [10, 10], "add");
    expect(mask.selectedCount()).toBe(32);
    mask.fillRect([0, 0], [2, 4], "subtract");
    expect(mask.selectedCount()).toBe(24);
    mask.fillRect([5, 5], [6, 6]);
    expect(mask.selectedCount()).toBe(1);
  });

  it("clips shapes to the canvas", () => {
    const mask = new MaskEngine(8, 8);
    mask.fillRect([-5, -5], [3, 20]);
    expect(mask.bounds()).toEqual({ x: 0, y: 0, width: 3, height: 8 });
  });

  it("fills a lasso polygon at pixel centres", () => {
    const mask = new MaskEngine(20, 20);
    mask.fillPolygon([
      [2, 2],
      [12, 2],
      [12, 12],
      [2, 12],
    ]);
    expect(mask.selectedCount()).toBe(100);
    expect(mask.bounds()).toEqual({ x: 2, y: 2, width: 10, height: 10 });
    // a right triangle: about half of its 10x10 box
    mask.fillPolygon([
      [0, 0],
      [10, 0],
      [0, 10],
    ]);
    const count = mask.selectedCount();
    expect(count).toBeGreaterThanOrEqual(45);
    expect(count).toBeLessThanOrEqual(55);
    expect(mask.at(1, 1)).toBe(255);
    expect(mask.at(8, 8)).toBe(0);
  });

  it("ignores a lasso of fewer than three points (but replace still clears)", () => {
    const mask = new MaskEngine(8, 8);
    mask.fillRect([0, 0], [8, 8]);
    mask.fillPolygon(
      [
        [1, 1],
        [5, 5],
      ],
      "add",
    );
    expect(mask.selectedCount()).toBe(64);
  });

  it("inverts and clears", () => {
    const mask = new MaskEngine(10, 10);
    mask.fillRect([0, 0], [5, 10]);
    mask.invert();
    expect(mask.bounds()).toEqual({ x: 5, y: 0, width: 5, height: 10 });
    expect(mask.at(0, 0)).toBe(0);
    mask.clear();
    expect(mask.isEmpty()).toBe(true);
    mask.selectAll();
    expect(mask.selectedCount()).toBe(100);
  });

  it("feathers a hard edge into a ramp, keeping the inside and the far outside", () => {
    const mask = new MaskEngine(64, 64);
    mask.fillRect([16, 16], [48, 48]);
    const before = mask.data.reduce((n, v) => n + v, 0);
    mask.feather(8);
    expect(mask.at(32, 32)).toBe(255);
    expect(mask.at(2, 2)).toBe(0);
    const edge = mask.at(16, 32);
    expect(edge).toBeGreaterThan(60);
    expect(edge).toBeLessThan(200);
    expect(mask.at(13, 32)).toBeGreaterThan(0);
    expect(mask.at(13, 32)).toBeLessThan(edge);
    const after = mask.data.reduce((n, v) => n + v, 0);
    expect(Math.abs(after - before) / before).toBeLessThan(0.01);
  });

  it("paints and erases round dabs with hardness", () => {
    const mask = new MaskEngine(40, 40);
    mask.dab(10, 20, 8, 1); // a stroke's first point; each segment then dabs after its start
    mask.strokeSegment([10, 20], [30, 20], 8, 1);
    expect(mask.at(20, 20)).toBe(255);
    expect(mask.at(20, 26)).toBe(0);
    expect(mask.bounds()).toEqual({ x: 6, y: 16, width: 28, height: 8 });
    mask.dab(20, 20, 6, 1, true);
    expect(mask.at(20, 20)).toBe(0);
    expect(mask.at(10, 20)).toBe(255);
    const soft = new MaskEngine(40, 40);
    soft.dab(20, 20, 20, 0);
    expect(soft.at(19, 19)).toBeGreaterThan(200);
    const mid = soft.at(25, 20);
    expect(mid).toBeGreaterThan(0);
    expect(mid).toBeLessThan(255);
  });

  it("tells listeners about changes", () => {
    const mask = new MaskEngine(4, 4);
    let calls = 0;
    const off = mask.onChange(() => calls++);
    mask.fillRect([0, 0], [2, 2]);
    mask.invert();
    off();
    mask.clear();
    expect(calls).toBe(2);
    expect(mask.version).toBe(3);
  });

  it("writes a grayscale PNG of the canvas size, or of an area", async () => {
    const mask = new MaskEngine(64, 48);
    mask.fillRect([8, 8], [24, 40]);
    const png = new Uint8Array(await (await mask.toPngBlob()).arrayBuffer());
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const parts = chunks(png);
    const header = parts.get("IHDR") as Uint8Array;
    const view = new DataView(header.buffer, header.byteOffset);
    expect([view.getUint32(0), view.getUint32(4), header[8], header[9]]).toEqual([64, 48, 8, 0]);
    expect(parts.has("IEND")).toBe(true);
    const raw = await inflate(parts.get("IDAT") as Uint8Array);
    expect(raw.length).toBe((64 + 1) * 48);
    expect(raw[10 * 65 + 1 + 10]).toBe(255); // row 10, pixel 10
    expect(raw[10 * 65 + 1 + 30]).toBe(0);

    const area = { x: 8, y: 8, width: 20, height: 10 };
    const cropped = chunks(new Uint8Array(await (await mask.toPngBlob(area)).arrayBuffer()));
    const small = cropped.get("IHDR") as Uint8Array;
    const smallView = new DataView(small.buffer, small.byteOffset);
    expect([smallView.getUint32(0), smallView.getUint32(4)]).toEqual([20, 10]);
    const pixels = await inflate(cropped.get("IDAT") as Uint8Array);
    expect(pixels[1]).toBe(255);
    expect(pixels[1 + 19]).toBe(0);
  });

  it("refuses a bad size and an area outside", () => {
    expect(() => new MaskEngine(0, 5)).toThrow(RangeError);
    expect(() => new MaskEngine(4, 4).crop({ x: 2, y: 2, width: 4, height: 1 })).toThrow(RangeError);
  });
});
