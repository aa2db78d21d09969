import { useCallback, useEffect, useMemo, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { CanvasRenderer } from "../../render/renderer";
import { useEditorStore } from "../../store/editorStore";
import { CameraController } from "../../tools/cameraController";
import { BrushPanel } from "../brush/BrushPanel";
import { AiPanel } from "../ai/AiPanel";
import { CanvasView } from "../canvas/CanvasView";
import { ColourPanel } from "../colour/ColourPanel";
import { useSessionValue } from "../common/useSessionValue";
import { HistoryPanel } from "../history/HistoryPanel";
import { JobsOverlay } from "../jobs/JobsOverlay";
import { JobsPanel } from "../jobs/JobsPanel";
import { LayersPanel } from "../layers/LayersPanel";
import { MaskOverlay } from "../masks/MaskOverlay";
import { SelectionPanel } from "../masks/SelectionPanel";
import { CursorsOverlay } from "../presence/CursorsOverlay";
import { ProposalBar } from "../proposals/ProposalBar";
import { ProvenancePanel } from "../provenance/ProvenancePanel";
import { useViewOnly } from "../sharing/viewOnly";
import { ViewOnlyBanner } from "../sharing/ViewOnlyBanner";
import { ShortcutSheet } from "../shortcuts/ShortcutSheet";
import { useShortcuts } from "../shortcuts/useShortcuts";
import { ConnectionBanner } from "../status/ConnectionIndicator";
import { HintToast } from "../status/HintToast";
import { ZoomIndicator } from "../status/ZoomIndicator";
import { Toolbar } from "../toolbar/Toolbar";
import { VersionsPanel } from "../versions/VersionsPanel";
import { shortcutHandlers } from "./shortcutHandlers";
import { setTestHooks } from "./testHooks";
import { TopBar } from "./TopBar";
import { useDefaultActiveLayer } from "./useDefaultActiveLayer";
import { useUndoRedo } from "./useUndoRedo";

/** The editor around an open, synced session: top bar, tools, canvas, panels. */
export function EditorLayout({ session }: { session: DocumentSession }) {
  const camera = useMemo(() => new CameraController(), []);
  const [renderer, setRenderer] = useState<CanvasRenderer | null>(null);
  const name = useSessionValue(
    session,
    (s) => s.canvas.readMeta().name,
    (change) => change.meta,
  );
  const history = useUndoRedo(session);
  const shortcutsOpen = useEditorStore((s) => s.shortcutsOpen);
  const setShortcutsOpen = useEditorStore((s) => s.setShortcutsOpen);
  const readOnly = useViewOnly((s) => s.readOnly);

  useDefaultActiveLayer(session);
  useShortcuts(shortcutHandlers(camera, history));

  useEffect(() => {
    document.title = `${name || "Untitled"} — Nexus Canvas`;
  }, [name]);

  useEffect(() => {
    if (!renderer) return;
    setTestHooks({ session, renderer, store: useEditorStore });
    return () => setTestHooks(null);
  }, [session, renderer]);

  const onRenderer = useCallback((next: CanvasRenderer | null) => setRenderer(next), []);

  return (
    <div className="flex h-full flex-col overflow-hidden bg-neutral-900 text-neutral-100">
      <TopBar session={session} name={name} history={history} />
      <ConnectionBanner session={session} />
      <ViewOnlyBanner session={session} />
      <div className="flex min-h-0 flex-1">
        <Toolbar />
        <main className="relative min-w-0 flex-1" aria-label="Canvas">
          <CanvasView session={session} camera={camera} onRenderer={onRenderer} />
          <MaskOverlay session={session} />
          <JobsOverlay session={session} />
          <CursorsOverlay session={session} />
          <ProposalBar session={session} />
          <ZoomIndicator camera={camera} />
          <HintToast />
        </main>
        <aside
          aria-label="Panels"
          className="flex w-72 shrink-0 flex-col overflow-y-auto border-l border-neutral-700 bg-neutral-800"
        >
          {/* a viewer's panels that change the document are off */}
          <fieldset disabled={readOnly} className="contents">
            <LayersPanel session={session} />
          </fieldset>
          <ProvenancePanel session={session} />
          <JobsPanel session={session} />
          <SelectionPanel />
          <fieldset disabled={readOnly} className="contents">
            <AiPanel session={session} />
          </fieldset>
          <ColourPanel />
          <BrushPanel />
          <HistoryPanel session={session} />
          <VersionsPanel session={session} undo={history.undo} />
        </aside>
      </div>
      {shortcutsOpen ? <ShortcutSheet onClose={() => setShortcutsOpen(false)} /> : null}
    </div>
  );
}
