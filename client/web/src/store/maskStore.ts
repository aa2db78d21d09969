import { create } from "zustand";
import { MaskEngine, type MaskPoint } from "../masks/maskEngine";

/**
 * Local selection state (a slice beside editorStore; never shared): the canvas-sized mask the
 * selection tools paint, the mask brush's settings, the shape being drawn, and the points and
 * preview of a segment-by-click. The mask itself is the engine's buffer; `version` follows it.
 */

export interface MaskBrushSettings {
  /** diameter in document pixels */
  readonly size: number;
  /** 0..1 */
  readonly hardness: number;
}

/** A rectangle or lasso being drawn (document coordinates), shown by the overlay. */
export type MaskDraft = { kind: "rect"; from: MaskPoint; to: MaskPoint } | { kind: "lasso"; points: MaskPoint[] };

export interface SegmentPoint {
  readonly x: number;
  readonly y: number;
  /** true: the object; false: not the object */
  readonly positive: boolean;
}

export interface MaskState {
  engine: MaskEngine | null;
  /** the engine's version when last seen, so views re-render on changes */
  version: number;
  /** pixels selected (>= the threshold), counted by the overlay as it draws the mask */
  selected: number;
  brush: MaskBrushSettings;
  /** feather radius in pixels for the Feather button */
  feather: number;
  draft: MaskDraft | null;
  segmentPoints: SegmentPoint[];
  /** a segmentation's mask (canvas-sized, 0..255), previewed until used or dismissed */
  preview: Uint8Array | null;
  /** Make sure the mask matches the canvas size (a new, empty one when it changes). */
  ensureEngine(width: number, height: number): MaskEngine;
  setBrush(patch: Partial<MaskBrushSettings>): void;
  setFeather(radius: number): void;
  setDraft(draft: MaskDraft | null): void;
  addSegmentPoint(point: SegmentPoint): void;
  clearSegmentPoints(): void;
  setPreview(preview: Uint8Array | null): void;
}

export const useMaskStore = create<MaskState>((set, get) => ({
  engine: null,
  version: 0,
  selected: 0,
  brush: { size: 24, hardness: 0.8 },
  feather: 8,
  draft: null,
  segmentPoints: [],
  preview: null,
  ensureEngine: (width, height) => {
    const current = get().engine;
    if (current && current.width === width && current.height === height) return current;
    const engine = new MaskEngine(width, height);
    engine.onChange(() => set({ version: engine.version }));
    set({ engine, version: 0, selected: 0, preview: null, segmentPoints: [], draft: null });
    return engine;
  },
  setBrush: (patch) => set((s) => ({ brush: { ...s.brush, ...patch } })),
  setFeather: (feather) => set({ feather }),
  setDraft: (draft) => set({ draft }),
  addSegmentPoint: (point) => set((s) => ({ segmentPoints: [...s.segmentPoints, point] })),
  clearSegmentPoints: () => set({ segmentPoints: [] }),
  setPreview: (preview) => set({ preview }),
}));
