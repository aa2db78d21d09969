/**
 * Brush and eraser: a stroke starts with canvas.beginStroke on pointerdown and grows with
 * canvas.appendPoints once per animation frame, so collaborators watch it being drawn.
 * Points are layer-local: the document point minus the layer's x / y.
 */
import type { DocumentSession } from "../document/session";
import type { StrokeTool } from "../document/types";
import { useEditorStore } from "../store/editorStore";
import type { Point } from "./camera";
import { paintRefusal, targetLayer } from "./layerRules";
import { animationFrames, type FrameScheduler, PointBatcher } from "./pointBatcher";

export const FIRST_LAYER_NAME = "Layer 1";

interface LiveStroke {
  readonly layerId: string;
  readonly strokeId: string;
  readonly offset: Point;
  readonly batcher: PointBatcher;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class BrushTool {
  private live: LiveStroke | null = null;

  constructor(
    private readonly session: DocumentSession,
    private readonly scheduler: FrameScheduler = animationFrames,
  ) {}

  get drawing(): boolean {
    return this.live !== null;
  }

  /** Start a stroke at document point `at`; false (with a hint) when the layer refuses paint. */
  down(at: Point, tool: StrokeTool): boolean {
    this.cancel();
    const state = useEditorStore.getState();
    const canvas = this.session.canvas;
    const layers = canvas.readLayers();
    const layer = targetLayer(layers, state.activeLayerId);
    if (layer) {
      const refusal = paintRefusal(layer, tool);
      if (refusal) {
        state.showHint(refusal);
        return false;
      }
    } else if (tool === "eraser") {
      state.showHint("Nothing to erase: the document has no layers yet");
      return false;
    }
    const settings = tool === "eraser" ? state.eraser : state.brush;
    const offset: Point = layer ? [layer.x, layer.y] : [0, 0];
    const first = [at[0] - offset[0], at[1] - offset[1]];
    let layerId = layer?.id ?? "";
    let strokeId = "";
    try {
      this.session.transact(() => {
        if (!layer) layerId = canvas.addLayer(FIRST_LAYER_NAME, { kind: "paint" });
        strokeId = canvas.beginStroke(layerId, {
          tool,
          color: state.color,
          size: settings.size,
          hardness: settings.hardness,
          opacity: settings.opacity,
          points: first,
        });
      });
    } catch (error) {
      state.showHint(`Could not start the stroke: ${message(error)}`);
      return false;
    }
    if (!layer || state.activeLayerId !== layerId) state.setActiveLayer(layerId);
    if (tool === "brush") state.pushRecentColor(state.color);
    const batcher = new PointBatcher((points) => this.append(points), this.scheduler);
    batcher.start(first[0], first[1]);
    this.live = { layerId, strokeId, offset, batcher };
    return true;
  }

  /** More document points of the stroke (coalesced pointer events, oldest first). */
  move(points: readonly Point[]): void {
    const live = this.live;
    if (!live) return;
    for (const [x, y] of points) live.batcher.push(x - live.offset[0], y - live.offset[1]);
  }

  /** End the stroke: whatever is buffered goes out now. */
  up(): void {
    const live = this.live;
    if (!live) return;
    live.batcher.flush();
    this.live = null;
  }

  /** Stop without sending what is buffered (the session is going away). */
  cancel(): void {
    this.live?.batcher.cancel();
    this.live = null;
  }

  private append(points: number[]): void {
    const live = this.live;
    if (!live) return;
    try {
      this.session.transact(() => this.session.canvas.appendPoints(live.layerId, live.strokeId, points));
    } catch (error) {
      // the layer or stroke went away under us (removed by someone else, or undone)
      live.batcher.cancel();
      this.live = null;
      useEditorStore.getState().showHint(`The stroke stopped: ${message(error)}`);
    }
  }
}
