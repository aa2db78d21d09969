/**
 * A canvas-sized alpha mask (one byte a pixel, 255 = selected): the selection that the AI
 * routes take as their fill mask. Rectangle and lasso fills, brush and eraser dabs with size
 * and hardness, invert, clear, feather; PNG out (grayscale, white = selected, as the server
 * reads a mask). Plain TypeScript: no DOM beyond Blob and CompressionStream.
 */
import { encodeGrayPng } from "./png";

/** How a shape combines with the mask: replace it, add to it, or cut out of it. */
export type MaskMode = "replace" | "add" | "subtract";

export type MaskPoint = readonly [number, number];

/** A rectangle of canvas pixels. */
export interface MaskArea {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The server's threshold: a mask pixel marks the area to fill at this value or above. */
export const MASK_THRESHOLD = 128;

export class MaskEngine {
  readonly data: Uint8Array;
  /** bumped on every change, for views that redraw lazily */
  version = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new RangeError(`a mask needs a positive integer size, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Pixel (x, y)'s value, 0 outside the mask. */
  at(x: number, y: number): number {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return 0;
    return this.data[y * this.width + x] ?? 0;
  }

  /** Fill the rectangle between two corners (any order, fractional: pixels whose centre is inside). */
  fillRect(a: MaskPoint, b: MaskPoint, mode: MaskMode = "replace"): void {
    const x0 = clamp(Math.round(Math.min(a[0], b[0])), 0, this.width);
    const x1 = clamp(Math.round(Math.max(a[0], b[0])), 0, this.width);
    const y0 = clamp(Math.round(Math.min(a[1], b[1])), 0, this.height);
    const y1 = clamp(Math.round(Math.max(a[1], b[1])), 0, this.height);
    this.shape(mode, (put) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) put(y * this.width + x);
    });
  }

  /** Fill a closed polygon (the lasso), even-odd, sampled at pixel centres. */
  fillPolygon(points: readonly MaskPoint[], mode: MaskMode = "replace"): void {
    this.shape(mode, (put) => {
      if (points.length < 3) return;
      const crossings: number[] = [];
      for (let y = 0; y < this.height; y++) {
        const cy = y + 0.5;
        crossings.length = 0;
        for (let i = 0; i < points.length; i++) {
          const p = points[i] as MaskPoint;
          const q = points[(i + 1) % points.length] as MaskPoint;
          if (p[1] <= cy === q[1] <= cy) continue;
          crossings.push(p[0] + ((cy - p[1]) / (q[1] - p[1])) * (q[0] - p[0]));
        }
        crossings.sort((m, n) => m - n);
        for (let k = 0; k + 1 < crossings.length; k += 2) {
          const from = clamp(Math.ceil((crossings[k] as number) - 0.5), 0, this.width);
          const to = clamp(Math.ceil((crossings[k + 1] as number) - 0.5), 0, this.width);
          for (let x = from; x < to; x++) put(y * this.width + x);
        }
      }
    });
  }

  /**
   * One round dab of diameter `size` at (cx, cy): `hardness` 1 is a hard edge, 0 fades from the
   * centre. The brush raises pixels to the dab's value, the eraser lowers them by it.
   */
  dab(cx: number, cy: number, size: number, hardness: number, erase = false): void {
    if (!this.dabPixels(cx, cy, size, hardness, erase)) return;
    this.changed();
  }

  /** Dabs along the segment a → b, spaced a fraction of the size apart (a stroke's piece). */
  strokeSegment(a: MaskPoint, b: MaskPoint, size: number, hardness: number, erase = false): void {
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const spacing = Math.max(0.5, size * 0.15);
    const steps = Math.max(1, Math.ceil(length / spacing));
    let touched = false;
    for (let i = length === 0 ? steps : 1; i <= steps; i++) {
      const t = i / steps;
      touched = this.dabPixels(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, size, hardness, erase) || touched;
    }
    if (touched) this.changed();
  }

  invert(): void {
    for (let i = 0; i < this.data.length; i++) this.data[i] = 255 - (this.data[i] as number);
    this.changed();
  }

  clear(): void {
    this.data.fill(0);
    this.changed();
  }

  selectAll(): void {
    this.data.fill(255);
    this.changed();
  }

  /** Replace the whole mask (e.g. a segmentation's result); `values` must be width × height. */
  setAll(values: Uint8Array): void {
    if (values.length !== this.data.length) {
      throw new RangeError(`a ${this.width}x${this.height} mask needs ${this.data.length} values, got ${values.length}`);
    }
    this.data.set(values);
    this.changed();
  }

  /** Soften the edge over about `radius` pixels (three box blurs ≈ a Gaussian). */
  feather(radius: number): void {
    const half = Math.round(radius / 2);
    if (!(half >= 1)) return;
    const scratch = new Float32Array(this.data.length);
    const values = Float32Array.from(this.data);
    for (let pass = 0; pass < 3; pass++) {
      boxBlur(values, scratch, this.width, this.height, half, true);
      boxBlur(scratch, values, this.width, this.height, half, false);
    }
    for (let i = 0; i < values.length; i++) this.data[i] = Math.round(values[i] as number);
    this.changed();
  }

  /** Whether no pixel marks an area to fill (the server refuses such a mask). */
  isEmpty(): boolean {
    return this.bounds() === null;
  }

  /** Pixels at or above the threshold. */
  selectedCount(): number {
    let count = 0;
    for (let i = 0; i < this.data.length; i++) if ((this.data[i] as number) >= MASK_THRESHOLD) count++;
    return count;
  }

  /** The smallest rectangle holding every pixel at or above the threshold, or null. */
  bounds(): MaskArea | null {
    let x0 = this.width;
    let y0 = this.height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < this.height; y++) {
      const row = y * this.width;
      for (let x = 0; x < this.width; x++) {
        if ((this.data[row + x] as number) < MASK_THRESHOLD) continue;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
    return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  }

  /** The values inside `area` (which must lie inside the mask), row by row. */
  crop(area: MaskArea = { x: 0, y: 0, width: this.width, height: this.height }): Uint8Array {
    if (area.x < 0 || area.y < 0 || area.x + area.width > this.width || area.y + area.height > this.height) {
      throw new RangeError(`area ${JSON.stringify(area)} is not inside the ${this.width}x${this.height} mask`);
    }
    const out = new Uint8Array(area.width * area.height);
    for (let y = 0; y < area.height; y++) {
      const start = (area.y + y) * this.width + area.x;
      out.set(this.data.subarray(start, start + area.width), y * area.width);
    }
    return out;
  }

  /** The mask (or `area` of it) as a grayscale PNG: white marks the area to fill. */
  async toPngBlob(area?: MaskArea): Promise<Blob> {
    const size = area ?? { x: 0, y: 0, width: this.width, height: this.height };
    const bytes = await encodeGrayPng(size.width, size.height, this.crop(size));
    return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/png" });
  }

  private shape(mode: MaskMode, fill: (put: (index: number) => void) => void): void {
    if (mode === "replace") this.data.fill(0);
    const value = mode === "subtract" ? 0 : 255;
    fill((index) => {
      this.data[index] = value;
    });
    this.changed();
  }

  private dabPixels(cx: number, cy: number, size: number, hardness: number, erase: boolean): boolean {
    const radius = Math.max(0.5, size / 2);
    const hard = clamp(hardness, 0, 1);
    const inner = radius * hard;
    const x0 = clamp(Math.floor(cx - radius), 0, this.width);
    const x1 = clamp(Math.ceil(cx + radius), 0, this.width);
    const y0 = clamp(Math.floor(cy - radius), 0, this.height);
    const y1 = clamp(Math.ceil(cy + radius), 0, this.height);
    let touched = false;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        // hard edge: one pixel of antialiasing; soft: a linear fall from `inner` to the rim
        const strength = hard >= 1 ? clamp(radius - d + 0.5, 0, 1) : d <= inner ? 1 : clamp((radius - d) / (radius - inner), 0, 1);
        if (strength <= 0) continue;
        const index = y * this.width + x;
        const old = this.data[index] as number;
        const next = erase ? Math.round(old * (1 - strength)) : Math.max(old, Math.round(255 * strength));
        if (next !== old) {
          this.data[index] = next;
          touched = true;
        }
      }
    }
    return touched;
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}

/** One box blur of half-width `half` along rows (`horizontal`) or columns, edges clamped. */
function boxBlur(src: Float32Array, dst: Float32Array, width: number, height: number, half: number, horizontal: boolean): void {
  const lines = horizontal ? height : width;
  const length = horizontal ? width : height;
  const step = horizontal ? 1 : width;
  const span = 2 * half + 1;
  for (let line = 0; line < lines; line++) {
    const base = horizontal ? line * width : line;
    const at = (i: number) => src[base + clamp(i, 0, length - 1) * step] as number;
    let sum = 0;
    for (let i = -half; i <= half; i++) sum += at(i);
    for (let i = 0; i < length; i++) {
      dst[base + i * step] = sum / span;
      sum += at(i + half + 1) - at(i - half);
    }
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
