import { useCallback, useEffect, useRef } from "react";
import { type EditorState, useEditorStore } from "../../store/editorStore";
import type { Point } from "../../tools/camera";

function diameter(state: EditorState): number | null {
  if (state.tool === "brush") return state.brush.size * state.camera.zoom;
  if (state.tool === "eraser") return state.eraser.size * state.camera.zoom;
  return null;
}

/**
 * A circle the size of the brush (or eraser) that follows the pointer over the canvas. It is
 * moved without React renders; `moveTo(null)` hides it.
 */
export function useBrushOutline() {
  const ref = useRef<HTMLDivElement>(null);
  const at = useRef<Point | null>(null);
  const hidden = useRef(false);

  const paint = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    const size = diameter(useEditorStore.getState());
    const point = at.current;
    if (size === null || point === null || hidden.current || size < 4) {
      element.style.display = "none";
      return;
    }
    element.style.display = "block";
    element.style.width = `${size}px`;
    element.style.height = `${size}px`;
    element.style.transform = `translate(${point[0] - size / 2}px, ${point[1] - size / 2}px)`;
  }, []);

  useEffect(() => useEditorStore.subscribe(paint), [paint]);

  const moveTo = useCallback(
    (point: Point | null) => {
      at.current = point;
      paint();
    },
    [paint],
  );

  /** hide while panning (the hand cursor shows instead) */
  const setHidden = useCallback(
    (hide: boolean) => {
      hidden.current = hide;
      paint();
    },
    [paint],
  );

  return { ref, moveTo, setHidden };
}
