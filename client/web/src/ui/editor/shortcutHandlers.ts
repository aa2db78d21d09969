import { useEditorStore } from "../../store/editorStore";
import type { CameraController } from "../../tools/cameraController";
import { nextBrushSize } from "../../tools/layerRules";
import type { ShortcutHandlers } from "../shortcuts/useShortcuts";
import type { UndoRedo } from "./useUndoRedo";

/** What each shortcut of tools/keyboard.ts does in the editor. */
export function shortcutHandlers(camera: CameraController, history: UndoRedo): ShortcutHandlers {
  const store = useEditorStore.getState;
  const resize = (direction: 1 | -1) => {
    const state = store();
    if (state.tool === "eraser") state.setEraser({ size: nextBrushSize(state.eraser.size, direction) });
    else state.setBrush({ size: nextBrushSize(state.brush.size, direction) });
  };
  return {
    "tool.brush": () => store().setTool("brush"),
    "tool.eraser": () => store().setTool("eraser"),
    "tool.move": () => store().setTool("move"),
    "tool.eyedropper": () => store().setTool("eyedropper"),
    "tool.pan": () => store().setTool("pan"),
    "tool.selectRect": () => store().setTool("select-rect"),
    "tool.lasso": () => store().setTool("lasso"),
    "tool.maskBrush": () => store().setTool("mask-brush"),
    "tool.maskEraser": () => store().setTool("mask-eraser"),
    "brush.smaller": () => resize(-1),
    "brush.larger": () => resize(1),
    "view.fit": () => camera.fit(),
    "view.actual": () => camera.actualSize(),
    "view.zoomIn": () => camera.zoomStep(1),
    "view.zoomOut": () => camera.zoomStep(-1),
    "edit.undo": () => history.undo(),
    "edit.redo": () => history.redo(),
    "help.shortcuts": () => store().setShortcutsOpen(!store().shortcutsOpen),
  };
}
