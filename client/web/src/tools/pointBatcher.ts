/**
 * Collects the points of a live stroke and hands them on at most once per animation frame,
 * so a stroke grows for everyone in a few dozen small updates a second instead of one per
 * pointer event.
 */

export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

export const animationFrames: FrameScheduler = {
  request: (callback) => requestAnimationFrame(() => callback()),
  cancel: (handle) => cancelAnimationFrame(handle),
};

/** Coordinates are rounded to this many decimals (keeps updates small; 1/100 px is plenty). */
const DECIMALS = 100;

function round(value: number): number {
  return Math.round(value * DECIMALS) / DECIMALS;
}

export class PointBatcher {
  private pending: number[] = [];
  private frame: number | null = null;
  private last: [number, number] | null = null;

  /**
   * @param sink receives each batch (flat x, y pairs, never empty)
   * @param minDistance points closer than this to the previous kept point are dropped
   */
  constructor(
    private readonly sink: (points: number[]) => void,
    private readonly scheduler: FrameScheduler = animationFrames,
    private readonly minDistance = 0.5,
  ) {}

  /** The stroke's first point (already sent with beginStroke): later points are measured from it. */
  start(x: number, y: number): void {
    this.last = [round(x), round(y)];
  }

  push(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const px = round(x);
    const py = round(y);
    if (this.last && Math.hypot(px - this.last[0], py - this.last[1]) < this.minDistance) return;
    this.last = [px, py];
    this.pending.push(px, py);
    if (this.frame === null) {
      this.frame = this.scheduler.request(() => {
        this.frame = null;
        this.flush();
      });
    }
  }

  /** Hand on what is pending now (pointerup). */
  flush(): void {
    if (this.frame !== null) {
      this.scheduler.cancel(this.frame);
      this.frame = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.sink(batch);
  }

  /** Drop what is pending without handing it on. */
  cancel(): void {
    if (this.frame !== null) this.scheduler.cancel(this.frame);
    this.frame = null;
    this.pending = [];
  }

  get pendingCount(): number {
    return this.pending.length / 2;
  }
}

/** Runs the latest of a stream of values once per animation frame (the move tool's drag). */
export class LatestPerFrame<T> {
  private value: T | null = null;
  private frame: number | null = null;

  constructor(
    private readonly apply: (value: T) => void,
    private readonly scheduler: FrameScheduler = animationFrames,
  ) {}

  set(value: T): void {
    this.value = value;
    if (this.frame === null) {
      this.frame = this.scheduler.request(() => {
        this.frame = null;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.frame !== null) {
      this.scheduler.cancel(this.frame);
      this.frame = null;
    }
    if (this.value === null) return;
    const value = this.value;
    this.value = null;
    this.apply(value);
  }

  cancel(): void {
    if (this.frame !== null) this.scheduler.cancel(this.frame);
    this.frame = null;
    this.value = null;
  }
}
