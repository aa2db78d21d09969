import { describe, expect, it } from "vitest";
import { type FrameScheduler, LatestPerFrame, PointBatcher } from "./pointBatcher";

/** A scheduler driven by the test: `tick()` runs the frame callbacks. */
function manualFrames(): FrameScheduler & { tick(): void; pending(): number } {
  let next = 1;
  const callbacks = new Map<number, () => void>();
  return {
    request(callback) {
      const id = next++;
      callbacks.set(id, callback);
      return id;
    },
    cancel(id) {
      callbacks.delete(id);
    },
    tick() {
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const callback of due) callback();
    },
    pending: () => callbacks.size,
  };
}

describe("PointBatcher", () => {
  it("hands on the points once per frame", () => {
    const frames = manualFrames();
    const batches: number[][] = [];
    const batcher = new PointBatcher((points) => batches.push(points), frames);
    batcher.start(0, 0);
    batcher.push(1, 1);
    batcher.push(2, 2);
    batcher.push(3, 3);
    expect(batches).toEqual([]);
    expect(frames.pending()).toBe(1);
    frames.tick();
    expect(batches).toEqual([[1, 1, 2, 2, 3, 3]]);
    batcher.push(4, 4);
    frames.tick();
    expect(batches).toEqual([
      [1, 1, 2, 2, 3, 3],
      [4, 4],
    ]);
    frames.tick();
    expect(batches.length).toBe(2);
  });

  it("flushes at once on pointerup and cancels the frame", () => {
    const frames = manualFrames();
    const batches: number[][] = [];
    const batcher = new PointBatcher((points) => batches.push(points), frames);
    batcher.start(10, 10);
    batcher.push(12, 10);
    batcher.flush();
    expect(batches).toEqual([[12, 10]]);
    expect(frames.pending()).toBe(0);
    batcher.flush();
    expect(batches.length).toBe(1);
  });

  it("drops points too close to the previous one, and rounds", () => {
    const frames = manualFrames();
    const batches: number[][] = [];
    const batcher = new PointBatcher((points) => batches.push(points), frames, 1);
    batcher.start(0, 0);
    batcher.push(0.3, 0.3);
    batcher.push(1.23456, 0);
    batcher.push(1.5, 0);
    batcher.push(Number.NaN, 3);
    batcher.push(2.5, 0.001);
    batcher.flush();
    expect(batches).toEqual([[1.23, 0, 2.5, 0]]);
    expect(batcher.pendingCount).toBe(0);
  });

  it("cancel drops what is pending", () => {
    const frames = manualFrames();
    const batches: number[][] = [];
    const batcher = new PointBatcher((points) => batches.push(points), frames);
    batcher.push(5, 5);
    expect(batcher.pendingCount).toBe(1);
    batcher.cancel();
    frames.tick();
    batcher.flush();
    expect(batches).toEqual([]);
  });
});

describe("LatestPerFrame", () => {
  it("applies only the newest value per frame", () => {
    const frames = manualFrames();
    const applied: number[] = [];
    const latest = new LatestPerFrame<number>((value) => applied.push(value), frames);
    latest.set(1);
    latest.set(2);
    latest.set(3);
    frames.tick();
    latest.set(4);
    latest.flush();
    latest.flush();
    expect(applied).toEqual([3, 4]);
    latest.set(5);
    latest.cancel();
    frames.tick();
    expect(applied).toEqual([3, 4]);
  });
});
