import { create } from "zustand";
import type { Camera } from "../document/types";

/**
 * Local UI state of the editor (never a copy of the shared document: that lives in the Y.Doc
 * and is read through document/readers.ts). Panels read from here; the engine modules
 * (tools, renderer, presence) are driven by the values set here.
 */

export type ToolName =
  | "brush"
  | "eraser"
  | "move"
  | "eyedropper"
  | "pan"
  // the selection tools (tools/maskTools.ts)
  | "select-rect"
  | "lasso"
  | "mask-brush"
  | "mask-eraser"
  | "segment-points";

export interface BrushSettings {
  /** diameter in document pixels, > 0 */
  readonly size: number;
  /** 0..1 */
  readonly hardness: number;
  /** 0..100 */
  readonly opacity: number;
}

export interface EditorState {
  tool: ToolName;
  brush: BrushSettings;
  eraser: BrushSettings;
  /** `#rrggbb` */
  color: string;
  /** most recent first, at most 12 */
  recentColors: string[];
  activeLayerId: string | null;
  camera: Camera;
  /** the clientId of the collaborator whose view we follow, or null */
  following: number | null;
  /** a short hint shown near the canvas ("Layer 'Sky' is locked"), cleared after a while */
  hint: string | null;
  shortcutsOpen: boolean;
  setTool(tool: ToolName): void;
  setBrush(patch: Partial<BrushSettings>): void;
  setEraser(patch: Partial<BrushSettings>): void;
  setColor(color: string): void;
  pushRecentColor(color: string): void;
  setActiveLayer(id: string | null): void;
  /** user-driven camera change: also stops following */
  setCamera(camera: Camera): void;
  /** follow-driven camera change: keeps following */
  followCamera(camera: Camera): void;
  setFollowing(clientId: number | null): void;
  showHint(hint: string | null): void;
  setShortcutsOpen(open: boolean): void;
}

const MAX_RECENT = 12;

export const useEditorStore = create<EditorState>((set) => ({
  tool: "brush",
  brush: { size: 12, hardness: 1, opacity: 100 },
  eraser: { size: 24, hardness: 1, opacity: 100 },
  color: "#1f6feb",
  recentColors: [],
  activeLayerId: null,
  camera: { x: 0, y: 0, zoom: 1 },
  following: null,
  hint: null,
  shortcutsOpen: false,
  setTool: (tool) => set({ tool }),
  setBrush: (patch) => set((s) => ({ brush: { ...s.brush, ...patch } })),
  setEraser: (patch) => set((s) => ({ eraser: { ...s.eraser, ...patch } })),
  setColor: (color) => set({ color }),
  pushRecentColor: (color) =>
    set((s) => ({ recentColors: [color, ...s.recentColors.filter((c) => c !== color)].slice(0, MAX_RECENT) })),
  setActiveLayer: (activeLayerId) => set({ activeLayerId }),
  setCamera: (camera) => set({ camera, following: null }),
  followCamera: (camera) => set({ camera }),
  setFollowing: (following) => set({ following }),
  showHint: (hint) => set({ hint }),
  setShortcutsOpen: (shortcutsOpen) => set({ shortcutsOpen }),
}));
