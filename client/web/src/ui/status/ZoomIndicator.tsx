import { useEditorStore } from "../../store/editorStore";
import { zoomPercent } from "../../tools/camera";
import type { CameraController } from "../../tools/cameraController";

/** The zoom level in the corner of the canvas: click to fit, with -/+ buttons. */
export function ZoomIndicator({ camera }: { camera: CameraController }) {
  const zoom = useEditorStore((s) => s.camera.zoom);
  const button = "px-1.5 text-neutral-300 hover:text-white";
  return (
    <div className="absolute right-3 bottom-3 flex items-center rounded border border-neutral-700 bg-neutral-800/90 py-0.5 text-xs shadow">
      <button
        type="button"
        aria-label="Zoom out (-)"
        title="Zoom out (-)"
        className={button}
        onClick={() => camera.zoomStep(-1)}
      >
        −
      </button>
      <button
        type="button"
        aria-label={`Zoom ${zoomPercent(zoom)}: fit the document (Shift+1)`}
        title="Fit the document (Shift+1)"
        data-testid="zoom-level"
        className="min-w-14 px-1 text-center text-neutral-200 tabular-nums hover:text-white"
        onClick={() => camera.fit()}
      >
        {zoomPercent(zoom)}
      </button>
      <button
        type="button"
        aria-label="Zoom in (+)"
        title="Zoom in (+)"
        className={button}
        onClick={() => camera.zoomStep(1)}
      >
        +
      </button>
    </div>
  );
}
