import { describe, expect, it } from "vitest";
import {
  actualSize,
  clampZoom,
  docToScreen,
  fitCamera,
  MAX_ZOOM,
  MIN_ZOOM,
  nextZoomStep,
  panBy,
  screenToDoc,
  wheelPixels,
  wheelZoomFactor,
  zoomAround,
  zoomBy,
  zoomPercent,
} from "./camera";

describe("camera", () => {
  const camera = { x: 100, y: 50, zoom: 2 };

  it("maps screen and document points both ways", () => {
    expect(screenToDoc(camera, [120, 70])).toEqual([10, 10]);
    expect(docToScreen(camera, [10, 10])).toEqual([120, 70]);
  });

  it("zooms around a point, keeping the document point under it", () => {
    const at = [300, 200] as const;
    const before = screenToDoc(camera, at);
    const next = zoomAround(camera, at, 5);
    expect(next.zoom).toBe(5);
    const after = screenToDoc(next, at);
    expect(after[0]).toBeCloseTo(before[0], 9);
    expect(after[1]).toBeCloseTo(before[1], 9);
    const halved = zoomBy(camera, at, 0.5);
    expect(halved.zoom).toBe(1);
    expect(screenToDoc(halved, at)[0]).toBeCloseTo(before[0], 9);
  });

  it("clamps the zoom", () => {
    expect(clampZoom(1000)).toBe(MAX_ZOOM);
    expect(clampZoom(0)).toBe(MIN_ZOOM);
    expect(clampZoom(Number.NaN)).toBe(1);
    expect(zoomBy(camera, [0, 0], 1e9).zoom).toBe(MAX_ZOOM);
  });

  it("fits the document centred with a margin", () => {
    const fit = fitCamera({ width: 1000, height: 500 }, { width: 648, height: 648 }, 24);
    expect(fit.zoom).toBeCloseTo(0.6, 9);
    expect(fit.x).toBe(24);
    expect(fit.y).toBe(Math.round((648 - 300) / 2));
    const tall = fitCamera({ width: 100, height: 400 }, { width: 1000, height: 448 }, 24);
    expect(tall.zoom).toBe(1);
    expect(tall.x).toBe(450);
    expect(tall.y).toBe(24);
  });

  it("fit enlarges a small document and survives empty sizes", () => {
    expect(fitCamera({ width: 100, height: 100 }, { width: 448, height: 448 }, 24).zoom).toBe(4);
    expect(fitCamera({ width: 100, height: 100 }, { width: 0, height: 0 })).toEqual({ x: 0, y: 0, zoom: 1 });
  });

  it("100 % keeps the centre of the view and snaps to whole pixels", () => {
    const view = { width: 800, height: 600 };
    const centreBefore = screenToDoc(camera, [400, 300]);
    const next = actualSize(camera, view);
    expect(next.zoom).toBe(1);
    expect(Number.isInteger(next.x) && Number.isInteger(next.y)).toBe(true);
    const centreAfter = screenToDoc(next, [400, 300]);
    expect(Math.abs(centreAfter[0] - centreBefore[0])).toBeLessThanOrEqual(0.5);
    expect(Math.abs(centreAfter[1] - centreBefore[1])).toBeLessThanOrEqual(0.5);
  });

  it("steps through zoom levels", () => {
    expect(nextZoomStep(1, 1)).toBe(1.5);
    expect(nextZoomStep(1, -1)).toBe(0.6667);
    expect(nextZoomStep(0.7, -1)).toBe(0.6667);
    expect(nextZoomStep(0.7, 1)).toBe(1);
    expect(nextZoomStep(MAX_ZOOM, 1)).toBe(MAX_ZOOM);
    expect(nextZoomStep(MIN_ZOOM, -1)).toBe(MIN_ZOOM);
  });

  it("pans", () => {
    expect(panBy(camera, -10, 5)).toEqual({ x: 90, y: 55, zoom: 2 });
  });

  it("turns wheel deltas into pixels and zoom factors", () => {
    expect(wheelPixels(3, 1, 800)).toBe(48);
    expect(wheelPixels(1, 2, 800)).toBe(800);
    expect(wheelPixels(7, 0, 800)).toBe(7);
    expect(wheelZoomFactor(-100)).toBeGreaterThan(1.5);
    expect(wheelZoomFactor(100)).toBeLessThan(0.7);
    expect(wheelZoomFactor(1000)).toBe(wheelZoomFactor(100));
    expect(wheelZoomFactor(100) * wheelZoomFactor(-100)).toBeCloseTo(1, 9);
    expect(wheelZoomFactor(2)).toBeGreaterThan(0.98);
  });

  it("formats the zoom", () => {
    expect(zoomPercent(1)).toBe("100 %");
    expect(zoomPercent(0.05)).toBe("5.0 %");
    expect(zoomPercent(2.5)).toBe("250 %");
  });
});
