/**
 * The selection tools: rectangle select, lasso, mask brush, mask eraser, and the points of a
 * segment-by-click. They paint the local mask (store/maskStore.ts), never the document.
 * Rectangle and lasso replace the selection; with Shift they add to it, with Alt they cut
 * out of it. A segment point is the object; with Alt (or Shift) it is "not the object".
 */
import type { MaskMode, MaskPoint } from "../masks/maskEngine";
import { useMaskStore } from "../store/maskStore";
import { type ToolName, useEditorStore } from "../store/editorStore";

export type MaskToolName = "select-rect" | "lasso" | "mask-brush" | "mask-eraser" | "segment-points";

const MASK_TOOLS: readonly ToolName[] = ["select-rect", "lasso", "mask-brush", "mask-eraser", "segment-points"];

export function isMaskTool(tool: ToolName): tool is MaskToolName {
  return MASK_TOOLS.includes(tool);
}

export interface Modifiers {
  readonly shiftKey?: boolean;
  readonly altKey?: boolean;
}

/** lasso points closer than this (document pixels) to the previous one are skipped */
const LASSO_STEP = 1.5;

export class MaskTools {
  private tool: MaskToolName | null = null;
  private mode: MaskMode = "replace";
  private last: MaskPoint | null = null;

  /** true when a drag follows (the view captures the pointer) */
  down(at: MaskPoint, tool: MaskToolName, modifiers: Modifiers): boolean {
    this.cancel();
    const masks = useMaskStore.getState();
    const engine = masks.engine;
    if (!engine) return false;
    if (tool === "segment-points") {
      const inside = at[0] >= 0 && at[1] >= 0 && at[0] < engine.width && at[1] < engine.height;
      if (!inside) {
        useEditorStore.getState().showHint("Click on the canvas to place a segmentation point");
        return false;
      }
      masks.addSegmentPoint({
        x: Math.round(at[0] * 10) / 10,
        y: Math.round(at[1] * 10) / 10,
        positive: !(modifiers.altKey || modifiers.shiftKey),
      });
      return false;
    }
    this.tool = tool;
    this.mode = modifiers.altKey ? "subtract" : modifiers.shiftKey ? "add" : "replace";
    this.last = at;
    if (tool === "select-rect") masks.setDraft({ kind: "rect", from: at, to: at });
    else if (tool === "lasso") masks.setDraft({ kind: "lasso", points: [at] });
    else engine.dab(at[0], at[1], masks.brush.size, masks.brush.hardness, tool === "mask-eraser");
    return true;
  }

  /** Pointer positions (document coordinates) since the last call, oldest first. */
  move(points: readonly MaskPoint[]): void {
    const masks = useMaskStore.getState();
    const engine = masks.engine;
    const current = points[points.length - 1];
    if (!this.tool || !engine || !current) return;
    if (this.tool === "select-rect") {
      const draft = masks.draft;
      if (draft?.kind === "rect") masks.setDraft({ ...draft, to: current });
    } else if (this.tool === "lasso") {
      const draft = masks.draft;
      if (draft?.kind !== "lasso") return;
      const added = points.filter((point) => {
        const last = this.last;
        if (last && Math.hypot(point[0] - last[0], point[1] - last[1]) < LASSO_STEP) return false;
        this.last = point;
        return true;
      });
      if (added.length) masks.setDraft({ kind: "lasso", points: [...draft.points, ...added] });
    } else {
      const erase = this.tool === "mask-eraser";
      for (const point of points) {
        if (this.last) engine.strokeSegment(this.last, point, masks.brush.size, masks.brush.hardness, erase);
        this.last = point;
      }
    }
  }

  up(): void {
    const masks = useMaskStore.getState();
    const draft = masks.draft;
    const engine = masks.engine;
    if (engine && draft?.kind === "rect" && this.tool === "select-rect") {
      const tiny = Math.abs(draft.to[0] - draft.from[0]) < 1 || Math.abs(draft.to[1] - draft.from[1]) < 1;
      if (tiny && this.mode === "replace") engine.clear(); // a click deselects
      else if (!tiny) engine.fillRect(draft.from, draft.to, this.mode);
    } else if (engine && draft?.kind === "lasso" && this.tool === "lasso") {
      if (draft.points.length >= 3) engine.fillPolygon(draft.points, this.mode);
      else if (this.mode === "replace") engine.clear();
    }
    this.cancel();
  }

  cancel(): void {
    if (this.tool === "select-rect" || this.tool === "lasso") useMaskStore.getState().setDraft(null);
    this.tool = null;
    this.last = null;
  }
}
