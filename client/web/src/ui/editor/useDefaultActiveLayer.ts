import { useEffect } from "react";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";

/** When no existing layer is selected, the top layer becomes the active one. */
export function useDefaultActiveLayer(session: DocumentSession): void {
  useEffect(() => {
    const check = () => {
      const layers = session.canvas.readLayers();
      const state = useEditorStore.getState();
      if (state.activeLayerId && layers.some((layer) => layer.id === state.activeLayerId)) return;
      const top = layers.length > 0 ? layers[layers.length - 1].id : null;
      if (top !== state.activeLayerId) state.setActiveLayer(top);
    };
    check();
    const offChange = session.onChange((change) => {
      if (change.structure) check();
    });
    const offStore = useEditorStore.subscribe((state, previous) => {
      if (state.activeLayerId !== previous.activeLayerId && state.activeLayerId === null) check();
    });
    return () => {
      offChange();
      offStore();
    };
  }, [session]);
}
