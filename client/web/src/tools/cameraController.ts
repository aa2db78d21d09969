/**
 * The view's camera commands (fit, 100 %, zoom steps, wheel, pan), reading and writing the
 * camera in the editor store. The canvas view tells it the size of the view and of the document.
 */
import type { Camera } from "../document/types";
import { useEditorStore } from "../store/editorStore";
import {
  actualSize,
  fitCamera,
  nextZoomStep,
  type Point,
  panBy,
  type Size,
  viewCentre,
  wheelPixels,
  wheelZoomFactor,
  zoomAround,
  zoomBy,
} from "./camera";

export interface WheelInput {
  readonly deltaX: number;
  readonly deltaY: number;
  readonly deltaMode: number;
  /** ctrl/cmd held, or a trackpad pinch (which the browser reports with ctrlKey) */
  readonly zoom: boolean;
  readonly shiftKey: boolean;
  /** the pointer, relative to the view */
  readonly at: Point;
}

export class CameraController {
  private view: Size = { width: 0, height: 0 };
  private doc: Size = { width: 0, height: 0 };
  private fitted = false;

  get camera(): Camera {
    return useEditorStore.getState().camera;
  }

  get viewSize(): Size {
    return this.view;
  }

  /** The view was laid out or resized; the first time both sizes are known the document is fitted. */
  setViewSize(width: number, height: number): void {
    this.view = { width, height };
    this.fitOnce();
  }

  setDocumentSize(width: number, height: number): void {
    this.doc = { width, height };
    this.fitOnce();
  }

  fit(): void {
    this.set(fitCamera(this.doc, this.view));
  }

  actualSize(): void {
    this.set(actualSize(this.camera, this.view));
  }

  zoomStep(direction: 1 | -1): void {
    this.set(zoomAround(this.camera, viewCentre(this.view), nextZoomStep(this.camera.zoom, direction)));
  }

  zoomAt(at: Point, factor: number): void {
    this.set(zoomBy(this.camera, at, factor));
  }

  pan(dx: number, dy: number): void {
    if (dx === 0 && dy === 0) return;
    this.set(panBy(this.camera, dx, dy));
  }

  wheel(input: WheelInput): void {
    const page = this.view.height || 800;
    const dy = wheelPixels(input.deltaY, input.deltaMode, page);
    const dx = wheelPixels(input.deltaX, input.deltaMode, page);
    if (input.zoom) {
      this.zoomAt(input.at, wheelZoomFactor(dy));
    } else if (input.shiftKey && dx === 0) {
      this.pan(-dy, 0);
    } else {
      this.pan(-dx, -dy);
    }
  }

  private fitOnce(): void {
    if (this.fitted || this.view.width <= 0 || this.view.height <= 0 || this.doc.width <= 0) return;
    this.fitted = true;
    this.fit();
  }

  private set(camera: Camera): void {
    if (!Number.isFinite(camera.x) || !Number.isFinite(camera.y)) return;
    useEditorStore.getState().setCamera(camera);
  }
}
