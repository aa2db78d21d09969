/** The move tool: dragging moves the active layer, one transaction per animation frame. */
import type { DocumentSession } from "../document/session";
import { useEditorStore } from "../store/editorStore";
import type { Point } from "./camera";
import { moveRefusal, targetLayer } from "./layerRules";
import { animationFrames, type FrameScheduler, LatestPerFrame } from "./pointBatcher";

interface Drag {
  readonly layerId: string;
  readonly start: Point;
  readonly origin: Point;
  readonly updates: LatestPerFrame<Point>;
}

export class MoveTool {
  private drag: Drag | null = null;

  constructor(
    private readonly session: DocumentSession,
    private readonly scheduler: FrameScheduler = animationFrames,
  ) {}

  get dragging(): boolean {
    return this.drag !== null;
  }

  down(at: Point): boolean {
    this.cancel();
    const state = useEditorStore.getState();
    const layer = targetLayer(this.session.canvas.readLayers(), state.activeLayerId);
    if (!layer) {
      state.showHint("Nothing to move: the document has no layers yet");
      return false;
    }
    const refusal = moveRefusal(layer);
    if (refusal) {
      state.showHint(refusal);
      return false;
    }
    const layerId = layer.id;
    const updates = new LatestPerFrame<Point>((position) => this.apply(layerId, position), this.scheduler);
    this.drag = { layerId, start: at, origin: [layer.x, layer.y], updates };
    return true;
  }

  move(at: Point): void {
    const drag = this.drag;
    if (!drag) return;
    const x = Math.round(drag.origin[0] + at[0] - drag.start[0]);
    const y = Math.round(drag.origin[1] + at[1] - drag.start[1]);
    drag.updates.set([x, y]);
  }

  up(): void {
    this.drag?.updates.flush();
    this.drag = null;
  }

  cancel(): void {
    this.drag?.updates.cancel();
    this.drag = null;
  }

  private apply(layerId: string, [x, y]: Point): void {
    const canvas = this.session.canvas;
    const layer = canvas.getLayer(layerId);
    if (!layer || (layer.x === x && layer.y === y)) return;
    try {
      this.session.transact(() => canvas.updateLayer(layerId, { x, y }));
    } catch (error) {
      this.cancel();
      useEditorStore.getState().showHint(error instanceof Error ? error.message : String(error));
    }
  }
}
