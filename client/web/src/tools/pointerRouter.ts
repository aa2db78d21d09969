/**
 * Routes the canvas view's pointer input to the current tool: pan (hand tool, Space + drag,
 * middle button), brush / eraser (Alt + click picks a colour), move, eyedropper. Also sends
 * the local cursor to the collaborators. Screen points are relative to the view.
 */
import type { DocumentSession } from "../document/session";
import type { CanvasRenderer } from "../render/renderer";
import { useEditorStore } from "../store/editorStore";
import { BrushTool } from "./brush";
import { type Point, screenToDoc } from "./camera";
import type { CameraController } from "./cameraController";
import { pickColour } from "./eyedropper";
import { isMaskTool, MaskTools } from "./maskTools";
import { MoveTool } from "./move";

export interface PointerDown {
  /** 0 primary, 1 middle, 2 secondary */
  readonly button: number;
  readonly altKey: boolean;
  readonly shiftKey?: boolean;
  readonly at: Point;
}

type Gesture = "pan" | "paint" | "move" | "mask" | null;

export class PointerRouter {
  readonly brush: BrushTool;
  readonly mover: MoveTool;
  readonly masks = new MaskTools();
  private gesture: Gesture = null;
  private last: Point | null = null;
  private space = false;

  constructor(
    private readonly session: DocumentSession,
    private readonly camera: CameraController,
    private readonly renderer: () => CanvasRenderer | null,
    /** called when the cursor shape may have changed */
    private readonly onStateChange: () => void = () => {},
  ) {
    this.brush = new BrushTool(session);
    this.mover = new MoveTool(session);
  }

  get busy(): boolean {
    return this.gesture !== null;
  }

  setSpaceHeld(held: boolean): void {
    if (this.space === held) return;
    this.space = held;
    this.onStateChange();
  }

  /** The CSS cursor for the view right now. */
  cursor(): string {
    if (this.gesture === "pan") return "grabbing";
    const tool = useEditorStore.getState().tool;
    if (this.space || tool === "pan") return "grab";
    if (tool === "move") return "move";
    return "crosshair";
  }

  /** true when the view should capture the pointer for a drag */
  down(input: PointerDown): boolean {
    this.end();
    const tool = useEditorStore.getState().tool;
    this.last = input.at;
    if (input.button === 1 || (input.button === 0 && (this.space || tool === "pan"))) {
      return this.begin("pan");
    }
    if (input.button !== 0) return false;
    const doc = this.toDoc(input.at);
    if (tool === "eyedropper" || (input.altKey && (tool === "brush" || tool === "eraser"))) {
      this.pick(doc);
      return false;
    }
    // a viewer's replica stays as the server has it (the server would refuse the edit anyway)
    if (this.session.readOnly && (tool === "brush" || tool === "eraser" || tool === "move")) return false;
    if (tool === "brush" || tool === "eraser") return this.brush.down(doc, tool) && this.begin("paint");
    if (tool === "move") return this.mover.down(doc) && this.begin("move");
    if (isMaskTool(tool)) return this.masks.down(doc, tool, input) && this.begin("mask");
    return false;
  }

  /** Pointer positions since the last call, oldest first (coalesced events); never empty. */
  move(samples: readonly Point[]): void {
    const current = samples[samples.length - 1];
    if (!current) return;
    if (this.gesture === "pan" && this.last) {
      this.camera.pan(current[0] - this.last[0], current[1] - this.last[1]);
    } else if (this.gesture === "paint") {
      this.brush.move(samples.map((point) => this.toDoc(point)));
    } else if (this.gesture === "move") {
      this.mover.move(this.toDoc(current));
    } else if (this.gesture === "mask") {
      this.masks.move(samples.map((point) => this.toDoc(point)));
    }
    this.last = current;
    this.session.presence.setCursor(this.toDoc(current));
  }

  up(): void {
    this.end();
  }

  leave(): void {
    if (!this.gesture) this.session.presence.setCursor(null);
  }

  destroy(): void {
    this.brush.cancel();
    this.mover.cancel();
    this.masks.cancel();
    this.gesture = null;
  }

  private begin(gesture: Gesture): boolean {
    this.gesture = gesture;
    this.onStateChange();
    return true;
  }

  private end(): void {
    if (this.gesture === "paint") this.brush.up();
    if (this.gesture === "move") this.mover.up();
    if (this.gesture === "mask") this.masks.up();
    if (this.gesture !== null) {
      this.gesture = null;
      this.onStateChange();
    }
  }

  private pick(doc: Point): void {
    const renderer = this.renderer();
    const state = useEditorStore.getState();
    if (!renderer) return;
    const result = pickColour(renderer, doc[0], doc[1]);
    if (!result) return;
    if ("hint" in result) {
      state.showHint(result.hint);
      return;
    }
    state.setColor(result.color);
    state.pushRecentColor(result.color);
  }

  private toDoc(point: Point): [number, number] {
    return screenToDoc(this.camera.camera, point);
  }
}
