import type { DocumentSession } from "../../document/session";
import type { CanvasRenderer } from "../../render/renderer";
import type { useEditorStore } from "../../store/editorStore";

/** What the browser tests reach through `window.__nexus` (set once the document and the canvas are up). */
export interface NexusTestHooks {
  readonly session: DocumentSession;
  readonly renderer: CanvasRenderer;
  readonly store: typeof useEditorStore;
}

declare global {
  interface Window {
    __nexus?: NexusTestHooks;
  }
}

export function setTestHooks(hooks: NexusTestHooks | null): void {
  if (hooks) window.__nexus = hooks;
  else delete window.__nexus;
}
